//! Embeds the marketplace page (`web/dist`, built by `npm run build` in `web/` and committed) in
//! the `gateless` binary, for `gateless web`: a table of every file's path and bytes.

use std::{
	env, fs,
	path::{Path, PathBuf},
};

fn files_under(dir: &Path, found: &mut Vec<PathBuf>) {
	let Ok(entries) = fs::read_dir(dir) else { return };
	for entry in entries.flatten() {
		let path = entry.path();
		if path.is_dir() {
			files_under(&path, found);
		} else {
			found.push(path);
		}
	}
}

fn main() {
	let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
	let dist = manifest.join("../web/dist");
	println!("cargo:rerun-if-changed={}", dist.display());
	let mut files = Vec::new();
	files_under(&dist, &mut files);
	files.sort();
	let mut table =
		String::from("/// The built page's files: path (relative to `web/dist`) and bytes.\n");
	table.push_str("pub static ASSETS: &[(&str, &[u8])] = &[\n");
	for file in &files {
		let relative = file.strip_prefix(&dist).expect("found under dist");
		let relative = relative.to_string_lossy().replace('\\', "/");
		let absolute = fs::canonicalize(file).expect("a file found just now");
		table.push_str(&format!(
			"\t({relative:?}, include_bytes!({:?})),\n",
			absolute.display().to_string()
		));
	}
	table.push_str("];\n");
	let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets it")).join("web_assets.rs");
	fs::write(out, table).expect("OUT_DIR is writable");
}
