//! # edgeproof-device
//!
//! The device operator's command line: create a device key, register the device with stake,
//! run registered models locally and attest their outputs, and defend those claims in the
//! challenge game (`serve`). Model owners register models with `models register`.
//!
//! Progress goes to stderr; the result to stdout, as text or, with `--json`, as one JSON
//! object. Every failure is one line on stderr and a non-zero exit code (see [`error::Error`]).
//! `docs/device-operators.md` walks through it from zero to a defended claim.

mod args;
mod attest;
mod chain;
mod commands;
mod defend;
mod error;
mod keystore;
mod models;
mod serve;
mod tensors;

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::keystore::Scheme;

/// mimalloc rather than glibc's malloc: the canonical executor allocates every node's output
/// and temporaries, and glibc maps and unmaps large blocks page by page (docs/benchmarks.md,
/// "Allocator": 2x on a whole PP-OCR trace).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "edgeproof-device", version, about = "Edgeproof device operator CLI and daemon")]
pub struct Cli {
	#[command(flatten)]
	pub global: Global,
	#[command(subcommand)]
	pub command: Command,
}

/// Options of every command.
#[derive(Debug, Args)]
pub struct Global {
	/// The node's WebSocket RPC endpoint.
	#[arg(long, global = true, env = "EDGEPROOF_URL", default_value = "ws://127.0.0.1:9944")]
	pub url: String,
	/// The operator account's secret URI (`//Alice`, a mnemonic or a 0x seed): pays, bonds and
	/// signs transactions. Prefer the environment variable to keep it out of shell history.
	#[arg(long, global = true, env = "EDGEPROOF_OPERATOR_SEED", hide_env_values = true)]
	pub seed: Option<String>,
	/// The device key file.
	#[arg(
		long,
		global = true,
		env = "EDGEPROOF_KEYSTORE",
		default_value = "edgeproof-device.json"
	)]
	pub keystore: PathBuf,
	/// The ONNX Runtime library (libonnxruntime.so).
	#[arg(long, global = true, env = "ORT_DYLIB_PATH")]
	pub onnxruntime_lib: Option<PathBuf>,
	/// Where downloaded model files are kept (content-addressed).
	#[arg(long, global = true, env = "EDGEPROOF_DEVICE_MODELS")]
	pub model_store: Option<PathBuf>,
	/// Print the result as one JSON object.
	#[arg(long, global = true)]
	pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
	/// Create a device key in the keystore file (mode 0600).
	Keygen(KeygenArgs),
	/// Register the keystore's device to the operator account, holding its stake.
	Register(RegisterArgs),
	/// Print the challenge a device key must be attested with to register under the operator:
	/// SHA-256 of the bind message, for the phone's key generation
	/// (Android's `setAttestationChallenge`, App Attest's `clientDataHash`). Uses the keystore's key if there is one, else a new key's.
	AttestationChallenge,
	/// Development only: write an Android-style attestation chain (or, with `--apple`, an App
	/// Attest object) for the keystore's P-256 key from the built-in test CA, and print the
	/// CA's root key. No chain trusts that root unless its admin adds it
	/// (`devices.setTrustedRoots`).
	DevAttestation(DevAttestationArgs),
	/// Show the device: record, reputation, claims in their challenge period, disputes.
	Status,
	/// Move the device to a fresh signing key; the device keeps its id and record.
	RotateKey(RotateKeyArgs),
	/// Deregister the device; its stake unbonds.
	Deregister,
	/// Release the stake of a deregistered device after the unbonding period.
	Withdraw,
	/// The model registry.
	Models {
		#[command(subcommand)]
		command: models::ModelsCommand,
	},
	/// Run a model locally on an input, attest the output and submit the claim.
	Attest(AttestArgs),
	/// Show a claim.
	Claim(ClaimArgs),
	/// Print the canonical trace of a registered model on an input, leaf by leaf (each leaf's
	/// hash and header, and the trace root): what the dispute game compares, to check a trace
	/// against another party's.
	Trace(TraceArgs),
	/// Keep a model warm, attest each inference request made on a local HTTP endpoint, and
	/// defend every dispute on the operator's claims.
	Serve(serve::ServeArgs),
	/// Print a shell completion script (e.g. `source <(edgeproof-device completions bash)`).
	Completions(CompletionsArgs),
	/// Print the manual page, roff (e.g. `edgeproof-device man | man -l -`).
	Man,
}

impl Cli {
	/// The completion script for `shell`.
	pub fn completions(shell: clap_complete::Shell) -> String {
		let mut out = Vec::new();
		clap_complete::generate(shell, &mut Self::command(), "edgeproof-device", &mut out);
		String::from_utf8_lossy(&out).into_owned()
	}

