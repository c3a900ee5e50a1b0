//! Natively (feature `std`, x86_64), the hot loops compiled a second time for AVX2 (x86-64-v3)
//! and chosen at run time when the CPU has it, through `pulp` (its dispatch holds the `unsafe` this
//! workspace forbids). Only independent lanes get wider: every output is computed by the same
//! scalar steps, in the same order, as the portable kernel (one multiply, then one add: Rust
//! never fuses them, and nothing here asks for a fused multiply-add), so the results are
//! bit-identical, which the property tests check on every kernel that runs here. Without `std`
//! (the runtime's wasm) there is only [`Isa::Portable`].

/// The instruction set a kernel runs on.
#[derive(Clone, Copy, Debug)]
pub enum Isa {
	/// The portable build (x86-64 baseline, SSE2 lanes; any other target).
	Portable,
	/// AVX2 lanes (and their 16 registers of 8 f32).
	#[cfg(all(feature = "std", target_arch = "x86_64"))]
	Avx2(pulp::x86::V3),
}

impl Isa {
	/// The best this CPU has, unless `EDGEPROOF_CANON_SIMD=0` asks for the portable kernels
	/// (to compare the two).
	pub fn detect() -> Isa {
		#[cfg(feature = "std")]
		{
			static ISA: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
			*ISA.get_or_init(|| {
				if std::env::var("EDGEPROOF_CANON_SIMD").is_ok_and(|v| v == "0") {
					return Isa::Portable;
				}
				#[cfg(target_arch = "x86_64")]
				if let Some(v3) = pulp::x86::V3::try_new() {
					return Isa::Avx2(v3);
				}
				Isa::Portable
			})
		}
		#[cfg(not(feature = "std"))]
		Isa::Portable
	}

	/// Runs `kernel`, compiled for this instruction set: its `call` (and whatever that inlines,
	/// so the loops it calls are `#[inline(always)]`, as `call` itself must be) is vectorised
	/// with this set's lanes.
	#[inline(always)]
	pub fn run<K: Kernel>(self, kernel: K) -> K::Output {
		match self {
			Isa::Portable => kernel.call(),
			#[cfg(all(feature = "std", target_arch = "x86_64"))]
			Isa::Avx2(v3) => v3.vectorize(OnIsa(kernel)),
		}
	}

	/// True for a set with 8-wide f32 lanes, where kernels keep more register tiles in flight.
	pub fn wide(self) -> bool {
		!matches!(self, Isa::Portable)
	}
}

/// A piece of work to compile for an instruction set ([`Isa::run`]). A struct rather than a
/// closure: a closure's body is not always inlined into the dispatching function, and whatever
/// is not inlined there runs on the portable instructions.
pub trait Kernel {
	type Output;
	/// The work; implementations are `#[inline(always)]`.
	fn call(self) -> Self::Output;
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
struct OnIsa<K>(K);

#[cfg(all(feature = "std", target_arch = "x86_64"))]
impl<K: Kernel> pulp::NullaryFnOnce for OnIsa<K> {
	type Output = K::Output;
	#[inline(always)]
	fn call(self) -> K::Output {
		self.0.call()
	}
}
