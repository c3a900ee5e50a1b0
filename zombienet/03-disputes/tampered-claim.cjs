// Zombienet js-script: a tampered claim on a real model on the 3-validator network, settled
// through the whole challenge game, with the same result on every node.
//
// 1. //Bob pins PP-OCR's text-direction classifier (a real on-device model, from its PyPI
//    wheel) to a 48x192 image and registers it with edgeproof-device; the validators' checker
//    workers compile and verify it and vote it active (2 of 3 votes).
// 2. //Bob registers a device and submits a claim on a 48x192 image whose output is wrong
//    (both class probabilities 2).
// 3. The validators' checkers catch it (ONNX Runtime disagrees) and open disputes with their
//    canonical traces. This script plays the lying claimant in the first dispute with a
//    made-up trace (the input leaf right, the model's other leaves invented around the claimed
//    output): it responds and answers every bisection round, so the game descends to the
//    model's first node, where the checker's one-step convicts it.
// 4. Every node (3 validators and the full node) must show, at one finalised block, the claim
//    Invalid, the device slashed and no dispute left. Returns the number of nodes that agree.
//
// CommonJS because zombienet loads it with require(); helpers from ../common.cjs.

const { helpers, activatePpocrCls, agreeOnSlash } = require('../common.cjs');

async function run(nodeName, networkInfo) {
	const { claims, node, device: cli, Keyring, connect } = await helpers();

	const apis = {};
	try {
		for (const n of networkInfo.relay) {
			apis[n.name] = await connect(n.wsUri);
		}
		const api = apis[nodeName];
		const bob = new Keyring({ type: 'sr25519' }).addFromUri('//Bob');

		const wsUri = networkInfo.relay.find((n) => n.name === nodeName).wsUri;
		const { modelId, params } = await activatePpocrCls(cli, api, wsUri);

		const device = new Keyring({ type: 'ed25519' }).addFromUri('//zombienet-liar');
		const key = await claims.registerDevice(api, bob, device, 'zombienet liar');
		const stake = (await api.query.devices.devices(key)).unwrap().stake.toBigInt();
		const image = claims.f32Tensor([1, 3, 48, 192], (i) => ((i * 7919) % 256) / 255);
		const shape = params.outputs[0].shape.map((d) => d.toNumber());
		const lie = claims.f32Tensor(shape, () => 2);
		const claim = await claims.submitClaim(api, bob, device, modelId, [image], [lie], 1);
		console.log(`\t claim ${claim} submitted with a wrong output`);

		// The lying claimant's trace: made up around the claimed output, over the model's
		// m + n leaves.
		const leaves = params.inputs.length + params.nodeCount.toNumber();
		const trace = claims.madeUpTrace(image, lie, 11, leaves);
		console.log(`\t the liar's made-up trace: ${leaves} leaves`);

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
	}
}

module.exports = { run };
