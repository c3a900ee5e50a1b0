// The explorer in a real browser: headless Chromium (Debian's `chromium`, driven by
// playwright-core) reads a dev node while the demo's story plays on it, and must show the
// model, the device, the honest claim Final and the tampered claim's dispute with its rounds,
// the operator executed on-chain and the winner. A wrong `rpc` URL and a dropped node must show
// a clear message, and the page must reconnect. One screenshot per view is written under
// target/explorer-screenshots/ (EDGEPROOF_SCREENSHOTS overrides).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { cryptoWaitReady } from '@polkadot/util-crypto';
import { chromium } from 'playwright-core';

import { buildAndServeExplorer, playDemo } from '../../scripts/demo.mjs';
import { freePort, startDevNode } from './lib/node.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const SHOTS = process.env.EDGEPROOF_SCREENSHOTS
  ?? fileURLToPath(new URL('../../target/explorer-screenshots/', import.meta.url));

let node;
let explorer;
let browser;
let dir;

before(async () => {
  await cryptoWaitReady();
  mkdirSync(SHOTS, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'edgeproof-explorer-'));
  explorer = await buildAndServeExplorer();
  node = await startDevNode();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await explorer?.close();
  await node?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A new page on `rpc` (the dev node unless given), at `hash`. */
async function open(hash = '#/', rpc = node.endpoint) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${explorer.url}?rpc=${encodeURIComponent(rpc)}${hash}`);
  page.errors = errors;
  return page;
}

/** Goes to `hash` and waits until the view's text matches every pattern (the page updates per block). */
async function view(page, hash, patterns, shot) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForFunction(
    (sources) => sources.every((s) => new RegExp(s).test(document.getElementById('view').innerText)),
    patterns.map((p) => p.source),
    { timeout: 60_000, polling: 250 },
  ).catch(async (e) => {
    throw new Error(`${hash}: ${e.message}\npage text:\n${await page.innerText('#view')}`);
  });
  if (shot) await page.screenshot({ path: join(SHOTS, `${shot}.png`), fullPage: true });
}

test('a wrong rpc URL shows what is wrong, and nothing else', async () => {
  const port = await freePort();
  const page = await open('#/', `ws://127.0.0.1:${port}`);
  await page.waitForSelector('#banner:not([hidden])', { timeout: 20_000 });
  assert.match(await page.innerText('#banner'), new RegExp(`Cannot connect to ws://127.0.0.1:${port}: is a node running there\\? Retrying`));
  await page.screenshot({ path: join(SHOTS, 'unreachable-node.png') });
  await page.close();

  const bad = await open('#/', 'http//nowhere');
  await bad.waitForSelector('#banner:not([hidden])', { timeout: 20_000 });
  assert.match(await bad.innerText('#banner'), /'http\/\/nowhere' is not a WebSocket URL/);
  assert.deepEqual(bad.errors, []);
  await bad.close();
});

test("the demo's story as it happens: model, device, claims and the dispute's game", { timeout: 600_000 }, async () => {
  const page = await open('#/');
  await page.waitForSelector('#best', { timeout: 30_000 });
  // A second page follows the dispute while it runs: whose move it is and both clocks.
  const live = (async () => {
    const watcher = await open('#/disputes');
    const first = await watcher.waitForSelector('#view tbody a[href^="#/dispute/"]', { timeout: 300_000 });
    const id = Number((await first.getAttribute('href')).split('/').pop());
    await view(watcher, `#/dispute/${id}`, [
      /to move/,
      /claimant\s+\d+ blocks? \(~[\d.]+ (s|min|h)\)\s+(to move|waiting)/,
      /challenger\s+\d+ blocks? \(~[\d.]+ (s|min|h)\)\s+(to move|waiting)/,
      /next deadline: block #\d+/,
    ], 'dispute-running');
    await watcher.close();
    return { id, errors: watcher.errors };
  })();
  const ids = await playDemo(node, dir);
  const running = await live;
  assert.equal(running.id, ids.dispute, 'the running dispute was the demo\'s');
  assert.deepEqual(running.errors, []);

  await view(page, '#/', [/Latest disputes/, new RegExp(`#${ids.dispute}`)], 'home');
  await view(page, '#/models', [/demo-mlp v1/, /Active/], 'models');
  await view(page, `#/model/${ids.model}`, [/canonical program/, /Claims \(2\)/, /Disputes \(1\)/], 'model');
  await view(page, '#/devices', [/Sr25519\tPhone/, /1 final · 1 lost/], 'devices');
  await view(page, `#/device/${ids.device.split(':')[1]}`, [/Phone: demo phone/, /software key/, /claims: 1 final, 1 lost/], 'device');
  await view(page, '#/claims', [new RegExp(`#${ids.honest}`), new RegExp(`#${ids.lie}`)], 'claims');
  await view(page, `#/claim/${ids.honest}`, [/Final/], 'claim-honest');
  await view(page, `#/claim/${ids.lie}`, [/Invalid/, /wrong: disputed/], 'claim-tampered');
  await view(page, '#/disputes', [new RegExp(`#${ids.dispute}`), /Challenger won/], 'disputes');
  await view(page, `#/dispute/${ids.dispute}`, [/Challenger won/, /OneStep at leaf \d+ \(node \d+\)/, /The runtime executed one \w+ operator/], 'dispute');

  // The game's picture: every level down to the one-step leaf, a child that differs at each.
  const rounds = await page.$$eval('#view table:last-of-type tbody tr', (rows) => rows.map((r) => r.innerText));
  assert.ok(rounds.length >= 2, `bisection rounds: ${JSON.stringify(rounds)}`);
  for (const r of rounds) assert.match(r, /(left|right) child/);
  assert.equal(await page.locator('svg.game rect.disputed.leaf').count(), 1);
  assert.equal(await page.locator('svg.game rect.disputed').count(), rounds.length + 1);

  // Filters narrow the lists and live in the link.
  await page.evaluate(() => { location.hash = '#/claims'; });
  await page.fill('#filter', 'invalid');
  await page.waitForFunction(() => document.querySelectorAll('#view tbody tr').length === 1);
  assert.match(page.url(), /#\/claims\?q=invalid$/);
  await page.screenshot({ path: join(SHOTS, 'claims-filtered.png'), fullPage: true });

  // Read-only: the page offers no way to sign.
  assert.equal(await page.locator('button, form').count(), 0);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a dropped node: the page says so and reconnects', { timeout: 180_000 }, async () => {
  const page = await open('#/');
  await page.waitForSelector('#best', { timeout: 30_000 });
  const lost = page.waitForFunction(
    () => /Lost the connection to .* reconnecting/.test(document.getElementById('banner').innerText),
    null, { timeout: 60_000, polling: 100 },
  );
  const restarted = node.restart();
  await lost;
  await page.screenshot({ path: join(SHOTS, 'node-dropped.png') });
  await restarted;
  const before = Number(await page.getAttribute('body', 'data-best'));
  await page.waitForFunction(
    (b) => document.getElementById('banner').hidden && Number(document.body.dataset.best) > b,
    before, { timeout: 90_000, polling: 250 },
  );
  assert.deepEqual(page.errors, []);
  await page.close();
});
