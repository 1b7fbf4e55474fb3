//! How much compute a model takes, counted the same way by every validator: what job fees
//! follow (see `ComputeCost` in the primitives).
//!
//! tract reports a static cost per operator for the shapes of its inputs. The count is taken on
//! the **decluttered** graph, not the optimised one: optimisation picks kernels by the CPU it
//! runs on (and reports their costs), while declutter rewrites the graph the same way everywhere
//! (its one CPU-dependent choice, the axis layout of depthwise convolutions, leaves the
//! multiply-adds unchanged). It counts the operations tract calls compute, multiply-adds and
//! divisions (matrix products and convolutions carry most of them; element-wise products,
//! activations and reductions the rest), plus every node's output elements, so that a graph of
//! additions, maxima and copies is not free. A count that tract cannot make concrete (a shape
//! computed from the data) counts nothing: such a node is priced by the fee's floor alone.

use tract_onnx::prelude::{TDim, TypedModel};

use crate::LoadError;

/// The operations of one run of `typed`, a model typed at concrete input shapes.
pub fn operations(typed: &TypedModel) -> Result<u64, LoadError> {
	let unsupported = |e: tract_onnx::prelude::TractError| LoadError::Unsupported(format!("{e:#}"));
	let model = typed.clone().into_decluttered().map_err(unsupported)?;
	let mut total = 0u64;
	for id in model.eval_order().map_err(unsupported)? {
		let node = model.node(id);
		if node.inputs.is_empty() {
			// Sources and constants compute nothing.
			continue;
		}
		let inputs = model.node_input_facts(id).map_err(unsupported)?;
		let compute = node
			.op
			.cost(&inputs)
			.map_err(unsupported)?
			.into_iter()
			.filter(|(kind, _)| kind.is_compute())
			.map(|(_, count)| concrete(&count))
			.fold(0u64, u64::saturating_add);
		let written = node
			.outputs
			.iter()
			.map(|output| concrete(&output.fact.shape.volume()))
			.fold(0u64, u64::saturating_add);
		total = total.saturating_add(compute).saturating_add(written);
	}
	Ok(total)
}

/// A count as a number, 0 when it stays symbolic or is negative.
fn concrete(count: &TDim) -> u64 {
	count.to_i64().ok().and_then(|count| u64::try_from(count).ok()).unwrap_or(0)
}
