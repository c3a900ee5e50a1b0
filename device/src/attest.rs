//! Attesting: run a registered model locally with ONNX Runtime, sign the claim with the
//! device key, bond and submit it with the operator account.

use std::sync::Arc;

use codec::Encode;
use edgeproof_canon::{DType, Tensor};
use edgeproof_offchain::Engine;
use sp_core::H256;
use subxt::utils::Static;

use crate::{
	chain::{
		call_api, chain_err, runtime,
		runtime::runtime_types::{
			pallet_attestations::types::ClaimStatus, pallet_devices::types::DeviceStatus,
			pallet_models::types::ModelStatus,
		},
		AtBlock, Chain, Operator,
	},
	error::{Error, Result},
	keystore::{key_hex, DeviceKeyPair},
	tensors::{self, Spec},
};

/// What the device needs to know about a model: where to fetch it and what it takes.
#[derive(Debug)]
pub struct ModelInfo {
	pub id: H256,
	/// blake2-256 of the ONNX file: how the engine finds and checks it.
	pub file_hash: H256,
	pub uri: String,
	pub inputs: Vec<Spec>,
	pub outputs: Vec<Spec>,
	pub tolerance: edgeproof_canon::Tolerance,
	pub status: ModelStatus,
}

/// Reads model `id` at `at`.
pub async fn model_info(at: &AtBlock, id: H256) -> Result<Option<ModelInfo>> {
	let record = call_api(at, runtime::runtime_apis().models_api().model(id)).await?;
	Ok(record.map(|r| {
		let spec = |s: &runtime::runtime_types::pallet_models::types::TensorSpec| Spec {
			name: String::from_utf8_lossy(&s.name.0).into_owned(),
			dtype: *s.dtype,
			shape: s.shape.0.clone(),
			dynamic_batch: s.dynamic_batch,
		};
		ModelInfo {
			id,
			file_hash: r.params.file_hash,
			uri: String::from_utf8_lossy(&r.params.uri.0).into_owned(),
			inputs: r.params.inputs.0.iter().map(spec).collect(),
			outputs: r.params.outputs.0.iter().map(spec).collect(),
			tolerance: *r.params.tolerance,
			status: r.status,
		}
	}))
}

/// Reads model `id` and requires it to accept claims.
pub async fn active_model(at: &AtBlock, id: H256) -> Result<ModelInfo> {
	let info = model_info(at, id)
		.await?
		.ok_or_else(|| Error::State(format!("model {id:?} is not registered")))?;
	if !matches!(info.status, ModelStatus::Active) {
		return Err(Error::State(format!(
			"model {id:?} is {}, not Active: it takes no claims",
			status_name(&info.status)
		)));
	}
	Ok(info)
}

/// A claim in a block: the device's attestation of one output.
pub struct Claim {
	pub id: u64,
	pub nonce: u64,
	pub outputs: Vec<Tensor>,
	pub block: subxt::utils::H256,
}

/// A claim handed to the node, not yet in a block.
pub struct SentClaim {
	pub nonce: u64,
	pub outputs: Vec<Tensor>,
	sent: crate::chain::Sent,
}

impl SentClaim {
	/// Waits until the claim is in a block.
	pub async fn included(self) -> Result<Claim> {
		let included = self.sent.included().await?;
		let event = included
			.event::<runtime::attestations::events::ClaimSubmitted>()?
			.ok_or_else(|| Error::chain_state("the claim was included without ClaimSubmitted"))?;
		Ok(Claim {
			id: event.claim,
			nonce: self.nonce,
			outputs: self.outputs,
			block: included.block,
		})
	}
}

/// Runs `model` on `input` with ONNX Runtime, off the async threads.
pub async fn infer(
	engine: &Arc<Engine>,
	model: &ModelInfo,
	input: &[Tensor],
) -> Result<Vec<Tensor>> {
	tensors::check(input, &model.inputs)?;
	let engine = engine.clone();
	let (file, uri, input) = (model.file_hash, model.uri.clone(), input.to_vec());
	Ok(tokio::task::spawn_blocking(move || engine.run(&file, &uri, &input)).await??)
}

/// Signs and submits one device's claims, each with a nonce above the last.
pub struct Attester {
	pub chain: Chain,
	pub operator: Operator,
	pub key: DeviceKeyPair,
	last_nonce: Option<u64>,
	/// Test hook: perturb the output before signing (`--tamper-output`).
	pub tamper: bool,
}

impl Attester {
	pub fn new(chain: Chain, operator: Operator, key: DeviceKeyPair) -> Self {
		Self { chain, operator, key, last_nonce: None, tamper: false }
	}

	/// Checks that the device is registered to the operator and active.
	pub async fn check_device(&self) -> Result<()> {
		let at = self.chain.best().await?;
		let device = self.key.device;
		let record = call_api(&at, runtime::runtime_apis().devices_api().device(Static(device)))
			.await?
			.ok_or_else(|| {
				Error::State(format!(
					"device {} is not registered; run `edgeproof-device register`",
					key_hex(&device)
				))
			})?;
		if record.operator != self.operator.account() {
			return Err(Error::State(format!(
				"device {} is operated by {}, not by the operator account given",
				key_hex(&device),
				crate::chain::ss58(&record.operator)
			)));
		}
		if *record.key != self.key.public() {
			return Err(Error::keystore(format!(
				"the keystore's key is not device {}'s signing key (was it rotated elsewhere?)",
				key_hex(&device)
			)));
		}
		if !matches!(record.status, DeviceStatus::Active) {
			return Err(Error::State(format!(
				"device {} is {}",
				key_hex(&device),
				status_name(&record.status)
			)));
		}
		Ok(())
	}

