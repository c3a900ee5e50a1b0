//! Prometheus metrics of what happens on chain to claims and disputes, and of the state a
//! validator's operator alerts on: its checker keys' balances and the clocks of its disputes.
//!
//! A task follows finality: for every finalized block it reads the block's events (claims
//! submitted, finalised, invalidated; disputes opened and resolved) and then, at the newest
//! finalized block, the free balance of each checker key in the keystore and the chess clock of
//! each running dispute one of those keys plays. Counting finalized blocks only, nothing is
//! counted twice across a re-org. The checker's own decisions (claims checked, moves sent) are
//! counted where they are made, by the off-chain worker (`edgeproof_offchain::Metrics`).
//!
//! docs/running-a-network.md lists the metrics with the alerts built on them, and
//! docs/grafana-dashboard.json draws them.

use std::{collections::BTreeMap, sync::Arc};

use codec::Decode;
use edgeproof_runtime::{
	apis::DisputeView, AccountId, Balance, BlockNumber, Runtime, RuntimeEvent, UNIT,
};
use frame_support::{
	storage::{storage_prefix, StoragePrefixedMap},
	traits::{Get, PalletInfoAccess},
};
use futures::StreamExt;
use pallet_disputes::{
	game::{Resolution, Winner},
	runtime_api::DisputesApi,
	DisputeId, DisputeOf, Ending,
};
use sc_client_api::{BlockchainEvents, StorageProvider};
use sp_api::ProvideRuntimeApi;
use sp_core::{crypto::Ss58Codec, hexdisplay::HexDisplay, storage::StorageKey, H256};
use sp_keystore::KeystorePtr;
use substrate_prometheus_endpoint::{
	linear_buckets, register, CounterVec, Gauge, GaugeVec, Histogram, HistogramOpts, Opts,
	PrometheusError, Registry, F64, U64,
};

use crate::service::FullClient;

const LOG_TARGET: &str = "edgeproof::metrics";

/// The `checker` label of a dispute whose challenger is not one of this node's checker keys.
const OTHERS: &str = "others";

/// The chain metrics, registered with the node's registry.
#[derive(Clone)]
pub struct ChainMetrics {
	claims: CounterVec<U64>,
	opened: CounterVec<U64>,
	resolved: CounterVec<U64>,
	duration: Histogram,
	open: Gauge<U64>,
	clock: GaugeVec<U64>,
	balance: GaugeVec<F64>,
	bond: Gauge<F64>,
}

impl ChainMetrics {
	/// Registers:
	/// - `edgeproof_chain_claims_total{event}`: claims `submitted`, `final`, `invalid`;
	/// - `edgeproof_chain_disputes_opened_total{checker}` and
	///   `edgeproof_chain_disputes_resolved_total{checker, outcome}`: disputes by challenger (a
	///   checker key of this node by its address, every other challenger as `others`) and, when
	///   resolved, how they ended for the challenger (`won`, `lost`, `neither`: both parties
	///   lost, `superseded`: another dispute invalidated the claim first);
	/// - `edgeproof_chain_dispute_blocks`: blocks from opening to resolution (histogram);
	/// - `edgeproof_chain_disputes_open`: disputes running;
	/// - `edgeproof_checker_dispute_clock_blocks{dispute, role}`: blocks left on this node's clock
	///   in each dispute where one of its keys (as `claimant` or `challenger`) owes a move;
	/// - `edgeproof_checker_free_balance{checker}` and `edgeproof_challenger_bond`: each checker
	///   key's free balance and the bond an opening holds, in EDGE.
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let counter = |name: &str, help: &str, labels: &[&str]| {
			register(CounterVec::new(Opts::new(name, help), labels)?, registry)
		};
		Ok(Self {
			claims: counter(
				"edgeproof_chain_claims_total",
				"Claims submitted, finalised and invalidated in finalized blocks",
				&["event"],
			)?,
			opened: counter(
				"edgeproof_chain_disputes_opened_total",
				"Disputes opened in finalized blocks, by challenger",
				&["checker"],
			)?,
			resolved: counter(
				"edgeproof_chain_disputes_resolved_total",
				"Disputes resolved in finalized blocks, by challenger and outcome for it",
				&["checker", "outcome"],
			)?,
			duration: register(
				Histogram::with_opts(
					HistogramOpts::new(
						"edgeproof_chain_dispute_blocks",
						"Blocks from a dispute's opening to its resolution",
					)
					.buckets(linear_buckets(5.0, 5.0, 20)?),
				)?,
				registry,
			)?,
			open: register(
				Gauge::new(
					"edgeproof_chain_disputes_open",
					"Disputes running at the finalized head",
				)?,
				registry,
			)?,
			clock: register(
				GaugeVec::new(
					Opts::new(
						"edgeproof_checker_dispute_clock_blocks",
						"Blocks left on this node's clock in a dispute where it owes a move",
					),
					&["dispute", "role"],
				)?,
				registry,
			)?,
			balance: register(
				GaugeVec::new(
					Opts::new(
						"edgeproof_checker_free_balance",
						"Free balance of each checker key in the keystore, EDGE",
					),
					&["checker"],
				)?,
				registry,
			)?,
			bond: register(
				Gauge::new(
					"edgeproof_challenger_bond",
					"The bond opening a dispute holds (pallet-disputes ChallengerBond), EDGE",
				)?,
				registry,
			)?,
		})
	}
}

