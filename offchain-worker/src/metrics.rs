//! Prometheus metrics of the inference host functions and of what the checker does with them.

use edgeproof_primitives::{CheckerNote, InferenceError};
use substrate_prometheus_endpoint::{
	exponential_buckets, register, Counter, CounterVec, HistogramOpts, HistogramVec, Opts,
	PrometheusError, Registry, U64,
};

/// Which cache answered (or missed).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Cache {
	Session,
	Program,
	Trace,
}

/// Counters and latencies of the `inference` calls, registered with the node's registry.
#[derive(Clone)]
pub struct Metrics {
	calls: CounterVec<U64>,
	failures: CounterVec<U64>,
	latency: HistogramVec,
	cache: CounterVec<U64>,
	unfunded: Counter<U64>,
	verdicts: CounterVec<U64>,
	moves: CounterVec<U64>,
}

impl Metrics {
	/// Registers the metrics:
	/// - `edgeproof_inference_calls_total{call}`,
	/// - `edgeproof_inference_failures_total{call, error}` (`error` = the `InferenceError`
	///   variant),
	/// - `edgeproof_inference_call_seconds{call}` (histogram),
	/// - `edgeproof_inference_cache_total{cache, result}` (`session`/`program`/`trace`,
	///   `hit`/`miss`),
	/// - `edgeproof_checker_unfunded_disputes_total`: each block's count of wrong claims the
	///   checker could not dispute because its account cannot pay the challenger bond (alert on
	///   any increase: the validator is not challenging),
	/// - `edgeproof_checker_claims_total{verdict}`: claims the checker decided about
	///   (`not_sampled`, `agrees`, `canonical_agrees`, `wrong`, `failed`),
	/// - `edgeproof_checker_moves_total{move}`: dispute moves its keys sent to the pool (`open`,
	///   `respond`, `bisect`, `one_step`, `timeout`; a move resent after `RESEND_AFTER` blocks
	///   counts again).
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		Ok(Self {
			calls: register(
				CounterVec::new(
					Opts::new("edgeproof_inference_calls_total", "Inference host function calls"),
					&["call"],
				)?,
				registry,
			)?,
			failures: register(
				CounterVec::new(
					Opts::new(
						"edgeproof_inference_failures_total",
						"Inference host function calls that returned an error",
					),
					&["call", "error"],
				)?,
				registry,
			)?,
			latency: register(
				HistogramVec::new(
					HistogramOpts::new(
						"edgeproof_inference_call_seconds",
						"Time of an inference host function call",
					)
					.buckets(exponential_buckets(0.0001, 4.0, 10)?),
					&["call"],
				)?,
				registry,
			)?,
			cache: register(
				CounterVec::new(
					Opts::new(
						"edgeproof_inference_cache_total",
						"Inference cache lookups (sessions, canonical programs, traces)",
					),
					&["cache", "result"],
				)?,
				registry,
			)?,
			unfunded: register(
				Counter::new(
					"edgeproof_checker_unfunded_disputes_total",
					"Wrong claims the checker could not dispute: its account cannot pay the bond",
				)?,
				registry,
			)?,
			verdicts: register(
				CounterVec::new(
					Opts::new("edgeproof_checker_claims_total", "Claims the checker decided about"),
					&["verdict"],
				)?,
				registry,
			)?,
			moves: register(
				CounterVec::new(
					Opts::new(
						"edgeproof_checker_moves_total",
						"Dispute moves the checker's keys sent to the transaction pool",
					),
					&["move"],
				)?,
				registry,
			)?,
		})
	}

	pub(crate) fn observe<T>(&self, call: &str, seconds: f64, result: &Result<T, InferenceError>) {
		self.calls.with_label_values(&[call]).inc();
		self.latency.with_label_values(&[call]).observe(seconds);
		if let Err(e) = result {
			self.failures.with_label_values(&[call, e.name()]).inc();
		}
	}

	pub(crate) fn note(&self, note: CheckerNote) {
		match note {
			CheckerNote::Checked(verdict) => self.verdicts.with_label_values(&[verdict.name()]),
			CheckerNote::MoveSent(kind) => self.moves.with_label_values(&[kind.name()]),
		}
		.inc();
	}

	/// How many claims the checker found `verdict` (`edgeproof_checker_claims_total`).
	pub fn verdicts(&self, verdict: edgeproof_primitives::Verdict) -> u64 {
		self.verdicts.with_label_values(&[verdict.name()]).get()
	}

	/// How many `kind` moves the checker sent (`edgeproof_checker_moves_total`).
	pub fn moves(&self, kind: edgeproof_primitives::Move) -> u64 {
		self.moves.with_label_values(&[kind.name()]).get()
	}

	pub(crate) fn unfunded_dispute(&self) {
		self.unfunded.inc();
	}

	/// How many times the checker could not open a dispute for want of funds.
	pub fn unfunded_disputes(&self) -> u64 {
		self.unfunded.get()
	}

	pub(crate) fn cache(&self, cache: Cache, hit: bool) {
		let cache = match cache {
			Cache::Session => "session",
			Cache::Program => "program",
			Cache::Trace => "trace",
		};
		self.cache.with_label_values(&[cache, if hit { "hit" } else { "miss" }]).inc();
	}
}
