//! Exports the canonical executor (built `no_std`) to a wasm host.
//!
//! Protocol: the host calls `canon_alloc(len)`, writes `SCALE((Program, Vec<Tensor>))` there,
//! then calls `canon_trace_root(ptr, len)`, which returns a pointer to 33 bytes: a status byte
//! (0 = ok) and the 32-byte trace root.

use codec::Decode;
use edgeproof_canon::{execute, Program, Tensor};

static mut RESULT: [u8; 33] = [0u8; 33];

#[no_mangle]
pub extern "C" fn canon_alloc(len: u32) -> *mut u8 {
	let mut buf = Vec::<u8>::with_capacity(len as usize);
	let ptr = buf.as_mut_ptr();
	core::mem::forget(buf);
	ptr
}

#[no_mangle]
pub extern "C" fn canon_trace_root(ptr: *mut u8, len: u32) -> *const u8 {
	// SAFETY: the host wrote `len` bytes at `ptr`, which `canon_alloc(len)` returned.
	let bytes = unsafe { Vec::from_raw_parts(ptr, len as usize, len as usize) };
	let mut out = [1u8; 33];
	if let Ok((program, inputs)) = <(Program, Vec<Tensor>)>::decode(&mut &bytes[..]) {
		if let Ok(trace) = execute(&program, &inputs) {
			out[0] = 0;
			out[1..].copy_from_slice(&trace.root());
		}
	}
	// SAFETY: single-threaded wasm instance; the host reads the result before the next call.
	unsafe {
		RESULT = out;
		core::ptr::addr_of!(RESULT) as *const u8
	}
}
