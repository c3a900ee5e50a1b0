//! The runtime fuzzer: random sequences of every call of the four Edgeproof pallets, balances
//! and sudo, applied as signed extrinsics to the real `edgeproof-runtime` (native) through
//! `Executive`, from the genesis of the `development` preset with a registered model and
//! devices. Block by block (`initialize_block` with an Aura slot, the timestamp inherent, the
//! calls, `finalize_block`), and after every block:
//!
//! - every pallet's `try_state` invariants (bonds, stakes and deposits against their holds,
//!   bounded queues, records that agree with each other);
//! - conservation of money: total issuance is the sum of every account's free and held balance,
//!   and it only ever falls (nothing here mints), by what was burned.
//!
//! Each case ends with a drain — blocks with nothing but `timeout` calls, as validators' workers
//! send them — after which no claim and no dispute may be left undecided: settlement never
//! sticks. Any panic fails the case, and proptest shrinks it to the shortest sequence of calls.
//!
//! Arguments are drawn around what is valid: signatures of the right device keys over the right
//! messages, traces, proofs and one-step witnesses computed with the canonical executor from the
//! fixture MLP (honest, lying or stale), then mutated (flipped bits, wrong ids, wrong origins,
//! out-of-range parameters).
//!
//! CI runs a bounded slice with a fixed seed. A long run (see docs/fuzzing.md):
//!
//! ```text
//! EDGEPROOF_FUZZ_CASES=5000 EDGEPROOF_FUZZ_SEED=random \
//!   cargo test --release -p edgeproof-runtime --test fuzz -- --nocapture
//! ```

use std::{
	collections::BTreeSet,
	sync::{LazyLock, Mutex},
	time::Instant,
};

use codec::{Decode, Encode};
use edgeproof_canon::{compiler::compile, execute, DType, Tensor, Tolerance};
use edgeproof_runtime::{
	genesis_config_presets::development_config_genesis, tx_extension, Attestations, Balance,
	BuildStorage, Executive, Header, Runtime, RuntimeCall, RuntimeEvent, RuntimeGenesisConfig,
	SignedPayload, System, UncheckedExtrinsic, SLOT_DURATION, UNIT,
};
use frame_support::{
	traits::{fungible::Inspect, Get, GetCallMetadata},
	BoundedVec,
};
use pallet_attestations::{claim_message, ClaimId, Parameters};
use pallet_devices::{DeviceKey, DeviceMetadata, DeviceSignature, HardwareClass};
use pallet_disputes::{
	game::{
		testing::{nudge, Model, Player},
		ClockParams, Level, Phase, Reveal, Revealed,
	},
	DisputeId,
};
use pallet_models::{ModelId, ModelParamsOf, TensorSpec, Verdict};
use proptest::{
	prelude::*,
	test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
};
use sp_core::{ed25519, sr25519, Pair, H256};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::{
	generic::{Digest, DigestItem, Era},
	traits::{Header as _, IdentifyAccount},
	MultiAddress, MultiSignature, MultiSigner, Perbill,
};

type AccountId = edgeproof_runtime::AccountId;

// ---------------------------------------------------------------------------------------------
// The fixed world: keys, the fixture model, the genesis.

/// An account key: the dev accounts (sr25519), Alice's checker account (ed25519) and an
/// account with no funds.
#[derive(Clone)]
enum Key {
	Sr(sr25519::Pair),
	Ed(ed25519::Pair),
}

impl Key {
	fn account(&self) -> AccountId {
		match self {
			Key::Sr(p) => MultiSigner::from(p.public()).into_account(),
			Key::Ed(p) => MultiSigner::from(p.public()).into_account(),
		}
	}

	fn sign(&self, message: &[u8]) -> MultiSignature {
		match self {
			Key::Sr(p) => p.sign(message).into(),
			Key::Ed(p) => p.sign(message).into(),
		}
	}
}

/// Index of Alice (sudo) and of her checker account in [`World::accounts`].
const ALICE: usize = 0;
const CHECKER: usize = 6;
/// Operators of the devices registered at the start (Charlie, Dave) and the model owner (Bob).
const OWNER: usize = 1;
const OPERATORS: [usize; 2] = [2, 3];
/// Device keys: the first two are registered at the start.
const DEVICES: usize = 4;

struct World {
	accounts: Vec<Key>,
	devices: Vec<ed25519::Pair>,
	model: Model,
	model_bytes: Vec<u8>,
	file_hash: pallet_models::FileHash,
	storage: sp_runtime::Storage,
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
	let mut accounts: Vec<Key> = [
		Sr25519Keyring::Alice,
		Sr25519Keyring::Bob,
		Sr25519Keyring::Charlie,
		Sr25519Keyring::Dave,
		Sr25519Keyring::Eve,
		Sr25519Keyring::Ferdie,
	]
	.into_iter()
	.map(|k| Key::Sr(k.pair()))
	.collect();
	accounts.push(Key::Ed(Ed25519Keyring::Alice.pair()));
	accounts.push(Key::Sr(sr25519::Pair::from_string("//fuzz-penniless", None).expect("seed")));
	let devices = (0..DEVICES)
		.map(|i| ed25519::Pair::from_string(&format!("//fuzz-device-{i}"), None).expect("seed"))
		.collect();

	let data = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../canon/tests/data");
	let model_bytes = std::fs::read(data.join("mlp.onnx")).expect("the fixture MLP");
	let program = compile(&model_bytes, &edgeproof_offchain::compile_options())
		.expect("the fixture compiles")
		.program;
	let input = Tensor::new(
		DType::F32,
		vec![1, 16],
		std::fs::read(data.join("mlp.input_0.bin")).expect("the fixture input"),
	)
	.expect("a tensor");
	let model = Model::new(program, vec![input]);
	let file_hash = H256(sp_io::hashing::blake2_256(&model_bytes));

	let mut genesis = serde_json::to_value(RuntimeGenesisConfig::default()).expect("json");
	merge(&mut genesis, development_config_genesis());
	let config: RuntimeGenesisConfig = serde_json::from_value(genesis).expect("the dev preset");
	let storage = config.build_storage().expect("genesis storage");
	World { accounts, devices, model, model_bytes, file_hash, storage }
});

