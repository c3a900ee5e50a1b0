//! The commands: each connects, acts, and returns its result as text and as JSON.

use std::{path::PathBuf, sync::Arc};

use edgeproof_offchain::{Engine, EngineConfig};
use pallet_devices::{DeviceKey, HardwareClass, KeyAssurance, KeyAttestation, KeyProof};
use serde_json::json;
use subxt::utils::Static;

use crate::{
	args::Amount,
	attest::{self, Attester},
	chain::runtime::runtime_types::pallet_attestations::types::ClaimStatus,
	chain::{call_api, hex, runtime, ss58, AtBlock, BoundedVec, Chain, Operator},
	defend::Defender,
	error::{Error, Result},
	keystore::{key_hex, DeviceKeyPair, Scheme},
	models, serve, tensors, AttestArgs, ClaimArgs, Cli, Command, CompletionsArgs,
	DevAttestationArgs, Global, KeygenArgs, RegisterArgs, RotateKeyArgs, TraceArgs,
};

/// A command's result.
pub struct Output {
	pub text: String,
	pub json: serde_json::Value,
}

impl Output {
	pub fn new(text: impl Into<String>, json: serde_json::Value) -> Self {
		Self { text: text.into(), json }
	}
}

/// Prints a result to stdout.
pub fn print(output: &Output, json: bool) {
	if json {
		println!("{}", output.json);
	} else if !output.text.is_empty() {
		println!("{}", output.text);
	}
}

/// Progress for the operator, on stderr.
pub fn progress(message: impl std::fmt::Display) {
	eprintln!("{message}");
}

/// Kinds of hardware (`HardwareClass`).
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Hardware {
	Phone,
	Laptop,
	Desktop,
	Embedded,
	Robot,
	Server,
	Other,
}

impl From<Hardware> for HardwareClass {
	fn from(h: Hardware) -> Self {
		match h {
			Hardware::Phone => Self::Phone,
			Hardware::Laptop => Self::Laptop,
			Hardware::Desktop => Self::Desktop,
			Hardware::Embedded => Self::Embedded,
			Hardware::Robot => Self::Robot,
			Hardware::Server => Self::Server,
			Hardware::Other => Self::Other,
		}
	}
}

/// The operator account from `--seed` / `EDGEPROOF_OPERATOR_SEED`.
pub fn operator(global: &Global) -> Result<Operator> {
	let seed = global.seed.as_deref().ok_or_else(|| {
		Error::Usage("no operator account: pass --seed or set EDGEPROOF_OPERATOR_SEED".into())
	})?;
	Operator::from_uri(seed)
}

/// The local inference engine: ONNX Runtime from `--onnxruntime-lib` (or where
/// `scripts/setup.sh` puts it) and the model store.
pub fn engine(global: &Global) -> Result<Arc<Engine>> {
	let lib =
		global.onnxruntime_lib.clone().unwrap_or_else(edgeproof_offchain::default_onnxruntime_lib);
	if !lib.is_file() {
		return Err(Error::Usage(format!(
			"the ONNX Runtime library is not at {}; run scripts/setup.sh or pass --onnxruntime-lib",
			lib.display()
		)));
	}
	let store = global.model_store.clone().unwrap_or_else(|| {
		let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
		home.join(".cache/edgeproof/device-models")
	});
	let mut config = EngineConfig::new(Some(lib), store);
	// The operator's own machine and files: local model sources are what it runs.
	config.store.allow_local_sources = true;
	Ok(Arc::new(Engine::new(config)?))
}

/// Runs the command: each subcommand has its own arguments (`crate::*Args`) and function.
pub async fn run(cli: Cli) -> Result<Output> {
	let global = &cli.global;
	match cli.command {
		Command::Keygen(args) => keygen(global, args),
		Command::Register(args) => register(global, args).await,
		Command::AttestationChallenge => attestation_challenge(global).await,
		Command::DevAttestation(args) => dev_attestation(global, args).await,
		Command::Status => status(global).await,
		Command::RotateKey(args) => rotate_key(global, args).await,
		Command::Deregister => deregister(global).await,
		Command::Withdraw => withdraw(global).await,
		Command::Models { command } => models::run(global, command).await,
		Command::Attest(args) => attest_command(global, args).await,
		Command::Claim(args) => claim(global, args).await,
		Command::Trace(args) => trace(global, args).await,
		Command::Serve(args) => serve::run(global, args).await,
		Command::Completions(args) => Ok(completions(args)),
		Command::Man => Ok(man()),
	}
}

