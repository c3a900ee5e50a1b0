//! Declares the `substrate_runtime` cfg, which `#[runtime_interface]` uses to tell the wasm
//! runtime build from native builds.

fn main() {
	println!("cargo::rustc-check-cfg=cfg(substrate_runtime)");
}
