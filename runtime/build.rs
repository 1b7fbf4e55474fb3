//! Builds the runtime to WASM (`wasm32v1-none`) with substrate-wasm-builder. The node executes
//! only this WASM blob; `WASM_BINARY` is included by `lib.rs`.

#[cfg(all(feature = "std", feature = "metadata-hash"))]
fn main() {
	substrate_wasm_builder::WasmBuilder::init_with_defaults()
		.enable_metadata_hash("GATE", 12)
		.build();
}

#[cfg(all(feature = "std", not(feature = "metadata-hash")))]
fn main() {
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
}

/// Without `std` this crate is being built as the WASM itself: nothing to do.
#[cfg(not(feature = "std"))]
fn main() {}