/// Applies a JSON patch the way chain specs do: objects merge key by key, the rest replaces.
fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
	match (base, patch) {
		(serde_json::Value::Object(base), serde_json::Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(serde_json::Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}

fn device_key(i: usize) -> DeviceKey {
	DeviceKey::Ed25519(WORLD.devices[i % DEVICES].public())
}

fn account(i: usize) -> AccountId {
	WORLD.accounts[i % WORLD.accounts.len()].account()
}

fn tensor_spec(name: &str, shape: &[u32]) -> pallet_models::TensorSpecOf<Runtime> {
	TensorSpec {
		name: BoundedVec::truncate_from(name.as_bytes().to_vec()),
		dtype: DType::F32,
		shape: BoundedVec::truncate_from(shape.to_vec()),
		dynamic_batch: false,
	}
}

/// The registration of the fixture MLP that every case starts with.
fn setup_params() -> ModelParamsOf<Runtime> {
	mlp_params(1, Tolerance::Relative { abs: 0, rel: 1e-4f32.to_bits() })
}

/// The id of [`setup_params`], registered by `OWNER` (computed once: claims name it in every
/// case).
static SETUP_MODEL: LazyLock<ModelId> =
	LazyLock::new(|| pallet_models::model_id(&account(OWNER), &setup_params()));

fn setup_model() -> ModelId {
	*SETUP_MODEL
}

/// The fixture MLP's registration, as a model owner sends it.
fn mlp_params(version: u32, tolerance: Tolerance) -> ModelParamsOf<Runtime> {
	ModelParamsOf::<Runtime> {
		file_hash: WORLD.file_hash,
		name: BoundedVec::truncate_from(b"mlp".to_vec()),
		version,
		uri: BoundedVec::truncate_from(b"https://models.example/mlp.onnx".to_vec()),
		byte_size: WORLD.model_bytes.len() as u64,
		inputs: BoundedVec::truncate_from(vec![tensor_spec("x", &[1, 16])]),
		outputs: BoundedVec::truncate_from(vec![tensor_spec("probs", &[1, 8])]),
		tolerance,
		program_root: H256(WORLD.model.program_tree.root()),
		node_count: WORLD.model.program.nodes.len() as u32,
		program_work: WORLD.model.program.cost().expect("static shapes").work,
	}
}

// ---------------------------------------------------------------------------------------------
// The calls the fuzzer draws.

/// Who signs: usually the account the call needs (`Right`), otherwise any account.
#[derive(Clone, Copy, Debug)]
enum Who {
	Right,
	Any(u8),
}

/// Which trace a party plays a move from.
#[derive(Clone, Copy, Debug)]
enum Trace {
	/// The claim's own (honest or not): what its claimant defends.
	Claimed,
	/// The canonical trace of the claim's input.
	Honest,
	/// A trace with the output nudged by this much.
	Liar(i8),
	/// A trace whose first node is tampered and the rest recomputed.
	DeepLiar,
}

/// One step of a case. `pick` fields choose among what exists (claims, disputes, models) modulo
/// their number; `flip` fields, when not zero, flip a bit of a signature, hash or witness.
#[derive(Clone, Debug)]
enum Op {
	Blocks(u8),
	Transfer {
		from: u8,
		to: u8,
		amount: u64,
		keep_alive: bool,
	},
	TransferAll {
		from: u8,
		to: u8,
		keep_alive: bool,
	},
	ForceTransfer {
		from: u8,
		to: u8,
		amount: u64,
	},
	RegisterModel {
		who: Who,
		version: u32,
		abs: u32,
		rel: u32,
		random_file: bool,
	},
	Vote {
		who: Who,
		pick: u8,
		approve: bool,
	},
	Activate {
		pick: u8,
	},
	Reject {
		pick: u8,
	},
	Deprecate {
		who: Who,
		pick: u8,
	},
	Retire {
		who: Who,
		pick: u8,
	},
	SetUri {
		who: Who,
		pick: u8,
		local: bool,
	},
	RegisterDevice {
		who: Who,
		key: u8,
		bound_to: u8,
		stake: u16,
		flip: u16,
	},
	RotateKey {
		who: Who,
		pick: u8,
		new_key: u8,
		flip: u16,
	},
	Suspend {
		who: Who,
		pick: u8,
	},
	Resume {
		who: Who,
		pick: u8,
	},
	ForceResume {
		pick: u8,
	},
	Deregister {
		who: Who,
		pick: u8,
	},
	WithdrawStake {
		who: Who,
		pick: u8,
	},
	Submit {
		who: Who,
		device: u8,
		seed: Option<u32>,
		claimed: Trace,
		nonce: u8,
		flip: u16,
	},
	SetParameters {
		challenge_period: u32,
		check: u8,
	},
	SetCheckers {
		mask: u8,
	},
	Open {
		who: Who,
		pick: u8,
		trace: Trace,
	},
	Respond {
		who: Who,
		pick: u8,
		trace: Trace,
	},
	Bisect {
		who: Who,
		pick: u8,
		claimant: bool,
		trace: Trace,
		round: Option<u32>,
	},
	OneStep {
		who: Who,
		pick: u8,
		trace: Trace,
		flip: u16,
	},
	/// Starts the second level at the disputed node (the cut witness from `trace`).
	Cut {
		who: Who,
		pick: u8,
		trace: Trace,
	},
	/// A second-level reveal by a party (from `trace`), its encoding mutated if `flip`.
	Reveal {
		who: Who,
		pick: u8,
		claimant: bool,
		trace: Trace,
		flip: u16,
	},
	/// The sub-step (from `trace`), its encoding mutated if `flip`.
	SubStep {
		who: Who,
		pick: u8,
		trace: Trace,
		flip: u16,
	},
	Timeout {
		who: Who,
		pick: u8,
	},
	/// Up to `moves` moves of a dispute, each the one its owing party makes from its own trace
	/// (what the validators' and devices' players do).
	Play {
		pick: u8,
		moves: u8,
	},
	/// No block for longer than the device unbonding period (as many empty blocks would).
	Idle,
	SetClock {
		budget: u32,
		min_extension: u32,
	},
}

fn who() -> impl Strategy<Value = Who> {
	prop_oneof![3 => Just(Who::Right), 1 => any::<u8>().prop_map(Who::Any)]
}

fn trace() -> impl Strategy<Value = Trace> {
	prop_oneof![
		4 => Just(Trace::Claimed),
		3 => Just(Trace::Honest),
		2 => any::<i8>().prop_map(Trace::Liar),
		1 => Just(Trace::DeepLiar),
	]
}

/// Mostly 0 (no mutation).
fn flip() -> impl Strategy<Value = u16> {
	prop_oneof![4 => Just(0u16), 1 => 1..u16::MAX]
}

/// Amounts from dust to more than anyone has.
fn amount() -> impl Strategy<Value = u64> {
	(0u32..64).prop_flat_map(|bits| 0..=(u64::MAX >> bits))
}

fn op() -> impl Strategy<Value = Op> {
	// Weights: dispute moves and claims most, so that games reach their one-step.
	let pick = any::<u8>;
	prop_oneof![
		8 => (1u8..=4).prop_map(Op::Blocks),
		1 => (5u8..=40).prop_map(Op::Blocks),
		1 => Just(Op::Idle),
		// Balances.
		2 => (pick(), pick(), amount(), any::<bool>()).prop_map(|(from, to, amount, keep_alive)| {
			Op::Transfer { from, to, amount, keep_alive }
		}),
		1 => (pick(), pick(), any::<bool>())
			.prop_map(|(from, to, keep_alive)| Op::TransferAll { from, to, keep_alive }),
		1 => (pick(), pick(), amount())
			.prop_map(|(from, to, amount)| Op::ForceTransfer { from, to, amount }),
		// Models. `rel` is the fixtures' 1e-4 or anything.
		2 => (
			who(),
			0u32..4,
			prop_oneof![Just(0u32), any::<u32>()],
			prop_oneof![Just(1e-4f32.to_bits()), any::<u32>()],
			any::<bool>(),
		)
			.prop_map(|(who, version, abs, rel, random_file)| {
				Op::RegisterModel { who, version, abs, rel, random_file }
			}),
		2 => (who(), pick(), any::<bool>())
			.prop_map(|(who, pick, approve)| Op::Vote { who, pick, approve }),
		1 => pick().prop_map(|pick| Op::Activate { pick }),
		1 => pick().prop_map(|pick| Op::Reject { pick }),
		1 => (who(), pick()).prop_map(|(who, pick)| Op::Deprecate { who, pick }),
		1 => (who(), pick()).prop_map(|(who, pick)| Op::Retire { who, pick }),
		1 => (who(), pick(), any::<bool>())
			.prop_map(|(who, pick, local)| Op::SetUri { who, pick, local }),
		// Devices.
		3 => (who(), pick(), pick(), prop_oneof![Just(100u16), any::<u16>()], flip())
			.prop_map(|(who, key, bound_to, stake, flip)| {
				Op::RegisterDevice { who, key, bound_to, stake, flip }
			}),
		2 => (who(), pick(), pick(), flip())
			.prop_map(|(who, pick, new_key, flip)| Op::RotateKey { who, pick, new_key, flip }),
		1 => (who(), pick()).prop_map(|(who, pick)| Op::Suspend { who, pick }),
		1 => (who(), pick()).prop_map(|(who, pick)| Op::Resume { who, pick }),
		1 => pick().prop_map(|pick| Op::ForceResume { pick }),
		1 => (who(), pick()).prop_map(|(who, pick)| Op::Deregister { who, pick }),
		1 => (who(), pick()).prop_map(|(who, pick)| Op::WithdrawStake { who, pick }),
		// Claims.
		10 => (who(), pick(), proptest::option::of(any::<u32>()), trace(), pick(), flip())
			.prop_map(|(who, device, seed, claimed, nonce, flip)| {
				Op::Submit { who, device, seed, claimed, nonce, flip }
			}),
		1 => (prop_oneof![1u32..=20, any::<u32>()], pick())
			.prop_map(|(challenge_period, check)| Op::SetParameters { challenge_period, check }),
		1 => pick().prop_map(|mask| Op::SetCheckers { mask }),
		// Disputes.
		8 => (who(), pick(), trace()).prop_map(|(who, pick, trace)| Op::Open { who, pick, trace }),
		8 => (who(), pick(), trace())
			.prop_map(|(who, pick, trace)| Op::Respond { who, pick, trace }),
		16 => (
			who(),
			pick(),
			any::<bool>(),
			trace(),
			prop_oneof![4 => Just(None), 1 => any::<u32>().prop_map(Some)],
		)
			.prop_map(|(who, pick, claimant, trace, round)| {
				Op::Bisect { who, pick, claimant, trace, round }
			}),
		6 => (who(), pick(), trace(), flip())
			.prop_map(|(who, pick, trace, flip)| Op::OneStep { who, pick, trace, flip }),
		4 => (who(), pick(), trace()).prop_map(|(who, pick, trace)| Op::Cut { who, pick, trace }),
		6 => (who(), pick(), any::<bool>(), trace(), flip()).prop_map(
			|(who, pick, claimant, trace, flip)| Op::Reveal { who, pick, claimant, trace, flip }
		),
		4 => (who(), pick(), trace(), flip())
			.prop_map(|(who, pick, trace, flip)| Op::SubStep { who, pick, trace, flip }),
		3 => (who(), pick()).prop_map(|(who, pick)| Op::Timeout { who, pick }),
		10 => (pick(), 1u8..=12).prop_map(|(pick, moves)| Op::Play { pick, moves }),
		1 => (prop_oneof![1u32..=30, any::<u32>()], prop_oneof![0u32..=30, any::<u32>()])
			.prop_map(|(budget, min_extension)| Op::SetClock { budget, min_extension }),
	]
}

// ---------------------------------------------------------------------------------------------
// A case: the chain and what the fuzzer knows about it.

/// A claim the fuzzer submitted: its input and the traces that go with it.
struct ClaimTraces {
	id: ClaimId,
	operator: usize,
	honest: Player,
	claimed: Player,
}

/// What a run counted.
#[derive(Default)]
struct Stats {
	cases: u64,
	calls: u64,
	dispatched_ok: u64,
	dispatch_failed: u64,
	invalid: u64,
	blocks: u64,
	kinds: BTreeSet<(String, String)>,
	kinds_ok: BTreeSet<(String, String)>,
	claims: u64,
	disputes: u64,
	one_steps_ok: u64,
	sub_steps_ok: u64,
}

impl Stats {
	fn absorb(&mut self, case: Stats) {
		self.cases += 1;
		self.calls += case.calls;
		self.dispatched_ok += case.dispatched_ok;
		self.dispatch_failed += case.dispatch_failed;
		self.invalid += case.invalid;
		self.blocks += case.blocks;
		self.claims += case.claims;
		self.disputes += case.disputes;
		self.one_steps_ok += case.one_steps_ok;
		self.sub_steps_ok += case.sub_steps_ok;
		self.kinds.extend(case.kinds);
		self.kinds_ok.extend(case.kinds_ok);
	}
}

/// What the whole run counted.
static STATS: LazyLock<Mutex<Stats>> = LazyLock::new(Default::default);

struct Case {
	parent: H256,
	claims: Vec<ClaimTraces>,
	disputes: Vec<(DisputeId, usize, Player)>,
	models: Vec<ModelId>,
	/// Total issuance after the last block.
	issuance: Balance,
	stats: Stats,
}

impl Case {
	fn new() -> Self {
		Case {
			parent: H256::zero(),
			claims: Vec::new(),
			disputes: Vec::new(),
			models: vec![setup_model()],
			issuance: 0,
			stats: Stats::default(),
		}
	}

	fn now(&self) -> u32 {
		System::block_number()
	}

	/// Starts the next block: its Aura slot in the digest, then the timestamp inherent.
	fn open_block(&mut self) {
		let number = System::block_number() + 1;
		let slot = sp_consensus_aura::Slot::from(u64::from(number));
		let digest = Digest {
			logs: vec![DigestItem::PreRuntime(sp_consensus_aura::AURA_ENGINE_ID, slot.encode())],
		};
		let header = Header::new(number, H256::zero(), H256::zero(), self.parent, digest);
		Executive::initialize_block(&header);
		let now = u64::from(number) * SLOT_DURATION;
		let inherent =
			UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(pallet_timestamp::Call::set {
				now,
			}));
		Executive::apply_extrinsic(inherent)
			.expect("the timestamp inherent is valid")
			.expect("the timestamp inherent succeeds");
	}

	/// Ends the block and checks every invariant.
	fn close_block(&mut self) {
		let header = Executive::finalize_block();
		self.parent = header.hash();
		self.stats.blocks += 1;
		self.check_invariants();
	}

	fn next_blocks(&mut self, n: u32) {
		for _ in 0..n {
			self.close_block();
			self.open_block();
		}
	}

	fn check_invariants(&mut self) {
		pallet_models::Pallet::<Runtime>::do_try_state().expect("model invariants");
		pallet_devices::Pallet::<Runtime>::do_try_state().expect("device invariants");
		pallet_attestations::Pallet::<Runtime>::do_try_state().expect("claim invariants");
		pallet_disputes::Pallet::<Runtime>::do_try_state().expect("dispute invariants");

		let issuance = pallet_balances::TotalIssuance::<Runtime>::get();
		let held: Balance = frame_system::Account::<Runtime>::iter()
			.map(|(_, info)| info.data.free + info.data.reserved)
			.sum();
		assert_eq!(issuance, held, "total issuance is every account's free + held balance");
		let burned: Balance = System::events()
			.iter()
			.filter_map(|record| match &record.event {
				RuntimeEvent::Balances(pallet_balances::Event::Burned { amount, .. })
				| RuntimeEvent::Balances(pallet_balances::Event::BurnedHeld { amount, .. })
				| RuntimeEvent::Balances(pallet_balances::Event::BurnedDebt { amount })
				| RuntimeEvent::Balances(pallet_balances::Event::Rescinded { amount }) => Some(*amount),
				_ => None,
			})
			.sum();
		assert_eq!(
			self.issuance,
			issuance + burned,
			"total issuance falls by what was burned (fees, slashes, dust) and nothing is minted"
		);
		self.issuance = issuance;
	}

	/// Signs `call` by account `who` with its current nonce and applies it.
	fn apply(&mut self, who: usize, call: RuntimeCall) {
		let key = &WORLD.accounts[who % WORLD.accounts.len()];
		let signer = key.account();
		let nonce = System::account_nonce(&signer);
		let extension = tx_extension(Era::Immortal, nonce);
		let metadata = call.get_call_metadata();
		let kind = (metadata.pallet_name.to_string(), metadata.function_name.to_string());
		let payload = SignedPayload::new(call, extension).expect("the extension's implicit data");
		let signature = payload.using_encoded(|bytes| key.sign(bytes));
		let (call, extension, _) = payload.deconstruct();
		let xt =
			UncheckedExtrinsic::new_signed(call, MultiAddress::Id(signer), signature, extension);

		self.stats.calls += 1;
		self.stats.kinds.insert(kind.clone());
		match Executive::apply_extrinsic(xt) {
			Ok(Ok(())) => {
				self.stats.dispatched_ok += 1;
				self.stats.kinds_ok.insert(kind);
			},
			Ok(Err(_)) => self.stats.dispatch_failed += 1,
			Err(_) => self.stats.invalid += 1,
		}
	}

	/// Dispatches `call` as root, through Alice's `sudo`.
	fn sudo(&mut self, call: RuntimeCall) {
		let metadata = call.get_call_metadata();
		let kind = (metadata.pallet_name.to_string(), metadata.function_name.to_string());
		let sudo = RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(call) });
		let events = System::event_count();
		self.apply(ALICE, sudo);
		self.stats.kinds.insert(kind.clone());
		let inner_ok = System::events().iter().skip(events as usize).any(|r| {
			matches!(r.event, RuntimeEvent::Sudo(pallet_sudo::Event::Sudid { sudo_result: Ok(_) }))
		});
		if inner_ok {
			self.stats.kinds_ok.insert(kind);
		}
	}

	fn who(&self, who: Who, right: usize) -> usize {
		match who {
			Who::Right => right,
			Who::Any(i) => i as usize,
		}
	}

	fn model(&self, pick: u8) -> ModelId {
		self.models[pick as usize % self.models.len()]
	}

	/// Registered devices in storage order, `pick`ed modulo their number, with the index of
	/// their operator's account (or a device key nobody registered, and Alice, when there are
	/// none).
	fn device(&self, pick: u8) -> (DeviceKey, usize) {
		let devices: Vec<_> = pallet_devices::Devices::<Runtime>::iter().collect();
		if devices.is_empty() {
			return (device_key(pick as usize), ALICE);
		}
		let (id, record) = &devices[pick as usize % devices.len()];
		(id.clone(), Self::account_index(&record.operator))
	}

	fn account_index(who: &AccountId) -> usize {
		WORLD.accounts.iter().position(|k| &k.account() == who).unwrap_or(0)
	}

	/// A party's trace for its move in `dispute` and the account it moves from: the claimant's
	/// (from `trace`) or the challenger's (its own, or from `trace`).
	fn party_trace(
		&self,
		claim: usize,
		challenger: Player,
		dispute: &pallet_disputes::DisputeOf<Runtime>,
		claimant: bool,
		trace: Trace,
	) -> (Player, usize) {
		let claim = &self.claims[claim];
		if claimant {
			return (self.trace_of(claim, trace), claim.operator);
		}
		let player = match trace {
			Trace::Claimed => challenger,
			other => self.trace_of(claim, other),
		};
		(player, Self::account_index(&dispute.challenger))
	}

	/// Whose values a step (one-step, cut, sub-step) is built from: the claim's, the honest
	/// trace, or the challenger's.
	fn step_player(&self, claim: usize, challenger: Player, trace: Trace) -> Player {
		match trace {
			Trace::Claimed => self.claims[claim].claimed.clone(),
			Trace::Honest => self.claims[claim].honest.clone(),
			_ => challenger,
		}
	}

	fn trace_of(&self, claim: &ClaimTraces, trace: Trace) -> Player {
		derive(&claim.honest, &claim.claimed, trace)
	}

	/// The fixture input, or one drawn from `seed` (16 values in [-4, 4)).
	fn input(&self, seed: Option<u32>) -> Tensor {
		let Some(seed) = seed else { return WORLD.model.inputs[0].clone() };
		let mut state = u64::from(seed) | 1;
		let values: Vec<f32> = (0..16)
			.map(|_| {
				state ^= state << 13;
				state ^= state >> 7;
				state ^= state << 17;
				(state % 4096) as f32 / 512.0 - 4.0
			})
			.collect();
		Tensor::from_f32(vec![1, 16], &values)
	}

	fn dispute(&self, pick: u8) -> Option<(DisputeId, usize, Player)> {
		if self.disputes.is_empty() {
			return None;
		}
		let (id, claim, player) = &self.disputes[pick as usize % self.disputes.len()];
		Some((*id, *claim, player.clone()))
	}

	fn run(&mut self, op: &Op) {
		use pallet_balances::Call as B;
		use pallet_devices::Call as D;
		use pallet_disputes::Call as G;
		use pallet_models::Call as M;
		let model = &WORLD.model;
		match op.clone() {
			Op::Blocks(n) => self.next_blocks(n.into()),
			Op::Transfer { from, to, amount, keep_alive } => {
				let dest = MultiAddress::Id(account(to.into()));
				let value = Balance::from(amount) * 1_000;
				let call = if keep_alive {
					B::transfer_keep_alive { dest, value }
				} else {
					B::transfer_allow_death { dest, value }
				};
				self.apply(from.into(), call.into());
			},
			Op::TransferAll { from, to, keep_alive } => {
				let dest = MultiAddress::Id(account(to.into()));
				self.apply(from.into(), B::transfer_all { dest, keep_alive }.into());
			},
			Op::ForceTransfer { from, to, amount } => {
				let source = MultiAddress::Id(account(from.into()));
				let dest = MultiAddress::Id(account(to.into()));
				let value = Balance::from(amount) * 1_000;
				self.sudo(B::force_transfer { source, dest, value }.into());
			},
			Op::RegisterModel { who, version, abs, rel, random_file } => {
				let tolerance = if abs == 0 && rel == 0 {
					Tolerance::Exact
				} else {
					Tolerance::Relative { abs, rel }
				};
				let mut params = mlp_params(version, tolerance);
				if random_file {
					params.file_hash = H256(sp_io::hashing::blake2_256(&version.encode()));
					params.name = BoundedVec::truncate_from(format!("m{version}").into_bytes());
				}
				let owner = self.who(who, OWNER);
				let id = pallet_models::model_id(&account(owner), &params);
				self.apply(owner, M::register_model { params }.into());
				if !self.models.contains(&id) {
					self.models.push(id);
				}
			},
			Op::Vote { who, pick, approve } => {
				let verdict = if approve { Verdict::Approve } else { Verdict::Reject };
				let call = M::vote { model: self.model(pick), verdict };
				self.apply(self.who(who, CHECKER), call.into());
			},
			Op::Activate { pick } => self.sudo(M::activate { model: self.model(pick) }.into()),
			Op::Reject { pick } => self.sudo(M::reject { model: self.model(pick) }.into()),
			Op::Deprecate { who, pick } => {
				self.apply(self.who(who, OWNER), M::deprecate { model: self.model(pick) }.into())
			},
			Op::Retire { who, pick } => {
				self.apply(self.who(who, OWNER), M::retire { model: self.model(pick) }.into())
			},
			Op::SetUri { who, pick, local } => {
				let uri: &[u8] = if local { b"file:///dev/zero" } else { b"https://m.example/x" };
				let call = M::set_uri {
					model: self.model(pick),
					uri: BoundedVec::truncate_from(uri.to_vec()),
				};
				self.apply(self.who(who, OWNER), call.into());
			},
			Op::RegisterDevice { who, key, bound_to, stake, flip } => {
				let operator = self.who(who, bound_to.into());
				let device = key as usize % DEVICES;
				let message = pallet_devices::Pallet::<Runtime>::bind_message_for(
					&device_key(device),
					&account(bound_to.into()),
				);
				let proof =
					DeviceSignature::Ed25519(flipped(WORLD.devices[device].sign(&message), flip));
				let call = D::register_device {
					key: device_key(device),
					proof,
					metadata: DeviceMetadata {
						hardware: HardwareClass::Phone,
						description: BoundedVec::truncate_from(b"fuzz".to_vec()),
					},
					stake: Balance::from(stake) * UNIT,
				};
				self.apply(operator, call.into());
			},
			Op::RotateKey { who, pick, new_key, flip } => {
				let (device, operator) = self.device(pick);
				let Some(record) = pallet_devices::Devices::<Runtime>::get(&device) else { return };
				let current = device_pair(&record.key).unwrap_or(0);
				let new = new_key as usize % DEVICES;
				let message = pallet_devices::rotate_message(
					&Attestations::genesis_hash(),
					&device,
					record.registration,
					&device_key(new),
				);
				let call = D::rotate_key {
					device,
					new_key: device_key(new),
					old_signature: DeviceSignature::Ed25519(flipped(
						WORLD.devices[current].sign(&message),
						flip,
					)),
					new_signature: DeviceSignature::Ed25519(WORLD.devices[new].sign(&message)),
				};
				self.apply(self.who(who, operator), call.into());
			},
			Op::Suspend { who, pick } => {
				self.device_call(who, pick, |device| D::suspend { device })
			},
			Op::Resume { who, pick } => self.device_call(who, pick, |device| D::resume { device }),
			Op::ForceResume { pick } => {
				let (device, _) = self.device(pick);
				self.sudo(D::force_resume { device }.into());
			},
			Op::Deregister { who, pick } => {
				self.device_call(who, pick, |device| D::deregister { device })
			},
			Op::WithdrawStake { who, pick } => {
				self.device_call(who, pick, |device| D::withdraw_stake { device })
			},
			Op::Submit { who, device, seed, claimed, nonce, flip } => {
				let (device, operator) = self.device(device);
				let Some(record) = pallet_devices::Devices::<Runtime>::get(&device) else { return };
				let Some(pair) = device_pair(&record.key).map(|i| &WORLD.devices[i]) else {
					return;
				};
				let input = self.input(seed);
				let honest = Player::new(
					execute(&model.program, std::slice::from_ref(&input))
						.expect("the MLP runs")
						.values,
				);
				let claimed = derive(&honest, &honest, claimed);
				let inputs = vec![input];
				let outputs = claimed.output_tensors(model.output_leaves());
				let input_payload: BoundedVec<u8, _> = BoundedVec::truncate_from(inputs.encode());
				let output_payload: BoundedVec<u8, _> = BoundedVec::truncate_from(outputs.encode());
				// Mostly the next nonce; sometimes a replayed or a skipped one.
				let next =
					pallet_attestations::LastNonce::<Runtime>::get(&device).map_or(0, |n| n + 1);
				let nonce = match nonce % 16 {
					15 => next.saturating_sub(1),
					14 => next + u64::from(nonce),
					_ => next,
				};
				let message = claim_message(
					&Attestations::genesis_hash(),
					&device,
					&setup_model(),
					&H256(sp_io::hashing::blake2_256(&input_payload)),
					&H256(sp_io::hashing::blake2_256(&output_payload)),
					nonce,
				);
				let device_signature = DeviceSignature::Ed25519(flipped(pair.sign(&message), flip));
				let signer = self.who(who, operator);
				let id = pallet_attestations::NextClaimId::<Runtime>::get();
				let call = pallet_attestations::Call::submit {
					device,
					model: setup_model(),
					input: input_payload,
					output: output_payload,
					nonce,
					device_signature,
				};
				self.apply(signer, call.into());
				if pallet_attestations::NextClaimId::<Runtime>::get() > id {
					self.stats.claims += 1;
					self.claims.push(ClaimTraces { id, operator: signer, honest, claimed });
				}
			},
			Op::SetParameters { challenge_period, check } => {
				let parameters = Parameters {
					challenge_period,
					check_probability: Perbill::from_percent(u32::from(check % 101)),
				};
				self.sudo(pallet_attestations::Call::set_parameters { parameters }.into());
			},
			Op::SetCheckers { mask } => {
				let checkers = (0..8)
					.filter(|i| mask & (1 << i) != 0)
					.map(|i| account(i as usize))
					.collect::<Vec<_>>();
				let checkers = BoundedVec::truncate_from(checkers);
				self.sudo(pallet_attestations::Call::set_checkers { checkers }.into());
			},
			Op::Open { who, pick, trace } => {
				if self.claims.is_empty() {
					return;
				}
				let index = pick as usize % self.claims.len();
				let player = self.trace_of(&self.claims[index], trace);
				let outputs = BoundedVec::truncate_from(player.outputs(model.output_leaves()));
				let claim = self.claims[index].id;
				let call = G::open { claim, trace_root: player.root(), outputs };
				let id = pallet_disputes::NextDisputeId::<Runtime>::get();
				// Eve, Ferdie or the validator's checker account.
				let challenger = [4, 5, CHECKER][pick as usize % 3];
				self.apply(self.who(who, challenger), call.into());
				if pallet_disputes::NextDisputeId::<Runtime>::get() > id {
					self.stats.disputes += 1;
					self.disputes.push((id, index, player));
				}
			},
			Op::Respond { who, pick, trace } => {
				let Some((id, claim, _)) = self.dispute(pick) else { return };
				let claim = &self.claims[claim];
				let (player, operator) = (self.trace_of(claim, trace), claim.operator);
				let outputs = BoundedVec::truncate_from(player.outputs(model.output_leaves()));
				let call = G::respond { dispute: id, trace_root: player.root(), outputs };
				self.apply(self.who(who, operator), call.into());
			},
			Op::Bisect { who, pick, claimant, trace, round } => {
				let Some((id, claim_index, challenger)) = self.dispute(pick) else { return };
				let Some(dispute) = pallet_disputes::Disputes::<Runtime>::get(id) else { return };
				let Phase::Bisection { level, position, .. } = *dispute.game.phase() else {
					return;
				};
				let (player, right) =
					self.party_trace(claim_index, challenger, &dispute, claimant, trace);
				let children = match level {
					Level::Trace => Some(player.children(position)),
					Level::Tiles { inside } => player.chunks(inside.leaf).tree.children(position),
					Level::Segments { inside, tile, .. } => player
						.state_tree(model, inside.leaf, &inside.geometry, tile)
						.children(position),
				};
				let Some((left, right_hash)) = children else { return };
				let call = G::bisect {
					dispute: id,
					round: round.unwrap_or(position.depth),
					left,
					right: right_hash,
				};
				self.apply(self.who(who, right), call.into());
			},
			Op::OneStep { who, pick, trace, flip } => {
				let Some((id, claim_index, challenger)) = self.dispute(pick) else { return };
				let Some(dispute) = pallet_disputes::Disputes::<Runtime>::get(id) else { return };
				let Phase::AwaitingOneStep { leaf, .. } = *dispute.game.phase() else { return };
				let player = self.step_player(claim_index, challenger, trace);
				let Some(witness) = mutated(player.witness(model, leaf), flip) else { return };
				let events = System::event_count();
				let right = self.claims[claim_index].operator;
				self.apply(self.who(who, right), G::one_step { dispute: id, witness }.into());
				if System::events().iter().skip(events as usize).any(|r| {
					matches!(
						r.event,
						RuntimeEvent::Disputes(pallet_disputes::Event::DisputeResolved { .. })
					)
				}) {
					self.stats.one_steps_ok += 1;
				}
			},
			Op::Cut { who, pick, trace } => {
				let Some((id, claim_index, challenger)) = self.dispute(pick) else { return };
				let Some(dispute) = pallet_disputes::Disputes::<Runtime>::get(id) else { return };
				let Phase::AwaitingOneStep { leaf, .. } = *dispute.game.phase() else { return };
				let player = self.step_player(claim_index, challenger, trace);
				let Ok(witness) = player.cut_witness(model, leaf) else { return };
				let right = self.claims[claim_index].operator;
				self.apply(self.who(who, right), G::cut { dispute: id, witness }.into());
			},
			Op::Reveal { who, pick, claimant, trace, flip } => {
				let Some((id, claim_index, challenger)) = self.dispute(pick) else { return };
				let Some(dispute) = pallet_disputes::Disputes::<Runtime>::get(id) else { return };
				let Phase::Revealing { what, .. } = *dispute.game.phase() else { return };
				let (player, right) =
					self.party_trace(claim_index, challenger, &dispute, claimant, trace);
				let revealed = match what {
					Reveal::DataRoots { inside, .. } => {
						let chunks = player.chunks(inside.leaf);
						Revealed::DataRoot {
							header: chunks.header.clone(),
							data_root: chunks.tree.root(),
						}
					},
					Reveal::StateRoots { inside, tile, .. } => {
						let tree = player.state_tree(model, inside.leaf, &inside.geometry, tile);
						let Some(last) = tree.proof(u64::from(inside.geometry.segments) - 1) else {
							return;
						};
						Revealed::StateRoot { root: tree.root(), last }
					},
				};
				let Some(revealed) = mutated(revealed, flip) else { return };
				self.apply(self.who(who, right), G::reveal { dispute: id, revealed }.into());
			},
			Op::SubStep { who, pick, trace, flip } => {
				let Some((id, claim_index, challenger)) = self.dispute(pick) else { return };
				let Some(dispute) = pallet_disputes::Disputes::<Runtime>::get(id) else { return };
				let Phase::AwaitingSubStep { inside, tile, segment, .. } = *dispute.game.phase()
				else {
					return;
				};
				let player = self.step_player(claim_index, challenger, trace);
				let (witness, state) = player.substep_witness(
					model,
					inside.leaf,
					&inside.geometry,
					&inside.limits,
					(tile, segment),
				);
				let Some((witness, state)) = mutated((witness, state), flip) else { return };
				let events = System::event_count();
				let right = self.claims[claim_index].operator;
				self.apply(
					self.who(who, right),
					G::sub_step { dispute: id, witness, state }.into(),
				);
				if System::events().iter().skip(events as usize).any(|r| {
					matches!(
						r.event,
						RuntimeEvent::Disputes(pallet_disputes::Event::DisputeResolved { .. })
					)
				}) {
					self.stats.sub_steps_ok += 1;
				}
			},
			Op::Timeout { who, pick } => {
				let Some((id, ..)) = self.dispute(pick) else { return };
				self.apply(self.who(who, 5), G::timeout { dispute: id }.into());
			},
			Op::Play { pick, moves } => {
				for _ in 0..moves {
					if !self.play_one(pick) {
						break;
					}
				}
			},
			Op::Idle => {
				let unbonding: u32 = <Runtime as pallet_devices::Config>::UnbondingPeriod::get();
				self.close_block();
				System::set_block_number(System::block_number() + unbonding);
				self.open_block();
			},
			Op::SetClock { budget, min_extension } => {
				let clock = ClockParams { budget, min_extension };
				self.sudo(G::set_clock { clock }.into());
			},
		}
	}

	/// The move dispute `pick` is waiting for, made from the owing party's own trace: the
	/// claimant's from its claim, the challenger's from what it opened with. Whether there was
	/// one to make.
	fn play_one(&mut self, pick: u8) -> bool {
		let Some((id, ..)) = self.dispute(pick) else { return false };
		let Some(dispute) = pallet_disputes::Disputes::<Runtime>::get(id) else { return false };
		let claimed = Trace::Claimed;
		let op = match dispute.game.phase() {
			Phase::AwaitingResponse => Op::Respond { who: Who::Right, pick, trace: claimed },
			Phase::Bisection { claimant_move, .. } => Op::Bisect {
				who: Who::Right,
				pick,
				claimant: claimant_move.is_none(),
				trace: claimed,
				round: None,
			},
			Phase::AwaitingOneStep { .. } if pick % 2 == 0 => {
				Op::Cut { who: Who::Right, pick, trace: claimed }
			},
			Phase::AwaitingOneStep { .. } => {
				Op::OneStep { who: Who::Right, pick, trace: claimed, flip: 0 }
			},
			Phase::Revealing { claimant, .. } => Op::Reveal {
				who: Who::Right,
				pick,
				claimant: claimant.is_none(),
				trace: claimed,
				flip: 0,
			},
			Phase::AwaitingSubStep { .. } => {
				Op::SubStep { who: Who::Right, pick, trace: claimed, flip: 0 }
			},
			Phase::Resolved(_) => return false,
		};
		self.run(&op);
		true
	}

	fn device_call(
		&mut self,
		who: Who,
		pick: u8,
		call: impl FnOnce(DeviceKey) -> pallet_devices::Call<Runtime>,
	) {
		let (device, operator) = self.device(pick);
		self.apply(self.who(who, operator), call(device).into());
	}

	/// Blocks with nothing but validators' `timeout`s for every running dispute, until the
	/// longest clock and challenge period the fuzzer sets have run out; then nothing may be
	/// left undecided.
	fn drain(&mut self) {
		let clock = pallet_disputes::Pallet::<Runtime>::clock_params();
		let period = pallet_attestations::Params::<Runtime>::get().challenge_period;
		// Every move can leave the opponent `min_extension`; a trace of the fixture has a few
		// dozen leaves at most, so a game has fewer than 20 moves.
		let longest = period + clock.budget.max(clock.min_extension) * 24 + 10;
		for _ in 0..longest {
			let running: Vec<DisputeId> =
				pallet_disputes::Disputes::<Runtime>::iter_keys().collect();
			if running.is_empty()
				&& pallet_attestations::Claims::<Runtime>::iter()
					.all(|(_, c)| !c.status.is_undecided())
			{
				return;
			}
			// Sent by whoever can still pay for it, as any validator's worker would.
			let richest = (0..WORLD.accounts.len())
				.max_by_key(|&i| pallet_balances::Pallet::<Runtime>::balance(&account(i)))
				.unwrap_or(ALICE);
			for id in running {
				self.apply(richest, pallet_disputes::Call::timeout { dispute: id }.into());
			}
			self.next_blocks(1);
		}
		let stuck: Vec<_> = pallet_attestations::Claims::<Runtime>::iter()
			.filter(|(_, c)| c.status.is_undecided())
			.map(|(id, c)| (id, c.status, c.challenge_ends))
			.collect();
		panic!(
			"settlement stuck at block {}: claims {stuck:?}, disputes {:?}",
			self.now(),
			pallet_disputes::Disputes::<Runtime>::iter_keys().collect::<Vec<_>>()
		);
	}

	/// The start of every case: the fixture MLP registered by Bob and activated by root, two
	/// devices registered by Charlie and Dave.
	fn setup(&mut self) {
		self.issuance = pallet_balances::TotalIssuance::<Runtime>::get();
		self.open_block();
		let params = setup_params();
		self.apply(OWNER, pallet_models::Call::register_model { params }.into());
		self.sudo(pallet_models::Call::activate { model: setup_model() }.into());
		for (device, operator) in OPERATORS.into_iter().enumerate() {
			self.run(&Op::RegisterDevice {
				who: Who::Right,
				key: device as u8,
				bound_to: operator as u8,
				stake: 100,
				flip: 0,
			});
		}
		self.next_blocks(1);
		assert!(pallet_models::Models::<Runtime>::get(setup_model()).is_some());
		assert_eq!(pallet_devices::Devices::<Runtime>::iter().count(), 2, "set-up devices");
	}
}