fn keygen(global: &Global, args: KeygenArgs) -> Result<Output> {
	let key = DeviceKeyPair::generate(if args.p256 { Scheme::P256 } else { args.scheme });
	key.save(&global.keystore, args.force)?;
	let id = key_hex(&key.public());
	Ok(Output::new(
		format!("device key {id} written to {}", global.keystore.display()),
		json!({ "device": id, "keystore": global.keystore }),
	))
}

async fn attestation_challenge(global: &Global) -> Result<Output> {
	let op = operator(global)?;
	let key = match global.keystore.exists() {
		true => Some(DeviceKeyPair::load(&global.keystore)?),
		false => None,
	};
	let chain = Chain::connect(&global.url).await?;
	let at = chain.best().await?;
	let nonce = match &key {
		Some(key) => next_bind_nonce(&at, &key.public()).await?,
		None => 0,
	};
	let challenge = bind_challenge(&chain, &op, nonce);
	Ok(Output::new(
		hex(&challenge),
		json!({ "challenge": hex(&challenge), "operator": ss58(&op.account()), "nonce": nonce }),
	))
}

async fn deregister(global: &Global) -> Result<Output> {
	let (chain, op, key) = device_context(global).await?;
	let call = runtime::tx().devices().deregister(Static(key.device));
	chain.submit(&call, &op, "deregister").await?;
	let id = key_hex(&key.device);
	Ok(Output::new(format!("device {id} deregistered; its stake unbonds"), json!({ "device": id })))
}

async fn withdraw(global: &Global) -> Result<Output> {
	let (chain, op, key) = device_context(global).await?;
	let call = runtime::tx().devices().withdraw_stake(Static(key.device));
	let included = chain.submit(&call, &op, "withdraw").await?;
	let amount = included
		.event::<runtime::devices::events::StakeWithdrawn>()?
		.map(|e| e.amount)
		.unwrap_or_default();
	let id = key_hex(&key.device);
	Ok(Output::new(
		format!("device {id}: {} withdrawn", Amount(amount)),
		json!({ "device": id, "amount": amount.to_string() }),
	))
}

async fn claim(global: &Global, ClaimArgs { id }: ClaimArgs) -> Result<Output> {
	let chain = Chain::connect(&global.url).await?;
	let at = chain.best().await?;
	let claim = attest::claim_json(&at, id)
		.await?
		.ok_or_else(|| Error::State(format!("claim {id} is not on the chain (or pruned)")))?;
	Ok(Output::new(format!("claim {id}: {}", claim["status"].as_str().unwrap_or("?")), claim))
}

fn completions(CompletionsArgs { shell }: CompletionsArgs) -> Output {
	let script = Cli::completions(shell);
	Output::new(script.trim_end(), json!({ "shell": shell.to_string(), "script": script }))
}

fn man() -> Output {
	let page = Cli::man_page();
	Output::new(page.trim_end(), json!({ "man": page }))
}

/// The keystore's key, the operator and a connection; in that order, so that local mistakes
/// are reported before the network is tried.
async fn device_context(global: &Global) -> Result<(Chain, Operator, DeviceKeyPair)> {
	let key = DeviceKeyPair::load(&global.keystore)?;
	let op = operator(global)?;
	let chain = Chain::connect(&global.url).await?;
	Ok((chain, op, key))
}

