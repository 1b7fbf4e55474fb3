//! Job inputs from files: JSON, NumPy `.npy` (or several named arrays in an `.npz`), or an image
//! for image models, turned into the model's declared input tensors (dtype, shape, little-endian
//! bytes), one per declared input.

use std::path::Path;

use anyhow::{anyhow, bail, ensure, Context, Result};
use gateless_rpc::types::{Dimension, TensorSpec};

/// A tensor as a job carries it.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
	/// `f32`, `i32`, … as in `gateless_model`'s signature.
	pub dtype: String,
	pub shape: Vec<u32>,
	/// Row-major, little-endian.
	pub data: Vec<u8>,
}

/// How an image becomes a tensor.
#[derive(Clone, Copy, Debug)]
pub struct ImageOptions {
	/// Pixels are read as 0..=1 (black to white) and multiplied by this.
	pub scale: f64,
	/// Reads white as 0 (dark ink on light paper, for models trained on light-on-dark data).
	pub invert: bool,
}

/// Reads `path` as the input of a model whose declared input is `spec`: `.json`, `.npy`, or a
/// `.png` image (batch of one).
pub fn read(path: &Path, spec: &TensorSpec, image: ImageOptions) -> Result<Tensor> {
	let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
	let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_lowercase();
	let tensor = match extension.as_str() {
		"json" => from_json(&bytes, spec),
		"npy" => from_npy(&bytes),
		"png" => from_png(&bytes, spec, image),
		other => bail!("unknown input format `.{other}`: use .json, .npy or .png"),
	}
	.with_context(|| format!("reading {}", path.display()))?;
	check(&tensor, spec)?;
	Ok(tensor)
}

/// The model's declared input, checked here so that a mistake costs no transaction.
fn check(tensor: &Tensor, spec: &TensorSpec) -> Result<()> {
	ensure!(
		tensor.dtype == spec.dtype,
		"the input is {}, the model takes {} (`{}`)",
		tensor.dtype,
		spec.dtype,
		spec.name
	);
	let fits = tensor.shape.len() == spec.shape.len()
		&& tensor.shape.iter().zip(&spec.shape).all(|(actual, declared)| {
			*actual > 0 && fixed_size(declared).is_none_or(|declared| declared == *actual)
		});
	ensure!(fits, "the input has shape {:?}, the model takes {}", tensor.shape, shape_text(spec));
	Ok(())
}

/// Reads a job's inputs from `--input` arguments: `NAME=FILE` for each declared input, a bare
/// `FILE` for a model with a single input, or a bare `FILE.npz` holding inputs by name (as
/// `np.savez(path, x=..., state=...)` writes them). Every declared input must be given once, and
/// the inputs must agree on the sizes of the symbols they share (e.g. `batch`).
pub fn read_all(args: &[String], specs: &[TensorSpec], image: ImageOptions) -> Result<Vec<Tensor>> {
	let names = || specs.iter().map(|spec| spec.name.as_str()).collect::<Vec<_>>().join(", ");
	let mut given: Vec<Option<Tensor>> = vec![None; specs.len()];
	let mut place = |position: usize, tensor: Tensor| -> Result<()> {
		let slot = given.get_mut(position).ok_or_else(|| anyhow!("no input {position}"))?;
		ensure!(slot.is_none(), "input `{}` is given twice", specs[position].name);
		*slot = Some(tensor);
		Ok(())
	};
	for arg in args {
		if !arg.contains('=') && arg.to_lowercase().ends_with(".npz") {
			let bytes = std::fs::read(arg).with_context(|| format!("cannot read {arg}"))?;
			for (name, npy) in crate::npz::read(&bytes).with_context(|| format!("reading {arg}"))? {
				let position =
					specs.iter().position(|spec| spec.name == name).ok_or_else(|| {
						anyhow!("{arg} holds `{name}`, which the model does not take; its inputs are {}", names())
					})?;
				let tensor = from_npy(&npy)
					.and_then(|tensor| check(&tensor, &specs[position]).map(|()| tensor))
					.with_context(|| format!("input `{name}` in {arg}"))?;
				place(position, tensor)?;
			}
			continue;
		}
		let named = arg.split_once('=').and_then(|(name, file)| {
			specs.iter().position(|spec| spec.name == name).map(|position| (position, file))
		});
		let (position, file) = match (named, specs) {
			(Some(named), _) => named,
			(None, [_]) => (0, arg.as_str()),
			(None, _) => match arg.split_once('=') {
				Some((name, _)) => {
					bail!("the model has no input `{name}`; its inputs are {}", names())
				},
				None => bail!(
					"the model takes {} inputs: give each as --input NAME=FILE ({}), or all in \
					 one .npz",
					specs.len(),
					names()
				),
			},
		};
		let spec = &specs[position];
		let tensor =
			read(Path::new(file), spec, image).with_context(|| format!("input `{}`", spec.name))?;
		place(position, tensor)?;
	}
	let tensors = specs
		.iter()
		.zip(given)
		.map(|(spec, tensor)| {
			tensor.ok_or_else(|| {
				anyhow!("input `{}` is missing: add --input {}=FILE", spec.name, spec.name)
			})
		})
		.collect::<Result<Vec<_>>>()?;
	check_symbols(&tensors, specs)?;
	Ok(tensors)
}

