//! The tail rule: a program's k outputs are its last k nodes, in order, so the chain can find the
//! output leaves from m, n and k alone (`output_leaf_range`).

use edgeproof_canon::{
	compiler::{compile, onnx::*, CompileOptions},
	execute, output_leaf_range, program_root, DType, Limits, Node, Op, Program, Ref, Tensor,
	TensorSpec,
};
use prost::Message;

fn node(op_type: &str, inputs: &[&str], outputs: &[&str]) -> NodeProto {
	NodeProto {
		op_type: op_type.into(),
		input: inputs.iter().map(|s| s.to_string()).collect(),
		output: outputs.iter().map(|s| s.to_string()).collect(),
		..Default::default()
	}
}

fn value_info(name: &str) -> ValueInfoProto {
	ValueInfoProto {
		name: name.into(),
		r#type: Some(TypeProto {
			value: Some(type_proto::Value::TensorType(TensorTypeProto {
				elem_type: 1,
				shape: Some(TensorShapeProto {
					dim: vec![Dimension { value: Some(dimension::Value::DimValue(3)) }],
				}),
			})),
		}),
	}
}

/// An opset-13 model with graph input `x: f32[3]`, an initializer `c: f32[3]`, these nodes and
/// these graph outputs (in this order).
fn model(nodes: Vec<NodeProto>, outputs: &[&str]) -> Program {
	let bytes = ModelProto {
		ir_version: 8,
		opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 13 }],
		graph: Some(GraphProto {
			node: nodes,
			initializer: vec![TensorProto {
				name: "c".into(),
				dims: vec![3],
				data_type: 1,
				float_data: vec![0.5, -1.0, 2.0],
				..Default::default()
			}],
			input: vec![value_info("x")],
			output: outputs.iter().map(|o| value_info(o)).collect(),
			..Default::default()
		}),
		..Default::default()
	}
	.encode_to_vec();
	let compiled = compile(&bytes, &CompileOptions::default()).unwrap();
	assert_eq!(compiled.output_names, outputs);
	compiled.program
}

fn x() -> Tensor {
	Tensor::from_f32(vec![3], &[-1.5, 0.0, 4.0])
}

/// Runs the program and checks the tail rule, the output leaves, and the output values.
fn assert_outputs(program: &Program, expected: &[&[f32]]) {
	assert!(program.outputs_at_tail(), "{:?}", program.outputs);
	program.validate(&Limits::NATIVE).unwrap();
	let m = program.inputs.len() as u32;
	let n = program.nodes.len() as u32;
	let k = program.outputs.len() as u32;
	let range = output_leaf_range(m, n, k).unwrap();
	let leaves: Vec<u64> = program.output_leaves().unwrap().into_iter().map(u64::from).collect();
	assert_eq!(leaves, range.collect::<Vec<_>>());
	let trace = execute(program, &[x()]).unwrap();
	let outputs = trace.outputs(program).unwrap();
	let values: Vec<Vec<f32>> = outputs.iter().map(|t| t.f32_values().unwrap()).collect();
	assert_eq!(values, expected.iter().map(|v| v.to_vec()).collect::<Vec<_>>());
}

#[test]
fn an_output_that_is_a_graph_input_gets_an_identity_node() {
	let p = model(vec![], &["x"]);
	assert_eq!(p.nodes, vec![Node { op: Op::Identity, inputs: vec![Ref::Input(0)] }]);
	assert_eq!(p.outputs, vec![Ref::Node(0)]);
	assert_outputs(&p, &[&[-1.5, 0.0, 4.0]]);

	// Next to a node output: both outputs get an identity, in graph-output order.
	let p = model(vec![node("Relu", &["x"], &["y"])], &["y", "x"]);
	assert_eq!(p.nodes.len(), 3);
	assert_eq!(p.nodes[1], Node { op: Op::Identity, inputs: vec![Ref::Node(0)] });
	assert_eq!(p.nodes[2], Node { op: Op::Identity, inputs: vec![Ref::Input(0)] });
	assert_outputs(&p, &[&[0.0, 0.0, 4.0], &[-1.5, 0.0, 4.0]]);
}

#[test]
fn outputs_in_the_other_order_get_identity_nodes() {
	// Topological order is a (node 0), b (node 1); the outputs are [b, a].
	let p = model(vec![node("Relu", &["x"], &["a"]), node("Neg", &["a"], &["b"])], &["b", "a"]);
	assert_eq!(p.nodes.len(), 4);
	assert_eq!(p.nodes[2], Node { op: Op::Identity, inputs: vec![Ref::Node(1)] });
	assert_eq!(p.nodes[3], Node { op: Op::Identity, inputs: vec![Ref::Node(0)] });
	assert_eq!(p.outputs, vec![Ref::Node(2), Ref::Node(3)]);
	assert_outputs(&p, &[&[-0.0, -0.0, -4.0], &[0.0, 0.0, 4.0]]);
}

