//! Whole games on random small programs: an honest party always wins, a lying claimant always
//! loses to an honest challenger, and two liars get the outcome the one-step rule gives.

use alloc::{vec, vec::Vec};

use edgeproof_canon::{
	merkle::first_difference, within_tolerance, DType, Node, Op, Program, Ref, Tensor, TensorSpec,
	Tolerance,
};

use super::{testing::*, *};

/// xorshift64*: small, seeded, good enough to pick test cases.
pub(super) struct Rng(pub(super) u64);

impl Rng {
	pub(super) fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}

	/// Uniform in `0..n` (n > 0).
	pub(super) fn below(&mut self, n: u64) -> u64 {
		self.next() % n
	}

	pub(super) fn chance(&mut self, percent: u64) -> bool {
		self.below(100) < percent
	}

	pub(super) fn value(&mut self) -> f32 {
		(self.below(33) as f32 - 16.0) * 0.25
	}

	pub(super) fn tensor(&mut self, shape: &[u32]) -> Tensor {
		let n = shape.iter().product::<u32>() as usize;
		let v: Vec<f32> = (0..n).map(|_| self.value()).collect();
		Tensor::from_f32(shape.to_vec(), &v)
	}
}

/// A random program on f32[r, c] values: elementwise unary and binary operators (some with a
/// broadcast constant), variadic Sum, MatMul by a constant [c, c]; random outputs, then put at
/// the tail. m in 0..=3 graph inputs, 1..=10 nodes before the output identities.
fn random_model(rng: &mut Rng) -> Model {
	let (r, c) = (1 + rng.below(2) as u32, 1 + rng.below(3) as u32);
	let shape = vec![r, c];
	let m = if rng.chance(10) { 0 } else { 1 + rng.below(3) as u32 };
	let n = 1 + rng.below(10) as u32;
	let constants = vec![rng.tensor(&shape), rng.tensor(&[c]), rng.tensor(&[c, c])];
	let mut nodes: Vec<Node> = Vec::new();
	let value = |rng: &mut Rng, j: u32| -> Ref {
		let choices = m + j;
		if choices == 0 {
			return Ref::Const(0);
		}
		let i = rng.below(u64::from(choices)) as u32;
		if i < m {
			Ref::Input(i)
		} else {
			Ref::Node(i - m)
		}
	};
	for j in 0..n {
		let node = match rng.below(10) {
			0..=3 => {
				let ops =
					[Op::Relu, Op::Neg, Op::Abs, Op::Tanh, Op::Sigmoid, Op::Floor, Op::Identity];
				let op = ops[rng.below(ops.len() as u64) as usize].clone();
				Node { op, inputs: vec![value(rng, j)] }
			},
			4..=7 => {
				let ops = [Op::Add, Op::Sub, Op::Mul, Op::Max, Op::Min];
				let op = ops[rng.below(ops.len() as u64) as usize].clone();
				let other = match rng.below(3) {
					0 => Ref::Const(rng.below(2) as u32),
					_ => value(rng, j),
				};
				Node { op, inputs: vec![value(rng, j), other] }
			},
			8 => Node { op: Op::Sum, inputs: vec![value(rng, j), value(rng, j), value(rng, j)] },
			_ => Node { op: Op::MatMul, inputs: vec![value(rng, j), Ref::Const(2)] },
		};
		nodes.push(node);
	}
	let k = 1 + rng.below(u64::from(n.min(3))) as u32;
	let outputs = (0..k)
		.map(|_| match value(rng, n) {
			Ref::Const(_) => Ref::Node(n - 1),
			r => r,
		})
		.collect();
	let mut program = Program {
		inputs: (0..m).map(|_| TensorSpec { dtype: DType::F32, shape: shape.clone() }).collect(),
		constants,
		nodes,
		outputs,
	};
	program.move_outputs_to_tail();
	let inputs = (0..m).map(|_| rng.tensor(&shape)).collect();
	Model::new(program, inputs)
}