/// Checks that the inputs give each named symbolic dimension one size.
fn check_symbols(tensors: &[Tensor], specs: &[TensorSpec]) -> Result<()> {
	let mut bound: Vec<(&str, u32, &str)> = Vec::new();
	for (tensor, spec) in tensors.iter().zip(specs) {
		for (size, dim) in tensor.shape.iter().zip(&spec.shape) {
			let Some(Dimension::Symbol(symbol)) = dim else { continue };
			match bound.iter().find(|(name, _, _)| name == symbol) {
				Some((_, other, first)) if other != size => bail!(
					"inputs `{first}` and `{}` disagree on `{symbol}`: {other} and {size}",
					spec.name
				),
				Some(_) => {},
				None => bound.push((symbol, *size, &spec.name)),
			}
		}
	}
	Ok(())
}

/// The size of a declared dimension, if it is fixed.
pub fn fixed_size(dim: &Option<Dimension>) -> Option<u32> {
	match dim {
		Some(Dimension::Fixed(size)) => Some(*size),
		_ => None,
	}
}

/// A declared shape as text: sizes, symbols by name, `?` for anonymous dynamic dimensions.
pub fn shape_text(spec: &TensorSpec) -> String {
	let dims: Vec<String> = spec
		.shape
		.iter()
		.map(|dim| match dim {
			Some(Dimension::Fixed(size)) => size.to_string(),
			Some(Dimension::Symbol(name)) => name.clone(),
			None => "?".into(),
		})
		.collect();
	format!("[{}]", dims.join(", "))
}

fn element_width(dtype: &str) -> Result<usize> {
	let dtype = gateless_primitives::model::DType::from_name(dtype)
		.ok_or_else(|| anyhow::anyhow!("unknown dtype `{dtype}`"))?;
	Ok(dtype.size_in_bytes() as usize)
}

/// Encodes one number as `dtype`, refusing values the type cannot hold.
fn encode(dtype: &str, value: f64, out: &mut Vec<u8>) -> Result<()> {
	let integral = |min: f64, max: f64| -> Result<i128> {
		ensure!(
			value.fract() == 0.0 && value >= min && value <= max,
			"{value} is not a valid {dtype}"
		);
		Ok(value as i128)
	};
	match dtype {
		"f32" => out.extend((value as f32).to_le_bytes()),
		"f64" => out.extend(value.to_le_bytes()),
		"i8" => out.extend((integral(i8::MIN.into(), i8::MAX.into())? as i8).to_le_bytes()),
		"i16" => out.extend((integral(i16::MIN.into(), i16::MAX.into())? as i16).to_le_bytes()),
		"i32" => out.extend((integral(i32::MIN.into(), i32::MAX.into())? as i32).to_le_bytes()),
		"i64" => out.extend((integral(i64::MIN as f64, i64::MAX as f64)? as i64).to_le_bytes()),
		"u8" => out.extend((integral(0.0, u8::MAX.into())? as u8).to_le_bytes()),
		"u16" => out.extend((integral(0.0, u16::MAX.into())? as u16).to_le_bytes()),
		"u32" => out.extend((integral(0.0, u32::MAX.into())? as u32).to_le_bytes()),
		"u64" => out.extend((integral(0.0, u64::MAX as f64)? as u64).to_le_bytes()),
		"bool" => out.push(integral(0.0, 1.0)? as u8),
		other => bail!("cannot write {other} values from JSON"),
	}
	Ok(())
}

