//! Builds the wasm runtime and embeds it as `WASM_BINARY` (skipped with `SKIP_WASM_BUILD=1`).

#[cfg(all(feature = "std", feature = "metadata-hash"))]
fn main() {
	substrate_wasm_builder::WasmBuilder::init_with_defaults()
		.enable_metadata_hash("EDGE", 12)
		.build();
}

#[cfg(all(feature = "std", not(feature = "metadata-hash")))]
fn main() {
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
}

/// Compiling the runtime for wasm itself needs no build script.
#[cfg(not(feature = "std"))]
fn main() {}
