//! Native-only parallelism (feature `std`): independent pieces of work spread over threads.
//! Every piece is computed by the same sequential code as without threads, so results are
//! bit-identical whatever the thread count; the `no_std` (wasm) build runs them in order.

use std::{num::NonZeroUsize, sync::OnceLock, thread};

/// Multiply-adds below which a product is not split between threads (about a millisecond).
pub const SPLIT_WORK: usize = 1 << 20;

/// `f(m, k, n, a, b, out)` for a product whose output rows are independent: when large, the
/// first half of the rows (of `a` and `out`) on this thread and the rest on another.
pub fn by_rows<T: Sync + Send>(
	(m, k, n): (usize, usize, usize),
	a: &[T],
	b: &[T],
	out: &mut [T],
	f: impl Fn(usize, usize, usize, &[T], &[T], &mut [T]) + Sync,
) {
	if m < 2 || m.saturating_mul(k).saturating_mul(n) < SPLIT_WORK || threads() == 1 {
		return f(m, k, n, a, b, out);
	}
	let half = m / 2;
	let (a0, a1) = a.split_at((half * k).min(a.len()));
	let (o0, o1) = out.split_at_mut((half * n).min(out.len()));
	join(|| f(half, k, n, a0, b, o0), || f(m - half, k, n, a1, b, o1));
}

/// Runs `first` on this thread and `second` on another, and returns both results; a panic in
/// `second` is resumed here, as if it had run on this thread.
pub fn join<A, B: Send>(first: impl FnOnce() -> A, second: impl FnOnce() -> B + Send) -> (A, B) {
	thread::scope(|s| {
		let other = s.spawn(second);
		let a = first();
		(a, other.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
	})
}

/// Threads to use: `EDGEPROOF_CANON_THREADS` if set (1 disables threads), else the machine's
/// available parallelism, at most 8.
pub fn threads() -> usize {
	static THREADS: OnceLock<usize> = OnceLock::new();
	*THREADS.get_or_init(|| {
		std::env::var("EDGEPROOF_CANON_THREADS")
			.ok()
			.and_then(|v| v.parse::<usize>().ok())
			.unwrap_or_else(|| thread::available_parallelism().map_or(1, NonZeroUsize::get))
			.clamp(1, 8)
	})
}

/// `items.iter().map(f).collect()`, the items split into contiguous runs of about equal total
/// `weight`, one per thread.
pub fn map<T: Sync, R: Send>(
	items: &[T],
	weight: impl Fn(&T) -> usize,
	f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
	let total: usize = items.iter().map(&weight).sum();
	let n = threads();
	if n == 1 || items.len() < 2 {
		return items.iter().map(f).collect();
	}
	let share = total.div_ceil(n).max(1);
	let mut runs = Vec::with_capacity(n);
	let (mut start, mut acc) = (0, 0);
	for (i, item) in items.iter().enumerate() {
		acc += weight(item);
		if acc >= share && runs.len() + 1 < n {
			runs.push(&items[start..=i]);
			(start, acc) = (i + 1, 0);
		}
	}
	runs.push(&items[start..]);
	let f = &f;
	thread::scope(|s| {
		let handles: Vec<_> = runs[1..]
			.iter()
			.map(|run| s.spawn(move || run.iter().map(f).collect::<Vec<R>>()))
			.collect();
		let mut out: Vec<R> = runs[0].iter().map(f).collect();
		for h in handles {
			// A panic in a piece is a panic of the caller, as without threads.
			out.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
		}
		out
	})
}
