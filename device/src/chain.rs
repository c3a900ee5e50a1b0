//! The connection to an Edgeproof node: the typed interface generated from the runtime's
//! metadata, the operator account that signs transactions, and the reads and writes the
//! commands share.
//!
//! `metadata.scale` is the runtime's metadata; `tests/metadata.rs` keeps it equal to the
//! runtime in this repository. The types the client shares with the runtime (device keys,
//! tensors, trace witnesses, the dispute game) are the runtime crates' own types, SCALE-encoded
//! as they are (`Static`), so the CLI and the chain cannot disagree on them.

use std::time::Duration;

use sp_core::{crypto::Pair as _, sr25519};
use subxt::{
	config::{DefaultExtrinsicParamsBuilder, PolkadotConfig, RpcConfigFor},
	events::DecodeAsEvent,
	rpcs::{methods::LegacyRpcMethods, RpcClient},
	tx::{Payload, Signer, TransactionStatus},
	utils::{AccountId32, MultiSignature, H256},
	OnlineClient,
};

use crate::error::{Error, Result, Source};

/// The metadata the client below is generated from, included so that cargo rebuilds this crate
/// when it changes (the `subxt` macro reads the file without telling cargo).
const _METADATA: &[u8] = include_bytes!("../metadata.scale");

#[subxt::subxt(
	runtime_metadata_path = "metadata.scale",
	substitute_type(
		path = "pallet_devices::types::DeviceKey",
		with = "::subxt::utils::Static<::pallet_devices::DeviceKey>"
	),
	substitute_type(
		path = "pallet_devices::types::DeviceSignature",
		with = "::subxt::utils::Static<::pallet_devices::DeviceSignature>"
	),
	substitute_type(
		path = "pallet_devices::types::KeyAttestation",
		with = "::subxt::utils::Static<::pallet_devices::KeyAttestation>"
	),
	substitute_type(
		path = "pallet_devices::types::KeyProof",
		with = "::subxt::utils::Static<::pallet_devices::KeyProof>"
	),
	substitute_type(
		path = "pallet_devices::types::HardwareClass",
		with = "::subxt::utils::Static<::pallet_devices::HardwareClass>"
	),
	substitute_type(
		path = "edgeproof_canon::tensor::DType",
		with = "::subxt::utils::Static<::edgeproof_canon::DType>"
	),
	substitute_type(
		path = "edgeproof_canon::tensor::Limits",
		with = "::subxt::utils::Static<::edgeproof_canon::Limits>"
	),
	substitute_type(
		path = "edgeproof_canon::tolerance::Tolerance",
		with = "::subxt::utils::Static<::edgeproof_canon::Tolerance>"
	),
	substitute_type(
		path = "edgeproof_canon::commit::LeafWitness",
		with = "::subxt::utils::Static<::edgeproof_canon::LeafWitness>"
	),
	substitute_type(
		path = "edgeproof_canon::commit::OneStepWitness",
		with = "::subxt::utils::Static<::edgeproof_canon::OneStepWitness>"
	),
	substitute_type(
		path = "edgeproof_canon::merkle::Position",
		with = "::subxt::utils::Static<::edgeproof_canon::Position>"
	),
	substitute_type(
		path = "pallet_disputes::game::Game",
		with = "::subxt::utils::Static<::pallet_disputes::game::Game>"
	),
	substitute_type(
		path = "pallet_disputes::game::Revealed",
		with = "::subxt::utils::Static<::pallet_disputes::game::Revealed>"
	),
	substitute_type(
		path = "edgeproof_canon::merkle::MerkleProof",
		with = "::subxt::utils::Static<::edgeproof_canon::MerkleProof>"
	),
	substitute_type(
		path = "edgeproof_primitives::types::SecondLevelLimits",
		with = "::subxt::utils::Static<::edgeproof_primitives::SecondLevelLimits>"
	),
	substitute_type(
		path = "edgeproof_canon::substep::SubStepLimits",
		with = "::subxt::utils::Static<::edgeproof_canon::substep::SubStepLimits>"
	),
	substitute_type(
		path = "edgeproof_canon::substep::witness::CutWitness",
		with = "::subxt::utils::Static<::edgeproof_canon::substep::CutWitness>"
	),
	substitute_type(
		path = "edgeproof_canon::substep::witness::SubStepWitness",
		with = "::subxt::utils::Static<::edgeproof_canon::substep::SubStepWitness>"
	)
)]
pub mod runtime {}

pub use runtime::runtime_types::bounded_collections::bounded_vec::BoundedVec;

/// A block's view of the chain.
pub type AtBlock = subxt::client::ClientAtBlock<
	PolkadotConfig,
	subxt::client::OnlineClientAtBlockImpl<PolkadotConfig>,