	/// The next nonce: above the chain's last (at the best block) and the last one used here.
	async fn next_nonce(&mut self, at: &AtBlock) -> Result<u64> {
		let entry = at
			.storage()
			.entry(runtime::storage().attestations().last_nonce())
			.map_err(chain_err)?;
		let on_chain = entry
			.try_fetch((Static(self.key.device),))
			.await
			.map_err(chain_err)?
			.map(|v| v.decode())
			.transpose()
			.map_err(chain_err)?;
		let last = on_chain.max(self.last_nonce);
		Ok(last.map_or(1, |n| n.saturating_add(1)))
	}

	/// Runs `model` on `input` locally, attests the output and waits until the claim is in a
	/// block.
	pub async fn attest(
		&mut self,
		engine: &Arc<Engine>,
		model: &ModelInfo,
		input: Vec<Tensor>,
	) -> Result<Claim> {
		let outputs = infer(engine, model, &input).await?;
		self.send(model, input, outputs).await?.included().await
	}

	/// Signs the claim that `model` gave `outputs` on `input` with the device key and hands it
	/// to the node with the next nonce. Claims sent one after the other may share a block.
	pub async fn send(
		&mut self,
		model: &ModelInfo,
		input: Vec<Tensor>,
		mut outputs: Vec<Tensor>,
	) -> Result<SentClaim> {
		if self.tamper {
			tamper(&mut outputs);
		}
		let at = self.chain.best().await?;
		let nonce = self.next_nonce(&at).await?;
		let input_bytes = input.encode();
		let output_bytes = outputs.encode();
		let message = pallet_attestations::claim_message(
			&self.chain.genesis_hash(),
			&self.key.device,
			&model.id,
			&H256(sp_crypto_hashing::blake2_256(&input_bytes)),
			&H256(sp_crypto_hashing::blake2_256(&output_bytes)),
			nonce,
		);
		let signature = self.key.sign(&message);
		let call = runtime::tx().attestations().submit(
			Static(self.key.device),
			model.id,
			crate::chain::BoundedVec(input_bytes),
			crate::chain::BoundedVec(output_bytes),
			nonce,
			Static(signature),
		);
		let sent = self.chain.send(&call, &self.operator, "the claim").await?;
		self.last_nonce = Some(nonce);
		Ok(SentClaim { nonce, outputs, sent })
	}
}

/// Moves the first element of the first output far off (the hidden `--tamper-output`).
fn tamper(outputs: &mut [Tensor]) {
	let Some(t) = outputs.first_mut() else { return };
	match t.dtype {
		DType::F32 if t.data.len() >= 4 => {
			let x = f32::from_le_bytes([t.data[0], t.data[1], t.data[2], t.data[3]]);
			t.data[..4].copy_from_slice(&(x + 0.5).to_le_bytes());
		},
		_ => {
			if let Some(b) = t.data.first_mut() {
				*b ^= 1;
			}
		},
	}
}

/// A claim's status and record at `at`, as JSON.
pub async fn claim_json(at: &AtBlock, claim: u64) -> Result<Option<serde_json::Value>> {
	let record = call_api(at, runtime::runtime_apis().attestations_api().claim(claim)).await?;
	Ok(record.map(|r| {
		serde_json::json!({
			"claim": claim,
			"device": key_hex(&r.device),
			"operator": crate::chain::ss58(&r.operator),
			"model": format!("{:?}", r.model),
			"nonce": r.nonce,
			"bond": r.bond.to_string(),
			"submittedAt": r.submitted_at,
			"challengeEnds": r.challenge_ends,
			"status": status_name(&r.status),
		})
	}))
}

/// A status as its variant is named in the chain's metadata (`Disputed { open: 1 }` →
/// `Disputed`), for the operator and for JSON.
pub trait StatusName {
	fn name(&self) -> &'static str;
}

impl StatusName for ClaimStatus {
	fn name(&self) -> &'static str {
		match self {
			Self::Pending => "Pending",
			Self::Disputed { .. } => "Disputed",
			Self::Final => "Final",
			Self::Invalid => "Invalid",
		}
	}
}

impl StatusName for ModelStatus {
	fn name(&self) -> &'static str {
		match self {
			Self::Pending => "Pending",
			Self::Active => "Active",
			Self::Deprecated => "Deprecated",
			Self::Retired => "Retired",
			Self::Rejected => "Rejected",
		}
	}
}

impl<BlockNumber> StatusName for DeviceStatus<BlockNumber> {
	fn name(&self) -> &'static str {
		match self {
			Self::Active => "Active",
			Self::Suspended(_) => "Suspended",
			Self::Unbonding { .. } => "Unbonding",
		}
	}
}

/// The name of `status` (see [`StatusName`]).
pub fn status_name(status: &impl StatusName) -> String {
	status.name().to_owned()
}
