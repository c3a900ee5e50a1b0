// Bad command lines get a one-line error and a non-zero exit, never a panic trace.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { freePort, runNodeCommand } from './lib/node.mjs';

function assertCleanFailure({ code, stderr }, pattern) {
  assert.notEqual(code, 0, 'expected a non-zero exit');
  assert.doesNotMatch(stderr, /panicked|RUST_BACKTRACE|stack backtrace/, stderr);
  const errorLines = stderr.split('\n').filter((l) => l.startsWith('Error:'));
  assert.equal(errorLines.length, 1, `expected one 'Error:' line, got:\n${stderr}`);
  assert.match(errorLines[0], pattern);
}

describe('edgeproof-node command line', () => {
  it('rejects an unknown --chain', async () => {
    const result = await runNodeCommand(['build-spec', '--chain', 'no-such-chain']);
    assertCleanFailure(result, /unknown chain `no-such-chain`/);
  });

  it('rejects a base path it cannot create', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgeproof-cli-'));
    const file = join(dir, 'not-a-directory');
    writeFileSync(file, 'x');
    try {
      const result = await runNodeCommand(['--dev', '--base-path', join(file, 'db'), '--no-prometheus',
        '--rpc-port', String(await freePort()), '--port', String(await freePort())]);
      assertCleanFailure(result, /Not a directory|File exists|os error/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects an RPC port that is in use', async () => {
    const server = createServer();
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address();
    const dir = mkdtempSync(join(tmpdir(), 'edgeproof-cli-'));
    try {
      const result = await runNodeCommand(['--dev', '--base-path', dir, '--no-prometheus',
        '--rpc-port', String(port), '--port', String(await freePort())]);
      assertCleanFailure(result, /address already in use|Address already in use|RPC/i);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('builds the dev and local chain specs', async () => {
    for (const chain of ['dev', 'local']) {
      const { code, stdout, stderr } = await runNodeCommand(['build-spec', '--chain', chain]);
      assert.equal(code, 0, stderr);
      const spec = JSON.parse(stdout);
      assert.equal(spec.properties.tokenSymbol, 'EDGE');
      if (chain === 'local') {
        const aura = spec.genesis.runtimeGenesis.patch.aura.authorities;
        assert.equal(aura.length, 3, 'local chain has Alice, Bob and Charlie');
      }
    }
  });
});
