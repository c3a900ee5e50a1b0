//! Defending claims: at every best block, make the moves the operator owes in the disputes on
//! its claims, computed by the canonical executor from the claim's input — the response with
//! the canonical trace root and outputs, each bisection move, the one-step, or at a node
//! heavier than one sub-step the second level (the cut, the data-root and segment-state
//! reveals, the moves down the node's trees, the sub-step) — and end disputes whose challenger
//! ran out of time.
//!
//! A move sent is not sent again for [`RESEND_AFTER`] blocks, so a move waiting in the pool is
//! not duplicated; after that it is sent again (a dropped transaction, a reconnect).

use std::{collections::HashMap, sync::Arc};

use edgeproof_canon::{
	substep::player::{Answer, Query},
	Tensor,
};
use edgeproof_offchain::Engine;
use pallet_disputes::game::{Level, Phase, Reveal, Revealed, Winner};
use subxt::utils::{AccountId32, Static};

use crate::{
	attest::model_info,
	chain::{call_api, chain_err, runtime, AtBlock, BoundedVec, Chain, Operator},
	error::{Error, Result},
};

/// Blocks after which a move that has not reached the chain is sent again.
pub const RESEND_AFTER: u32 = 5;

/// The operator's side of every dispute on its claims.
pub struct Defender {
	chain: Chain,
	operator: Operator,
	engine: Arc<Engine>,
	/// (dispute, move kind, round) → block it was sent at.
	sent: HashMap<(u64, &'static str, u64), u32>,
}

impl Defender {
	pub fn new(chain: Chain, operator: Operator, engine: Arc<Engine>) -> Self {
		Self { chain, operator, engine, sent: HashMap::new() }
	}

	/// Uses a new connection (after a reconnect).
	pub fn reconnect(&mut self, chain: Chain) {
		self.chain = chain;
	}

	/// Makes every move owed at the best block, logging each one sent.
	pub async fn step(&mut self) -> Result<()> {
		let at = self.chain.best().await?;
		let now = u32::try_from(at.block_number()).unwrap_or(u32::MAX);
		let me = self.operator.account();
		let entry =
			at.storage().entry(runtime::storage().disputes().disputes()).map_err(chain_err)?;
		let mut iter = entry.iter(()).await.map_err(chain_err)?;
		let mut owed = Vec::new();
		while let Some(item) = iter.next().await {
			let item = item.map_err(chain_err)?;
			let dispute = item.value().decode().map_err(chain_err)?;
			if dispute.claimant != me {
				continue;
			}
			let (id,) = item.key().map_err(chain_err)?.decode().map_err(chain_err)?;
			owed.push((id, dispute));
		}
		for (id, dispute) in owed {
			if let Err(e) = self.defend(&at, now, id, &dispute).await {
				eprintln!("dispute {id}: no move this block: {}", crate::error::report(&e));
			}
		}
		self.sent.retain(|_, at| now < at.saturating_add(10 * RESEND_AFTER));
		Ok(())
	}