async fn register(global: &Global, args: RegisterArgs) -> Result<Output> {
	let RegisterArgs { stake, hardware, description, attestation } = args;
	let (chain, op, key) = device_context(global).await?;
	let attestation = match attestation.as_slice() {
		[] => None,
		files => {
			if !matches!(key.public(), DeviceKey::P256(_)) {
				return Err(Error::Usage(format!(
					"--attestation needs a P-256 device key; {} is not one (`keygen --p256`)",
					key_hex(&key.public())
				)));
			}
			Some(read_attestation(files)?)
		},
	};
	let at = chain.best().await?;
	let min = at
		.constants()
		.entry(runtime::constants().devices().min_stake())
		.map_err(crate::chain::chain_err)?;
	let stake = stake.map_or(min, |s| s.0);
	if stake < min {
		return Err(Error::Usage(format!("the stake must be at least {}", Amount(min))));
	}
	let account = op.account();
	let free = chain.free_balance(&account).await?;
	if free < stake {
		return Err(Error::State(format!(
			"the operator {} has {} free, less than the stake {}",
			ss58(&account),
			Amount(free),
			Amount(stake)
		)));
	}
	let nonce = next_bind_nonce(&at, &key.public()).await?;
	let proof = key.sign(&pallet_devices::bind_message(&chain.genesis_hash(), &account.0, nonce));
	let metadata = runtime::runtime_types::pallet_devices::types::DeviceMetadata {
		hardware: Static(HardwareClass::from(hardware)),
		description: BoundedVec(description.into_bytes()),
	};
	progress(format!("registering device {} with stake {}", key_hex(&key.public()), Amount(stake)));
	let included = match attestation {
		None => {
			let call = runtime::tx().devices().register_device(
				Static(key.public()),
				Static(proof),
				metadata,
				stake,
			);
			chain.submit(&call, &op, "register").await?
		},
		Some(attestation) => {
			let call = runtime::tx().devices().register_attested_device(
				Static(key.public()),
				Static(proof),
				Static(attestation),
				metadata,
				stake,
			);
			chain.submit(&call, &op, "register").await?
		},
	};
	let proof = included
		.event::<runtime::devices::events::KeyAttested>()?
		.map_or(pallet_devices::KeyProof::Signature, |e| *e.proof);
	let id = key_hex(&key.device);
	let assurance = assurance_name(proof.assurance());
	Ok(Output::new(
		format!(
			"device {id} registered to {} with stake {}, key assurance {assurance}",
			ss58(&account),
			Amount(stake)
		),
		json!({
			"device": id,
			"operator": ss58(&account),
			"stake": stake.to_string(),
			"assurance": assurance,
		}),
	))
}

/// The nonce `key`'s next bind proof signs: how often it registered before (pallet-devices).
async fn next_bind_nonce(at: &AtBlock, key: &DeviceKey) -> Result<u32> {
	let histories = at
		.storage()
		.entry(runtime::storage().devices().key_histories())
		.map_err(crate::chain::chain_err)?;
	Ok(histories
		.try_fetch((Static(*key),))
		.await
		.map_err(crate::chain::chain_err)?
		.map(|v| v.decode())
		.transpose()
		.map_err(crate::chain::chain_err)?
		.map_or(0, |history| history.next_nonce))
}

/// The attestation challenge of a registration under `op` with bind nonce `nonce`: SHA-256 of
/// the bind message.
fn bind_challenge(chain: &Chain, op: &Operator, nonce: u32) -> [u8; 32] {
	let message = pallet_devices::bind_message(&chain.genesis_hash(), &op.account().0, nonce);
	sp_crypto_hashing::sha2_256(&message)
}

/// An attestation from `files`: one App Attest object (CBOR, a map), or an Android chain: one
/// PEM file of certificates, or DER files, leaf first.
fn read_attestation(files: &[PathBuf]) -> Result<KeyAttestation> {
	let read = |file: &PathBuf| {
		std::fs::read(file)
			.map_err(|e| Error::Usage(format!("attestation file {}: {e}", file.display())))
	};
	// A CBOR map's first byte is 0xa0–0xbf; a DER certificate's is 0x30, a PEM file's '-'.
	if let [file] = files {
		let bytes = read(file)?;
		if bytes.first().is_some_and(|b| (0xa0..=0xbf).contains(b)) {
			let max = edgeproof_key_attestation::apple::MAX_OBJECT_LEN;
			let len = bytes.len();
			let object = sp_core::bounded::BoundedVec::try_from(bytes).map_err(|_| {
				Error::Usage(format!(
					"the App Attest object {} is {len} bytes, at most {max} are accepted",
					file.display()
				))
			})?;
			return Ok(KeyAttestation::AppleAppAttest(object));
		}
	}
	let mut certs = Vec::new();
	for file in files {
		let shown = file.display();
		let bytes = read(file)?;
		if bytes.starts_with(b"-----BEGIN") {
			let chain = x509_cert::Certificate::load_pem_chain(&bytes).map_err(|e| {
				Error::Usage(format!(
					"attestation file {shown} is not a PEM certificate chain: {e}"
				))
			})?;
			for cert in chain {
				certs.push(der::Encode::to_der(&cert).map_err(|e| {
					Error::Usage(format!(
						"attestation file {shown}: a certificate re-encodes badly: {e}"
					))
				})?);
			}
		} else {
			certs.push(bytes);
		}
	}
	let max = edgeproof_key_attestation::MAX_CERT_LEN;
	let certs = certs
		.into_iter()
		.enumerate()
		.map(|(i, der)| {
			sp_core::bounded::BoundedVec::try_from(der).map_err(|_| {
				Error::Usage(format!("attestation certificate {i} is over {max} bytes"))
			})
		})
		.collect::<Result<Vec<_>>>()?;
	let len = certs.len();
	let chain = sp_core::bounded::BoundedVec::try_from(certs).map_err(|_| {
		Error::Usage(format!(
			"the attestation chain has {len} certificates, at most {} are accepted",
			edgeproof_key_attestation::MAX_CHAIN_LEN
		))
	})?;
	Ok(KeyAttestation::Android(chain))
}

