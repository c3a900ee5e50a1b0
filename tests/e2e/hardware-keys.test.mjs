// Hardware-backed device keys on a real `edgeproof-node --dev`: a P-256 device registered and
// claiming through @polkadot/api alone, with plain and App Attest assertion signatures; the
// CLI's software P-256 key attested by the test CA (refused until the chain's admin trusts that
// root), registered at TEE level, shown by `status`; another attested by a test App Attest
// object at secure-element level; a model that requires a TEE refusing the unattested device
// while the attested one attests to Final and its tampered claim is caught and settled Invalid,
// and refusing it too once a certificate of its chain is revoked.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';

import {
  bindMessage, bindNonce, claimMessage, encodeTensors, mlp, registerMlp, serveMlp, UNIT,
} from './lib/claims.mjs';
import { cli, npy } from './lib/device.mjs';
import { sendAndWaitInBlock, startDevNode } from './lib/node.mjs';
import { p256Device } from './lib/p256.mjs';

const STAKE = 150n * UNIT;
const METADATA = { hardware: 'Phone', description: 'e2e P-256' };

describe('hardware-backed device keys on edgeproof-node --dev', () => {
  let node;
  let api;
  let server;
  let dir;
  let base;
  let alice;
  let modelId;
  let jsDevice;
  let inputNpy;
  const operator = '//Eve';

  before(async () => {
    await cryptoWaitReady();
    server = await serveMlp();
    node = await startDevNode();
    api = node.api;
    alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
    dir = mkdtempSync(join(tmpdir(), 'edgeproof-hw-'));
    inputNpy = join(dir, 'x.npy');
    writeFileSync(inputNpy, npy([1, 16], mlp.inputTensor.data));
    base = (keystore) => [
      '--url', node.endpoint,
      '--keystore', join(dir, keystore),
      '--model-store', join(dir, 'models'),
      '--seed', operator,
      '--json',
    ];
    const registered = await registerMlp(api, alice, server.uri, { name: 'e2e-hw-mlp' });
    assert.equal(registered.status, 'Active');
    modelId = registered.modelId;
  });

  after(async () => {
    if (node) await node.stop();
    if (server) await server.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('@polkadot/api: a P-256 device registers with an r‖s low-S proof and claims; high-S is refused', async () => {
    const bob = new Keyring({ type: 'sr25519' }).addFromUri('//Bob');
    jsDevice = p256Device();
    const key = { P256: jsDevice.publicKey };
    const bind = bindMessage(api.genesisHash, bob.publicKey, await bindNonce(api, key));
    await assert.rejects(
      sendAndWaitInBlock(
        api.tx.devices.registerDevice(key, { P256: jsDevice.signHighS(bind) }, METADATA, STAKE),
        bob,
      ),
      /devices\.BadProof/,
    );
    await sendAndWaitInBlock(
      api.tx.devices.registerDevice(key, { P256: jsDevice.sign(bind) }, METADATA, STAKE),
      bob,
    );
    const record = (await api.query.devices.devices(key)).unwrap();
    assert.equal(u8aToHex(record.key.asP256), u8aToHex(jsDevice.publicKey));
    assert.ok(record.keyProof.isSignature, 'proven by its bind signature only');

    const input = encodeTensors([mlp.inputTensor]);
    const output = encodeTensors([mlp.outputTensor]);
    const message = claimMessage(api.genesisHash, key, modelId, input, output, 1);
    // Payloads as hex: polkadot-js reads a Uint8Array given for `Bytes` as already encoded.
    const [inputHex, outputHex] = [u8aToHex(input), u8aToHex(output)];
    const tx = api.tx.attestations.submit(key, modelId, inputHex, outputHex, 1, { P256: jsDevice.sign(message) });
    const { events } = await sendAndWaitInBlock(tx, bob);
    assert.ok(events.some(({ event }) => api.events.attestations.ClaimSubmitted.is(event)));
    // The P-256 check is charged on top of the benchmarked claim.
    const sr = api.tx.attestations.submit(key, modelId, inputHex, outputHex, 2, { Sr25519: new Uint8Array(64) });
    const [p256Weight, srWeight] = await Promise.all([tx.paymentInfo(bob), sr.paymentInfo(bob)]);
    assert.ok(p256Weight.weight.refTime.toBigInt() > srWeight.weight.refTime.toBigInt());

    // The same key signing as an App Attest key does (an assertion): accepted; an assertion
    // whose authenticator data was changed after signing: refused.
    const appId = 'EDGEPROOF1.network.edgeproof.device';
    const second = claimMessage(api.genesisHash, key, modelId, input, output, 2);
    const assertion = jsDevice.assertion(second, appId, 1);
    const edited = { ...assertion, authenticatorData: assertion.authenticatorData.slice() };
    edited.authenticatorData[36] ^= 1;
    await assert.rejects(
      sendAndWaitInBlock(api.tx.attestations.submit(key, modelId, inputHex, outputHex, 2, { AppAttest: edited }), bob),
      /attestations\.BadSignature/,
    );
    const viaAssertion = api.tx.attestations.submit(key, modelId, inputHex, outputHex, 2, { AppAttest: assertion });
    const submitted = await sendAndWaitInBlock(viaAssertion, bob);
    assert.ok(submitted.events.some(({ event }) => api.events.attestations.ClaimSubmitted.is(event)));
  });

  it('CLI: keygen --p256, a test-CA chain refused until trusted, then registered at TEE level', async () => {
    const keygen = await cli([...base('tee.json'), 'keygen', '--p256']);
    assert.equal(keygen.code, 0, keygen.stderr);
    assert.match(keygen.json.device, /^p256:0x0[23][0-9a-f]{64}$/);

    const challenge = await cli([...base('tee.json'), 'attestation-challenge']);
    assert.equal(challenge.code, 0, challenge.stderr);
    assert.equal(challenge.json.nonce, 0);

    const chain = join(dir, 'chain.pem');
    const issued = await cli([...base('tee.json'), 'dev-attestation', '--out', chain, '--level', 'tee']);
    assert.equal(issued.code, 0, issued.stderr);

    const untrusted = await cli([...base('tee.json'), 'register', '--attestation', chain]);
    assert.equal(untrusted.code, 4, untrusted.stderr);
    assert.match(untrusted.stderr, /UntrustedRoot/);

    const roots = (await api.query.devices.trustedRoots()).map((r) => r.toHex());
    assert.equal(roots.length, 3, "genesis trusts Google's two roots and Apple's App Attest root");
    await sendAndWaitInBlock(
      api.tx.sudo.sudo(api.tx.devices.setTrustedRoots([...roots, issued.json.root])),
      alice,
    );
    const reg = await cli([...base('tee.json'), 'register', '--attestation', chain, '--hardware', 'phone']);
    assert.equal(reg.code, 0, reg.stderr);
    assert.equal(reg.json.assurance, 'TEE');

    const key = { P256: keygen.json.device.slice('p256:'.length) };
    const proof = (await api.query.devices.devices(key)).unwrap().keyProof;
    assert.ok(proof.isAndroidKeyAttestation);
    assert.equal(proof.asAndroidKeyAttestation.securityLevel.toString(), 'TrustedEnvironment');
    const status = await cli([...base('tee.json'), 'status']);
    assert.equal(status.json.assurance, 'TEE');
    assert.match(status.json.keyProof, /Android Key Attestation \(TrustedEnvironment, boot Verified, locked\)/);

    // The same chain again: the key is taken; for another key: the chain attests the first.
    const again = await cli([...base('tee.json'), 'register', '--attestation', chain]);
    assert.equal(again.code, 4);
    assert.match(again.stderr, /KeyInUse/);
    await cli([...base('other.json'), 'keygen', '--p256']);
    const mismatch = await cli([...base('other.json'), 'register', '--attestation', chain]);
    assert.equal(mismatch.code, 4);
    assert.match(mismatch.stderr, /KeyMismatch/);
    // An sr25519 key cannot carry an attestation: refused before anything is sent.
    await cli([...base('sr.json'), 'keygen']);
    const sr = await cli([...base('sr.json'), 'register', '--attestation', chain]);
    assert.equal(sr.code, 2);
    assert.match(sr.stderr, /needs a P-256 device key/);
  });

  it('CLI: a test App Attest object registers a P-256 key at secure-element level', async () => {
    const keygen = await cli([...base('apple.json'), 'keygen', '--p256']);
    assert.equal(keygen.code, 0, keygen.stderr);
    const object = join(dir, 'attestation.cbor');
    const issued = await cli([...base('apple.json'), 'dev-attestation', '--apple', '--out', object]);
    assert.equal(issued.code, 0, issued.stderr);
    // The test CA's root was trusted by the previous step: the same root signs both.
    const reg = await cli([...base('apple.json'), 'register', '--attestation', object]);
    assert.equal(reg.code, 0, reg.stderr);
    assert.equal(reg.json.assurance, 'secure element');
    const key = { P256: keygen.json.device.slice('p256:'.length) };
    const proof = (await api.query.devices.devices(key)).unwrap().keyProof;
    assert.ok(proof.isAppleAppAttest);
    assert.equal(proof.asAppleAppAttest.environment.toString(), 'Production');
    const status = await cli([...base('apple.json'), 'status']);
    assert.equal(status.json.assurance, 'secure element');
    assert.match(status.json.keyProof, /Apple App Attest \(Production, app id hash 0x[0-9a-f]{64}\)/);
  });

  it('a model that requires a TEE: the unattested device is refused, the attested one is Final and caught lying', async () => {
    await sendAndWaitInBlock(api.tx.models.setKeyRequirement(modelId, 'TrustedEnvironment'), alice);
    const bob = new Keyring({ type: 'sr25519' }).addFromUri('//Bob');
    const key = { P256: jsDevice.publicKey };
    const input = encodeTensors([mlp.inputTensor]);
    const output = encodeTensors([mlp.outputTensor]);
    const message = claimMessage(api.genesisHash, key, modelId, input, output, 3);
    await assert.rejects(
      sendAndWaitInBlock(
        api.tx.attestations.submit(key, modelId, u8aToHex(input), u8aToHex(output), 3, {
          P256: jsDevice.sign(message),
        }),
        bob,
      ),
      /attestations\.KeyAssuranceTooLow/,
    );

    const honest = await cli([...base('tee.json'), 'attest', '--model', modelId, '--input', inputNpy, '--wait']);
    assert.equal(honest.code, 0, honest.stderr);
    assert.equal(honest.json.status, 'Final');

    const liar = await cli([
      ...base('tee.json'), 'attest', '--model', modelId, '--input', inputNpy, '--wait', '--tamper-output',
    ]);
    assert.equal(liar.code, 0, liar.stderr);
    assert.equal(liar.json.status, 'Invalid');
    const onChain = (await api.query.attestations.claims(liar.json.claim)).unwrap();
    assert.equal(onChain.status.toString(), 'Invalid', 'settled on chain by the dispute game');
    const status = await cli([...base('tee.json'), 'status']);
    assert.equal(status.json.reputation.claimsFinalized, 1);
    assert.equal(status.json.reputation.claimsLost, 1);

    // The test CA's intermediate (serial 2) revoked: the device attested through it is unproven
    // from now on and its claims on this model are refused; reinstated, it is a TEE again.
    const setRevoked = (revoked) => sendAndWaitInBlock(api.tx.sudo.sudo(api.tx.devices.setRevoked(['0x02'], revoked)), alice);
    await setRevoked(true);
    const revoked = await cli([...base('tee.json'), 'status']);
    assert.equal(revoked.json.assurance, 'unproven');
    assert.equal(revoked.json.attestationRevoked, true);
    const refused = await cli([...base('tee.json'), 'attest', '--model', modelId, '--input', inputNpy]);
    assert.equal(refused.code, 4, refused.stderr);
    assert.match(refused.stderr, /KeyAssuranceTooLow/);
    await setRevoked(false);
    const reinstated = await cli([...base('tee.json'), 'status']);
    assert.equal(reinstated.json.assurance, 'TEE');
    assert.equal(reinstated.json.attestationRevoked, false);
  });
});
