//! `models list|show|register|pin`: the model registry, for device operators and model owners.

use std::path::PathBuf;

use edgeproof_canon::Tolerance;
use edgeproof_primitives::{Disputability, DYNAMIC_DIM};
use serde_json::json;
use sp_core::H256;
use subxt::utils::Static;

use crate::{
	attest::{model_info, status_name},
	chain::{chain_err, hex, runtime, BoundedVec, Chain},
	commands::{engine, operator, progress, Output},
	error::{Error, Result},
	Global,
};

use runtime::runtime_types::pallet_models::types::ModelStatus;

type ParamsOf = runtime::runtime_types::pallet_models::types::ModelParams;
type SpecOf = runtime::runtime_types::pallet_models::types::TensorSpec;

#[derive(Debug, clap::Subcommand)]
pub enum ModelsCommand {
	/// List registered models.
	List,
	/// Show one model.
	Show(ShowArgs),
	/// Register an ONNX model (as its owner): hashes and compiles the file, checks it as the
	/// validators will, and submits it with the deposit held.
	Register(RegisterArgs),
	/// Write a copy of an ONNX file with static input shapes (the shapes claims will use):
	/// the chain compiles a model for the shapes its file declares, so a file with symbolic
	/// height, width or length is pinned before it is registered. Weights and nodes are kept
	/// byte for byte.
	Pin(PinArgs),
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
	/// The model id (0x…).
	#[arg(value_parser = crate::args::h256)]
	pub id: H256,
}

#[derive(Debug, clap::Args)]
pub struct RegisterArgs {
	/// The ONNX file.
	#[arg(long)]
	pub file: PathBuf,
	/// Family name.
	#[arg(long)]
	pub name: String,
	/// Version within the family.
	#[arg(long, default_value_t = 1)]
	pub version: u32,
	/// Where validators fetch the file (file://, http:// or https://).
	#[arg(long)]
	pub uri: String,
	/// How close claims must be to the canonical output: `exact` or `ABS,REL`.
	#[arg(long, default_value = "1e-5,1e-4", value_parser = parse_tolerance)]
	pub tolerance: Tolerance,
	/// Wait for the validators' vote (Active or Rejected).
	#[arg(long)]
	pub wait: bool,
}

#[derive(Debug, clap::Args)]
pub struct PinArgs {
	/// The ONNX file.
	#[arg(long)]
	pub file: PathBuf,
	/// Where to write the pinned copy.
	#[arg(long)]
	pub out: PathBuf,
	/// `NAME=D0,D1,...`: the shape of one graph input (repeat for each input to pin).
	#[arg(long = "input", required = true, num_args = 1.., value_parser = parse_input_shape)]
	pub inputs: Vec<(String, Vec<u32>)>,
}

/// Runs a `models` subcommand.
pub async fn run(global: &Global, command: ModelsCommand) -> Result<Output> {
	match command {
		ModelsCommand::List => list(global).await,
		ModelsCommand::Show(args) => show(global, args).await,
		ModelsCommand::Register(args) => register(global, args).await,
		ModelsCommand::Pin(args) => pin(&args),
	}
}

async fn show(global: &Global, ShowArgs { id }: ShowArgs) -> Result<Output> {
	let chain = Chain::connect(&global.url).await?;
	let at = chain.best().await?;
	let info = model_info(&at, id)
		.await?
		.ok_or_else(|| Error::State(format!("model {id:?} is not registered")))?;
	let spec = |s: &crate::tensors::Spec| json!({ "name": s.name, "dtype": format!("{:?}", s.dtype), "shape": s.shape, "dynamicBatch": s.dynamic_batch });
	let json = json!({
		"model": format!("{id:?}"),
		"fileHash": format!("{:?}", info.file_hash),
		"status": status_name(&info.status),
		"uri": info.uri,
		"inputs": info.inputs.iter().map(spec).collect::<Vec<_>>(),
		"outputs": info.outputs.iter().map(spec).collect::<Vec<_>>(),
	});
	let text = format!(
		"model {id:?}\n  status {}\n  file   {:?}\n  uri    {}",
		status_name(&info.status),
		info.file_hash,
		info.uri
	);
	Ok(Output::new(text, json))
}

/// Parses `NAME=D0,D1,...`.
pub fn parse_input_shape(text: &str) -> Result<(String, Vec<u32>)> {
	let bad = || {
		Error::Usage(format!("--input must be NAME=D0,D1,... (e.g. x=1,3,320,320), got {text:?}"))
	};
	let (name, dims) = text.split_once('=').ok_or_else(bad)?;
	let dims = dims
		.split(',')
		.map(|d| d.trim().parse::<u32>().ok().filter(|&d| d > 0))
		.collect::<Option<Vec<u32>>>()
		.ok_or_else(bad)?;
	if name.is_empty() {
		return Err(bad());
	}
	Ok((name.to_string(), dims))
}

