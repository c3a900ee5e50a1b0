// Zombienet js-script: faults on the 3-validator network.
//
// 1. The fixture MLP is registered and voted active (all three validators up).
// 2. //Bob's device submits a tampered claim; the checkers open disputes.
// 3. charlie is killed (SIGKILL) while the games run. //Bob plays the lying claimant against
//    alice's checker with a made-up trace (as in 03) until alice's one-step convicts it.
//    Blocks go on: alice and bob author their slots. GRANDPA needs more than 2/3 of the
//    voters, which with three equal voters is all three: finality waits for charlie.
// 4. charlie is restarted with its own command line and database: it catches up, and finality
//    resumes; every node agrees on the outcome at a finalised block.
// 5. The full node is killed and restarted from its database: the outcome is there at once,
//    and it follows the chain again.
//
// Prints the times and block numbers, and returns 1 when every check held.

const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

/** The running node process named `name` (its argv has `--name <name>`). */
function findNode(name) {
	for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
		let argv;
		try {
			argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
		} catch {
			continue;
		}
		if (!argv[0] || path.basename(argv[0]) !== 'edgeproof-node') continue;
		const at = argv.indexOf('--name');
		if (at >= 0 && argv[at + 1] === name) return { pid: Number(pid), argv };
	}
	throw new Error(`no running edgeproof-node named ${name}`);
}

const alive = (pid) => {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
};

/** Kills node `name` with SIGKILL; returns its command line, to start it again. */
async function kill(name, waitFor) {
	const { pid, argv } = findNode(name);
	process.kill(pid, 'SIGKILL');
	await waitFor(() => !alive(pid), 30_000, `${name} to exit`);
	return argv;
}

/** Starts a node again with `argv` (same base path: its database), logging beside it. */
function restart(name, argv) {
	const base = argv[argv.indexOf('--base-path') + 1];
	const log = fs.openSync(`${base}.restarted.log`, 'a');
	const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', log, log] });
	child.unref();
	return argv[argv.indexOf('--rpc-port') + 1];
}