/// `{"dtype": "f32", "shape": [2, 64], "values": [...]}`, or nested arrays in the model's dtype.
fn from_json(bytes: &[u8], spec: &TensorSpec) -> Result<Tensor> {
	let json: serde_json::Value = serde_json::from_slice(bytes).context("not valid JSON")?;
	let (dtype, shape, values) = match &json {
		serde_json::Value::Object(object) => {
			let dtype = object
				.get("dtype")
				.and_then(|d| d.as_str())
				.unwrap_or(&spec.dtype)
				.to_lowercase();
			let shape: Vec<u32> = serde_json::from_value(
				object.get("shape").cloned().ok_or_else(|| anyhow!("no `shape`"))?,
			)
			.context("`shape` must be a list of sizes")?;
			let mut values = Vec::new();
			flatten(object.get("values").ok_or_else(|| anyhow!("no `values`"))?, &mut values)?;
			(dtype, shape, values)
		},
		serde_json::Value::Array(_) => {
			let mut shape = Vec::new();
			let mut level = &json;
			while let serde_json::Value::Array(items) = level {
				shape.push(u32::try_from(items.len())?);
				let Some(first) = items.first() else { break };
				level = first;
			}
			let mut values = Vec::new();
			flatten(&json, &mut values)?;
			(spec.dtype.clone(), shape, values)
		},
		_ => bail!("expected an object with dtype, shape and values, or nested arrays"),
	};
	let count: u64 = shape.iter().map(|&d| u64::from(d)).product();
	ensure!(
		count == values.len() as u64,
		"shape {shape:?} holds {count} values, the file has {}",
		values.len()
	);
	let mut data = Vec::with_capacity(values.len() * element_width(&dtype)?);
	for value in values {
		encode(&dtype, value, &mut data)?;
	}
	Ok(Tensor { dtype, shape, data })
}

fn flatten(value: &serde_json::Value, out: &mut Vec<f64>) -> Result<()> {
	match value {
		serde_json::Value::Array(items) => items.iter().try_for_each(|item| flatten(item, out)),
		serde_json::Value::Number(number) => {
			out.push(number.as_f64().ok_or_else(|| anyhow!("{number} is not a number"))?);
			Ok(())
		},
		serde_json::Value::Bool(flag) => {
			out.push(if *flag { 1.0 } else { 0.0 });
			Ok(())
		},
		other => bail!("{other} is not a number"),
	}
}