fn pin(PinArgs { file, out, inputs }: &PinArgs) -> Result<Output> {
	let bytes = std::fs::read(file)
		.map_err(|e| Error::Usage(format!("model file {}: {e}", file.display())))?;
	let shapes = inputs.iter().cloned().collect();
	let pinned = edgeproof_canon::compiler::pin::pin_inputs(&bytes, &shapes)
		.map_err(|e| Error::Input(format!("{}: {e}", file.display())))?;
	let still = symbolic_inputs(&pinned)?;
	if !still.is_empty() {
		return Err(Error::Input(format!("still symbolic after pinning: {}", still.join("; "))));
	}
	std::fs::write(out, &pinned)
		.map_err(|e| Error::Usage(format!("cannot write {}: {e}", out.display())))?;
	let file_hash = H256(sp_crypto_hashing::blake2_256(&pinned));
	let json = json!({
		"out": out.display().to_string(),
		"fileHash": format!("{file_hash:?}"),
		"bytes": pinned.len(),
	});
	Ok(Output::new(format!("wrote {} (file hash {file_hash:?})", out.display()), json))
}

/// The graph inputs of `bytes` with a symbolic dimension other than a leading batch, as
/// `name [dims]` (`?` for a symbolic one).
fn symbolic_inputs(bytes: &[u8]) -> Result<Vec<String>> {
	let declared = edgeproof_canon::compiler::pin::declared_inputs(bytes)
		.map_err(|e| Error::Input(format!("not an ONNX model: {e}")))?;
	Ok(declared
		.into_iter()
		.filter(|(_, dims)| dims.iter().skip(1).any(Option::is_none))
		.map(|(name, dims)| {
			let dims: Vec<String> =
				dims.iter().map(|d| d.map_or("?".to_string(), |d| d.to_string())).collect();
			format!("{name} [{}]", dims.join(", "))
		})
		.collect())
}

/// Why validators would not accept a model, with the node and the limit when one node is too
/// heavy for a one-step.
fn rejection(
	program: &edgeproof_canon::Program,
	limits: &edgeproof_primitives::Limits,
	second_level: &edgeproof_primitives::SecondLevelLimits,
	why: &Disputability,
) -> String {
	let settled = edgeproof_canon::substep::check_disputable(
		program,
		limits,
		&second_level.sub_step,
		second_level.max_cut_cost,
	);
	match settled {
		Err(e) => format!(
			"validators would reject this model: {e}; a node over the one-step limits must be \
			 cut into sub-steps within the chain's second level ({} work and {} bytes of reads a \
			 sub-step, a cut costing at most {})",
			second_level.sub_step.max_work,
			second_level.sub_step.max_read_bytes,
			second_level.max_cut_cost
		),
		Ok(_) => format!("validators would reject this model: {why:?}"),
	}
}

async fn list(global: &Global) -> Result<Output> {
	let chain = Chain::connect(&global.url).await?;
	let at = chain.best().await?;
	let entry = at.storage().entry(runtime::storage().models().models()).map_err(chain_err)?;
	let mut iter = entry.iter(()).await.map_err(chain_err)?;
	let mut models = Vec::new();
	while let Some(item) = iter.next().await {
		let item = item.map_err(chain_err)?;
		let record = item.value().decode().map_err(chain_err)?;
		let (id,) = item.key().map_err(chain_err)?.decode().map_err(chain_err)?;
		models.push(json!({
			"model": format!("{id:?}"),
			"fileHash": format!("{:?}", record.params.file_hash),
			"name": String::from_utf8_lossy(&record.params.name.0),
			"version": record.params.version,
			"status": status_name(&record.status),
		}));
	}
	let text = models
		.iter()
		.map(|m| {
			format!(
				"{} {} v{} {}",
				m["model"].as_str().unwrap_or(""),
				m["name"].as_str().unwrap_or(""),
				m["version"],
				m["status"].as_str().unwrap_or("")
			)
		})
		.collect::<Vec<_>>()
		.join("\n");
	Ok(Output::new(text, json!({ "models": models })))
}

/// Parses `exact` or `ABS,REL`.
pub fn parse_tolerance(text: &str) -> Result<Tolerance> {
	if text == "exact" {
		return Ok(Tolerance::Exact);
	}
	let bad = || {
		Error::Usage(format!(
			"--tolerance must be `exact` or `ABS,REL` (e.g. 1e-5,1e-4), got {text:?}"
		))
	};
	let (abs, rel) = text.split_once(',').ok_or_else(bad)?;
	let parse = |x: &str| x.trim().parse::<f32>().ok().filter(|x| x.is_finite() && *x >= 0.0);
	let (abs, rel) = (parse(abs).ok_or_else(bad)?, parse(rel).ok_or_else(bad)?);
	Ok(Tolerance::Relative { abs: abs.to_bits(), rel: rel.to_bits() })
}