/// The security levels `dev-attestation` can state.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum DevLevel {
	Software,
	Tee,
	Strongbox,
}

/// The test CA's seed: fixed, so its root (which a dev chain's admin trusts) stays the same.
const DEV_CA_SEED: [u8; 32] = *b"edgeproof development test CA..\x01";

async fn dev_attestation(global: &Global, args: DevAttestationArgs) -> Result<Output> {
	use edgeproof_key_attestation::{android::SecurityLevel, test_ca};
	let (chain, op, key) = device_context(global).await?;
	let DeviceKey::P256(public) = key.public() else {
		return Err(Error::Usage(format!(
			"dev-attestation needs a P-256 device key; {} is not one (`keygen --p256`)",
			key_hex(&key.public())
		)));
	};
	let at = chain.best().await?;
	let nonce = next_bind_nonce(&at, &key.public()).await?;
	let challenge = bind_challenge(&chain, &op, nonce);
	let ca = test_ca::TestCa::new(DEV_CA_SEED)
		.map_err(|e| Error::Usage(format!("the test CA: {}", e.0)))?;
	let issue_err = |e: test_ca::IssueError| Error::Usage(format!("the test CA: {}", e.0));
	let (what, bytes) = if args.apple {
		let spec = test_ca::AppAttestSpec::production(public, challenge);
		("App Attest object", ca.app_attest(&spec).map_err(issue_err)?)
	} else {
		let mut spec = test_ca::LeafSpec::tee(public, &challenge);
		spec.security_level = match args.level {
			DevLevel::Software => SecurityLevel::Software,
			DevLevel::Tee => SecurityLevel::TrustedEnvironment,
			DevLevel::Strongbox => SecurityLevel::StrongBox,
		};
		let mut pem = String::new();
		for der in &ca.chain(&spec).map_err(issue_err)? {
			let cert: x509_cert::Certificate = der::Decode::from_der(der)
				.map_err(|e| Error::Usage(format!("the test CA issued a bad certificate: {e}")))?;
			pem.push_str(
				&der::EncodePem::to_pem(&cert, der::pem::LineEnding::LF)
					.map_err(|e| Error::Usage(format!("cannot write PEM: {e}")))?,
			);
		}
		("attestation chain", pem.into_bytes())
	};
	std::fs::write(&args.out, bytes)
		.map_err(|e| Error::Usage(format!("cannot write {}: {e}", args.out.display())))?;
	let root = hex(&ca.root_spki());
	Ok(Output::new(
		format!(
			"test {what} for {} written to {}\ntest CA root key (trust it with devices.setTrustedRoots): {root}",
			key_hex(&key.public()),
			args.out.display()
		),
		json!({ "chain": args.out, "root": root, "nonce": nonce }),
	))
}

/// Has a certificate that attested `device`'s key been revoked since it registered? Then the
/// chain counts its key as unproven (pallet-devices' `key_assurance`).
async fn attestation_revoked(at: &AtBlock, device: &DeviceKey) -> Result<bool> {
	let storage = runtime::storage().devices();
	let serials = at
		.storage()
		.entry(storage.attestation_serials())
		.map_err(crate::chain::chain_err)?
		.try_fetch((Static(*device),))
		.await
		.map_err(crate::chain::chain_err)?
		.map(|v| v.decode())
		.transpose()
		.map_err(crate::chain::chain_err)?;
	let revoked = at.storage().entry(storage.revoked_serials()).map_err(crate::chain::chain_err)?;
	for serial in serials.map(|s| s.0).unwrap_or_default() {
		if revoked.try_fetch((serial,)).await.map_err(crate::chain::chain_err)?.is_some() {
			return Ok(true);
		}
	}
	Ok(false)
}

/// A key assurance's name, as `status` and `register` show it.
fn assurance_name(assurance: KeyAssurance) -> &'static str {
	match assurance {
		KeyAssurance::Unproven => "unproven",
		KeyAssurance::TrustedEnvironment => "TEE",
		KeyAssurance::SecureElement => "secure element",
	}
}

