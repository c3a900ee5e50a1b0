//! Whole games through the second level, on random programs whose convolutions and products
//! are cut into many tiles and segments (tight sub-step limits): against an honest opponent, in
//! either role, a liar always loses, whether it changed one element of a node's output, one
//! sub-step state, only the final output or the input; every refused move changes nothing.

use alloc::{vec, vec::Vec};

use edgeproof_canon::{
	merkle::first_difference, AutoPad, DType, Node, Op, Program, Ref, TensorSpec, Window,
};

use super::{
	properties::{perturb, Rng},
	testing::*,
	*,
};

/// x f32[1, c, h, w] -> Conv (weights, bias) -> Relu -> Flatten -> MatMul by a constant
/// [co * h' * w', n] -> Add a constant [n]: a Conv and a product with many terms, between
/// nodes of one segment.
fn random_model(rng: &mut Rng) -> Model {
	let (c, co) = (1 + rng.below(3) as u32, 1 + rng.below(3) as u32);
	let (h, w) = (6 + rng.below(30) as u32, 6 + rng.below(30) as u32);
	let k = 1 + rng.below(3) as u32;
	let pad = rng.below(u64::from(k)) as u32;
	let (ho, wo) = (h + 2 * pad - k + 1, w + 2 * pad - k + 1);
	let n = 1 + rng.below(40) as u32;
	let window = Window {
		kernel: vec![k, k],
		strides: vec![1, 1],
		dilations: vec![1, 1],
		pads: vec![pad, pad, pad, pad],
		auto_pad: AutoPad::NotSet,
		ceil_mode: false,
	};
	let node = |op: Op, inputs: &[Ref]| Node { op, inputs: inputs.to_vec() };
	let program = Program {
		inputs: vec![TensorSpec { dtype: DType::F32, shape: vec![1, c, h, w] }],
		constants: vec![
			rng.tensor(&[co, c, k, k]),
			rng.tensor(&[co]),
			rng.tensor(&[co * ho * wo, n]),
			rng.tensor(&[n]),
		],
		nodes: vec![
			node(Op::Conv { window, group: 1 }, &[Ref::Input(0), Ref::Const(0), Ref::Const(1)]),
			node(Op::Relu, &[Ref::Node(0)]),
			node(Op::Flatten { axis: 1 }, &[Ref::Node(1)]),
			node(Op::MatMul, &[Ref::Node(2), Ref::Const(2)]),
			node(Op::Add, &[Ref::Node(3), Ref::Const(3)]),
		],
		outputs: vec![Ref::Node(4)],
	};
	Model::new(program, vec![rng.tensor(&[1, c, h, w])])
}

/// Limits that cut the test programs' nodes finely: a few thousand work units a sub-step.
fn limits(rng: &mut Rng) -> SubStepLimits {
	let max_work = [1 << 12, 1 << 13, 1 << 15][rng.below(3) as usize];
	SubStepLimits { max_work, max_read_bytes: 64 << 10 }
}

/// A liar: a node output changed in one element (later nodes recomputed or not), the final
/// output only, a sub-step state of a node with several segments, or another input.
fn liar(rng: &mut Rng, model: &Model, base: &[Tensor], sub: &SubStepLimits) -> Player {
	let len = base.len();
	match rng.below(8) {
		0..=2 => {
			let leaf = 1 + rng.below(len as u64 - 1) as usize;
			Player::new(model.tampered(base, leaf, rng.chance(70), |t| perturb(rng, t)))
		},
		3 => Player::new(model.tampered(base, len - 1, false, |t| perturb(rng, t))),
		4..=6 => {
			for _ in 0..8 {
				let k = [1u64, 4][rng.below(2) as usize];
				let ins = model.node_inputs(base, k);
				let metas: Vec<_> = ins.iter().map(|t| edgeproof_canon::ops::Meta::of(t)).collect();
				let op = &model.program.nodes[k as usize - 1].op;
				let g = edgeproof_canon::substep::geometry(op, &metas, sub).unwrap();
				if g.segments < 2 {
					continue;
				}
				let tile = rng.below(g.tiles());
				let segment = rng.below(u64::from(g.segments - 1)) as u32;
				if let Some(p) = model.state_cheater(base, k, &g, (tile, segment)) {
					return p;
				}
			}
			Player::new(model.tampered(base, 1, true, |t| perturb(rng, t)))
		},
		_ => Player::new(model.tampered(base, 0, true, |t| perturb(rng, t))),
	}
}

