//! The inference engine: ONNX Runtime sessions (fast path) and canonical traces (disputes).

use std::{
	path::{Path, PathBuf},
	sync::{Arc, Mutex, OnceLock},
};

use codec::Encode;
use edgeproof_canon::{
	commit_trace,
	compiler::{compile, CompileOptions},
	execute_with, one_step_witness_recomputed, program_tree,
	substep::{check_disputable, player::NodeValues},
	trace_values, within_tolerance, CanonError, DType, Hash, LeafWitness, Limits, MerkleTree,
	OneStepWitness, Position, Program, Ref, Tensor, TensorHeader, Tolerance, TraceCommitment,
};
use edgeproof_primitives::{
	Answer, CanonicalOutput, Disputability, FileHash, ModelFacts, NotDisputable, Query,
	SecondLevelLimits,
};
use ort::{
	environment::Environment,
	session::{
		builder::{GraphOptimizationLevel, SessionBuilder},
		Session, SessionInputValue,
	},
};
use sp_crypto_hashing::blake2_256;

use crate::{
	cache::Lru,
	convert::{check_inputs, from_ort, to_ort, IoSpec},
	error::{Error, Result},
	metrics::{Cache, Metrics},
	store::{ModelStore, StoreConfig},
};

const LOG_TARGET: &str = "edgeproof::inference";

/// The pinned ONNX Runtime settings (see `docs/inference.md`): CPU execution provider only,
/// one intra-op and one inter-op thread, sequential execution, all graph optimisations
/// (`ORT_ENABLE_ALL`, onnxruntime's Python default). Pinned because ort's float results move
/// slightly between optimisation levels; the model's tolerance absorbs the rest.
pub mod settings {
	/// Intra-op threads.
	pub const INTRA_OP_THREADS: usize = 1;
	/// Inter-op threads.
	pub const INTER_OP_THREADS: usize = 1;
	/// Graph optimisation level.
	pub const OPTIMIZATION_LEVEL: super::GraphOptimizationLevel =
		super::GraphOptimizationLevel::All;
}

/// Engine configuration.
#[derive(Clone, Debug)]
pub struct EngineConfig {
	/// The ONNX Runtime shared library (`libonnxruntime.so.1.31.1`); `None` runs without ONNX
	/// Runtime (`run` fails with [`Error::LibraryMissing`], the canonical calls still work).
	pub onnxruntime_lib: Option<PathBuf>,
	/// The model store.
	pub store: StoreConfig,
	/// ONNX Runtime sessions kept (one per model).
	pub max_sessions: usize,
	/// Canonical programs kept (one per model).
	pub max_programs: usize,
	/// Canonical trace commitments kept (one per model and input: the trace tree and the
	/// outputs, not the values, which a one-step recomputes) ...
	pub max_traces: usize,
	/// ... and the most bytes they may hold together (the newest is always kept).
	pub max_trace_bytes: usize,
	/// Seeded probe inputs `verify_model` runs through both executors.
	pub probes: u32,
}

impl EngineConfig {
	/// Defaults with the given library and store directory.
	pub fn new(onnxruntime_lib: Option<PathBuf>, store_dir: impl Into<PathBuf>) -> Self {
		Self {
			onnxruntime_lib,
			store: StoreConfig::new(store_dir),
			max_sessions: 8,
			max_programs: 8,
			max_traces: 64,
			max_trace_bytes: 256 << 20,
			probes: 3,
		}
	}

	/// This configuration with local model sources allowed (`file://` and private or loopback
	/// hosts, [`StoreConfig::allow_local_sources`]): for an operator's own machine, tests and
	/// development chains.
	pub fn allowing_local_sources(mut self) -> Self {
		self.store.allow_local_sources = true;
		self
	}
}

/// The options every validator compiles with, so `program_root` is a function of the file:
/// symbolic (batch) dimensions are 1, native limits (the runtime's limits are checked apart).
pub fn compile_options() -> CompileOptions {
	CompileOptions { symbolic_dim: Some(1), ..Default::default() }
}

/// A loaded ONNX Runtime: the process-wide environment. ONNX Runtime allows one library and
/// one environment per process, so the first successful load is kept and shared.
#[derive(Clone)]
pub struct OrtRuntime {
	env: Environment,
	path: PathBuf,
}

