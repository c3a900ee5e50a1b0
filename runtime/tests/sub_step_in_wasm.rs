//! Sub-steps computed inside the real runtime (the compiled wasm, run by the node's executor)
//! are the node's output bit for bit: for every node of the fixture CNN that limits of a few
//! thousand work units cut into several sub-steps, `DisputesApi::check_sub_step` in wasm,
//! chained from each tile's first segment to its last, ends at the leaf of that tile's chunk of
//! the native trace, and agrees with the native check at every step. A tampered chunk is
//! refused in wasm as natively.

use codec::{Decode, Encode};
use edgeproof_canon::{
	chunk::chunk_leaves,
	commit::program_tree,
	compiler::compile,
	execute_with, leaf_hash,
	ops::Meta,
	substep::{geometry, substep_witness, verify_substep, Geometry, SubStepLimits, SubStepWitness},
	DType, MerkleTree, OneStepContext, Tensor,
};
use edgeproof_runtime::WASM_BINARY;
use sp_core::traits::{CallContext, CodeExecutor, RuntimeCode, WrappedRuntimeCode};

type Executor = sc_executor::WasmExecutor<(
	sp_io::SubstrateHostFunctions,
	edgeproof_primitives::inference::HostFunctions,
)>;

type Args = ([u8; 32], u32, u32, [u8; 32], u64, Geometry, SubStepWitness);

/// Calls `DisputesApi_check_sub_step` in the runtime's wasm.
fn check_in_wasm(executor: &Executor, args: &Args) -> Result<[u8; 32], String> {
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
		"DisputesApi_check_sub_step",
		&args.encode(),
		CallContext::Offchain,
	);
	let out = out.expect("the runtime API call runs");
	let answer: Result<[u8; 32], pallet_disputes::Error<edgeproof_runtime::Runtime>> =
		Decode::decode(&mut &out[..]).expect("the answer decodes");
	answer.map_err(|e| format!("{e:?}"))
}

#[test]
fn sub_steps_in_the_runtime_are_the_nodes_output() {
	let executor = Executor::builder().build();
	let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../canon/tests/data");
	let bytes = std::fs::read(dir.join("cnn.onnx")).expect("fixture");
	let program =
		compile(&bytes, &edgeproof_offchain::compile_options()).expect("compiles").program;
	let data = std::fs::read(dir.join("cnn.input_0.bin")).expect("input");
	let inputs = vec![Tensor::new(DType::F32, vec![1, 1, 28, 28], data).expect("tensor")];
	let one_step_limits =
		<edgeproof_runtime::configs::DisputeLimits as frame_support::traits::Get<_>>::get();
	let trace = execute_with(&program, &inputs, &one_step_limits).expect("runs");
	let trace_tree = MerkleTree::new(trace.values.iter().map(leaf_hash).collect());
	let ptree = program_tree(&program).expect("program tree");
	let m = program.inputs.len() as u64;
	let ctx = OneStepContext {
		program_root: ptree.root(),
		node_count: program.nodes.len() as u32,
		input_count: m as u32,
		trace_root: trace_tree.root(),
		limits: one_step_limits,
	};
	let limits = SubStepLimits { max_work: 1 << 13, max_read_bytes: 64 << 10 };
	let (mut cut, mut steps) = (0, 0);
	for (j, node) in program.nodes.iter().enumerate() {
		let k = m + j as u64;
		let ins = trace.node_inputs(&program, j).expect("inputs");
		let metas: Vec<Meta> = ins.iter().map(|t| Meta::of(t)).collect();
		let Ok(g) = geometry(&node.op, &metas, &limits) else { continue };
		if g.substeps() < 2 {
			continue;
		}
		cut += 1;
		let chunks = chunk_leaves(&trace.values[k as usize]);
		for tile in [0, g.tiles() - 1] {
			let mut state: Option<Vec<u8>> = None;
			let mut leaf = [0u8; 32];
			for segment in 0..g.segments {
				let w = substep_witness(
					&program,
					&ptree,
					&trace_tree,
					k,
					&ins,
					&limits,
					(tile, segment),
					state.clone(),
				)
				.expect("witness");
				let native = verify_substep(&ctx, k, &w, &g).expect("native sub-step");
				let args =
					(ctx.program_root, ctx.node_count, ctx.input_count, ctx.trace_root, k, g, w);
				leaf = check_in_wasm(&executor, &args).expect("the sub-step runs in wasm");
				assert_eq!(
					leaf,
					native.leaf,
					"node {j} ({}) tile {tile} segment {segment}",
					node.op.describe()
				);
				steps += 1;
				if segment == 0 {
					// A flipped byte in a read chunk is refused in wasm too.
					let mut bad = args.clone();
					if let Some((bytes, _)) =
						bad.6.inputs.iter_mut().find_map(|i| i.chunks.first_mut())
					{
						bytes[0] ^= 1;
						assert_eq!(
							check_in_wasm(&executor, &bad),
							Err(format!(
								"{:?}",
								pallet_disputes::Error::<edgeproof_runtime::Runtime>::SubStepNotProven
							))
						);
					}
				}
				// The next segment starts from this state (run natively: the state's bytes).
				if !g.is_last(segment) {
					let next = edgeproof_canon::substep::run_substep(
						&node.op,
						&ins,
						&g,
						tile,
						segment,
						state.as_deref(),
					)
					.expect("runs");
					assert_eq!(g.leaf(segment, &next), leaf);
					state = Some(next);
				}
			}
			assert_eq!(leaf, chunks[tile as usize], "node {j} tile {tile}: the tile's chunk");
		}
	}
	assert!(cut >= 2 && steps >= 8, "{cut} nodes cut, {steps} sub-steps");
	println!("{cut} nodes of the CNN cut, {steps} sub-steps checked in wasm");
}

