// Zombienet js-script: a tampered claim on the 3-validator network, settled through the whole
// challenge game, with the same result on every node.
//
// 1. Serves the fixture MLP over HTTP on 127.0.0.1; //Bob registers it; the validators' checker
//    workers verify it and vote it active (2 of 3 votes).
// 2. //Bob registers a device and submits a claim whose output is wrong.
// 3. The validators' checkers catch it and open disputes. This script plays the lying claimant
//    in the first dispute with a made-up trace (the input leaf right, the rest invented around
//    the claimed output): it responds and answers every bisection round, so the game descends
//    to a node leaf, where the checker's one-step convicts it.
// 4. Every node (3 validators and the full node) must show, at one finalised block, the claim
//    Invalid, the device slashed and no dispute left. Returns the number of nodes that agree.
//
// CommonJS because zombienet loads it with require(); helpers from ../common.cjs.

const { helpers, activateMlp, agreeOnSlash } = require('../common.cjs');

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

		const device = new Keyring({ type: 'ed25519' }).addFromUri('//zombienet-liar');
		const key = await claims.registerDevice(api, bob, device, 'zombienet liar');
		const stake = (await api.query.devices.devices(key)).unwrap().stake.toBigInt();
		const lie = claims.tamper(claims.mlp.outputTensor, 0.5);
		const claim = await claims.submitClaim(
			api, bob, device, modelId, [claims.mlp.inputTensor], [lie], 1,
		);
		console.log(`\t claim ${claim} submitted with a wrong output`);

		// The lying claimant's trace: made up around the claimed output.
		const trace = claims.madeUpTrace(claims.mlp.inputTensor, lie, 11);

		// (An object, since the first dispute's id is 0 and waitFor waits for a truthy value.)
		const { opened } = await node.waitFor(
			async () => {
				const ids = await api.query.disputes.claimDisputes(claim);
				return ids.length ? { opened: ids[0].toNumber() } : null;
			},
			120_000,
			"a validator's dispute",
		);
		const openedAt = (await api.rpc.chain.getHeader()).number.toNumber();
		console.log(`\t dispute ${opened} opened by a checker (seen at #${openedAt})`);
		await node.sendAndWaitInBlock(api.tx.disputes.respond(opened, trace.root, [trace.witness]), bob);
		// Answer every round from the made-up tree until the game awaits its one-step.
		await claims.answerBisections(api, bob, opened, trace, 'claimant', (round) =>
			console.log(`\t round ${round} answered`),
		);
		const resolved = await claims.waitForEvent(
			api,
			(e) => api.events.disputes.DisputeResolved.is(e) && e.data.dispute.toNumber() === opened,
			60_000,
			'the dispute to resolve',
		).catch(() => null);
		if (resolved) {
			const ending = resolved.data.ending.asDecided;
			const at = (await api.rpc.chain.getHeader()).number.toNumber();
			console.log(`\t dispute ${opened}: ${ending.winner} by ${ending.reason} (seen at #${at})`);
		}

		// Every node, at a finalised block after the settlement, sees the same outcome.
		const settledAt = await node.waitFor(
			async () => {
				const hash = await api.rpc.chain.getFinalizedHead();
				const record = await api.query.attestations.claims.at(hash, claim);
				return record.isSome && record.unwrap().status.isInvalid ? hash : null;
			},
			180_000,
			'the invalid claim to be finalised',
		);
		const agree = await agreeOnSlash(node, apis, settledAt, { claim, key, stake, importMs: 60_000 });
		console.log(`\t ${agree} nodes agree: claim ${claim} Invalid, device slashed`);
		return agree;
	} finally {
		await Promise.all(Object.values(apis).map((api) => api.disconnect()));
		await server.stop();
	}
}

module.exports = { run };
