//! Every failure of a command, as the one line the operator sees (and a non-zero exit).
//!
//! An error says what the command was doing; the error that caused it, when there is one, is
//! kept as its [`source`](std::error::Error::source) and [`report`] prints the whole chain:
//! `error: chain: cannot read the best block: Rpc error: …`.

/// The cause of an error, kept for the report.
pub type Source = Box<dyn std::error::Error + Send + Sync>;

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
	/// Bad arguments or files given by the operator.
	#[error("{0}")]
	Usage(String),
	/// The device key file.
	#[error("{context}")]
	Keystore {
		context: String,
		#[source]
		source: Option<std::io::Error>,
	},
	/// An input file or request that does not fit the model.
	#[error("{0}")]
	Input(String),
	/// The node cannot be reached.
	#[error("{context}")]
	Unreachable {
		context: String,
		#[source]
		source: Option<Source>,
	},
	/// The chain refused a transaction (invalid, or its dispatch failed).
	#[error("{context}")]
	Rejected {
		context: String,
		#[source]
		source: Option<Source>,
	},
	/// The chain's state does not allow the command (unknown device, inactive model, …).
	#[error("{0}")]
	State(String),
	/// Reading from the chain failed.
	#[error("chain: {context}")]
	Chain {
		context: String,
		#[source]
		source: Option<Source>,
	},
	/// The local inference engine (ONNX Runtime, the canonical executor, the model store).
	#[error("inference")]
	Engine(#[from] edgeproof_offchain::Error),
	/// The task running the inference engine panicked or was cancelled.
	#[error("inference task failed")]
	Task(#[from] tokio::task::JoinError),
}

impl Error {
	/// A keystore error without an underlying cause.
	pub fn keystore(context: impl Into<String>) -> Self {
		Self::Keystore { context: context.into(), source: None }
	}

	/// A keystore file that could not be read or written.
	pub fn keystore_io(context: impl Into<String>, source: std::io::Error) -> Self {
		Self::Keystore { context: context.into(), source: Some(source) }
	}

	/// The node cannot be reached; `source` why.
	pub fn unreachable(context: impl Into<String>, source: Option<Source>) -> Self {
		Self::Unreachable { context: context.into(), source }
	}

	/// The chain refused a transaction; `source` why, where there is an error value.
	pub fn rejected(context: impl Into<String>, source: Option<Source>) -> Self {
		Self::Rejected { context: context.into(), source }
	}

	/// Reading `context` from the chain failed because of `source`.
	pub fn chain(context: impl Into<String>, source: impl Into<Source>) -> Self {
		Self::Chain { context: context.into(), source: Some(source.into()) }
	}

	/// The chain answered, but not as it should (a missing event or block).
	pub fn chain_state(context: impl Into<String>) -> Self {
		Self::Chain { context: context.into(), source: None }
	}

	/// The process exit code: 2 for usage and files, 3 for the node, 4 for the chain's
	/// refusal or state, 5 for local inference.
	pub fn exit_code(&self) -> i32 {
		match self {
			Self::Usage(_) | Self::Keystore { .. } | Self::Input(_) => 2,
			Self::Unreachable { .. } | Self::Chain { .. } => 3,
			Self::Rejected { .. } | Self::State(_) => 4,
			Self::Engine(_) | Self::Task(_) => 5,
		}
	}
}

/// `error` and its sources, outermost first, joined by `: ` (one line). Many errors (subxt's,
/// jsonrpsee's) already end their message with their source's: such a cause is not repeated.
pub fn report(error: &dyn std::error::Error) -> String {
	let mut line = error.to_string();
	let mut cause = error.source();
	while let Some(e) = cause {
		let text = e.to_string();
		if !line.ends_with(&text) {
			line.push_str(": ");
			line.push_str(&text);
		}
		cause = e.source();
	}
	line
}

/// The result of a command step.
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn errors_keep_their_cause_and_the_report_shows_the_chain() {
		let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied");
		let e = Error::keystore_io("cannot write keystore file k.json", io);
		let source = std::error::Error::source(&e).expect("a source");
		assert_eq!(
			source.downcast_ref::<std::io::Error>().map(std::io::Error::kind),
			Some(std::io::ErrorKind::PermissionDenied)
		);
		assert_eq!(report(&e), "cannot write keystore file k.json: permission denied");
		assert_eq!(e.exit_code(), 2);

		let e = Error::chain("cannot read the best block", "connection reset");
		assert_eq!(report(&e), "chain: cannot read the best block: connection reset");
		assert_eq!(e.exit_code(), 3);
		let e = Error::chain_state("the node has no best block");
		assert!(std::error::Error::source(&e).is_none());
		assert_eq!(report(&e), "chain: the node has no best block");

		// A cause whose text the error's own message already ends with is shown once.
		#[derive(Debug, thiserror::Error)]
		#[error("client error: {0}")]
		struct Wrapping(#[source] std::io::Error);
		let refused = || std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
		let e = Error::unreachable("cannot connect", Some(Box::new(Wrapping(refused()))));
		assert_eq!(report(&e), "cannot connect: client error: refused");

		let engine = Error::from(edgeproof_offchain::Error::LibraryMissing);
		assert_eq!(
			report(&engine),
			"inference: no ONNX Runtime library loaded (see --onnxruntime-lib)"
		);
		assert_eq!(engine.exit_code(), 5);
	}
}