/// A running dispute as the task remembers it.
struct Running {
	challenger: AccountId,
	claimant: AccountId,
	opened_at: BlockNumber,
}

/// Follows finality and keeps `metrics` up to date (see the module docs). Runs until the node
/// stops.
pub async fn run(client: Arc<FullClient>, keystore: KeystorePtr, metrics: ChainMetrics) {
	metrics.bond.set(edge(<Runtime as pallet_disputes::Config>::ChallengerBond::get()));
	let mut finality = client.finality_notification_stream();
	let mut running: Option<BTreeMap<DisputeId, Running>> = None;
	while let Some(notification) = finality.next().await {
		let keys = checker_keys(&keystore);
		// At the first finalized block seen, the disputes already running are read from state;
		// its events (and the earlier blocks') are not counted.
		let first = running.is_none();
		let running = running.get_or_insert_with(|| running_disputes(&client, notification.hash));
		if !first {
			for hash in notification.tree_route.iter().chain([&notification.hash]) {
				count_events(&client, &metrics, &keys, running, *hash);
			}
		}
		metrics.open.set(running.len() as u64);
		update_clocks(&client, &metrics, &keys, running, notification.hash);
		for key in &keys {
			let free = free_balance(&client, notification.hash, key);
			metrics.balance.with_label_values(&[&key.to_ss58check()]).set(edge(free));
		}
	}
}

/// The accounts of the checker keys in the keystore.
fn checker_keys(keystore: &KeystorePtr) -> Vec<AccountId> {
	keystore
		.ed25519_public_keys(edgeproof_primitives::checker::KEY_TYPE)
		.into_iter()
		.map(|key| AccountId::new(key.0))
		.collect()
}

/// The `checker` label of `challenger`.
fn checker_label(keys: &[AccountId], challenger: &AccountId) -> String {
	if keys.contains(challenger) {
		challenger.to_ss58check()
	} else {
		OTHERS.into()
	}
}

/// Counts the claim and dispute events of block `hash`.
fn count_events(
	client: &FullClient,
	metrics: &ChainMetrics,
	keys: &[AccountId],
	running: &mut BTreeMap<DisputeId, Running>,
	hash: H256,
) {
	// `frame_system::Events` is private: its key is the pallet's prefix and the item's name.
	let key = storage_prefix(edgeproof_runtime::System::name().as_bytes(), b"Events");
	let Some(records) =
		read::<Vec<frame_system::EventRecord<RuntimeEvent, H256>>>(client, hash, &key)
	else {
		return;
	};
	let now = block_number(client, hash);
	for record in records {
		match record.event {
			RuntimeEvent::Attestations(e) => {
				let event = match e {
					pallet_attestations::Event::ClaimSubmitted { .. } => "submitted",
					pallet_attestations::Event::ClaimFinalized { .. } => "final",
					pallet_attestations::Event::ClaimInvalidated { .. } => "invalid",
					_ => continue,
				};
				metrics.claims.with_label_values(&[event]).inc();
			},
			RuntimeEvent::Disputes(pallet_disputes::Event::DisputeOpened {
				dispute,
				challenger,
				claimant,
				..
			}) => {
				metrics.opened.with_label_values(&[&checker_label(keys, &challenger)]).inc();
				let opened_at = now.unwrap_or_default();
				running.insert(dispute, Running { challenger, claimant, opened_at });
			},
			RuntimeEvent::Disputes(pallet_disputes::Event::DisputeResolved {
				dispute,
				ending,
				..
			}) => {
				let Some(ended) = running.remove(&dispute) else { continue };
				let outcome = match ending {
					Ending::Decided(Resolution { winner: Winner::Challenger, .. }) => "won",
					Ending::Decided(Resolution { winner: Winner::Claimant, .. }) => "lost",
					Ending::Decided(Resolution { winner: Winner::Neither, .. }) => "neither",
					Ending::ClaimInvalidated => "superseded",
				};
				let checker = checker_label(keys, &ended.challenger);
				metrics.resolved.with_label_values(&[&checker, outcome]).inc();
				if let Some(now) = now {
					metrics.duration.observe(f64::from(now.saturating_sub(ended.opened_at)));
				}
				let id = dispute.to_string();
				for role in ["claimant", "challenger"] {
					let _ = metrics.clock.remove_label_values(&[id.as_str(), role]);
				}
			},
			_ => {},
		}
	}
}