/// How many moves a liar makes before it stops (`None`: to the end).
fn stops(rng: &mut Rng) -> Option<u32> {
	rng.chance(25).then(|| rng.below(30) as u32)
}

struct Seat<'a> {
	party: Party,
	player: &'a Player,
	honest: bool,
	/// Moves left (`None`: unlimited).
	left: Option<u32>,
}

impl Seat<'_> {
	fn may_move(&self) -> bool {
		self.left != Some(0)
	}

	fn moved(&mut self) {
		if let Some(n) = self.left.as_mut() {
			*n -= 1;
		}
	}
}

#[derive(Default, Debug)]
struct Stats {
	games: u32,
	cuts: u32,
	sub_steps: u32,
	multi_segment: u32,
	one_steps: u32,
	input_leaves: u32,
	timeouts: u32,
	refused: u32,
	most_rounds: u32,
}

/// `seat`'s children at `position` of the tree of `level`.
fn children(model: &Model, seat: &Seat, level: &Level, position: Position) -> (Hash, Hash) {
	let p = seat.player;
	match *level {
		Level::Trace => p.children(position),
		Level::Tiles { inside } => p.chunks(inside.leaf).tree.children(position).unwrap(),
		Level::Segments { inside, tile, .. } => {
			p.state_tree(model, inside.leaf, &inside.geometry, tile).children(position).unwrap()
		},
	}
}

/// What `seat` reveals for `what`.
fn revealed(model: &Model, seat: &Seat, what: &Reveal) -> Revealed {
	match *what {
		Reveal::DataRoots { inside, .. } => {
			let chunks = seat.player.chunks(inside.leaf);
			Revealed::DataRoot { header: chunks.header.clone(), data_root: chunks.tree.root() }
		},
		Reveal::StateRoots { inside, tile, .. } => {
			let g = inside.geometry;
			let tree = seat.player.state_tree(model, inside.leaf, &g, tile);
			let last = tree.proof(u64::from(g.segments) - 1).unwrap();
			Revealed::StateRoot { root: tree.root(), last }
		},
	}
}

/// A wrong version of a move `seat` could make: it must be refused and change nothing.
fn try_wrong(
	rng: &mut Rng,
	stats: &mut Stats,
	game: &mut Game,
	ctx: &ClaimContext,
	now: BlockNumber,
	seat: &Seat,
	model: &Model,
) {
	let before = game.clone();
	let refused = match *game.phase() {
		Phase::Revealing { what, .. } => match revealed(model, seat, &what) {
			Revealed::DataRoot { mut header, data_root } => {
				if rng.chance(50) {
					header.shape.push(1);
				}
				let mut root = data_root;
				root[rng.below(32) as usize] ^= 1;
				game.reveal(ctx, now, seat.party, &Revealed::DataRoot { header, data_root: root })
			},
			Revealed::StateRoot { root, mut last } => {
				if rng.chance(50) || last.index == 0 {
					last.siblings.push([9; 32]);
				} else {
					last.index -= 1;
				}
				game.reveal(ctx, now, seat.party, &Revealed::StateRoot { root, last })
			},
		},
		Phase::AwaitingSubStep { inside, tile, segment, .. } => {
			let g = inside.geometry;
			let (mut w, proof) = seat.player.substep_witness(
				model,
				inside.leaf,
				&g,
				&inside.limits,
				(tile, segment),
			);
			match (segment, proof) {
				(0, _) => {
					w.tile = (tile + 1) % g.tiles().max(2);
					game.sub_step(ctx, now, &w, None)
				},
				(_, Some(mut proof)) => {
					if rng.chance(50) {
						// The first state element's top exponent bit: another value, NaN or not.
						w.state.as_mut().unwrap()[3] ^= 0x40;
					} else {
						proof.index ^= 1;
					}
					game.sub_step(ctx, now, &w, Some(&proof))
				},
				(_, None) => unreachable!("a state past segment 0"),
			}
		},
		_ => return,
	};
	assert!(
		matches!(
			refused,
			Err(GameError::RevealMismatch
				| GameError::WrongSubStep
				| GameError::StateNotProven
				| GameError::SubStepNotProven)
		),
		"{refused:?}"
	);
	assert_eq!(*game, before);
	stats.refused += 1;
}

