//! Builds the runtime to WASM (`wasm32v1-none`) with substrate-wasm-builder. The node executes
//! only this WASM blob; `WASM_BINARY` is included by `lib.rs`.
//!
//! It also builds the same runtime with the feature `upgrade-test-next-version` (its spec version
//! one higher, nothing else changed) into `upgrade_test::WASM_BINARY`, the code of the runtime
//! upgrade that the end-to-end tests enact through the Council. Both builds share one WASM
//! project (substrate-wasm-builder names it after the crate), so the next version is built first
//! and copied aside, and the runtime the node embeds is built last; the second build only
//! recompiles this crate.

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

/// Copies the next version's WASM out of the shared project into `OUT_DIR`, and points
/// `wasm_binary_next.rs` at the copy.
#[cfg(feature = "std")]
fn keep_next_version_aside() {
	use std::{fs, path::PathBuf};

	let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
	let generated = out_dir.join("wasm_binary_next.rs");
	let text = fs::read_to_string(&generated).expect("substrate-wasm-builder wrote it");
	// `pub const WASM_BINARY: Option<&[u8]> = Some(include_bytes!("<path>"));`, or `None` when
	// the WASM build is skipped.
	let path = text
		.lines()
		.find(|line| line.contains("pub const WASM_BINARY:"))
		.and_then(|line| line.split("include_bytes!(\"").nth(1))
		.and_then(|rest| rest.split("\")").next());
	let binary = match path {
		Some(path) => {
			let copy = out_dir.join("gateless_runtime_next.wasm");
			fs::copy(path, &copy).expect("the next version's WASM can be copied");
			format!("Some(include_bytes!({:?}))", copy.display().to_string())
		},
		None => "None".to_string(),
	};
	fs::write(
		&generated,
		format!(
			"/// The runtime with its spec version one higher: the code of the upgrade test.\n\
			 pub const WASM_BINARY: Option<&[u8]> = {binary};\n"
		),
	)
	.expect("OUT_DIR is writable");
}

/// Without `std` this crate is being built as the WASM itself: nothing to do.
#[cfg(not(feature = "std"))]
fn main() {}