/// Changes one element of `t` so that its leaf hash changes: by one, by a hair, to NaN, or
/// negated.
pub(super) fn perturb(rng: &mut Rng, t: &Tensor) -> Tensor {
	let mut v = t.f32_values().unwrap();
	let i = rng.below(v.len() as u64) as usize;
	let x = v[i];
	v[i] = match rng.below(4) {
		0 => x + 1.0,
		1 => x + x.abs() * 1e-6 + 1e-7,
		2 => f32::NAN,
		_ => -x,
	};
	let out = Tensor::from_f32(t.shape.clone(), &v);
	if leaf_hash(&out) != leaf_hash(t) {
		return out;
	}
	v[i] = x + 1.0;
	Tensor::from_f32(t.shape.clone(), &v)
}

/// A lying trace made from `base`: a node leaf tampered and everything after recomputed, only
/// an output leaf tampered, or an input leaf tampered and everything recomputed (the model run
/// on another input).
fn cheat(rng: &mut Rng, model: &Model, base: &[Tensor]) -> Player {
	let m = model.program.inputs.len();
	let len = base.len();
	let outputs = model.output_leaves();
	let (leaf, recompute) = match rng.below(10) {
		0..=4 => (m + rng.below((len - m) as u64) as usize, true),
		5..=7 => (outputs.start as usize + rng.below(outputs.end - outputs.start) as usize, false),
		_ if m > 0 => (rng.below(m as u64) as usize, true),
		_ => (len - 1, false),
	};
	Player::new(model.tampered(base, leaf, recompute, |t| perturb(rng, t)))
}

/// How a party plays: honestly to the end, or (a liar) giving up at some point.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Plan {
	ToTheEnd,
	/// Makes no more moves from this round on (`u32::MAX`: skips only the one-step).
	StopAt(u32),
}

impl Plan {
	/// A liar's plan: usually to the end, else it gives up in a random round or at the step.
	fn random(rng: &mut Rng, depth: u32) -> Plan {
		if rng.chance(80) {
			Plan::ToTheEnd
		} else if rng.chance(30) {
			Plan::StopAt(u32::MAX)
		} else {
			Plan::StopAt(rng.below(u64::from(depth) + 1) as u32)
		}
	}

	fn moves_in(self, round: u32) -> bool {
		match self {
			Plan::ToTheEnd => true,
			Plan::StopAt(r) => round < r,
		}
	}
}

struct Seat<'a> {
	player: &'a Player,
	plan: Plan,
	honest: bool,
}

#[derive(Default, Debug)]
struct Stats {
	games: u32,
	refused_opens: u32,
	one_steps: u32,
	input_leaves: u32,
	timeouts: u32,
	neither: u32,
	bad_moves_refused: u32,
}

