//! `edgeproof-node`: the Edgeproof validator and full node.

mod chain_metrics;
mod chain_spec;
mod cli;
mod command;
mod inference;
mod rpc;
mod service;

/// mimalloc rather than glibc's malloc: the canonical executor allocates every node's output
/// and temporaries, and glibc maps and unmaps large blocks page by page (docs/benchmarks.md,
/// "Allocator": 2x on a whole PP-OCR trace).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
	// A bad flag, chain or base path is the operator's to fix: say what is wrong in one line
	// and exit non-zero, without a panic trace.
	if let Err(error) = command::run() {
		eprintln!("Error: {error}");
		std::process::exit(1);
	}
}