/** Does the node's RPC server answer on `port` (HTTP and WebSocket share it)? */
async function rpcUp(port) {
	const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'system_health', params: [] });
	try {
		const r = await fetch(`http://127.0.0.1:${port}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body,
		});
		return r.ok;
	} catch {
		return false;
	}
}

const { helpers, activateMlp, agreeOnSlash } = require('../common.cjs');

async function run(nodeName, networkInfo) {
	const { claims, node, Keyring, connect } = await helpers();
	const wsOf = Object.fromEntries(networkInfo.relay.map((n) => [n.name, n.wsUri]));
	const numberOf = async (api, finalized) => {
		const header = finalized
			? await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())
			: await api.rpc.chain.getHeader();
		return header.number.toNumber();
	};
	const seconds = (from) => ((Date.now() - from) / 1000).toFixed(0);

	const apis = {};
	const server = await claims.serveMlp();
	try {
		const api = (apis.alice = await connect(wsOf[nodeName]));
		const bob = new Keyring({ type: 'sr25519' }).addFromUri('//Bob');
		const aliceChecker = new Keyring({ type: 'ed25519' }).addFromUri('//Alice').address;

		const modelId = await activateMlp(claims, api, bob, server.uri);
		const device = new Keyring({ type: 'ed25519' }).addFromUri('//zombienet-faults');
		const key = await claims.registerDevice(api, bob, device, 'zombienet faults');
		const stake = (await api.query.devices.devices(key)).unwrap().stake.toBigInt();
		const lie = claims.tamper(claims.mlp.outputTensor, 0.5);
		const claim = await claims.submitClaim(api, bob, device, modelId, [claims.mlp.inputTensor], [lie], 1);
		console.log(`\t claim ${claim} submitted with a wrong output`);

		// alice's checker's dispute (charlie's would stall with charlie).
		const { dispute } = await node.waitFor(async () => {
			for (const id of await api.query.disputes.claimDisputes(claim)) {
				const d = await api.query.disputes.disputes(id);
				if (d.isSome && d.unwrap().challenger.toString() === aliceChecker) return { dispute: id.toNumber() };
			}
			return null;
		}, 120_000, "alice's dispute");

		const killedAt = Date.now();
		const charlieArgv = await kill('charlie', node.waitFor);
		const best0 = await numberOf(api, false);
		const final0 = await numberOf(api, true);
		console.log(`\t dispute ${dispute} running; charlie killed at #${best0} (finalised #${final0})`);

		const trace = claims.madeUpTrace(claims.mlp.inputTensor, lie, 21);
		await node.sendAndWaitInBlock(api.tx.disputes.respond(dispute, trace.root, [trace.witness]), bob);
		await claims.answerBisections(api, bob, dispute, trace, 'claimant');
		await node.waitFor(async () => {
			const record = await api.query.attestations.claims(claim);
			return record.isSome && record.unwrap().status.isInvalid;
		}, 300_000, 'the claim to be settled Invalid with charlie down');
		const best1 = await numberOf(api, false);
		const final1 = await numberOf(api, true);
		console.log(
			`\t settled with charlie down: claim Invalid at #${best1}, ${seconds(killedAt)} s after the kill; ` +
				`${best1 - best0} blocks authored by alice and bob; finalised #${final0} -> #${final1}`,
		);
		if (best1 <= best0) throw new Error('no blocks while charlie was down');

		const restartedAt = Date.now();
		const charliePort = restart('charlie', charlieArgv);
		await node.waitFor(() => rpcUp(charliePort), 120_000, 'charlie to serve RPC');
		const charlie = (apis.charlie = await connect(`ws://127.0.0.1:${charliePort}`));
		await node.waitFor(async () => (await numberOf(charlie, false)) >= best1, 180_000, 'charlie to catch up');
		console.log(`\t charlie restarted from its database and caught up to #${best1} in ${seconds(restartedAt)} s`);
		await node.waitFor(async () => (await numberOf(api, true)) >= best1, 300_000, 'finality to resume');
		console.log(`\t finality reached #${best1} ${seconds(restartedAt)} s after the restart`);

		// Every node agrees at a finalised block after the settlement.
		const settledAt = await api.rpc.chain.getFinalizedHead();
		apis.bob = await connect(wsOf.bob);
		apis.full = await connect(wsOf.full);
		await agreeOnSlash(node, apis, settledAt, { claim, key, stake, importMs: 120_000 });
		console.log(`\t alice, bob, charlie and full agree at finalised ${settledAt.toHex().slice(0, 10)}…`);

		// The full node, restarted from its database, keeps its state.
		await apis.full.disconnect();
		delete apis.full;
		const fullArgv = await kill('full', node.waitFor);
		const fullRestartedAt = Date.now();
		const fullPort = restart('full', fullArgv);
		await node.waitFor(() => rpcUp(fullPort), 120_000, 'full to serve RPC');
		const full = (apis.full = await connect(`ws://127.0.0.1:${fullPort}`));
		const kept = await full.query.attestations.claims.at(await full.rpc.chain.getFinalizedHead(), claim);
		const keptNumber = await numberOf(full, true);
		if (kept.isNone || !kept.unwrap().status.isInvalid) throw new Error('the full node lost the outcome');
		const target = (await numberOf(api, false)) + 2;
		await node.waitFor(async () => (await numberOf(full, false)) >= target, 120_000, 'full to follow again');
		console.log(
			`\t full node restarted: claim ${claim} Invalid at its finalised #${keptNumber} at once; ` +
				`following at #${target} ${seconds(fullRestartedAt)} s after the restart`,
		);
		return 1;
	} finally {
		await Promise.all(Object.values(apis).map((a) => a.disconnect().catch(() => {})));
		await server.stop();
	}
}

module.exports = { run };