/// The `trace` a party plays for a claim whose canonical trace is `honest` and whose claimed
/// one is `claimed`.
fn derive(honest: &Player, claimed: &Player, trace: Trace) -> Player {
	let model = &WORLD.model;
	match trace {
		Trace::Claimed => claimed.clone(),
		Trace::Honest => honest.clone(),
		Trace::Liar(delta) => {
			let last = honest.values.len() - 1;
			let delta = if delta == 0 { 1.0 } else { f32::from(delta) / 4.0 };
			Player::new(model.tampered(&honest.values, last, false, |t| nudge(t, delta)))
		},
		Trace::DeepLiar => {
			let first = model.program.inputs.len();
			Player::new(model.tampered(&honest.values, first, true, |t| nudge(t, 3.0)))
		},
	}
}

/// The index in [`World::devices`] of the pair of device key `key`.
fn device_pair(key: &DeviceKey) -> Option<usize> {
	WORLD.devices.iter().position(|p| DeviceKey::Ed25519(p.public()) == *key)
}

fn flipped(signature: ed25519::Signature, flip: u16) -> ed25519::Signature {
	let mut bytes = signature.0;
	if flip != 0 {
		bytes[flip as usize % 64] ^= 1 << (flip % 8);
	}
	ed25519::Signature::from_raw(bytes)
}

