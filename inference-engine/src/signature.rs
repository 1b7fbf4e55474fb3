//! A model's signature as its ONNX file declares it: read from the protobuf, not from tract's
//! typing, which needs concrete shapes for most real exported graphs.
//!
//! The graph's declared inputs (those without an initializer) and outputs give the names, element
//! types and dimensions: a `dim_value` is fixed, a `dim_param` is a named symbol (`batch`,
//! `height`; the same name in two places is the same size), anything else is an anonymous dynamic
//! dimension. Every symbol gets the example size 1 until the builder names another (the shape
//! validators attest the model at).

use std::collections::HashSet;

use gateless_primitives::model::{
	DType, Dim, ModelSignature, SymbolSpec, TensorSpec, MAX_MODEL_TENSORS, MAX_SYMBOLS,
};
use tract_onnx::{
	pb::{
		self, tensor_proto::DataType, tensor_shape_proto::dimension::Value as DimValue,
		type_proto::Value as TypeValue,
	},
	prelude::Framework,
};

use crate::LoadError;

/// The element type of an ONNX `TensorProto.DataType`, if the engine supports it.
fn dtype_of_onnx(elem_type: i32) -> Option<DType> {
	Some(match DataType::try_from(elem_type).ok()? {
		DataType::Float => DType::F32,
		DataType::Double => DType::F64,
		DataType::Float16 => DType::F16,
		DataType::Int8 => DType::I8,
		DataType::Int16 => DType::I16,
		DataType::Int32 => DType::I32,
		DataType::Int64 => DType::I64,
		DataType::Uint8 => DType::U8,
		DataType::Uint16 => DType::U16,
		DataType::Uint32 => DType::U32,
		DataType::Uint64 => DType::U64,
		DataType::Bool => DType::Bool,
		_ => return None,
	})
}

/// The symbols met so far, in order of first appearance.
#[derive(Default)]
struct Symbols(Vec<String>);

impl Symbols {
	fn index_of(&mut self, name: &str) -> Result<u8, LoadError> {
		let index = match self.0.iter().position(|known| known == name) {
			Some(index) => index,
			None => {
				self.0.push(name.to_owned());
				self.0.len() - 1
			},
		};
		if index >= MAX_SYMBOLS as usize {
			return Err(LoadError::Unsupported(format!(
				"the graph names more than {MAX_SYMBOLS} symbolic dimensions"
			)));
		}
		u8::try_from(index).map_err(|_| LoadError::Unsupported("too many symbols".into()))
	}
}

/// The spec of one declared graph input or output.
fn spec_of(info: &pb::ValueInfoProto, symbols: &mut Symbols) -> Result<TensorSpec, LoadError> {
	let name = &info.name;
	let unsupported = |why: String| LoadError::Unsupported(format!("`{name}` {why}"));
	let Some(TypeValue::TensorType(tensor)) = info.r#type.as_ref().and_then(|t| t.value.as_ref())
	else {
		return Err(unsupported("is not a tensor".into()));
	};
	let dtype = dtype_of_onnx(tensor.elem_type).ok_or_else(|| {
		let named = DataType::try_from(tensor.elem_type)
			.map(|dtype| format!("{dtype:?}"))
			.unwrap_or_else(|_| tensor.elem_type.to_string());
		unsupported(format!("has the unsupported element type {named}"))
	})?;
	let shape = tensor
		.shape
		.as_ref()
		.ok_or_else(|| unsupported("has no declared shape".into()))?;
	let mut dims = Vec::with_capacity(shape.dim.len());
	for dim in &shape.dim {
		dims.push(match &dim.value {
			Some(DimValue::DimValue(size)) if *size > 0 => Dim::Fixed(
				u32::try_from(*size)
					.map_err(|_| unsupported(format!("has a dimension of {size}")))?,
			),
			Some(DimValue::DimParam(symbol)) if !symbol.is_empty() => {
				Dim::Symbol(symbols.index_of(symbol)?)
			},
			// Exporters write unknown sizes as 0, -1 or nothing.
			_ => Dim::Dynamic,
		});
	}
	Ok(TensorSpec {
		name: name
			.as_bytes()
			.to_vec()
			.try_into()
			.map_err(|_| unsupported("has too long a name".into()))?,
		dtype,
		shape: dims.try_into().map_err(|_| unsupported("has too many dimensions".into()))?,
	})
}

