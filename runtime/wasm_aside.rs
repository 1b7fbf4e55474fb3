// Included by `build.rs` and by the end-to-end tests' `build.rs`, which both build two WASMs of
// the runtime in one substrate-wasm-builder project (it names the project after the crate, so
// the second build overwrites the first's file).

/// Copies the WASM that substrate-wasm-builder just built, which `out_dir/file_name` includes,
/// to `out_dir/copy_name`, and rewrites `file_name` to include the copy as `WASM_BINARY` with
/// `doc` as its doc comment (or `None` when the WASM build was skipped).
fn keep_wasm_aside(out_dir: &std::path::Path, file_name: &str, copy_name: &str, doc: &str) {
	let generated = out_dir.join(file_name);
	let text = std::fs::read_to_string(&generated).expect("substrate-wasm-builder wrote it");
	// `pub const WASM_BINARY: Option<&[u8]> = Some(include_bytes!("<path>"));`, or `None` when
	// the WASM build is skipped.
	let path = text
		.lines()
		.find(|line| line.contains("pub const WASM_BINARY:"))
		.and_then(|line| line.split("include_bytes!(\"").nth(1))
		.and_then(|rest| rest.split("\")").next());
	let binary = match path {
		Some(path) => {
			let copy = out_dir.join(copy_name);
			std::fs::copy(path, &copy).expect("the WASM just built can be copied");
			format!("Some(include_bytes!({:?}))", copy.display().to_string())
		},
		None => "None".to_string(),
	};
	std::fs::write(
		&generated,
		format!("/// {doc}\npub const WASM_BINARY: Option<&[u8]> = {binary};\n"),
	)
	.expect("OUT_DIR is writable");
}