static ORT_RUNTIME: OnceLock<OrtRuntime> = OnceLock::new();
static ORT_LOADING: Mutex<()> = Mutex::new(());

impl OrtRuntime {
	/// Loads the ONNX Runtime library at `path` (once per process; later calls return the
	/// loaded runtime). A missing or unloadable library is an error, never a panic.
	pub fn load(path: &Path) -> Result<Self> {
		let _guard = ORT_LOADING.lock().unwrap_or_else(|e| e.into_inner());
		if let Some(rt) = ORT_RUNTIME.get() {
			if rt.path != path {
				log::warn!(
					target: LOG_TARGET,
					"ONNX Runtime is already loaded from `{}`; ignoring `{}`",
					rt.path.display(),
					path.display()
				);
			}
			return Ok(rt.clone());
		}
		// `ort` falls back to a default library name when asked to load a path that is not
		// there; check first so the error names the path the operator gave.
		if !path.is_file() {
			return Err(Error::LibraryNotFound(path.to_path_buf()));
		}
		let load_err = |reason: String| Error::LibraryLoad { path: path.to_path_buf(), reason };
		let env = ort::init_from(path)
			.map_err(|e| load_err(e.to_string()))?
			.with_name("edgeproof")
			.with_telemetry(false)
			.build()
			.map_err(|e| load_err(e.to_string()))?;
		let rt = OrtRuntime { env, path: path.to_path_buf() };
		log::info!(target: LOG_TARGET, "Loaded ONNX Runtime from `{}`", path.display());
		Ok(ORT_RUNTIME.get_or_init(|| rt).clone())
	}

	/// The library path.
	pub fn path(&self) -> &Path {
		&self.path
	}

	/// The process-wide ONNX Runtime environment.
	pub fn environment(&self) -> &Environment {
		&self.env
	}

	/// A session builder with the pinned [`settings`].
	pub fn session_builder(&self) -> Result<SessionBuilder> {
		let builder = Session::builder(&self.env)?
			.with_optimization_level(settings::OPTIMIZATION_LEVEL)
			.map_err(ort::Error::from)?
			.with_intra_threads(settings::INTRA_OP_THREADS)
			.map_err(ort::Error::from)?
			.with_inter_threads(settings::INTER_OP_THREADS)
			.map_err(ort::Error::from)?
			.with_parallel_execution(false)
			.map_err(ort::Error::from)?;
		Ok(builder)
	}

	/// A session with the pinned settings.
	fn session(&self, model: &FileHash, bytes: &[u8]) -> Result<Session> {
		self.session_builder()?
			.commit_from_memory(bytes)
			.map_err(|source| Error::MalformedModel { model: *model, source })
	}
}

/// A cached ONNX Runtime session with its declared inputs and outputs.
pub struct OrtModel {
	session: Mutex<Session>,
	inputs: Vec<IoSpec>,
	outputs: Vec<IoSpec>,
}

impl OrtModel {
	fn new(session: Session) -> Self {
		let inputs = session.inputs().iter().map(|o| IoSpec::from_value_type(o.dtype())).collect();
		let outputs =
			session.outputs().iter().map(|o| IoSpec::from_value_type(o.dtype())).collect();
		Self { session: Mutex::new(session), inputs, outputs }
	}

	/// Declared inputs.
	pub fn inputs(&self) -> &[IoSpec] {
		&self.inputs
	}

	/// Declared outputs.
	pub fn outputs(&self) -> &[IoSpec] {
		&self.outputs
	}

	/// Runs the session on a checked input.
	pub fn run(&self, input: &[Tensor]) -> Result<Vec<Tensor>> {
		check_inputs(&self.inputs, input)?;
		let values = input
			.iter()
			.map(|t| to_ort(t).map(SessionInputValue::from))
			.collect::<Result<Vec<_>>>()?;
		let mut session = self.session.lock().unwrap_or_else(|e| e.into_inner());
		let outputs = session.run(values.as_slice())?;
		(0..outputs.len()).map(|i| from_ort(i, &outputs[i])).collect()
	}
}

/// A compiled canonical program with its Merkle tree.
struct CanonicalModel {
	program: Program,
	tree: MerkleTree,
}