/// Reads the signature an ONNX file declares: its inputs (initializers excluded) and outputs in
/// graph order, with their element types and dimensions, and the named symbols, each with the
/// example size 1. Nothing of the graph is typed or run, so no model can exhaust the reader.
pub fn read_signature(bytes: &[u8]) -> Result<ModelSignature, LoadError> {
	let proto = tract_onnx::onnx()
		.proto_model_for_read(&mut &bytes[..])
		.map_err(|error| LoadError::Malformed(format!("{error:#}")))?;
	let graph = proto.graph.as_ref().ok_or_else(|| LoadError::Malformed("no graph".into()))?;
	let initialized: HashSet<&str> =
		graph.initializer.iter().map(|tensor| tensor.name.as_str()).collect();
	let mut symbols = Symbols::default();
	let inputs = graph
		.input
		.iter()
		.filter(|input| !initialized.contains(input.name.as_str()))
		.map(|input| spec_of(input, &mut symbols))
		.collect::<Result<Vec<_>, _>>()?;
	let outputs = graph
		.output
		.iter()
		.map(|output| spec_of(output, &mut symbols))
		.collect::<Result<Vec<_>, _>>()?;
	let too_many = |side: &str, count: usize| {
		LoadError::Unsupported(format!(
			"the graph has {count} {side}, more than the {MAX_MODEL_TENSORS} a model may have"
		))
	};
	let (input_count, output_count) = (inputs.len(), outputs.len());
	let symbols = symbols
		.0
		.into_iter()
		.map(|name| {
			Ok(SymbolSpec {
				name: name.as_bytes().to_vec().try_into().map_err(|_| {
					LoadError::Unsupported(format!("the symbol `{name}` has too long a name"))
				})?,
				example: 1,
			})
		})
		.collect::<Result<Vec<_>, LoadError>>()?;
	Ok(ModelSignature {
		inputs: inputs.try_into().map_err(|_| too_many("inputs", input_count))?,
		outputs: outputs.try_into().map_err(|_| too_many("outputs", output_count))?,
		symbols: symbols
			.try_into()
			.map_err(|_| LoadError::Unsupported("too many symbols".into()))?,
	})
}

/// Checks a registered signature against the one the file declares: the same tensors (names,
/// element types, ranks) in the same order, and the same size wherever both fix a dimension. A
/// builder may fix a dimension the file leaves free, or leave free one the file fixes (a job of
/// another size then fails as a bad input); symbols may be named differently (or left anonymous,
/// as registrations before symbols were) and have any example size.
pub fn check_declared(file: &ModelSignature, registered: &ModelSignature) -> Result<(), String> {
	for (side, in_file, declared) in [
		("inputs", &file.inputs, &registered.inputs),
		("outputs", &file.outputs, &registered.outputs),
	] {
		if in_file.len() != declared.len() {
			return Err(format!(
				"the graph has {} {side}, declared {}",
				in_file.len(),
				declared.len()
			));
		}
		for (actual, spec) in in_file.iter().zip(declared.iter()) {
			let name = String::from_utf8_lossy(&actual.name);
			if actual.name != spec.name {
				let declared_name = String::from_utf8_lossy(&spec.name);
				return Err(format!("tensor `{name}` is declared as `{declared_name}`"));
			}
			if actual.dtype != spec.dtype {
				return Err(format!("`{name}` is {:?}, declared {:?}", actual.dtype, spec.dtype));
			}
			if actual.shape.len() != spec.shape.len() {
				return Err(format!(
					"`{name}` has rank {}, declared {}",
					actual.shape.len(),
					spec.shape.len()
				));
			}
			for (position, (dim, declared)) in
				actual.shape.iter().zip(spec.shape.iter()).enumerate()
			{
				if let (Dim::Fixed(size), Dim::Fixed(other)) = (dim, declared) {
					if size != other {
						return Err(format!(
							"`{name}` dimension {position} is {size}, declared {other}"
						));
					}
				}
			}
		}
	}
	Ok(())
}
