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

module.exports = { helpers };