/// What is kept of a canonical trace: its tree and outputs, not its values. A one-step
/// recomputes the values its node reads (`one_step_witness_recomputed`), so several disputes on
/// a large model hold a few hashes per node each, not whole traces.
struct CachedTrace {
	tree: MerkleTree,
	/// The program's outputs (the last leaves).
	outputs: Vec<Tensor>,
	/// Nodes the canonical executor could not run on this input: they hold
	/// `edgeproof_canon::unrunnable_value()` and have no one-step.
	unrunnable: Vec<u32>,
}

/// The engine. Thread-safe; share it behind an `Arc`.
pub struct Engine {
	ort: Option<OrtRuntime>,
	store: ModelStore,
	probes: u32,
	sessions: Mutex<Lru<FileHash, Arc<OrtModel>>>,
	programs: Mutex<Lru<FileHash, Arc<CanonicalModel>>>,
	traces: Mutex<Lru<(FileHash, Hash), Arc<CachedTrace>>>,
	metrics: Option<Metrics>,
}

impl Engine {
	/// Opens the model store and loads ONNX Runtime if a library is configured. A configured
	/// library that cannot be loaded is an error (build with `onnxruntime_lib: None` to run
	/// without ONNX Runtime).
	pub fn new(config: EngineConfig) -> Result<Self> {
		let ort = config.onnxruntime_lib.as_deref().map(OrtRuntime::load).transpose()?;
		Ok(Self {
			ort,
			store: ModelStore::open(config.store)?,
			probes: config.probes,
			sessions: Mutex::new(Lru::new(config.max_sessions, usize::MAX)),
			programs: Mutex::new(Lru::new(config.max_programs, usize::MAX)),
			traces: Mutex::new(Lru::new(config.max_traces, config.max_trace_bytes)),
			metrics: None,
		})
	}

	/// Records calls, failures, latencies and cache lookups in `metrics`.
	pub fn with_metrics(mut self, metrics: Metrics) -> Self {
		self.metrics = Some(metrics);
		self
	}

	pub(crate) fn metrics(&self) -> Option<&Metrics> {
		self.metrics.as_ref()
	}

	fn cache_lookup<V>(&self, cache: Cache, found: Option<V>) -> Option<V> {
		if let Some(m) = &self.metrics {
			m.cache(cache, found.is_some());
		}
		found
	}

	/// The loaded ONNX Runtime, if any.
	pub fn ort(&self) -> Option<&OrtRuntime> {
		self.ort.as_ref()
	}

	/// The model store.
	pub fn store(&self) -> &ModelStore {
		&self.store
	}

	/// The ONNX Runtime session of `model` (cached), fetching the model if needed. The second
	/// value says whether it came from the cache.
	pub fn session(&self, model: &FileHash, uri: &str) -> Result<(Arc<OrtModel>, bool)> {
		let ort = self.ort.as_ref().ok_or(Error::LibraryMissing)?;
		let cached = lock(&self.sessions).get(model);
		if let Some(s) = self.cache_lookup(Cache::Session, cached) {
			return Ok((s, true));
		}
		let bytes = self.store.load(model, uri)?;
		let s = Arc::new(OrtModel::new(ort.session(model, &bytes)?));
		lock(&self.sessions).insert(*model, s.clone(), 1);
		Ok((s, false))
	}

	/// Runs `model` on `input` with ONNX Runtime.
	pub fn run(&self, model: &FileHash, uri: &str, input: &[Tensor]) -> Result<Vec<Tensor>> {
		self.session(model, uri)?.0.run(input)
	}

	fn canonical_model(&self, model: &FileHash, uri: &str) -> Result<Arc<CanonicalModel>> {
		let cached = lock(&self.programs).get(model);
		if let Some(p) = self.cache_lookup(Cache::Program, cached) {
			return Ok(p);
		}
		let bytes = self.store.load(model, uri)?;
		let program = compile(&bytes, &compile_options())
			.map_err(|source| Error::NotCompilable { model: *model, source })?
			.program;
		let tree = program_tree(&program).map_err(Error::Canonical)?;
		let p = Arc::new(CanonicalModel { program, tree });
		lock(&self.programs).insert(*model, p.clone(), 1);
		Ok(p)
	}