async fn register(global: &Global, args: RegisterArgs) -> Result<Output> {
	let RegisterArgs { file, name, version, uri, tolerance, wait } = args;
	let bytes = std::fs::read(&file)
		.map_err(|e| Error::Usage(format!("model file {}: {e}", file.display())))?;
	let file_hash = H256(sp_crypto_hashing::blake2_256(&bytes));
	let symbolic = symbolic_inputs(&bytes)?;
	if !symbolic.is_empty() {
		return Err(Error::Input(format!(
			"{} has symbolic input dimensions ({}); the chain compiles a model for the shapes its \
			 file declares: write a copy with the shapes claims will use with `edgeproof-device \
			 models pin --file {} --out PINNED.onnx --input NAME=D0,D1,...` and register that",
			file.display(),
			symbolic.join("; "),
			file.display()
		)));
	}
	let compiled =
		edgeproof_canon::compiler::compile(&bytes, &edgeproof_offchain::compile_options())
			.map_err(|e| {
				Error::Input(format!(
					"{} is not a model the canonical executor runs: {e}",
					file.display()
				))
			})?;
	let owner = operator(global)?;
	let engine = engine(global)?;
	let chain = Chain::connect(&global.url).await?;
	let at = chain.best().await?;
	let limits =
		at.constants().entry(runtime::constants().models().dispute_limits()).map_err(chain_err)?.0;
	let second_level = at
		.constants()
		.entry(runtime::constants().models().second_level_limits())
		.map_err(chain_err)?
		.0;
	let local = std::fs::canonicalize(&file)
		.map_err(|e| Error::Usage(format!("model file {}: {e}", file.display())))?;
	let local_uri = format!("file://{}", local.display());
	progress(format!("checking {} ({} bytes) as validators will", file.display(), bytes.len()));
	let facts = {
		let engine = engine.clone();
		tokio::task::spawn_blocking(move || {
			engine.verify_model(&file_hash, &local_uri, &limits, tolerance, Some(second_level))
		})
		.await??
	};
	if facts.disputable != Disputability::Disputable {
		return Err(Error::Input(rejection(
			&compiled.program,
			&limits,
			&second_level,
			&facts.disputable,
		)));
	}
	let program_root = facts
		.program_root
		.ok_or_else(|| Error::Input("the model does not compile to a canonical program".into()))?;
	let specs = |found: &[edgeproof_canon::TensorSpec], names: &[String]| -> Vec<SpecOf> {
		found
			.iter()
			.enumerate()
			.map(|(i, s)| SpecOf {
				name: BoundedVec(names.get(i).cloned().unwrap_or_default().into_bytes()),
				dtype: Static(s.dtype),
				shape: BoundedVec(
					s.shape.iter().map(|&d| if d == DYNAMIC_DIM { 1 } else { d }).collect(),
				),
				dynamic_batch: s.shape.first() == Some(&DYNAMIC_DIM),
			})
			.collect()
	};
	let params = ParamsOf {
		file_hash,
		name: BoundedVec(name.clone().into_bytes()),
		version,
		uri: BoundedVec(uri.clone().into_bytes()),
		byte_size: facts.byte_size,
		inputs: BoundedVec(specs(&facts.inputs, &compiled.input_names)),
		outputs: BoundedVec(specs(&facts.outputs, &compiled.output_names)),
		tolerance: Static(tolerance),
		program_root: H256(program_root),
		node_count: facts.node_count,
		program_work: facts.program_work,
	};
	progress(format!("registering {} ({name} v{version})", file.display()));
	let included = chain
		.submit(&runtime::tx().models().register_model(params), &owner, "register model")
		.await?;
	let registered = included
		.event::<runtime::models::events::ModelRegistered>()?
		.ok_or_else(|| Error::chain_state("the registration emitted no ModelRegistered event"))?;
	let model_id = registered.model;
	let mut json = json!({
		"model": format!("{model_id:?}"),
		"fileHash": format!("{file_hash:?}"),
		"programRoot": hex(&program_root),
		"nodeCount": facts.node_count,
		"programWork": facts.program_work,
		"status": "Pending",
	});
	if wait {
		progress("waiting for the validators' vote");
		let mut blocks = chain.best_blocks().await?;
		while let Some(block) = blocks.next().await {
			block.map_err(chain_err)?;
			let at = chain.best().await?;
			let status = model_info(&at, model_id).await?.map(|m| m.status);
			if let Some(decided) = status.filter(|s| !matches!(s, ModelStatus::Pending)) {
				json["status"] = status_name(&decided).into();
				break;
			}
		}
	}
	let text = format!("model {model_id:?}: {}", json["status"].as_str().unwrap_or(""));
	Ok(Output::new(text, json))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn input_shapes_parse_as_documented() {
		assert_eq!(parse_input_shape("x=1,3,320,320").unwrap(), ("x".into(), vec![1, 3, 320, 320]));
		for bad in ["", "x", "x=", "=1,2", "x=1,,2", "x=0,3", "x=-1", "x=a"] {
			assert!(parse_input_shape(bad).is_err(), "{bad}");
		}
	}

	#[test]
	fn tolerances_parse_as_documented() {
		assert_eq!(parse_tolerance("exact").unwrap(), Tolerance::Exact);
		assert_eq!(
			parse_tolerance("1e-5,1e-4").unwrap(),
			Tolerance::Relative { abs: 1e-5f32.to_bits(), rel: 1e-4f32.to_bits() }
		);
		for bad in ["", "1e-5", "-1,0", "nan,1", "a,b"] {
			assert!(parse_tolerance(bad).is_err(), "{bad}");
		}
	}
}
