//! Builds the runtime's WASM with the `try-runtime` feature, for `src/try_runtime.rs`: the
//! runtime of this tree and the next version that the upgrade test enacts (the runtime's
//! `upgrade-test-next-version`), so that the blocks of either can be executed again with
//! `try_state`. Both share one WASM project, as in the runtime's `build.rs`: the next version is
//! built first and copied aside.
//!
//! substrate-wasm-builder names its build folder after the runtime crate and puts it beside the
//! `build` folder of the `OUT_DIR` it is given, so with this crate's own `OUT_DIR` it would share
//! (and overwrite) the WASM the node embeds. It is given one of its own
//! (`<profile>/wbuild-try-runtime`) instead: the two builds keep their own folders and neither
//! rebuilds the other.

use std::path::{Path, PathBuf};

fn main() {
	let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
	// `<target>/<profile>/build/gateless-e2e-<hash>/out`.
	let profile_dir = out_dir.ancestors().nth(3).expect("OUT_DIR is inside a profile folder");
	// `<profile>/wbuild-try-runtime/<profile>/build/out`: the builder reads the profile from the
	// folder above `wbuild`, and builds the WASM in release for a debug build, as for the node.
	let profile = profile_dir.file_name().expect("a profile folder has a name");
	let try_runtime_out =
		profile_dir.join("wbuild-try-runtime").join(profile).join("build").join("out");
	std::fs::create_dir_all(&try_runtime_out).expect("the target folder is writable");
	// The builder dates the WASM it writes like cargo's `invoked.timestamp` beside `OUT_DIR`, so
	// that cargo does not see it as changed and run this script again at every build.
	let invoked = std::fs::metadata(out_dir.join("../invoked.timestamp"))
		.and_then(|metadata| metadata.modified())
		.expect("cargo writes invoked.timestamp beside OUT_DIR");
	std::fs::File::create(try_runtime_out.join("../invoked.timestamp"))
		.and_then(|file| file.set_modified(invoked))
		.expect("the target folder is writable");
	std::env::set_var("OUT_DIR", &try_runtime_out);

	let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
	let runtime = manifest_dir.join("..").join("runtime").join("Cargo.toml");
	let builder = || {
		substrate_wasm_builder::WasmBuilder::new()
			.with_project(canonical(&runtime))
			.expect("the runtime's Cargo.toml exists")
			.import_memory()
			.export_heap_base()
			.enable_feature("try-runtime")
	};
	builder()
		.enable_feature("upgrade-test-next-version")
		.set_file_name("try_runtime_next_wasm.rs")
		.build();
	keep_wasm_aside(
		&try_runtime_out,
		"try_runtime_next_wasm.rs",
		"gateless_runtime_try_runtime_next.wasm",
		"The upgrade test's next runtime version, with `try-runtime`.",
	);
	builder().set_file_name("try_runtime_wasm.rs").build();
	for (variable, file) in [
		("GATELESS_TRY_RUNTIME_WASM_RS", "try_runtime_wasm.rs"),
		("GATELESS_TRY_RUNTIME_NEXT_WASM_RS", "try_runtime_next_wasm.rs"),
	] {
		println!("cargo:rustc-env={variable}={}", try_runtime_out.join(file).display());
	}
}

include!("../runtime/wasm_aside.rs");

fn canonical(path: &Path) -> PathBuf {
	path.canonicalize().expect("the runtime's Cargo.toml exists")
}
