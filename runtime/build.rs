//! Builds the runtime to WASM (`wasm32v1-none`) with substrate-wasm-builder. The node executes
//! only this WASM blob; `WASM_BINARY` is included by `lib.rs`.
//!
//! It also builds the same runtime with the feature `upgrade-test-next-version` (its spec version
//! one higher, nothing else changed) into `upgrade_test::WASM_BINARY`, the code of the runtime
//! upgrade that the end-to-end tests enact through the Council. Both builds share one WASM
//! project (substrate-wasm-builder names it after the crate), so the next version is built first
//! and copied aside, and the runtime the node embeds is built last; the second build only
//! recompiles this crate.

// A build script that cannot write its output should stop the build with the reason.
#![allow(clippy::expect_used)]

#[cfg(feature = "std")]
fn builder() -> substrate_wasm_builder::WasmBuilder {
	let builder = substrate_wasm_builder::WasmBuilder::init_with_defaults();
	#[cfg(feature = "metadata-hash")]
	let builder = builder.enable_metadata_hash("GATE", 12);
	builder
}

#[cfg(feature = "std")]
fn main() {
	builder()
		.enable_feature("upgrade-test-next-version")
		.set_file_name("wasm_binary_next.rs")
		.build();
	keep_next_version_aside();
	builder().build();
}

#[cfg(feature = "std")]
include!("wasm_aside.rs");

/// Copies the next version's WASM out of the shared project into `OUT_DIR`.
#[cfg(feature = "std")]
fn keep_next_version_aside() {
	let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
	keep_wasm_aside(
		&out_dir,
		"wasm_binary_next.rs",
		"gateless_runtime_next.wasm",
		"The runtime with its spec version one higher: the code of the upgrade test.",
	);
}

/// Without `std` this crate is being built as the WASM itself: nothing to do.
#[cfg(not(feature = "std"))]
fn main() {}