/// A NumPy `.npy` file (format 1.0–3.0), little-endian, C order.
fn from_npy(bytes: &[u8]) -> Result<Tensor> {
	ensure!(bytes.starts_with(b"\x93NUMPY"), "not a .npy file");
	let major = *bytes.get(6).ok_or_else(|| anyhow!("truncated .npy header"))?;
	let (header_len, start) = match major {
		1 => {
			let len = bytes.get(8..10).ok_or_else(|| anyhow!("truncated .npy header"))?;
			(u16::from_le_bytes(len.try_into()?) as usize, 10)
		},
		2 | 3 => {
			let len = bytes.get(8..12).ok_or_else(|| anyhow!("truncated .npy header"))?;
			(u32::from_le_bytes(len.try_into()?) as usize, 12)
		},
		other => bail!("unsupported .npy version {other}"),
	};
	let header = bytes
		.get(start..start + header_len)
		.ok_or_else(|| anyhow!("truncated .npy header"))?;
	let header = std::str::from_utf8(header).context("the .npy header is not text")?;
	let field = |name: &str| -> Result<&str> {
		let key = format!("'{name}':");
		let at = header.find(&key).ok_or_else(|| anyhow!("the .npy header has no {name}"))?;
		Ok(header[at + key.len()..].trim_start())
	};
	ensure!(
		field("fortran_order")?.starts_with("False"),
		"Fortran-ordered arrays are not supported"
	);
	let descr = field("descr")?;
	let descr = descr.trim_start_matches('\'').split('\'').next().unwrap_or("");
	let dtype = match descr {
		"<f4" => "f32",
		"<f8" => "f64",
		"<f2" => "f16",
		"|i1" | "<i1" => "i8",
		"<i2" => "i16",
		"<i4" => "i32",
		"<i8" => "i64",
		"|u1" | "<u1" => "u8",
		"<u2" => "u16",
		"<u4" => "u32",
		"<u8" => "u64",
		"|b1" => "bool",
		other => bail!("unsupported .npy dtype `{other}` (little-endian numbers only)"),
	};
	let shape = field("shape")?;
	let shape = shape.trim_start_matches('(').split(')').next().unwrap_or("");
	let shape: Vec<u32> = shape
		.split(',')
		.map(str::trim)
		.filter(|dim| !dim.is_empty())
		.map(|dim| dim.parse().with_context(|| format!("bad dimension `{dim}`")))
		.collect::<Result<_>>()?;
	let data = bytes[start + header_len..].to_vec();
	let count: u64 = shape.iter().map(|&d| u64::from(d)).product();
	ensure!(
		data.len() as u64 == count * element_width(dtype)? as u64,
		"the .npy data does not hold {count} {dtype} values"
	);
	Ok(Tensor { dtype: dtype.into(), shape, data })
}

/// A PNG image, in grey levels, averaged down to the model's per-sample size (e.g. 64 values
/// for an 8x8 input, flat or not), as a batch of one.
fn from_png(bytes: &[u8], spec: &TensorSpec, options: ImageOptions) -> Result<Tensor> {
	let mut decoder = png::Decoder::new(bytes);
	decoder.set_transformations(png::Transformations::normalize_to_color8());
	let mut reader = decoder.read_info().context("not a PNG image")?;
	let mut buffer = vec![0; reader.output_buffer_size()];
	let frame = reader.next_frame(&mut buffer).context("cannot decode the PNG image")?;
	let (width, height) = (frame.width as usize, frame.height as usize);
	let channels = frame.color_type.samples();
	let pixels = &buffer[..frame.buffer_size()];
	let grey: Vec<f64> = pixels
		.chunks_exact(channels)
		.map(|pixel| {
			// Colour channels only (alpha, if any, is last and ignored).
			let colour = &pixel[..channels.min(3)];
			colour.iter().map(|&c| f64::from(c)).sum::<f64>() / colour.len() as f64 / 255.0
		})
		.collect();

	// The first dimension is the batch (1); the rest must be fixed.
	let sample: Vec<u32> = spec
		.shape
		.iter()
		.skip(1)
		.map(|dim| {
			fixed_size(dim)
				.ok_or_else(|| anyhow!("the model's input {} is not fixed", shape_text(spec)))
		})
		.collect::<Result<_>>()?;
	let count: usize = sample.iter().map(|&d| d as usize).product();
	let side = (count as f64).sqrt().round() as usize;
	let (rows, columns) = match sample.as_slice() {
		[.., rows, columns] if (*rows as usize) * (*columns as usize) == count => {
			(*rows as usize, *columns as usize)
		},
		_ if side * side == count => (side, side),
		_ => bail!("cannot map an image onto the model's input {}", shape_text(spec)),
	};
	ensure!(
		width >= columns && height >= rows,
		"the image ({width}x{height}) is smaller than the model's input ({columns}x{rows})"
	);
	let mut values = Vec::with_capacity(count);
	for row in 0..rows {
		for column in 0..columns {
			// The mean of the pixels that fall in this cell.
			let (y0, y1) = (row * height / rows, (row + 1) * height / rows);
			let (x0, x1) = (column * width / columns, (column + 1) * width / columns);
			let mut sum = 0.0;
			for y in y0..y1 {
				sum += grey[y * width + x0..y * width + x1].iter().sum::<f64>();
			}
			let mean = sum / ((y1 - y0) * (x1 - x0)) as f64;
			let level = if options.invert { 1.0 - mean } else { mean };
			values.push(level * options.scale);
		}
	}
	let mut data = Vec::with_capacity(count * element_width(&spec.dtype)?);
	let integer = !spec.dtype.starts_with('f');
	for value in values {
		encode(&spec.dtype, if integer { value.round() } else { value }, &mut data)?;
	}
	let mut shape = vec![1];
	shape.extend(sample);
	Ok(Tensor { dtype: spec.dtype.clone(), shape, data })
}