/// Plays a game from the open to its end. `None` if the open is refused.
fn play<'a>(
	rng: &mut Rng,
	stats: &mut Stats,
	model: &Model,
	ctx: &ClaimContext,
	mut claimant: Seat<'a>,
	mut challenger: Seat<'a>,
) -> Option<Resolution> {
	let leaves = model.output_leaves();
	let mut now: BlockNumber = 1 + rng.below(1000) as BlockNumber;
	let params = ClockParams { budget: 400, min_extension: 5 };
	let mut game = Game::open(
		ctx,
		now,
		challenger.player.root(),
		&challenger.player.outputs(leaves.clone()),
		params,
	)
	.ok()?;
	stats.games += 1;
	challenger.moved();
	let mut rounds = 0;
	let mut outcome = Outcome::Continues;
	while outcome == Outcome::Continues {
		now += rng.below(3) as BlockNumber;
		let phase = *game.phase();
		let mut moved = false;
		let order: [&mut Seat; 2] = if rng.chance(50) {
			[&mut claimant, &mut challenger]
		} else {
			[&mut challenger, &mut claimant]
		};
		match phase {
			Phase::AwaitingResponse => {
				let seat =
					if order[0].party == Party::Claimant { &mut *order[0] } else { &mut *order[1] };
				if seat.may_move() {
					outcome = game
						.respond(
							ctx,
							now,
							Party::Claimant,
							seat.player.root(),
							&seat.player.outputs(leaves.clone()),
						)
						.unwrap();
					seat.moved();
					moved = true;
				}
			},
			Phase::Bisection { level, position, claimant_move, challenger_move, .. } => {
				rounds += 1;
				for seat in order {
					let owes = match seat.party {
						Party::Claimant => claimant_move.is_none(),
						Party::Challenger => challenger_move.is_none(),
					};
					if !owes || !seat.may_move() || outcome != Outcome::Continues {
						continue;
					}
					let (l, r) = children(model, seat, &level, position);
					outcome = game.bisect(ctx, now, seat.party, position.depth, l, r).unwrap();
					seat.moved();
					moved = true;
				}
			},
			Phase::Revealing { what, claimant: c, challenger: h } => {
				rounds += 1;
				for seat in order {
					let owes = match seat.party {
						Party::Claimant => c.is_none(),
						Party::Challenger => h.is_none(),
					};
					if !owes || !seat.may_move() || outcome != Outcome::Continues {
						continue;
					}
					if !seat.honest && rng.chance(30) {
						try_wrong(rng, stats, &mut game, ctx, now, seat, model);
					}
					let mine = revealed(model, seat, &what);
					match game.reveal(ctx, now, seat.party, &mine) {
						Ok(o) => outcome = o,
						// A liar's leaf under another header than the node's: it cannot reveal.
						Err(GameError::RevealMismatch) if !seat.honest => continue,
						Err(e) => panic!("{:?} refused: {e:?}", seat.party),
					}
					seat.moved();
					moved = true;
				}
			},
			Phase::AwaitingOneStep { leaf, .. } => {
				rounds += 1;
				let Some(seat) = order.into_iter().find(|s| s.may_move()) else { break };
				match seat.player.cut_witness(model, leaf) {
					Ok(w) if rng.chance(85) => {
						assert!(game.cut(ctx, now, &w).unwrap() > 0);
						stats.cuts += 1;
					},
					_ => {
						outcome =
							game.one_step(ctx, now, &seat.player.witness(model, leaf)).unwrap();
						stats.one_steps += 1;
					},
				}
				seat.moved();
				moved = true;
			},
			Phase::AwaitingSubStep { inside, tile, segment, .. } => {
				rounds += 1;
				let Some(seat) = order.into_iter().find(|s| s.may_move()) else { break };
				if !seat.honest && rng.chance(30) {
					try_wrong(rng, stats, &mut game, ctx, now, seat, model);
				}
				let g = inside.geometry;
				let (w, proof) = seat.player.substep_witness(
					model,
					inside.leaf,
					&g,
					&inside.limits,
					(tile, segment),
				);
				outcome = game.sub_step(ctx, now, &w, proof.as_ref()).unwrap();
				stats.sub_steps += 1;
				stats.multi_segment += u32::from(g.segments > 1);
				seat.moved();
				moved = true;
			},
			Phase::Resolved(r) => return Some(r),
		}
		if !moved {
			break;
		}
	}
	stats.most_rounds = stats.most_rounds.max(rounds);
	if let Outcome::Resolved(r) = outcome {
		return Some(r);
	}
	stats.timeouts += 1;
	let deadline = game.deadline().unwrap();
	match game.timeout(deadline.max(now)).unwrap() {
		Outcome::Resolved(r) => Some(r),
		Outcome::Continues => panic!("a timeout ends the game"),
	}
}