async fn status(global: &Global) -> Result<Output> {
	let key = DeviceKeyPair::load(&global.keystore)?;
	let chain = Chain::connect(&global.url).await?;
	let at = chain.best().await?;
	let device = key.device;
	let id = key_hex(&device);
	let record = call_api(&at, runtime::runtime_apis().devices_api().device(Static(device)))
		.await?
		.ok_or_else(|| Error::State(format!("device {id} is not registered")))?;
	let score =
		call_api(&at, runtime::runtime_apis().devices_api().reputation_score(Static(device)))
			.await?;
	let mut claims = Vec::new();
	let mut disputes = Vec::new();
	let mut from = 0;
	loop {
		let (page, next) =
			call_api(&at, runtime::runtime_apis().attestations_api().pending_claims(from, 256))
				.await?;
		for (claim, c) in page {
			if *c.device != device {
				continue;
			}
			claims.push(json!({
				"claim": claim,
				"status": attest::status_name(&c.status),
				"challengeEnds": c.challenge_ends,
			}));
			for dispute in
				call_api(&at, runtime::runtime_apis().disputes_api().claim_disputes(claim)).await?
			{
				disputes.push(json!({ "dispute": dispute, "claim": claim }));
			}
		}
		match next {
			Some(n) => from = n,
			None => break,
		}
	}
	let status = attest::status_name(&record.status);
	let rep = &record.reputation;
	let proof = *record.key_proof;
	let revoked = attestation_revoked(&at, &device).await?;
	let assurance =
		assurance_name(if revoked { KeyAssurance::Unproven } else { proof.assurance() });
	let proven_by = match proof {
		KeyProof::Signature => "bind signature".to_owned(),
		KeyProof::AndroidKeyAttestation { security_level, boot, .. } => {
			let boot = boot.map_or("no root of trust".to_owned(), |(state, locked)| {
				format!("boot {state:?}, {}", if locked { "locked" } else { "unlocked" })
			});
			format!("Android Key Attestation ({security_level:?}, {boot})")
		},
		KeyProof::AppleAppAttest { environment, app_id_hash, .. } => {
			format!("Apple App Attest ({environment:?}, app id hash {})", hex(&app_id_hash))
		},
	};
	let proven_by =
		if revoked { format!("{proven_by}; a certificate of it is revoked") } else { proven_by };
	let json = json!({
		"device": id,
		"key": key_hex(&record.key),
		"operator": ss58(&record.operator),
		"status": status,
		"stake": record.stake.to_string(),
		"reputation": {
			"score": score,
			"claimsFinalized": rep.claims_finalized,
			"claimsLost": rep.claims_lost,
			"disputesWon": rep.disputes_won,
		},
		"assurance": assurance,
		"keyProof": proven_by,
		"attestationRevoked": revoked,
		"registeredAt": record.registered_at,
		"registration": record.registration,
		"openClaims": claims,
		"disputes": disputes,
	});
	let text = format!(
		"device {id}\n  operator  {}\n  status    {status}\n  key       {assurance} ({proven_by})\n  stake     {}\n  reputation {} ppm ({} claims final, {} lost, {} disputes won)\n  open claims {}, disputes {}",
		ss58(&record.operator),
		Amount(record.stake),
		score.map_or("-".into(), |s| s.to_string()),
		rep.claims_finalized,
		rep.claims_lost,
		rep.disputes_won,
		claims.len(),
		disputes.len(),
	);
	Ok(Output::new(text, json))
}

async fn rotate_key(global: &Global, args: RotateKeyArgs) -> Result<Output> {
	let (chain, op, old) = device_context(global).await?;
	let new = DeviceKeyPair::generate(args.scheme.unwrap_or(old.scheme())).for_device(old.device);
	let at = chain.best().await?;
	let record = call_api(&at, runtime::runtime_apis().devices_api().device(Static(old.device)))
		.await?
		.ok_or_else(|| {
			Error::State(format!("device {} is not registered", key_hex(&old.device)))
		})?;
	let message = pallet_devices::rotate_message(
		&chain.genesis_hash(),
		&old.device,
		record.registration,
		&new.public(),
	);
	let call = runtime::tx().devices().rotate_key(
		Static(old.device),
		Static(new.public()),
		Static(old.sign(&message)),
		Static(new.sign(&message)),
	);
	chain.submit(&call, &op, "rotate-key").await?;
	new.save(&global.keystore, true)?;
	let (id, key) = (key_hex(&old.device), key_hex(&new.public()));
	Ok(Output::new(
		format!("device {id} now signs with {key} (written to {})", global.keystore.display()),
		json!({ "device": id, "key": key, "previousKey": key_hex(&old.public()) }),
	))
}

