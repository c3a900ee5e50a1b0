// Zombienet js-script: every node has finalised the same block at the finalised height of the
// node the assertion runs on. Returns that height (the DSL line checks it is at least 3); throws
// if a node disagrees or does not reach it within the assertion's timeout.
//
// CommonJS (.cjs) because zombienet loads the script with require() and the repository's
// package.json declares "type": "module".

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function finalizedNumber(api) {
	const hash = await api.rpc.chain.getFinalizedHead();
	const header = await api.rpc.chain.getHeader(hash);
	return header.number.toNumber();
}

async function run(nodeName, networkInfo) {
	const { ApiPromise, WsProvider } = zombie;
	const apis = {};
	try {
		for (const node of networkInfo.relay) {
			apis[node.name] = await ApiPromise.create({
				provider: new WsProvider(node.wsUri),
				noInitWarn: true,
			});
		}
		const height = await finalizedNumber(apis[nodeName]);
		const expected = (await apis[nodeName].rpc.chain.getBlockHash(height)).toHex();
		for (const [name, api] of Object.entries(apis)) {
			// A node may be a round behind; zombienet's timeout bounds this loop.
			while ((await finalizedNumber(api)) < height) await sleep(1000);
			const hash = (await api.rpc.chain.getBlockHash(height)).toHex();
			if (hash !== expected) {
				throw new Error(`${name} finalised ${hash} at #${height}, ${nodeName} ${expected}`);
			}
		}
		console.log(`\t all ${Object.keys(apis).length} nodes finalised ${expected} at #${height}`);
		return height;
	} finally {
		await Promise.all(Object.values(apis).map((api) => api.disconnect()));
	}
}

module.exports = { run };