#[cfg(test)]
mod tests {
	use super::*;

	fn spec(dtype: &str, shape: &[Option<u32>]) -> TensorSpec {
		TensorSpec {
			name: "input".into(),
			dtype: dtype.into(),
			shape: shape.iter().map(|dim| dim.map(Dimension::Fixed)).collect(),
		}
	}

	const IMAGE: ImageOptions = ImageOptions { scale: 16.0, invert: false };

	fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
		let path = dir.join(name);
		std::fs::write(&path, bytes).unwrap();
		path
	}

	#[test]
	fn every_named_input_is_read_once_and_the_inputs_agree_on_their_symbols() {
		let dir = tempfile::tempdir().unwrap();
		let batch = || Some(Dimension::Symbol("batch".into()));
		let specs = vec![
			TensorSpec { name: "x".into(), dtype: "f32".into(), shape: vec![batch(), None] },
			TensorSpec { name: "ids".into(), dtype: "i64".into(), shape: vec![batch()] },
		];
		let file = |name: &str, json: &str| {
			write(dir.path(), name, json.as_bytes()).to_string_lossy().into_owned()
		};
		let x = file("x.json", r#"{"dtype": "f32", "shape": [2, 3], "values": [1,2,3,4,5,6]}"#);
		let ids = file("ids.json", r#"{"dtype": "i64", "shape": [2], "values": [7, 8]}"#);
		let three = file("ids3.json", r#"{"dtype": "i64", "shape": [3], "values": [7, 8, 9]}"#);
		let read = |args: &[String]| read_all(args, &specs, IMAGE);
		// In any order, by name.
		let tensors = read(&[format!("ids={ids}"), format!("x={x}")]).unwrap();
		assert_eq!((tensors[0].shape.clone(), tensors[1].shape.clone()), (vec![2, 3], vec![2]));
		let error = |args: &[String]| format!("{:#}", read(args).unwrap_err());
		assert!(error(&[format!("x={x}")]).contains("input `ids` is missing"));
		assert!(error(std::slice::from_ref(&x)).contains("give each as --input NAME=FILE (x, ids)"));
		assert!(error(&[format!("x={x}"), format!("mask={ids}")]).contains("no input `mask`"));
		assert!(error(&[format!("x={x}"), format!("x={x}")]).contains("`x` is given twice"));
		assert!(error(&[format!("x={x}"), format!("ids={three}")])
			.contains("inputs `x` and `ids` disagree on `batch`: 2 and 3"));
		assert!(error(&[format!("x={ids}"), format!("ids={ids}")]).contains("input `x`"));
		// A model with one input takes a bare file.
		let one = &specs[..1];
		assert_eq!(read_all(&[x], one, IMAGE).unwrap()[0].shape, vec![2, 3]);
	}

	#[test]
	fn json_objects_and_nested_arrays_become_little_endian_tensors() {
		let dir = tempfile::tempdir().unwrap();
		let declared = spec("f32", &[None, Some(2)]);
		let object = write(
			dir.path(),
			"x.json",
			br#"{"dtype": "f32", "shape": [2, 2], "values": [1, 2.5, -3, 0]}"#,
		);
		let tensor = read(&object, &declared, IMAGE).unwrap();
		assert_eq!(tensor.shape, vec![2, 2]);
		let expected: Vec<u8> =
			[1.0f32, 2.5, -3.0, 0.0].iter().flat_map(|v| v.to_le_bytes()).collect();
		assert_eq!(tensor.data, expected);
		let nested = write(dir.path(), "y.json", b"[[1, 2.5], [-3, 0]]");
		assert_eq!(read(&nested, &declared, IMAGE).unwrap(), tensor);

		let ints = spec("i32", &[None, Some(2)]);
		let nested = write(dir.path(), "z.json", b"[[1, -2]]");
		assert_eq!(read(&nested, &ints, IMAGE).unwrap().data, [1, 0, 0, 0, 254, 255, 255, 255]);
	}

	#[test]
	fn inputs_that_do_not_fit_the_model_are_refused_before_submission() {
		let dir = tempfile::tempdir().unwrap();
		let declared = spec("f32", &[None, Some(2)]);
		let wrong_width = write(dir.path(), "a.json", b"[[1, 2, 3]]");
		let error = read(&wrong_width, &declared, IMAGE).unwrap_err();
		assert!(format!("{error:#}").contains("the model takes [?, 2]"), "{error:#}");
		let short = write(dir.path(), "b.json", br#"{"shape": [2, 2], "values": [1, 2, 3]}"#);
		assert!(format!("{:#}", read(&short, &declared, IMAGE).unwrap_err()).contains("holds 4"));
		let fraction = write(dir.path(), "c.json", b"[[1.5, 2]]");
		let error = read(&fraction, &spec("i32", &[None, Some(2)]), IMAGE).unwrap_err();
		assert!(format!("{error:#}").contains("not a valid i32"), "{error:#}");
		let unknown = write(dir.path(), "d.csv", b"1,2");
		assert!(read(&unknown, &declared, IMAGE).is_err());
	}

	#[test]
	fn npy_files_are_read_with_their_dtype_and_shape() {
		let dir = tempfile::tempdir().unwrap();
		let mut header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }".to_vec();
		while !(10 + header.len() + 1).is_multiple_of(64) {
			header.push(b' ');
		}
		header.push(b'\n');
		let mut file = b"\x93NUMPY\x01\x00".to_vec();
		file.extend((header.len() as u16).to_le_bytes());
		file.extend(&header);
		file.extend([0.5f32, 4.0].iter().flat_map(|v| v.to_le_bytes()));
		let path = write(dir.path(), "x.npy", &file);
		let tensor = read(&path, &spec("f32", &[None, Some(2)]), IMAGE).unwrap();
		assert_eq!(tensor.shape, vec![1, 2]);
		assert_eq!(tensor.data.len(), 8);
		assert!(read(&path, &spec("i32", &[None, Some(2)]), IMAGE).is_err());
	}

	#[test]
	fn a_png_image_is_averaged_down_to_the_models_input() {
		let dir = tempfile::tempdir().unwrap();
		// 16x16 grey image: left half white, right half black.
		let mut pixels = Vec::new();
		for _ in 0..16 {
			pixels.extend([255u8; 8]);
			pixels.extend([0u8; 8]);
		}
		let mut encoded = Vec::new();
		{
			let mut encoder = png::Encoder::new(&mut encoded, 16, 16);
			encoder.set_color(png::ColorType::Grayscale);
			encoder.set_depth(png::BitDepth::Eight);
			encoder.write_header().unwrap().write_image_data(&pixels).unwrap();
		}
		let path = write(dir.path(), "digit.png", &encoded);
		let tensor = read(&path, &spec("f32", &[None, Some(64)]), IMAGE).unwrap();
		assert_eq!(tensor.shape, vec![1, 64]);
		let values: Vec<f32> = tensor
			.data
			.chunks_exact(4)
			.map(|b| f32::from_le_bytes(b.try_into().unwrap()))
			.collect();
		assert_eq!(values[..8], [16.0, 16.0, 16.0, 16.0, 0.0, 0.0, 0.0, 0.0]);
		let inverted = ImageOptions { scale: 1.0, invert: true };
		let tensor = read(&path, &spec("f32", &[None, Some(8), Some(8)]), inverted).unwrap();
		assert_eq!(tensor.shape, vec![1, 8, 8]);
		assert_eq!(tensor.data[..4], 0.0f32.to_le_bytes());
	}
}