async fn trace(global: &Global, args: TraceArgs) -> Result<Output> {
	let input = tensors::read_inputs(&args.input)?;
	let engine = engine(global)?;
	let chain = Chain::connect(&global.url).await?;
	let at = chain.best().await?;
	let model = attest::model_info(&at, args.model)
		.await?
		.ok_or_else(|| Error::State(format!("model {:?} is not registered", args.model)))?;
	tensors::check(&input, &model.inputs)?;
	progress(format!("computing the canonical trace of model {:?}", args.model));
	let (file, uri) = (model.file_hash, model.uri.clone());
	let (root, leaves, works) =
		tokio::task::spawn_blocking(move || engine.trace_leaves(&file, &uri, &input)).await??;
	let m = model.inputs.len();
	let mut text = format!("trace root {}", hex(&root));
	let mut rows = Vec::with_capacity(leaves.len());
	for (k, (hash, header)) in leaves.iter().enumerate() {
		let kind = if k < m { "input" } else { "node" };
		let work = k.checked_sub(m).and_then(|j| works.get(j));
		text.push_str(&format!(
			"\n{k:>5} {kind:<5} {} {:?} {:?}{}",
			hex(hash),
			header.dtype,
			header.shape,
			work.map(|w| format!(" work {w}")).unwrap_or_default()
		));
		rows.push(json!({
			"leaf": k,
			"kind": kind,
			"hash": hex(hash),
			"dtype": format!("{:?}", header.dtype),
			"shape": header.shape,
			"dataLen": header.data_len,
			"work": work,
		}));
	}
	Ok(Output::new(text, json!({ "model": args.model, "traceRoot": hex(&root), "leaves": rows })))
}

async fn attest_command(global: &Global, args: AttestArgs) -> Result<Output> {
	let key = DeviceKeyPair::load(&global.keystore)?;
	let op = operator(global)?;
	let model_id = args.model;
	let input = tensors::read_inputs(&args.input)?;
	let engine = engine(global)?;
	let chain = Chain::connect(&global.url).await?;
	let at = chain.best().await?;
	let model = attest::active_model(&at, model_id).await?;
	// Checked before anything runs, so a wrong input is the one line the operator sees.
	tensors::check(&input, &model.inputs)?;
	let mut attester = Attester::new(chain.clone(), op.clone(), key);
	attester.tamper = args.tamper_output;
	attester.check_device().await?;
	progress(format!("running model {model_id:?} locally"));
	let claim = attester.attest(&engine, &model, input).await?;
	progress(format!(
		"claim {} submitted (nonce {}) in block {:?}",
		claim.id, claim.nonce, claim.block
	));
	let outputs: Vec<_> = claim.outputs.iter().map(tensors::to_json).collect();
	let mut result = json!({ "claim": claim.id, "nonce": claim.nonce, "outputs": outputs });
	if args.wait {
		let status = wait_decided(&chain, &op, engine, claim.id).await?;
		result["status"] = status.clone().into();
		return Ok(Output::new(format!("claim {}: {status}", claim.id), result));
	}
	Ok(Output::new(format!("claim {}", claim.id), result))
}

/// Follows the chain until `claim` is Final or Invalid, defending its disputes.
async fn wait_decided(
	chain: &Chain,
	op: &Operator,
	engine: Arc<Engine>,
	claim: u64,
) -> Result<String> {
	let mut defender = Defender::new(chain.clone(), op.clone(), engine);
	let mut blocks = chain.best_blocks().await?;
	let mut last = String::new();
	while let Some(block) = blocks.next().await {
		block.map_err(crate::chain::chain_err)?;
		defender.step().await?;
		let at = chain.best().await?;
		let status = call_api(&at, runtime::runtime_apis().attestations_api().claim(claim))
			.await?
			.map(|record| record.status);
		let name = status.as_ref().map_or_else(|| "Pruned".to_owned(), attest::status_name);
		if name != last {
			progress(format!("claim {claim}: {name}"));
			last = name.clone();
		}
		if matches!(status, Some(ClaimStatus::Final | ClaimStatus::Invalid)) {
			return Ok(name);
		}
	}
	Err(Error::unreachable(format!("{} stopped sending blocks", chain.url()), None))
}