/// A sub-step whose inputs are as large as a sub-step's may be (two tensors at the element
/// bound, 32 MiB: the runtime holds them whole) runs in the runtime's wasm with the executor's
/// default heap, and gives the native leaf.
#[test]
fn a_sub_step_on_the_largest_inputs_fits_the_runtime_heap() {
	use edgeproof_canon::{Node, Op, Program, Ref, TensorSpec};
	let executor = Executor::builder().build();
	let limits: edgeproof_canon::Limits =
		<edgeproof_runtime::configs::DisputeLimits as frame_support::traits::Get<_>>::get();
	let half = limits.max_elements as u32 / 2;
	let constant = |v: f32| Tensor::from_f32(vec![half, 2], &vec![v; 2 * half as usize]);
	let program = Program {
		inputs: vec![TensorSpec { dtype: DType::F32, shape: vec![1] }],
		constants: vec![constant(0.5), constant(-0.25)],
		nodes: vec![Node {
			op: Op::Concat { axis: 0 },
			inputs: vec![Ref::Const(0), Ref::Const(1)],
		}],
		outputs: vec![Ref::Node(0)],
	};
	let bytes: u64 = program.constants.iter().map(|c| c.data.len() as u64).sum();
	assert_eq!(
		bytes,
		pallet_disputes::Pallet::<edgeproof_runtime::Runtime>::max_sub_step_input_bytes()
	);
	// The node's leaf is not needed: its inputs are constants.
	let trace_tree = MerkleTree::new(vec![leaf_hash(&Tensor::from_f32(vec![1], &[1.0])), [1; 32]]);
	let ptree = program_tree(&program).expect("program tree");
	let ctx = OneStepContext {
		program_root: ptree.root(),
		node_count: 1,
		input_count: 1,
		trace_root: trace_tree.root(),
		limits,
	};
	let ins: Vec<&Tensor> = program.constants.iter().collect();
	let metas: Vec<Meta> = ins.iter().map(|t| Meta::of(t)).collect();
	let sub = SubStepLimits::DEFAULT;
	let g = geometry(&program.nodes[0].op, &metas, &sub).expect("a cut");
	let tile = g.tiles() / 2;
	let w = substep_witness(&program, &ptree, &trace_tree, 1, &ins, &sub, (tile, 0), None)
		.expect("witness");
	let native = verify_substep(&ctx, 1, &w, &g).expect("native sub-step").leaf;
	let args = (ctx.program_root, 1, 1, ctx.trace_root, 1, g, w);
	assert_eq!(check_in_wasm(&executor, &args), Ok(native));
}