#[test]
fn a_liar_loses_through_the_second_level_in_either_role() {
	let mut rng = Rng(0x5ec0_d1e7_0000_0001);
	let mut stats = Stats::default();
	for case in 0..400 {
		let model = random_model(&mut rng);
		let sub = limits(&mut rng);
		let honest = model.honest();
		let cheat = liar(&mut rng, &model, &honest.values, &sub);
		if first_difference(&honest.leaves(), &cheat.leaves()).is_none() {
			continue;
		}
		let liar_claims = rng.chance(50);
		let (claimant, challenger) =
			if liar_claims { (&cheat, &honest) } else { (&honest, &cheat) };
		let claim = claimant.output_tensors(model.output_leaves());
		let mut ctx = model.context(&claim, Tolerance::Exact);
		ctx.substep_limits = sub;
		fn seat(party: Party, player: &Player, honest: bool, left: Option<u32>) -> Seat<'_> {
			Seat { party, player, honest, left }
		}
		let liar_stops = stops(&mut rng);
		let (c, h) = if liar_claims {
			(
				seat(Party::Claimant, claimant, false, liar_stops),
				seat(Party::Challenger, challenger, true, None),
			)
		} else {
			(
				seat(Party::Claimant, claimant, true, None),
				seat(Party::Challenger, challenger, false, liar_stops),
			)
		};
		let Some(r) = play(&mut rng, &mut stats, &model, &ctx, c, h) else { continue };
		let winner = if liar_claims { Winner::Challenger } else { Winner::Claimant };
		assert_eq!(r.winner, winner, "case {case}: {r:?} (liar claims: {liar_claims})");
		if let Reason::InputLeaf { .. } = r.reason {
			stats.input_leaves += 1;
		}
	}
	std::println!("{stats:?}");
	// The cases reach every part of the second level.
	assert!(stats.games >= 300, "{stats:?}");
	assert!(stats.sub_steps >= 150 && stats.multi_segment >= 50, "{stats:?}");
	assert!(stats.one_steps >= 20 && stats.input_leaves >= 20, "{stats:?}");
	assert!(stats.timeouts >= 15 && stats.refused >= 80, "{stats:?}");
}

/// Plays the first level to the disputed node leaf and returns the game there.
fn to_the_node(
	model: &Model,
	ctx: &ClaimContext,
	claimant: &Player,
	challenger: &Player,
	now: &mut BlockNumber,
) -> Game {
	let (mut game, _) = open_and_respond(model, ctx, *now, claimant, challenger).unwrap();
	*now += 1;
	bisect_to_the_end(&mut game, ctx, now, claimant, challenger, |r| r % 2 == 0);
	assert!(matches!(game.phase(), Phase::AwaitingOneStep { .. }), "{:?}", game.phase());
	game
}

