//! Every failure of a command, as the one line the operator sees (and a non-zero exit).

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
	/// Bad arguments or files given by the operator.
	#[error("{0}")]
	Usage(String),
	/// The device key file.
	#[error("{0}")]
	Keystore(String),
	/// An input file or request that does not fit the model.
	#[error("{0}")]
	Input(String),
	/// The node cannot be reached.
	#[error("{0}")]
	Unreachable(String),
	/// The chain refused a transaction (invalid, or its dispatch failed).
	#[error("{0}")]
	Rejected(String),
	/// The chain's state does not allow the command (unknown device, inactive model, …).
	#[error("{0}")]
	State(String),
	/// Reading from the chain failed.
	#[error("chain: {0}")]
	Chain(String),
	/// The local inference engine (ONNX Runtime, the canonical executor, the model store).
	#[error("inference: {0}")]
	Engine(String),
}

impl Error {
	/// The process exit code: 2 for usage and files, 3 for the node, 4 for the chain's
	/// refusal or state, 5 for local inference.
	pub fn exit_code(&self) -> i32 {
		match self {
			Self::Usage(_) | Self::Keystore(_) | Self::Input(_) => 2,
			Self::Unreachable(_) | Self::Chain(_) => 3,
			Self::Rejected(_) | Self::State(_) => 4,
			Self::Engine(_) => 5,
		}
	}
}

impl From<edgeproof_offchain::Error> for Error {
	fn from(e: edgeproof_offchain::Error) -> Self {
		Self::Engine(e.to_string())
	}
}

/// The result of a command step.
pub type Result<T, E = Error> = core::result::Result<T, E>;