	async fn defend(
		&mut self,
		at: &AtBlock,
		now: u32,
		id: u64,
		dispute: &runtime::runtime_types::pallet_disputes::Dispute<AccountId32, u128, u32>,
	) -> Result<()> {
		let game = &dispute.game.0;
		let claim = dispute.claim;
		if let Some(winner) = game.timed_out(now) {
			if winner == Winner::Claimant {
				let call = runtime::tx().disputes().timeout(id);
				return self.send(id, claim, "timeout", 0, now, &call).await;
			}
			return Ok(());
		}
		// The claimant owes the response and its bisection moves; the one-step is owed by the
		// claimant too, but anyone may post it (the honest trace wins it).
		let owes = match game.phase() {
			Phase::AwaitingResponse
			| Phase::AwaitingOneStep { .. }
			| Phase::AwaitingSubStep { .. } => true,
			Phase::Bisection { claimant_move, .. } => claimant_move.is_none(),
			Phase::Revealing { claimant, .. } => claimant.is_none(),
			Phase::Resolved(_) => false,
		};
		if !owes {
			return Ok(());
		}
		let (file, uri, tolerance, input, claimed) =
			self.claim_data(at, claim, dispute.model).await?;
		let engine = self.engine.clone();
		match *game.phase() {
			Phase::AwaitingResponse => {
				let canonical =
					blocking(move || engine.canonical_output(&file, &uri, &input)).await?;
				let own: Vec<Tensor> = canonical.outputs.iter().map(|w| w.tensor.clone()).collect();
				if !edgeproof_canon::within_tolerance(&claimed, &own, tolerance) {
					// The claim is wrong (a faulty device?): no honest response exists, and a
					// transaction would only pay fees.
					if self.sent.insert((id, "indefensible", 0), now).is_none() {
						eprintln!(
							"dispute {id}: claim {claim} is not the model's output; it cannot be defended"
						);
					}
					return Ok(());
				}
				let outputs = BoundedVec(canonical.outputs.into_iter().map(Static).collect());
				let call =
					runtime::tx().disputes().respond(id, canonical.trace_root.into(), outputs);
				self.send(id, claim, "respond", 0, now, &call).await
			},
			Phase::Bisection { level, position, .. } => {
				let (left, right) = match level {
					Level::Trace => {
						blocking(move || engine.trace_children(&file, &uri, &input, position))
							.await?
					},
					Level::Tiles { inside } => children(
						blocking(move || {
							let query = Query::ChunkChildren(position);
							engine.second_level(&file, &uri, &input, inside.leaf, &query)
						})
						.await?,
					)?,
					Level::Segments { inside, tile, .. } => children(
						blocking(move || {
							let query =
								Query::StateChildren { geometry: inside.geometry, tile, position };
							engine.second_level(&file, &uri, &input, inside.leaf, &query)
						})
						.await?,
					)?,
				};
				let key = level.move_key(position);
				let round = position.depth;
				let call = runtime::tx().disputes().bisect(id, round, left, right);
				self.send(id, claim, "bisect", key, now, &call).await
			},
			// A node heavier than one sub-step is settled by the second level, as the
			// validators' workers do; else by the one-step.
			Phase::AwaitingOneStep { leaf, .. } => {
				let limits = sub_step_limits(at)?;
				let (file2, uri2, input2) = (file, uri.clone(), input.clone());
				let engine2 = engine.clone();
				let cut = blocking(move || {
					engine2.second_level(&file2, &uri2, &input2, leaf, &Query::Cut)
				})
				.await;
				if let Ok(Answer::Cut(witness)) = cut {
					if witness.geometry(&limits).is_ok_and(|g| g.substeps() > 1) {
						let call = runtime::tx().disputes().cut(id, Static(witness));
						return self.send(id, claim, "cut", leaf, now, &call).await;
					}
				}
				let witness = blocking(move || engine.one_step(&file, &uri, &input, leaf)).await?;
				let call = runtime::tx().disputes().one_step(id, Static(witness));
				self.send(id, claim, "one-step", leaf, now, &call).await
			},
			Phase::Revealing { what, .. } => {
				let (leaf, query, round) = match what {
					Reveal::DataRoots { inside, .. } => (inside.leaf, Query::DataRoot, 0),
					Reveal::StateRoots { inside, tile, .. } => (
						inside.leaf,
						Query::StateRoot { geometry: inside.geometry, tile },
						tile.saturating_add(1),
					),
				};
				let answer =
					blocking(move || engine.second_level(&file, &uri, &input, leaf, &query))
						.await?;
				let revealed = match answer {
					Answer::DataRoot { header, data_root } => {
						Revealed::DataRoot { header, data_root }
					},
					Answer::StateRoot { root, last } => Revealed::StateRoot { root, last },
					other => return Err(Error::State(format!("not a reveal: {other:?}"))),
				};
				let call = runtime::tx().disputes().reveal(id, Static(revealed));
				self.send(id, claim, "reveal", round, now, &call).await
			},
			Phase::AwaitingSubStep { inside, tile, segment, .. } => {
				let query = Query::SubStep {
					geometry: inside.geometry,
					limits: inside.limits,
					tile,
					segment,
				};
				let answer =
					blocking(move || engine.second_level(&file, &uri, &input, inside.leaf, &query))
						.await?;
				let Answer::SubStep { witness, state } = answer else {
					return Err(Error::State(format!("not a sub-step: {answer:?}")));
				};
				let call =
					runtime::tx().disputes().sub_step(id, Static(witness), state.map(Static));
				self.send(id, claim, "sub-step", inside.leaf, now, &call).await
			},
			_ => Ok(()),
		}
	}

	/// The claim's model, its URI and tolerance, the claimed input and output.
	async fn claim_data(
		&self,
		at: &AtBlock,
		claim: u64,
		model: subxt::utils::H256,
	) -> Result<(sp_core::H256, String, edgeproof_canon::Tolerance, Vec<Tensor>, Vec<Tensor>)> {
		let payload = call_api(at, runtime::runtime_apis().attestations_api().claim_payload(claim))
			.await?
			.ok_or_else(|| Error::State(format!("claim {claim} has no payload on the chain")))?;
		let input = pallet_attestations::decode_tensors(&payload.input.0)
			.ok_or_else(|| Error::State(format!("claim {claim}: the input does not decode")))?;
		let output = pallet_attestations::decode_tensors(&payload.output.0)
			.ok_or_else(|| Error::State(format!("claim {claim}: the output does not decode")))?;
		let info = model_info(at, model)
			.await?
			.ok_or_else(|| Error::State(format!("claim {claim}: model {model:?} is gone")))?;
		Ok((info.file_hash, info.uri, info.tolerance, input, output))
	}

	async fn send<Call: subxt::tx::Payload>(
		&mut self,
		dispute: u64,
		claim: u64,
		kind: &'static str,
		round: u64,
		now: u32,
		call: &Call,
	) -> Result<()> {
		let key = (dispute, kind, round);
		if self.sent.get(&key).is_some_and(|at| now < at.saturating_add(RESEND_AFTER)) {
			return Ok(());
		}
		self.sent.insert(key, now);
		let what = format!("dispute {dispute} ({kind})");
		self.chain.submit(call, &self.operator, &what).await?;
		eprintln!("dispute {dispute} on claim {claim}: {kind} sent");
		Ok(())
	}
}

/// The two children of an answer to a children query.
fn children(answer: Answer) -> Result<([u8; 32], [u8; 32])> {
	answer.children().ok_or_else(|| Error::State("the engine did not answer with children".into()))
}

/// The chain's sub-step limits (the disputes pallet's `SubStepLimits`): a node whose cut has
/// more than one sub-step under them is settled by the second level.
fn sub_step_limits(at: &AtBlock) -> Result<edgeproof_canon::substep::SubStepLimits> {
	let entry = runtime::constants().disputes().sub_step_limits();
	Ok(at.constants().entry(entry).map_err(chain_err)?.0)
}

/// Runs engine work off the async threads.
async fn blocking<T: Send + 'static>(
	f: impl FnOnce() -> edgeproof_offchain::Result<T> + Send + 'static,
) -> Result<T> {
	Ok(tokio::task::spawn_blocking(f).await??)
}