	/// The canonical trace of `model` on `input` (cached per model and input).
	fn trace(
		&self,
		model: &FileHash,
		uri: &str,
		input: &[Tensor],
	) -> Result<(Arc<CanonicalModel>, Arc<CachedTrace>)> {
		let canonical = self.canonical_model(model, uri)?;
		let key = (*model, blake2_256(&input.encode()));
		let cached = lock(&self.traces).get(&key);
		if let Some(t) = self.cache_lookup(Cache::Trace, cached) {
			return Ok((canonical, t));
		}
		let specs: Vec<IoSpec> =
			canonical.program.inputs.iter().map(IoSpec::from_tensor_spec).collect();
		check_inputs(&specs, input)?;
		// A node that cannot run on this input takes the unrunnable value: the claim is then
		// disputed with this trace, and its claimant can defend no output (no one-step exists
		// for that node).
		let TraceCommitment { leaves, outputs, unrunnable } =
			commit_trace(&canonical.program, input, &Limits::NATIVE, true)
				.map_err(Error::Canonical)?;
		if let Some(first) = unrunnable.first() {
			log::warn!(
				target: LOG_TARGET,
				"Model {model:?}: the canonical executor cannot run node {first} on this input \
				 ({} nodes in all); its trace commits to the unrunnable value there",
				unrunnable.len()
			);
		}
		let bytes = leaves.len() * 64 + outputs.iter().map(|t| t.data.len()).sum::<usize>();
		let cached = Arc::new(CachedTrace { tree: MerkleTree::new(leaves), outputs, unrunnable });
		lock(&self.traces).insert(key, cached.clone(), bytes);
		Ok((canonical, cached))
	}

	/// The canonical outputs of `model` on `input`, with proofs against the trace root.
	pub fn canonical_output(
		&self,
		model: &FileHash,
		uri: &str,
		input: &[Tensor],
	) -> Result<CanonicalOutput> {
		let (canonical, t) = self.trace(model, uri, input)?;
		let leaves = canonical.program.output_leaves().map_err(Error::Canonical)?;
		let outputs = leaves
			.into_iter()
			.zip(&t.outputs)
			.map(|(leaf, tensor)| {
				let proof = t.tree.proof(leaf as u64).ok_or_else(|| {
					Error::Canonical(CanonError::Graph { detail: format!("no leaf {leaf}") })
				})?;
				Ok(LeafWitness { tensor: tensor.clone(), proof })
			})
			.collect::<Result<Vec<_>>>()?;
		Ok(CanonicalOutput { trace_root: t.tree.root(), trace_len: t.tree.leaf_count(), outputs })
	}

	/// The canonical trace of `model` on `input` leaf by leaf: each leaf's hash with its header
	/// (the graph inputs, then every node's output), the trace root over them, and each node's
	/// work (`node_work`: whether its dispute is a one-step or the second level) — what an
	/// operator compares with another party's trace (`edgeproof-device trace`).
	pub fn trace_leaves(
		&self,
		model: &FileHash,
		uri: &str,
		input: &[Tensor],
	) -> Result<(Hash, Vec<(Hash, TensorHeader)>, Vec<u64>)> {
		let (canonical, t) = self.trace(model, uri, input)?;
		let headers = canonical.program.leaf_headers().map_err(Error::Canonical)?;
		let works = canonical.program.node_works().map_err(Error::Canonical)?;
		let leaves = t.tree.leaves().iter().copied().zip(headers).collect();
		Ok((t.tree.root(), leaves, works))
	}

	/// The two child hashes at `position` of the canonical trace tree.
	pub fn trace_children(
		&self,
		model: &FileHash,
		uri: &str,
		input: &[Tensor],
		position: Position,
	) -> Result<(Hash, Hash)> {
		let (_, t) = self.trace(model, uri, input)?;
		t.tree.children(position).ok_or_else(|| {
			Error::BadPosition(format!(
				"{position:?} has no children in a trace tree of depth {}",
				t.tree.depth()
			))
		})
	}

