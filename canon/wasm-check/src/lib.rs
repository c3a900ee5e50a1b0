//! Exports the canonical executor (built `no_std`) to a wasm host.
//!
//! Protocol: the host calls `canon_alloc(len)` and writes its SCALE-encoded request there, then
//! calls one of the functions below with `(ptr, len)`; each returns a pointer to 33 bytes: a
//! status byte (0 = ok) and a 32-byte hash.
//! - `canon_trace_root`: request `(Program, Vec<Tensor>)`, the trace root.
//! - `canon_substep`: request `(Op, Vec<Tensor>, Geometry, u64, u32, Option<Vec<u8>>)` (a
//!   node's operator and inputs, its cut, tile, segment and state), the leaf
//!   (`Geometry::leaf`) of what that sub-step gives.

use codec::Decode;
use edgeproof_canon::{
	execute,
	substep::{run_substep, Geometry},
	Op, Program, Tensor,
};

static mut RESULT: [u8; 33] = [0u8; 33];

#[no_mangle]
pub extern "C" fn canon_alloc(len: u32) -> *mut u8 {
	let mut buf = Vec::<u8>::with_capacity(len as usize);
	let ptr = buf.as_mut_ptr();
	core::mem::forget(buf);
	ptr
}

/// Takes the request at `ptr`, answers it with `f` and returns the result's address.
fn respond(ptr: *mut u8, len: u32, f: impl FnOnce(&[u8]) -> Option<[u8; 32]>) -> *const u8 {
	// SAFETY: the host wrote `len` bytes at `ptr`, which `canon_alloc(len)` returned.
	let bytes = unsafe { Vec::from_raw_parts(ptr, len as usize, len as usize) };
	let mut out = [1u8; 33];
	if let Some(hash) = f(&bytes) {
		out[0] = 0;
		out[1..].copy_from_slice(&hash);
	}
	// SAFETY: single-threaded wasm instance; the host reads the result before the next call.
	unsafe {
		RESULT = out;
		core::ptr::addr_of!(RESULT) as *const u8
	}
}

#[no_mangle]
pub extern "C" fn canon_trace_root(ptr: *mut u8, len: u32) -> *const u8 {
	respond(ptr, len, |mut bytes| {
		let (program, inputs) = <(Program, Vec<Tensor>)>::decode(&mut bytes).ok()?;
		Some(execute(&program, &inputs).ok()?.root())
	})
}

#[no_mangle]
pub extern "C" fn canon_substep(ptr: *mut u8, len: u32) -> *const u8 {
	respond(ptr, len, |mut bytes| {
		type Request = (Op, Vec<Tensor>, Geometry, u64, u32, Option<Vec<u8>>);
		let (op, inputs, g, t, s, state) = Request::decode(&mut bytes).ok()?;
		let refs: Vec<&Tensor> = inputs.iter().collect();
		Some(g.leaf(s, &run_substep(&op, &refs, &g, t, s, state.as_deref()).ok()?))
	})
}