/// A liar whose node leaf has another shape than the node's output cannot reveal a data root
/// under the node's header; its clock runs out and it loses. A cut the limits refuse changes
/// nothing and leaves the one-step to be posted.
#[test]
fn a_leaf_of_another_shape_cannot_be_revealed_and_loses_on_time() {
	let mut rng = Rng(0x5ec0_d1e7_0000_0002);
	let model = random_model(&mut rng);
	let honest = model.honest();
	// The Conv's output flattened, and a changed output (so that the open is not refused).
	let flat = model.tampered(&honest.values, 1, false, |t| {
		let n = t.shape.iter().product::<u32>();
		Tensor { shape: vec![n], ..t.clone() }
	});
	let last = flat.len() - 1;
	let liar = Player::new(model.tampered(&flat, last, false, |t| nudge(t, 1.0)));
	let claim = honest.output_tensors(model.output_leaves());
	let mut ctx = model.context(&claim, Tolerance::Exact);
	ctx.substep_limits = SubStepLimits { max_work: 1 << 13, max_read_bytes: 64 << 10 };
	let mut now = 10;
	let mut game = to_the_node(&model, &ctx, &honest, &liar, &mut now);
	let Phase::AwaitingOneStep { leaf: 1, .. } = *game.phase() else {
		panic!("{:?}", game.phase())
	};
	let w = honest.cut_witness(&model, 1).unwrap();
	let before = game.clone();
	let tight = ClaimContext {
		substep_limits: SubStepLimits { max_work: 64, ..ctx.substep_limits },
		..ctx
	};
	assert_eq!(game.cut(&tight, now, &w), Err(GameError::CutFailed));
	let mut other = w.clone();
	other.inputs[0].data_root = [3; 32];
	assert_eq!(game.cut(&ctx, now, &other), Err(GameError::CutNotProven));
	assert_eq!(game, before);
	now += 1;
	let cost = game.cut(&ctx, now, &w).unwrap();
	assert!(cost > 0);
	let mut again = before.clone();
	let poor = ClaimContext { cut_budget: cost - 1, ..ctx };
	assert_eq!(again.cut(&poor, now, &w), Err(GameError::CutFailed));
	assert_eq!(again, before);
	assert!(game.owes(Party::Claimant) && game.owes(Party::Challenger));
	let Phase::Revealing { what, .. } = *game.phase() else { panic!() };
	let reveal = |p: &Player| {
		let chunks = p.chunks(1);
		Revealed::DataRoot { header: chunks.header.clone(), data_root: chunks.tree.root() }
	};
	assert_eq!(
		game.reveal(&ctx, now, Party::Challenger, &reveal(&liar)),
		Err(GameError::RevealMismatch)
	);
	// The liar's own leaf, under the node's header, is not its leaf either.
	let Revealed::DataRoot { data_root, .. } = reveal(&liar) else { unreachable!() };
	let Revealed::DataRoot { header, .. } = reveal(&honest) else { unreachable!() };
	let forged = Revealed::DataRoot { header, data_root };
	assert_eq!(game.reveal(&ctx, now, Party::Challenger, &forged), Err(GameError::RevealMismatch));
	assert!(matches!(what, Reveal::DataRoots { .. }));
	let wrong_kind = Revealed::StateRoot { root: [1; 32], last: honest.tree.proof(0).unwrap() };
	assert_eq!(
		game.reveal(&ctx, now, Party::Claimant, &wrong_kind),
		Err(GameError::UnexpectedMove)
	);
	now += 1;
	assert_eq!(game.reveal(&ctx, now, Party::Claimant, &reveal(&honest)), Ok(Outcome::Continues));
	assert_eq!(
		game.reveal(&ctx, now, Party::Claimant, &reveal(&honest)),
		Err(GameError::AlreadyMoved)
	);
	assert!(!game.owes(Party::Claimant) && game.owes(Party::Challenger));
	let deadline = game.deadline().unwrap();
	assert_eq!(game.timeout(deadline - 1), Err(GameError::NotTimedOut));
	assert_eq!(
		game.timeout(deadline),
		Ok(Outcome::Resolved(Resolution { winner: Winner::Claimant, reason: Reason::Timeout }))
	);
}