	/// The answer to a second-level `query` about node leaf `leaf` of the canonical trace of
	/// `input`. The node's inputs and output are recomputed from the input (the trace cache
	/// keeps only the tree and the outputs), running the program up to the node.
	pub fn second_level(
		&self,
		model: &FileHash,
		uri: &str,
		input: &[Tensor],
		leaf: u64,
		query: &Query,
	) -> Result<Answer> {
		let (canonical, t) = self.trace(model, uri, input)?;
		let program = &canonical.program;
		let m = program.inputs.len() as u32;
		let node = u32::try_from(leaf)
			.ok()
			.and_then(|l| l.checked_sub(m))
			.and_then(|j| program.nodes.get(j as usize))
			.ok_or_else(|| Error::BadPosition(format!("leaf {leaf} is not a node leaf")))?;
		if t.unrunnable.binary_search(&(leaf as u32 - m)).is_ok() {
			return Err(Error::BadPosition(format!(
				"node {} cannot be executed on this input: it has no sub-steps",
				leaf as u32 - m
			)));
		}
		// The node's trace inputs and its output, in that order.
		let mut leaves: Vec<u32> = node.inputs.iter().filter_map(|&r| program.leaf_of(r)).collect();
		leaves.push(leaf as u32);
		let values = trace_values(program, input, &Limits::NATIVE, true, &leaves)
			.map_err(Error::Canonical)?;
		let mut from_trace = values.iter();
		let inputs = node
			.inputs
			.iter()
			.map(|&r| match r {
				Ref::Const(i) => program.constants.get(i as usize),
				_ => from_trace.next(),
			})
			.collect::<Option<Vec<&Tensor>>>()
			.ok_or_else(|| Error::BadPosition(format!("node of leaf {leaf}: a missing input")))?;
		let output = values.last().ok_or_else(|| Error::BadPosition("no output".into()))?;
		let view = NodeValues {
			program,
			program_tree: &canonical.tree,
			trace_tree: &t.tree,
			k: leaf,
			inputs,
			output,
		};
		view.answer(query).map_err(|e| match e {
			CanonError::Proof { detail } => Error::BadPosition(detail),
			e => Error::Canonical(e),
		})
	}

	/// The one-step witness of trace leaf `leaf`.
	pub fn one_step(
		&self,
		model: &FileHash,
		uri: &str,
		input: &[Tensor],
		leaf: u64,
	) -> Result<OneStepWitness> {
		let (canonical, t) = self.trace(model, uri, input)?;
		let m = canonical.program.inputs.len() as u64;
		if leaf >= m && t.unrunnable.binary_search(&((leaf - m) as u32)).is_ok() {
			return Err(Error::Canonical(CanonError::Graph {
				detail: format!(
					"node {} cannot be executed on this input: it has no one-step",
					leaf - m
				),
			}));
		}
		one_step_witness_recomputed(
			&canonical.program,
			&canonical.tree,
			input,
			&Limits::NATIVE,
			true,
			&t.tree,
			leaf,
		)
		.map_err(|e| match e {
			CanonError::Proof { detail } => Error::BadPosition(detail),
			e => Error::Canonical(e),
		})
	}

	/// Checks a model for registration (see `edgeproof_primitives::inference::verify_model`).
	pub fn verify_model(
		&self,
		model: &FileHash,
		uri: &str,
		limits: &Limits,
		tolerance: Tolerance,
		second_level: Option<SecondLevelLimits>,
	) -> Result<ModelFacts> {
		// Loaded (and hash-checked) again even if a session is cached: the vote is about the
		// file as it is now at the URI or in the store.
		let byte_size = self.store.load(model, uri)?.len() as u64;
		let (session, _) = self.session(model, uri)?;
		let mut facts = ModelFacts {
			file: *model,
			byte_size,
			inputs: session.inputs().iter().filter_map(IoSpec::to_tensor_spec).collect(),
			outputs: session.outputs().iter().filter_map(IoSpec::to_tensor_spec).collect(),
			program_root: None,
			node_count: 0,
			program_work: 0,
			disputable: Disputability::Disputable,
		};
		let canonical = match self.canonical_model(model, uri) {
			Ok(c) => c,
			Err(e @ Error::NotCompilable { .. }) => {
				log::info!(target: LOG_TARGET, "Model {model:?} is not disputable: {e}");
				facts.disputable = Disputability::NotDisputable(NotDisputable::Unsupported);
				return Ok(facts);
			},
			Err(e) => return Err(e),
		};
		facts.program_root = Some(canonical.tree.root());
		facts.node_count = canonical.program.nodes.len() as u32;
		// The compiler inferred every shape, so the cost is known; the probes check it.
		facts.program_work = canonical.program.cost().map_or(u64::MAX, |cost| cost.work);
		facts.disputable =
			self.probe(model, &canonical.program, &session, limits, tolerance, second_level);
		Ok(facts)
	}

