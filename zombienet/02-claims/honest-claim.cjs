// Zombienet js-script: the fixture MLP, served over HTTP on 127.0.0.1 and registered by //Bob,
// is activated by the validators' off-chain vote (2 of 3 checker accounts); a device's honest
// claim is checked by the validators (no dispute) and becomes Final. Every node (3 validators
// and the full node) must show the model Active, the claim Final and the bond returned at one
// finalised block. Returns the number of nodes that agree.
//
// CommonJS because zombienet loads it with require(); helpers from ../common.cjs.

const { helpers, activateMlp } = require('../common.cjs');

async function run(nodeName, networkInfo) {
	const { claims, node, Keyring, connect } = await helpers();

	const apis = {};
	const server = await claims.serveMlp();
	try {
		for (const n of networkInfo.relay) {
			apis[n.name] = await connect(n.wsUri);
		}
		const api = apis[nodeName];
		const bob = new Keyring({ type: 'sr25519' }).addFromUri('//Bob');
		const modelId = await activateMlp(claims, api, bob, server.uri);

		const device = new Keyring({ type: 'ed25519' }).addFromUri('//zombienet-honest');
		await claims.registerDevice(api, bob, device, 'zombienet honest');
		const claim = await claims.submitClaim(
			api, bob, device, modelId, [claims.mlp.inputTensor], [claims.mlp.outputTensor], 1,
		);
		console.log(`\t claim ${claim} submitted`);

		const finalAt = await node.waitFor(
			async () => {
				const hash = await api.rpc.chain.getFinalizedHead();
				const record = await api.query.attestations.claims.at(hash, claim);
				return record.isSome && record.unwrap().status.isFinal ? hash : null;
			},
			180_000,
			'the claim to be final in a finalised block',
		);
		let agree = 0;
		for (const [name, other] of Object.entries(apis)) {
			await node.waitFor(
				async () => (await other.rpc.chain.getHeader(finalAt).catch(() => null)) !== null,
				60_000,
				`${name} to import the block`,
			);
			const model = (await other.query.models.models.at(finalAt, modelId)).unwrap();
			const record = (await other.query.attestations.claims.at(finalAt, claim)).unwrap();
			const disputes = await other.query.disputes.claimDisputes.at(finalAt, claim);
			if (!model.status.isActive) throw new Error(`${name}: model ${model.status}`);
			if (!record.status.isFinal) throw new Error(`${name}: claim ${record.status}`);
			if (disputes.length !== 0) throw new Error(`${name}: an honest claim was disputed`);
			agree += 1;
		}
		console.log(`\t ${agree} nodes agree: model Active, claim ${claim} Final`);
		return agree;
	} finally {
		await Promise.all(Object.values(apis).map((api) => api.disconnect()));
		await server.stop();
	}
}

module.exports = { run };