/// The disputes in state at block `hash`.
fn running_disputes(client: &FullClient, hash: H256) -> BTreeMap<DisputeId, Running> {
	let prefix = StorageKey(pallet_disputes::Disputes::<Runtime>::final_prefix().to_vec());
	let keys = match client.storage_keys(hash, Some(&prefix), None) {
		Ok(keys) => keys,
		Err(e) => {
			log::warn!(target: LOG_TARGET, "cannot list the running disputes: {e}");
			return BTreeMap::new();
		},
	};
	keys.filter_map(|key| {
		// Twox64Concat: the id's SCALE bytes end the key.
		let id = DisputeId::decode(&mut &key.0[key.0.len().checked_sub(8)?..]).ok()?;
		let dispute = read::<DisputeOf<Runtime>>(client, hash, &key.0)?;
		Some((
			id,
			Running {
				challenger: dispute.challenger,
				claimant: dispute.claimant,
				opened_at: dispute.opened_at,
			},
		))
	})
	.collect()
}

/// Sets this node's clock in every running dispute its keys play.
fn update_clocks(
	client: &FullClient,
	metrics: &ChainMetrics,
	keys: &[AccountId],
	running: &BTreeMap<DisputeId, Running>,
	hash: H256,
) {
	for (id, dispute) in running {
		let roles = [("claimant", &dispute.claimant), ("challenger", &dispute.challenger)];
		if !roles.iter().any(|(_, who)| keys.contains(who)) {
			continue;
		}
		let view: Option<DisputeView> = match client.runtime_api().dispute(hash, *id) {
			Ok(view) => view,
			Err(e) => {
				log::debug!(target: LOG_TARGET, "dispute {id}: cannot read its view: {e}");
				continue;
			},
		};
		let Some(view) = view else { continue };
		let sides = [
			(roles[0], view.claimant_owes, view.claimant_remaining),
			(roles[1], view.challenger_owes, view.challenger_remaining),
		];
		let id = id.to_string();
		for ((role, who), owes, remaining) in sides {
			let labels = [id.as_str(), role];
			if owes && keys.contains(who) {
				metrics.clock.with_label_values(&labels).set(u64::from(remaining));
			} else {
				let _ = metrics.clock.remove_label_values(&labels);
			}
		}
	}
}

/// The free balance of `account` at block `hash` (zero for an account that does not exist).
fn free_balance(client: &FullClient, hash: H256, account: &AccountId) -> Balance {
	let key = frame_system::Account::<Runtime>::hashed_key_for(account);
	type Info = frame_system::AccountInfo<
		edgeproof_runtime::Nonce,
		<Runtime as frame_system::Config>::AccountData,
	>;
	read::<Info>(client, hash, &key).map_or(0, |info| info.data.free)
}

/// The number of block `hash`.
fn block_number(client: &FullClient, hash: H256) -> Option<BlockNumber> {
	use sp_blockchain::HeaderBackend;
	client.number(hash).ok().flatten()
}

/// The value at `key` in the state of block `hash`, decoded.
fn read<T: Decode>(client: &FullClient, hash: H256, key: &[u8]) -> Option<T> {
	let data = client.storage(hash, &StorageKey(key.to_vec())).ok().flatten()?;
	T::decode(&mut &data.0[..])
		.inspect_err(
			|e| log::debug!(target: LOG_TARGET, "cannot decode 0x{}: {e}", HexDisplay::from(&key)),
		)
		.ok()
}

/// An amount in EDGE.
fn edge(plancks: Balance) -> f64 {
	plancks as f64 / UNIT as f64
}