	/// Runs the seeded probe inputs through both executors under the runtime's limits. With
	/// `second_level`, a node over the one-step limits is within them if it can be cut into
	/// sub-steps (checked on the program's static shapes, which every input shares).
	fn probe(
		&self,
		model: &FileHash,
		program: &Program,
		session: &OrtModel,
		limits: &Limits,
		tolerance: Tolerance,
		second_level: Option<SecondLevelLimits>,
	) -> Disputability {
		let not = Disputability::NotDisputable;
		if let Err(e) = program.validate(limits) {
			log::info!(target: LOG_TARGET, "Model {model:?} exceeds the runtime limits: {e}");
			return not(NotDisputable::LimitExceeded);
		}
		let limits = &match second_level {
			Some(second) => {
				match check_disputable(program, limits, &second.sub_step, second.max_cut_cost) {
					Ok(settled) => log::info!(
						target: LOG_TARGET,
						"Model {model:?}: {} nodes by a one-step, {} by sub-steps (dearest cut {})",
						settled.one_step,
						settled.cut,
						settled.dearest_cut
					),
					Err(e) => {
						log::info!(target: LOG_TARGET, "Model {model:?} cannot be settled: {e}");
						return not(NotDisputable::LimitExceeded);
					},
				}
				// Checked node by node above; the probes run the heavy nodes too.
				Limits { max_node_work: u64::MAX, max_step_bytes: u64::MAX, ..*limits }
			},
			None => *limits,
		};
		for probe in 0..self.probes {
			let input = probe_input(model, probe, program);
			let canonical = match execute_with(program, &input, limits)
				.and_then(|trace| trace.outputs(program))
			{
				Ok(out) => out,
				Err(e) => {
					log::info!(target: LOG_TARGET, "Model {model:?}, probe {probe}: {e}");
					return not(match e {
						CanonError::LimitExceeded { .. } => NotDisputable::LimitExceeded,
						_ => NotDisputable::ProbeFailed { probe },
					});
				},
			};
			let fast = match session.run(&input) {
				Ok(out) => out,
				Err(e) => {
					log::info!(target: LOG_TARGET, "Model {model:?}, probe {probe}, ort: {e}");
					return not(NotDisputable::ProbeFailed { probe });
				},
			};
			if !within_tolerance(&fast, &canonical, tolerance) {
				return not(NotDisputable::ToleranceNotMet { probe });
			}
		}
		Disputability::Disputable
	}
}

/// Seeded probe input `probe` for `program`: F32 elements uniform in [-1, 1), U8/I8 uniform
/// bytes, and all-zero I64/I32/Bool tensors (integer inputs are usually indices, where zero is
/// the one value always in range). The bytes come from blake2-256 of
/// `("edgeproof/probe", model, probe, input index, block counter)`.
pub fn probe_input(model: &FileHash, probe: u32, program: &Program) -> Vec<Tensor> {
	program
		.inputs
		.iter()
		.enumerate()
		.map(|(i, spec)| {
			let n = spec.shape.iter().map(|&d| d as usize).product::<usize>();
			let mut stream = (0u64..).flat_map(|block| {
				blake2_256(&(b"edgeproof/probe", model, probe, i as u32, block).encode())
			});
			let data: Vec<u8> = match spec.dtype {
				DType::F32 => (0..n)
					.flat_map(|_| {
						let word = u32::from_le_bytes(std::array::from_fn(|_| {
							stream.next().unwrap_or_default()
						}));
						let v = (word >> 8) as f32 / (1u32 << 23) as f32 - 1.0;
						v.to_le_bytes()
					})
					.collect(),
				DType::U8 | DType::I8 => stream.take(n).collect(),
				DType::I64 | DType::I32 | DType::Bool => vec![0; n * spec.dtype.size()],
			};
			Tensor { dtype: spec.dtype, shape: spec.shape.clone(), data }
		})
		.collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
	m.lock().unwrap_or_else(|e| e.into_inner())
}