>;

/// The account that pays for, bonds and signs the device's transactions: an sr25519 key from
/// a secret URI (`//Alice`, a mnemonic, or a `0x` seed, each with optional `//hard/soft`
/// derivations).
#[derive(Clone)]
pub struct Operator {
	pair: sr25519::Pair,
}

impl Operator {
	/// Parses a secret URI.
	pub fn from_uri(uri: &str) -> Result<Self> {
		let pair = sr25519::Pair::from_string(uri, None).map_err(|e| {
			Error::Usage(format!("the operator seed is not a valid secret URI ({e:?})"))
		})?;
		Ok(Self { pair })
	}

	/// The account id.
	pub fn account(&self) -> AccountId32 {
		AccountId32(self.pair.public().0)
	}
}

impl Signer<PolkadotConfig> for Operator {
	fn account_id(&self) -> AccountId32 {
		self.account()
	}

	fn sign(&self, payload: &[u8]) -> MultiSignature {
		MultiSignature::Sr25519(self.pair.sign(payload).0)
	}
}

/// A connection to a node.
#[derive(Clone)]
pub struct Chain {
	client: OnlineClient<PolkadotConfig>,
	rpc: LegacyRpcMethods<RpcConfigFor<PolkadotConfig>>,
	url: String,
	/// Held from reading the operator's next nonce to handing the transaction to the node, so
	/// that concurrent submissions (an attestation and a dispute move) get distinct nonces.
	nonce_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// A transaction handed to the node.
pub struct Sent {
	progress: subxt::tx::TransactionProgress<
		PolkadotConfig,
		subxt::client::OnlineClientAtBlockImpl<PolkadotConfig>,
	>,
	what: String,
}

impl Sent {
	/// Waits until the transaction is in a best block and succeeded, or for its error.
	pub async fn included(mut self) -> Result<Included> {
		let what = &self.what;
		while let Some(status) = self.progress.next().await {
			let status = status.map_err(|e| Error::chain(what.clone(), e))?;
			let in_block = match status {
				TransactionStatus::InBestBlock(b) | TransactionStatus::InFinalizedBlock(b) => b,
				TransactionStatus::Error { message }
				| TransactionStatus::Invalid { message }
				| TransactionStatus::Dropped { message } => {
					return Err(Error::rejected(format!("{what}: {message}"), None))
				},
				_ => continue,
			};
			let events = in_block
				.wait_for_success()
				.await
				.map_err(|e| Error::rejected(format!("{what} failed: {}", failure(&e)), None))?;
			return Ok(Included { block: in_block.block_hash(), events });
		}
		Err(Error::chain_state(format!("{what}: the node stopped reporting the transaction")))
	}
}

/// Why an included transaction failed. A refused key attestation also says which check
/// refused it (`Devices::Attestation: Expired { index: 1 }`): the detail is in the module
/// error's bytes after the variant.
fn failure(e: &subxt::error::TransactionEventsError) -> String {
	use subxt::error::{DispatchError, TransactionEventsError};
	if let TransactionEventsError::ExtrinsicFailed(DispatchError::Module(module)) = e {
		let attestation = module
			.details()
			.is_ok_and(|d| d.pallet.name() == "Devices" && d.variant.name == "Attestation");
		let reason =
			<pallet_devices::AttestationError as codec::Decode>::decode(&mut &module.bytes()[2..]);
		if let (true, Ok(reason)) = (attestation, reason) {
			return format!("{e}: {reason:?}");
		}
	}
	e.to_string()
}

/// What an included transaction left behind.
pub struct Included {
	pub block: H256,
	pub events: subxt::extrinsics::ExtrinsicEvents<PolkadotConfig>,
}

impl Included {
	/// The first event of type `E` emitted by the transaction.
	pub fn event<E: DecodeAsEvent>(&self) -> Result<Option<E>> {
		self.events
			.find_first::<E>()
			.transpose()
			.map_err(|e| Error::chain("cannot decode an event", e))
	}
}

impl Chain {
	/// Connects to the node at `url` (`ws://` or `wss://`).
	pub async fn connect(url: &str) -> Result<Self> {
		let unreachable =
			|e: Source| Error::unreachable(format!("cannot connect to a node at {url}"), Some(e));
		let rpc = tokio::time::timeout(Duration::from_secs(15), RpcClient::from_insecure_url(url))
			.await
			.map_err(|_| unreachable("timed out".into()))?
			.map_err(|e| unreachable(e.into()))?;
		// The legacy RPC methods: a transaction's block is then readable for as long as the
		// node keeps it, however many are watched at once (with the chainHead methods a busy
		// daemon's blocks could be unpinned before their events were read).
		let backend = subxt::backend::LegacyBackend::<PolkadotConfig>::builder().build(rpc.clone());
		let client = OnlineClient::<PolkadotConfig>::from_backend(std::sync::Arc::new(backend))
			.await
			.map_err(|e| unreachable(e.into()))?;
		Ok(Self {
			client,
			rpc: LegacyRpcMethods::new(rpc),
			url: url.to_owned(),
			nonce_lock: Default::default(),
		})
	}

