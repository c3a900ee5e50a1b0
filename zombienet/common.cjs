// What the scenarios' js-scripts share: the end-to-end helpers of tests/e2e/lib (ES modules,
// imported dynamically from CommonJS) and connections through zombienet's own @polkadot/api
// (the `zombie` global zombienet sets while a js-script runs).

const { mkdtempSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

async function helpers() {
	const lib = (file) => import(pathToFileURL(path.join(__dirname, '../tests/e2e/lib', file)).href);
	const claims = await lib('claims.mjs');
	const node = await lib('node.mjs');
	const device = await lib('device.mjs');
	const { Keyring } = await import('@polkadot/keyring');
	const { cryptoWaitReady } = await import('@polkadot/util-crypto');
	await cryptoWaitReady();
	const { ApiPromise, WsProvider } = zombie;
	const connect = (uri) => ApiPromise.create({ provider: new WsProvider(uri), noInitWarn: true });
	return { claims, node, device, Keyring, connect };
}

/**
 * //Bob registers the fixture MLP served at `uri`; the validators' off-chain vote must activate
 * it. Returns the model id.
 */
async function activateMlp(claims, api, bob, uri) {
	const { modelId, status } = await claims.registerMlp(api, bob, uri, { timeoutMs: 180_000 });
	if (status !== 'Active') throw new Error(`the model was ${status}, not activated`);
	console.log(`\t model ${modelId} activated by the validators' vote`);
	return modelId;
}

/**
 * //Bob pins PP-OCR's text-direction classifier (`ppocr-mobile-v2-cls.onnx` from the
 * paddleocr wheel, unpacked by scripts/setup.sh into $EDGEPROOF_MODELS) to one 48×192 image
 * and registers it with edgeproof-device through `wsUri`; the validators' off-chain vote must
 * activate it. Returns the model id and its registered parameters (shapes, node count).
 */
async function activatePpocrCls(device, api, wsUri) {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'edgeproof-zombienet-'));
	const models = process.env.EDGEPROOF_MODELS ?? path.join(os.homedir(), '.cache/edgeproof/models');
	const pinned = path.join(dir, 'ppocr-cls-48x192.onnx');
	const base = ['--url', wsUri, '--keystore', path.join(dir, 'keys.json'), '--model-store',
		path.join(dir, 'models'), '--seed', '//Bob', '--json'];
	// Every validator runs on this machine, and they allow local model sources.
	const { model, status } = await device.pinAndRegister(base, {
		file: path.join(models, 'ppocr-mobile-v2-cls.onnx'), out: pinned, inputs: ['x=1,3,48,192'],
		name: 'ppocr-cls',
	});
	if (status !== 'Active') throw new Error(`the model was ${status}, not activated`);
	console.log(`\t model ${model} (PP-OCR cls at 48x192) activated by the validators' vote`);
	const params = (await api.query.models.models(model)).unwrap().params;
	return { modelId: model, params };
}

/**
 * Every node of `apis` ({ name: api }) shows, at the finalised block `settledAt` (once it has
 * imported it, within `importMs`), the claim Invalid, the device `key`'s stake cut by 10 % of
 * `stake`, and no dispute left on the claim. Returns the number of nodes that agree.
 */
async function agreeOnSlash(node, apis, settledAt, { claim, key, stake, importMs }) {
	let agree = 0;
	for (const [name, other] of Object.entries(apis)) {
		await node.waitFor(
			async () => (await other.rpc.chain.getHeader(settledAt).catch(() => null)) !== null,
			importMs,
			`${name} to import the settled block`,
		);
		const record = (await other.query.attestations.claims.at(settledAt, claim)).unwrap();
		const dev = (await other.query.devices.devices.at(settledAt, key)).unwrap();
		const open = await other.query.disputes.claimDisputes.at(settledAt, claim);
		if (!record.status.isInvalid) throw new Error(`${name}: claim ${record.status}`);
		if (dev.stake.toBigInt() !== stake - stake / 10n) throw new Error(`${name}: stake ${dev.stake}`);
		if (open.length !== 0) throw new Error(`${name}: disputes still open`);
		agree += 1;
	}
	return agree;
}

module.exports = { helpers, activateMlp, activatePpocrCls, agreeOnSlash };