#[test]
fn two_outputs_sharing_a_node_get_one_identity_each() {
	// ONNX Identity is an alias, so both outputs are node 0.
	let p =
		model(vec![node("Relu", &["x"], &["a"]), node("Identity", &["a"], &["b"])], &["a", "b"]);
	assert_eq!(p.nodes.len(), 3);
	assert_eq!(p.outputs, vec![Ref::Node(1), Ref::Node(2)]);
	assert_outputs(&p, &[&[0.0, 0.0, 4.0], &[0.0, 0.0, 4.0]]);
}

#[test]
fn an_output_in_the_middle_of_the_graph_gets_an_identity_node() {
	// y = Relu(x) is an output and feeds z, the other output listed first.
	let p = model(
		vec![node("Relu", &["x"], &["y"]), node("Add", &["y", "c"], &["z"])],
		&["y", "z", "x"],
	);
	assert_eq!(p.nodes.len(), 5);
	assert_outputs(&p, &[&[0.0, 0.0, 4.0], &[0.5, -1.0, 6.0], &[-1.5, 0.0, 4.0]]);
}

#[test]
fn outputs_already_at_the_tail_compile_as_before() {
	let p =
		model(vec![node("Relu", &["x"], &["a"]), node("Add", &["a", "c"], &["b"])], &["a", "b"]);
	let by_hand = Program {
		inputs: vec![TensorSpec { dtype: DType::F32, shape: vec![3] }],
		constants: vec![Tensor::from_f32(vec![3], &[0.5, -1.0, 2.0])],
		nodes: vec![
			Node { op: Op::Relu, inputs: vec![Ref::Input(0)] },
			Node { op: Op::Add, inputs: vec![Ref::Node(0), Ref::Const(0)] },
		],
		outputs: vec![Ref::Node(0), Ref::Node(1)],
	};
	assert_eq!(p, by_hand);
	assert_eq!(program_root(&p).unwrap(), program_root(&by_hand).unwrap());
	assert_outputs(&p, &[&[0.0, 0.0, 4.0], &[0.5, -1.0, 6.0]]);

	// A constant output still gets its one Identity node, which is the tail.
	let p = model(vec![node("Relu", &["x"], &["a"])], &["a", "c"]);
	assert_eq!(p.nodes.len(), 2);
	assert_eq!(p.nodes[1], Node { op: Op::Identity, inputs: vec![Ref::Const(0)] });
	assert_outputs(&p, &[&[0.0, 0.0, 4.0], &[0.5, -1.0, 2.0]]);
}

#[test]
fn move_outputs_to_tail_only_appends_when_needed() {
	let relu = Node { op: Op::Relu, inputs: vec![Ref::Input(0)] };
	let mut p = Program {
		inputs: vec![TensorSpec { dtype: DType::F32, shape: vec![3] }],
		constants: vec![],
		nodes: vec![relu.clone(), relu],
		outputs: vec![Ref::Node(1)],
	};
	let before = p.clone();
	p.move_outputs_to_tail();
	assert_eq!(p, before);
	p.outputs = vec![Ref::Node(0)];
	p.move_outputs_to_tail();
	assert_eq!(p.outputs, vec![Ref::Node(2)]);
	let once = p.clone();
	p.move_outputs_to_tail();
	assert_eq!(p, once, "idempotent");
	// No outputs is trivially the tail.
	p.outputs.clear();
	assert!(p.outputs_at_tail());
}

#[test]
fn validate_rejects_programs_that_break_the_tail_rule() {
	let relu = Node { op: Op::Relu, inputs: vec![Ref::Input(0)] };
	let base = Program {
		inputs: vec![TensorSpec { dtype: DType::F32, shape: vec![3] }],
		constants: vec![],
		nodes: vec![relu.clone(), relu],
		outputs: vec![],
	};
	for outputs in [
		vec![Ref::Node(0)],
		vec![Ref::Input(0)],
		vec![Ref::Node(1), Ref::Node(0)],
		vec![Ref::Node(1), Ref::Node(1)],
		vec![Ref::Input(0), Ref::Node(0), Ref::Node(1)],
	] {
		let p = Program { outputs: outputs.clone(), ..base.clone() };
		assert!(!p.outputs_at_tail(), "{outputs:?}");
		let err = p.validate(&Limits::NATIVE).unwrap_err();
		assert!(err.to_string().contains("last nodes"), "{err}");
		assert!(execute(&p, &[x()]).is_err());
	}
	for outputs in [vec![], vec![Ref::Node(1)], vec![Ref::Node(0), Ref::Node(1)]] {
		let p = Program { outputs, ..base.clone() };
		p.validate(&Limits::NATIVE).unwrap();
	}
}

#[test]
fn output_leaf_range_is_the_last_k_leaves() {
	assert_eq!(output_leaf_range(2, 5, 1), Some(6..7));
	assert_eq!(output_leaf_range(2, 5, 5), Some(2..7));
	assert_eq!(output_leaf_range(2, 5, 0), Some(7..7));
	assert_eq!(output_leaf_range(0, 1, 1), Some(0..1));
	assert_eq!(output_leaf_range(2, 5, 6), None, "outputs cannot be graph inputs");
	assert_eq!(
		output_leaf_range(u32::MAX, u32::MAX, 1),
		Some(2 * u64::from(u32::MAX) - 1..2 * u64::from(u32::MAX))
	);
}