fn run_case(ops: &[Op]) {
	let mut ext = sp_io::TestExternalities::new(WORLD.storage.clone());
	ext.execute_with(|| {
		let mut case = Case::new();
		case.setup();
		for op in ops {
			case.run(op);
		}
		case.drain();
		case.close_block();
		STATS.lock().expect("stats").absorb(case.stats);
	});
}

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
	std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[test]
fn the_runtime_holds_its_invariants_under_random_calls() {
	let cases: u32 = env("EDGEPROOF_FUZZ_CASES").unwrap_or(500);
	let length: usize = env("EDGEPROOF_FUZZ_LENGTH").unwrap_or(160);
	let seed = match std::env::var("EDGEPROOF_FUZZ_SEED").as_deref() {
		Ok("random") => rand_seed(),
		Ok(s) => s.parse().expect("EDGEPROOF_FUZZ_SEED: a number or `random`"),
		Err(_) => 14,
	};
	let mut seed_bytes = [0u8; 32];
	seed_bytes[..8].copy_from_slice(&u64::to_le_bytes(seed));
	let config = Config { cases, failure_persistence: None, ..Config::default() };
	let mut runner =
		TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes));
	let started = Instant::now();
	let result = runner.run(&proptest::collection::vec(op(), 1..=length), |ops| {
		run_case(&ops);
		Ok(())
	});
	let stats = STATS.lock().expect("stats");
	println!(
		"fuzz: seed {seed}, {} cases, {} calls ({} ok, {} failed in dispatch, {} invalid), {} \
		 blocks, {} claims, {} disputes, {} decided by a one-step, {} by a sub-step, {} call kinds \
		 tried ({} succeeded at least once), {:.1} s",
		stats.cases,
		stats.calls,
		stats.dispatched_ok,
		stats.dispatch_failed,
		stats.invalid,
		stats.blocks,
		stats.claims,
		stats.disputes,
		stats.one_steps_ok,
		stats.sub_steps_ok,
		stats.kinds.len(),
		stats.kinds_ok.len(),
		started.elapsed().as_secs_f64(),
	);
	if std::env::var_os("EDGEPROOF_FUZZ_KINDS").is_some() {
		let never: Vec<_> = stats.kinds.difference(&stats.kinds_ok).collect();
		println!("fuzz: call kinds that never succeeded: {never:?}");
	}
	if let Err(failure) = result {
		panic!("seed {seed}: {failure}");
	}
}

fn rand_seed() -> u64 {
	use std::hash::{BuildHasher, Hasher};
	let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
	let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
	hasher.write_u128(now.map_or(0, |d| d.as_nanos()));
	hasher.finish()
}

/// `value` with bit `flip % 8` of byte `flip % len` of its encoding flipped, if that still
/// decodes (`flip` 0: as it is).
fn mutated<V: Encode + Decode>(value: V, flip: u16) -> Option<V> {
	if flip == 0 {
		return Some(value);
	}
	let mut bytes = value.encode();
	let at = flip as usize % bytes.len();
	bytes[at] ^= 1 << (flip % 8);
	Decode::decode(&mut &bytes[..]).ok()
}
