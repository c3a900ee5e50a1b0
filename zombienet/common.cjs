// What the scenarios' js-scripts share: the end-to-end helpers of tests/e2e/lib (ES modules,
// imported dynamically from CommonJS) and connections through zombienet's own @polkadot/api
// (the `zombie` global zombienet sets while a js-script runs).

const path = require('node:path');
const { pathToFileURL } = require('node:url');

async function helpers() {
	const lib = (file) => import(pathToFileURL(path.join(__dirname, '../tests/e2e/lib', file)).href);
	const claims = await lib('claims.mjs');
	const node = await lib('node.mjs');
	const { Keyring } = await import('@polkadot/keyring');
	const { cryptoWaitReady } = await import('@polkadot/util-crypto');
	await cryptoWaitReady();
	const { ApiPromise, WsProvider } = zombie;
	const connect = (uri) => ApiPromise.create({ provider: new WsProvider(uri), noInitWarn: true });
	return { claims, node, Keyring, connect };
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

module.exports = { helpers, activateMlp, agreeOnSlash };