/// Plays a whole game from the open. Returns `None` if the open is refused (then the
/// challenger's outputs are within tolerance of the claim), else the resolution.
fn play(
	rng: &mut Rng,
	stats: &mut Stats,
	model: &Model,
	ctx: &ClaimContext,
	claimant: Seat,
	challenger: Seat,
) -> Option<Resolution> {
	let leaves = model.output_leaves();
	let mut now: BlockNumber = 1 + rng.below(1000) as BlockNumber;
	let params = ClockParams { budget: 200, min_extension: 5 };
	let opened = Game::open(
		ctx,
		now,
		challenger.player.root(),
		&challenger.player.outputs(leaves.clone()),
		params,
	);
	let mut game = match opened {
		Err(GameError::ChallengerOutputWithinTolerance) => {
			let outputs = challenger.player.output_tensors(leaves);
			assert!(within_tolerance(ctx.outputs, &outputs, ctx.tolerance));
			stats.refused_opens += 1;
			return None;
		},
		other => other.unwrap(),
	};
	stats.games += 1;
	let step = |rng: &mut Rng, now: &mut BlockNumber| *now += rng.below(3) as BlockNumber;
	let seats = [(Party::Claimant, &claimant), (Party::Challenger, &challenger)];

	// Respond (the claimant's outputs are its claim: every seat here answers truthfully about
	// its own trace).
	let mut outcome = Outcome::Continues;
	if claimant.plan.moves_in(0) {
		step(rng, &mut now);
		outcome = game
			.respond(
				ctx,
				now,
				Party::Claimant,
				claimant.player.root(),
				&claimant.player.outputs(leaves),
			)
			.unwrap();
	}
	// Bisection.
	while let (Outcome::Continues, Some(round)) = (outcome, game.round()) {
		let position = game.position(ctx).unwrap();
		let first = rng.below(2) as usize;
		let mut moved = 0;
		for i in [first, 1 - first] {
			let (party, seat) = seats[i];
			if !seat.plan.moves_in(round) {
				continue;
			}
			let (l, r) = seat.player.children(position);
			step(rng, &mut now);
			if !seat.honest && rng.chance(20) {
				// A wrong move is refused and changes nothing.
				let before = game.clone();
				// (Swapped children are only wrong if they differ.)
				let bad = if l != r && rng.chance(50) {
					game.bisect(ctx, now, party, round, r, l)
				} else {
					game.bisect(ctx, now, party, round + 1, l, r)
				};
				assert!(matches!(bad, Err(GameError::ChildrenMismatch | GameError::WrongRound)));
				assert_eq!(game, before);
				stats.bad_moves_refused += 1;
			}
			outcome = game.bisect(ctx, now, party, round, l, r).unwrap();
			moved += 1;
		}
		if moved < 2 {
			break;
		}
	}
	// One step: the claimant owes it; the challenger may post it too.
	if let (Outcome::Continues, Phase::AwaitingOneStep { leaf, .. }) = (outcome, *game.phase()) {
		let posters: Vec<&Seat> =
			[&claimant, &challenger].into_iter().filter(|s| s.plan == Plan::ToTheEnd).collect();
		if !posters.is_empty() {
			let poster = posters[rng.below(posters.len() as u64) as usize];
			step(rng, &mut now);
			match game.one_step(ctx, now, &poster.player.witness(model, leaf)) {
				Ok(o) => outcome = o,
				Err(GameError::OneStepFailed) => {},
				Err(e) => panic!("one-step refused: {e:?}"),
			}
		}
	}
	if let Outcome::Resolved(r) = outcome {
		return Some(r);
	}
	// Someone stopped moving: the game ends on time.
	let deadline = game.deadline().unwrap();
	assert!(deadline > now || game.timed_out(now).is_some());
	if deadline > 0 && game.timed_out(deadline - 1).is_none() {
		assert_eq!(game.timeout(deadline - 1), Err(GameError::NotTimedOut));
	}
	match game.timeout(deadline.max(now)).unwrap() {
		Outcome::Resolved(r) => Some(r),
		Outcome::Continues => panic!("a timeout ends the game"),
	}
}

/// The outcome the rules give for two traces that go all the way: the one-step at their first
/// differing leaf (judged from the claimant's earlier leaves, which both share).
fn expected(model: &Model, claimant: &Player, challenger: &Player) -> Resolution {
	let k = first_difference(&claimant.leaves(), &challenger.leaves()).unwrap();
	let m = model.program.inputs.len() as u64;
	let reason = if k < m { Reason::InputLeaf { leaf: k } } else { Reason::OneStep { leaf: k } };
	match model.correct_leaf(&claimant.values, k) {
		Ok(correct) => {
			let winner = if leaf_hash_at(claimant, k) == correct {
				Winner::Claimant
			} else if leaf_hash_at(challenger, k) == correct {
				Winner::Challenger
			} else {
				Winner::Neither
			};
			Resolution { winner, reason }
		},
		// No one-step can be posted; the claimant, who owes it, runs out of time.
		Err(_) => Resolution { winner: Winner::Challenger, reason: Reason::Timeout },
	}
}

fn leaf_hash_at(p: &Player, k: u64) -> Hash {
	p.leaves()[k as usize]
}

fn record(stats: &mut Stats, r: &Resolution) {
	match r.reason {
		Reason::Timeout => stats.timeouts += 1,
		Reason::InputLeaf { .. } => stats.input_leaves += 1,
		Reason::OneStep { .. } => stats.one_steps += 1,
		Reason::PaddingLeaf { .. } => panic!("a padding leaf is unreachable"),
		Reason::SubStep { .. } | Reason::SubStepPadding { .. } => {
			panic!("these games never cut a node")
		},
	}
	if r.winner == Winner::Neither {
		stats.neither += 1;
	}
}