	/// The node's address.
	pub fn url(&self) -> &str {
		&self.url
	}

	/// The chain's genesis hash, as the runtime's signed messages contain it.
	pub fn genesis_hash(&self) -> sp_core::H256 {
		sp_core::H256(self.client.genesis_hash().0)
	}

	/// The view at the node's best block: what the next transaction will see.
	pub async fn best(&self) -> Result<AtBlock> {
		let hash = self
			.rpc
			.chain_get_block_hash(None)
			.await
			.map_err(|e| Error::chain("cannot read the best block", e))?
			.ok_or_else(|| Error::chain_state("the node has no best block"))?;
		self.client
			.at_block(hash)
			.await
			.map_err(|e| Error::chain(format!("cannot read block {hash:?}"), e))
	}

	/// The operator's balance that is free to bond.
	pub async fn free_balance(&self, who: &AccountId32) -> Result<u128> {
		let at = self.best().await?;
		let entry = at.storage().entry(runtime::storage().system().account()).map_err(chain_err)?;
		// An account the chain has never seen has nothing.
		let info = entry.try_fetch((who.clone(),)).await.map_err(chain_err)?;
		Ok(info.map(|v| v.decode()).transpose().map_err(chain_err)?.map_or(0, |i| i.data.free))
	}

	/// Signs `call` with `operator` (its next nonce counts transactions in the pool) and
	/// submits it; returns once it is in a best block and succeeded, or its dispatch error.
	pub async fn submit<Call: Payload>(
		&self,
		call: &Call,
		operator: &Operator,
		what: &str,
	) -> Result<Included> {
		self.send(call, operator, what).await?.included().await
	}

	/// Signs and hands `call` to the node, without waiting for it: transactions sent one after
	/// the other (from any task) get consecutive nonces and may share a block.
	pub async fn send<Call: Payload>(
		&self,
		call: &Call,
		operator: &Operator,
		what: &str,
	) -> Result<Sent> {
		let _guard = self.nonce_lock.lock().await;
		let nonce = self
			.rpc
			.system_account_next_index(&operator.account())
			.await
			.map_err(|e| Error::chain("cannot read the operator's nonce", e))?;
		let params = DefaultExtrinsicParamsBuilder::<PolkadotConfig>::new().nonce(nonce).build();
		let at = self.best().await?;
		let progress = at
			.transactions()
			.sign_and_submit_then_watch(call, operator, params)
			.await
			.map_err(|e| Error::rejected(what, Some(e.into())))?;
		Ok(Sent { progress, what: what.to_owned() })
	}

	/// A best-block stream of block numbers, for watchers.
	pub async fn best_blocks(&self) -> Result<subxt::client::Blocks<PolkadotConfig>> {
		self.client.stream_best_blocks().await.map_err(|e| {
			Error::unreachable(format!("cannot follow blocks on {}", self.url), Some(e.into()))
		})
	}
}

/// Any subxt error as a chain error, kept as its source.
pub fn chain_err(e: impl Into<Source>) -> Error {
	Error::chain("request failed", e)
}

/// A runtime API call at `at`, decoded.
pub async fn call_api<P>(at: &AtBlock, payload: P) -> Result<P::ReturnType>
where
	P: subxt::runtime_apis::Payload,
{
	at.runtime_apis().call(payload).await.map_err(chain_err)
}

/// `bytes` as `0x…` hex.
pub fn hex(bytes: &[u8]) -> String {
	sp_core::bytes::to_hex(bytes, false)
}

/// Parses `0x…` (or bare) hex of exactly `N` bytes.
pub fn parse_hex<const N: usize>(text: &str, what: &str) -> Result<[u8; N]> {
	let digits = text.strip_prefix("0x").unwrap_or(text);
	let bad = || Error::Usage(format!("{what} must be {N} bytes of hex, got {text:?}"));
	if digits.len() != 2 * N || !digits.is_ascii() {
		return Err(bad());
	}
	let mut out = [0u8; N];
	for (i, byte) in out.iter_mut().enumerate() {
		*byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
	}
	Ok(out)
}

/// The SS58 (generic prefix 42) form of an account.
pub fn ss58(account: &AccountId32) -> String {
	use sp_core::crypto::Ss58Codec;
	sp_core::crypto::AccountId32::from(account.0).to_ss58check()
}