	/// The manual page (roff).
	pub fn man_page() -> String {
		let mut out = Vec::new();
		// Rendering into memory cannot fail.
		let _ = clap_mangen::Man::new(Self::command()).render(&mut out);
		String::from_utf8_lossy(&out).into_owned()
	}
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
	/// The key's signature scheme.
	#[arg(long, value_enum, default_value = "sr25519")]
	pub scheme: Scheme,
	/// Shorthand for `--scheme p256`: a software P-256 key, for development (a phone's P-256
	/// key stays in its secure hardware).
	#[arg(long, conflicts_with = "scheme")]
	pub p256: bool,
	/// Replace a key already in the file.
	#[arg(long)]
	pub force: bool,
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
	/// Stake to hold: `100EDGE`, `1.5 EDGE` or plancks (default: the chain's minimum).
	#[arg(long)]
	pub stake: Option<args::Amount>,
	/// Kind of hardware.
	#[arg(long, value_enum, default_value = "other")]
	pub hardware: commands::Hardware,
	/// Free-text description (e.g. phone model and runtime).
	#[arg(long, default_value = "")]
	pub description: String,
	/// Proof that the P-256 device key lives in secure hardware: an Android Key Attestation
	/// chain (one PEM file of its certificates, or DER files, one per `--attestation`, leaf
	/// first) or an Apple App Attest object (the CBOR `attestKey` returns, one file). Its
	/// challenge (client data hash) must be the one `attestation-challenge` prints.
	#[arg(long, num_args = 1..)]
	pub attestation: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RotateKeyArgs {
	/// The new key's scheme (default: the current key's).
	#[arg(long, value_enum)]
	pub scheme: Option<Scheme>,
}

#[derive(Debug, Args)]
pub struct ClaimArgs {
	/// The claim id.
	pub id: u64,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
	/// The shell to complete for.
	#[arg(value_enum)]
	pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct DevAttestationArgs {
	/// Where to write the chain (PEM, leaf first), or the App Attest object (CBOR).
	#[arg(long)]
	pub out: PathBuf,
	/// The security level the chain states.
	#[arg(long, value_enum, default_value = "tee", conflicts_with = "apple")]
	pub level: commands::DevLevel,
	/// Write an App Attest object from the production environment instead of a chain.
	#[arg(long)]
	pub apple: bool,
}

#[derive(Debug, Args)]
pub struct AttestArgs {
	/// The model id (0x…, as `models register` and `models list` print it).
	#[arg(long, value_parser = args::h256)]
	pub model: sp_core::H256,
	/// Input files: one `.npy` per graph input, or one `.json` or `.scale` file.
	#[arg(long, required = true, num_args = 1..)]
	pub input: Vec<PathBuf>,
	/// Wait until the claim is decided (Final, or Invalid after a lost dispute), defending it
	/// meanwhile.
	#[arg(long)]
	pub wait: bool,
	/// Test hook: attest a perturbed output.
	#[arg(long, hide = true)]
	pub tamper_output: bool,
}

#[derive(Debug, Args)]
pub struct TraceArgs {
	/// The model id (0x…).
	#[arg(long, value_parser = args::h256)]
	pub model: sp_core::H256,
	/// Input files: one `.npy` per graph input, or one `.json` or `.scale` file.
	#[arg(long, required = true, num_args = 1..)]
	pub input: Vec<PathBuf>,
}

fn main() {
	let cli = Cli::parse();
	let json = cli.global.json;
	let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
		Ok(r) => r,
		Err(e) => {
			eprintln!("error: cannot start the async runtime: {e}");
			std::process::exit(1);
		},
	};
	match runtime.block_on(commands::run(cli)) {
		Ok(output) => commands::print(&output, json),
		Err(e) => {
			eprintln!("error: {}", error::report(&e));
			std::process::exit(e.exit_code());
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_command_line_is_well_formed() {
		Cli::command().debug_assert();
	}

	#[test]
	fn completions_and_the_man_page_cover_every_command() {
		let commands: Vec<String> =
			Cli::command().get_subcommands().map(|c| c.get_name().to_string()).collect();
		assert!(commands.len() >= 12, "{commands:?}");
		let bash = Cli::completions(clap_complete::Shell::Bash);
		let man = Cli::man_page();
		assert!(man.starts_with(".ie"), "roff: {}", &man[..man.len().min(40)]);
		for name in &commands {
			assert!(bash.contains(name.as_str()), "bash completion lacks {name}");
			// roff writes a hyphen as `\-`.
			assert!(man.contains(&name.replace('-', "\\-")), "man page lacks {name}");
		}
	}

	#[test]
	fn typed_arguments_are_parsed_before_a_command_runs() {
		let id = format!("0x{}", "11".repeat(32));
		let cli =
			Cli::try_parse_from(["edgeproof-device", "register", "--stake", "150EDGE"]).unwrap();
		assert!(matches!(
			cli.command,
			Command::Register(RegisterArgs { stake: Some(args::Amount(150_000_000_000_000)), .. })
		));
		let cli =
			Cli::try_parse_from(["edgeproof-device", "attest", "--model", &id, "--input", "x.npy"])
				.unwrap();
		assert!(matches!(cli.command, Command::Attest(a) if a.model == sp_core::H256([0x11; 32])));
		for bad in [
			vec!["edgeproof-device", "register", "--stake", "1.5"],
			vec!["edgeproof-device", "attest", "--model", "0x12", "--input", "x.npy"],
			vec![
				"edgeproof-device",
				"models",
				"register",
				"--file",
				"m.onnx",
				"--name",
				"m",
				"--uri",
				"file:///m",
				"--tolerance",
				"loose",
			],
			vec![
				"edgeproof-device",
				"models",
				"pin",
				"--file",
				"m.onnx",
				"--out",
				"p.onnx",
				"--input",
				"x=1,0",
			],
		] {
			let e = Cli::try_parse_from(&bad).unwrap_err();
			assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation, "{bad:?}: {e}");
		}
	}
}
