//! The one-step computed inside the real runtime (the compiled wasm, run by the node's
//! executor) is bit-identical to the native canonical executor's: for every node of the fixture
//! models, `DisputesApi::check_one_step` in wasm returns the leaf hash of the native trace.
//! A tampered witness is refused in wasm as natively.

use codec::{Decode, Encode};
use edgeproof_canon::{
	commit::{program_tree, verify_one_step},
	compiler::compile,
	execute_with, leaf_hash, one_step_witness, DType, MerkleTree, OneStepContext, Tensor, Trace,
};
use edgeproof_runtime::{Runtime, WASM_BINARY};
use sp_core::traits::{CallContext, CodeExecutor, RuntimeCode, WrappedRuntimeCode};

type Executor = sc_executor::WasmExecutor<(
	sp_io::SubstrateHostFunctions,
	edgeproof_primitives::inference::HostFunctions,
)>;

fn fixture(name: &str, input_shape: Vec<u32>) -> (edgeproof_canon::Program, Vec<Tensor>) {
	let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../canon/tests/data");
	let bytes = std::fs::read(dir.join(format!("{name}.onnx"))).expect("fixture");
	let program =
		compile(&bytes, &edgeproof_offchain::compile_options()).expect("compiles").program;
	let data = std::fs::read(dir.join(format!("{name}.input_0.bin"))).expect("input");
	(program, vec![Tensor::new(DType::F32, input_shape, data).expect("tensor")])
}

/// Calls `DisputesApi_check_one_step` in the runtime's wasm.
fn check_in_wasm(
	executor: &Executor,
	args: &([u8; 32], u32, u32, [u8; 32], u64, edgeproof_canon::OneStepWitness),
) -> Result<[u8; 32], String> {
	let code = WASM_BINARY.expect("the wasm runtime is built (not SKIP_WASM_BUILD)");
	let fetch = WrappedRuntimeCode(code.into());
	let runtime_code = RuntimeCode {
		code_fetcher: &fetch,
		heap_pages: None,
		hash: sp_io::hashing::blake2_256(code).to_vec(),
	};
	let mut ext = sp_io::TestExternalities::default();
	let mut ext = ext.ext();
	let (out, _) = executor.call(
		&mut ext,
		&runtime_code,
		"DisputesApi_check_one_step",
		&args.encode(),
		CallContext::Offchain,
	);
	let out = out.expect("the runtime API call runs");
	let answer: Result<[u8; 32], pallet_disputes::Error<Runtime>> =
		Decode::decode(&mut &out[..]).expect("the answer decodes");
	answer.map_err(|e| format!("{e:?}"))
}

#[test]
fn every_fixture_node_executes_bit_identically_in_the_runtime() {
	let executor = Executor::builder().build();
	let limits =
		<edgeproof_runtime::configs::DisputeLimits as frame_support::traits::Get<_>>::get();
	let mut steps = 0;
	let mut heaviest = Vec::new();
	for (name, shape) in [("mlp", vec![1, 16]), ("cnn", vec![1, 1, 28, 28])] {
		let (program, inputs) = fixture(name, shape);
		let trace = execute_with(&program, &inputs, &limits).expect("runs within the limits");
		let trace_tree = MerkleTree::new(trace.values.iter().map(leaf_hash).collect());
		let ptree = program_tree(&program).expect("program tree");
		let m = program.inputs.len() as u64;
		let ctx = OneStepContext {
			program_root: ptree.root(),
			node_count: program.nodes.len() as u32,
			input_count: m as u32,
			trace_root: trace_tree.root(),
			limits,
		};
		for k in m..m + program.nodes.len() as u64 {
			let witness = one_step_witness(
				&program,
				&ptree,
				&Trace { values: trace.values.clone() },
				&trace_tree,
				k,
			)
			.expect("witness");
			let native = verify_one_step(&ctx, k, &witness).expect("native one-step");
			let work = edgeproof_canon::one_step_work(&witness).expect("work");
			heaviest.push((name, k - m, work));
			assert_eq!(native, leaf_hash(&trace.values[k as usize]));
			let args =
				(ctx.program_root, ctx.node_count, ctx.input_count, ctx.trace_root, k, witness);
			let in_wasm = check_in_wasm(&executor, &args);
			assert_eq!(in_wasm, Ok(native), "{name}: node {} ({:?})", k - m, args.5.node.op);
			steps += 1;

			// A flipped bit in an input is refused in wasm too.
			let mut bad = args.clone();
			if let Some(input) = bad.5.inputs.first_mut() {
				input.tensor.data[0] ^= 1;
				assert_eq!(
					check_in_wasm(&executor, &bad),
					Err(format!("{:?}", pallet_disputes::Error::<Runtime>::OneStepNotProven))
				);
			}
		}
	}
	assert_eq!(steps, 4 + 6, "every node of both fixtures");
	for name in ["mlp", "cnn"] {
		let (_, node, work) =
			heaviest.iter().filter(|(n, ..)| *n == name).max_by_key(|(.., w)| *w).expect("nodes");
		println!("{name}: heaviest one-step is node {node}, {work} work units");
	}
}