fn tolerance(rng: &mut Rng) -> Tolerance {
	match rng.below(5) {
		0 => Tolerance::Relative { abs: 1e-3f32.to_bits(), rel: 1e-3f32.to_bits() },
		1 => Tolerance::Relative { abs: 0, rel: 1e-5f32.to_bits() },
		_ => Tolerance::Exact,
	}
}

#[test]
fn honest_parties_win_and_liars_get_what_the_rules_give() {
	let mut rng = Rng(0x5eed_1234_abcd_0001);
	let mut stats = Stats::default();
	for case in 0..1000 {
		let model = random_model(&mut rng);
		let honest = model.honest();
		let depth = tree_depth(honest.values.len() as u64);
		let tol = tolerance(&mut rng);
		let leaves = model.output_leaves();
		let canonical = honest.output_tensors(leaves.clone());

		// An honest claimant (its claim may be off by a hair under a relative tolerance)
		// against a lying challenger.
		let liar = cheat(&mut rng, &model, &honest.values);
		let claim: Vec<Tensor> = match tol {
			Tolerance::Relative { .. } if rng.chance(50) => {
				canonical.iter().map(|t| nudge(t, 1e-7)).collect()
			},
			_ => canonical.clone(),
		};
		if within_tolerance(&claim, &canonical, tol) {
			let ctx = model.context(&claim, tol);
			let claimant = Seat { player: &honest, plan: Plan::ToTheEnd, honest: true };
			let plan = Plan::random(&mut rng, depth);
			let challenger = Seat { player: &liar, plan, honest: false };
			if let Some(r) = play(&mut rng, &mut stats, &model, &ctx, claimant, challenger) {
				assert_eq!(r.winner, Winner::Claimant, "case {case}: {r:?}");
				if plan == Plan::ToTheEnd {
					assert_eq!(r, expected(&model, &honest, &liar), "case {case}");
				}
				record(&mut stats, &r);
			}
		}

		// A lying claimant (its claim is its own trace's output) against an honest challenger.
		let liar = cheat(&mut rng, &model, &honest.values);
		let claim = liar.output_tensors(leaves.clone());
		let ctx = model.context(&claim, tol);
		let plan = Plan::random(&mut rng, depth);
		let claimant = Seat { player: &liar, plan, honest: false };
		let challenger = Seat { player: &honest, plan: Plan::ToTheEnd, honest: true };
		match play(&mut rng, &mut stats, &model, &ctx, claimant, challenger) {
			Some(r) => {
				assert_eq!(r.winner, Winner::Challenger, "case {case}: {r:?}");
				if plan == Plan::ToTheEnd {
					assert_eq!(r, expected(&model, &liar, &honest), "case {case}");
				}
				record(&mut stats, &r);
			},
			// The honest challenger could not open: the lie is within tolerance of the truth.
			None => assert!(within_tolerance(&claim, &canonical, tol), "case {case}"),
		}

		// Two liars; half the time the second builds on the first's lie.
		let first = cheat(&mut rng, &model, &honest.values);
		let second = if rng.chance(50) {
			cheat(&mut rng, &model, &first.values)
		} else {
			cheat(&mut rng, &model, &honest.values)
		};
		if first.root() == second.root() {
			continue;
		}
		let (claimant, challenger) =
			if rng.chance(50) { (&first, &second) } else { (&second, &first) };
		let claim = claimant.output_tensors(leaves);
		let ctx = model.context(&claim, tol);
		let seat = |player| Seat { player, plan: Plan::ToTheEnd, honest: false };
		if let Some(r) = play(&mut rng, &mut stats, &model, &ctx, seat(claimant), seat(challenger))
		{
			assert_eq!(r, expected(&model, claimant, challenger), "case {case}");
			record(&mut stats, &r);
		}
	}
	std::println!("{stats:?}");
	// Every kind of ending happened.
	assert!(stats.games > 1800, "{stats:?}");
	assert!(stats.refused_opens > 400, "{stats:?}");
	assert!(stats.one_steps > 1200, "{stats:?}");
	assert!(stats.input_leaves > 200, "{stats:?}");
	assert!(stats.timeouts > 50, "{stats:?}");
	assert!(stats.neither > 60, "{stats:?}");
	assert!(stats.bad_moves_refused > 1000, "{stats:?}");
}
