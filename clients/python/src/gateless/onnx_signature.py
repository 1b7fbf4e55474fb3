"""A model's signature as its ONNX file declares it, read as validators read it.

The same rules as the node's reader (``inference-engine/src/signature.rs``): the graph's inputs
that have no initializer, and its outputs, in graph order; a ``dim_value`` above 0 is a fixed
size, a non-empty ``dim_param`` a named symbol (the same name is the same size everywhere), and
anything else (no value, 0, -1) an anonymous dynamic dimension. Symbols are numbered in order of
first appearance, inputs first, and get the example size 1 unless the builder names another: the
size validators load and run the model at before they attest it.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike

import onnx

from .errors import GatelessError
from .types import Dim, Signature, Symbol, TensorSpec

# The chain's bounds on a signature (primitives/src/model.rs).
MAX_MODEL_TENSORS = 8
MAX_TENSOR_RANK = 8
MAX_SYMBOLS = 16
MAX_TENSOR_NAME_LEN = 64

# ONNX element types the chain supports, by the names the JSON-RPC uses.
_DTYPE_OF_ONNX: dict[int, str] = {
    onnx.TensorProto.FLOAT: "f32",
    onnx.TensorProto.DOUBLE: "f64",
    onnx.TensorProto.FLOAT16: "f16",
    onnx.TensorProto.INT8: "i8",
    onnx.TensorProto.INT16: "i16",
    onnx.TensorProto.INT32: "i32",
    onnx.TensorProto.INT64: "i64",
    onnx.TensorProto.UINT8: "u8",
    onnx.TensorProto.UINT16: "u16",
    onnx.TensorProto.UINT32: "u32",
    onnx.TensorProto.UINT64: "u64",
    onnx.TensorProto.BOOL: "bool",
}


class SignatureError(GatelessError, ValueError):
    """The file is not an ONNX model, or declares tensors the chain cannot take."""


def read_signature(
    model: bytes | str | PathLike[str], examples: Mapping[str, int] | None = None
) -> Signature:
    """Reads the inputs and outputs an ONNX model declares.

    Args:
        model: The ONNX file's bytes, or its path.
        examples: The example size of each symbol to set (``{"batch": 4}``); 1 for the others.

    Raises:
        SignatureError: The bytes are not an ONNX model, a tensor has an element type or shape
            the chain does not support, there are too many tensors, dimensions or symbols, or
            `examples` names a symbol the model does not have, or a size below 1.
    """
    if isinstance(model, bytes):
        data = model
    else:
        with open(model, "rb") as file:
            data = file.read()
    try:
        proto = onnx.load_model_from_string(data)
    except Exception as error:  # protobuf's DecodeError and friends: not an ONNX file
        raise SignatureError(f"not an ONNX model: {error}") from error
    graph = proto.graph
    if not graph.output:
        raise SignatureError("not an ONNX model: the graph has no outputs")

    initialized = {tensor.name for tensor in graph.initializer}
    symbols: list[str] = []
    inputs = tuple(_spec(value, symbols) for value in graph.input if value.name not in initialized)
    outputs = tuple(_spec(value, symbols) for value in graph.output)
    for side, tensors in (("inputs", inputs), ("outputs", outputs)):
        if not tensors:
            raise SignatureError(f"the graph has no {side}")
        if len(tensors) > MAX_MODEL_TENSORS:
            raise SignatureError(
                f"the graph has {len(tensors)} {side}, more than the {MAX_MODEL_TENSORS} "
                "a model may have"
            )
    if len(symbols) > MAX_SYMBOLS:
        raise SignatureError(f"the graph names more than {MAX_SYMBOLS} symbolic dimensions")

    sizes = dict(examples or {})
    unknown = set(sizes) - set(symbols)
    if unknown:
        raise SignatureError(
            f"the model has no symbol {', '.join(sorted(unknown))} (it has {symbols})"
        )
    for name, size in sizes.items():
        if not isinstance(size, int) or size < 1:
            raise SignatureError(f"the example size of {name} must be at least 1, not {size}")
    return Signature(inputs, outputs, tuple(Symbol(name, sizes.get(name, 1)) for name in symbols))


def _spec(value: onnx.ValueInfoProto, symbols: list[str]) -> TensorSpec:
    """The spec of one graph input or output; adds the symbols it names to `symbols`."""
    name = value.name
    if not value.type.HasField("tensor_type"):
        raise SignatureError(f"`{name}` is not a tensor")
    tensor = value.type.tensor_type
    dtype = _DTYPE_OF_ONNX.get(tensor.elem_type)
    if dtype is None:
        onnx_name = onnx.TensorProto.DataType.Name(tensor.elem_type)
        raise SignatureError(f"`{name}` has the unsupported element type {onnx_name}")
    if not tensor.HasField("shape"):
        raise SignatureError(f"`{name}` has no declared shape")
    if len(tensor.shape.dim) > MAX_TENSOR_RANK:
        raise SignatureError(f"`{name}` has more than {MAX_TENSOR_RANK} dimensions")
    if not name or len(name.encode()) > MAX_TENSOR_NAME_LEN:
        raise SignatureError(f"`{name}`: a tensor name of 1 to {MAX_TENSOR_NAME_LEN} bytes")
    shape: list[Dim] = []
    for dim in tensor.shape.dim:
        if dim.HasField("dim_value") and dim.dim_value > 0:
            if dim.dim_value > 0xFFFF_FFFF:
                raise SignatureError(f"`{name}` has a dimension of {dim.dim_value}")
            shape.append(int(dim.dim_value))
        elif dim.HasField("dim_param") and dim.dim_param:
            if dim.dim_param not in symbols:
                symbols.append(dim.dim_param)
            shape.append(dim.dim_param)
        else:
            # Exporters write unknown sizes as 0, -1 or nothing.
            shape.append(None)
    return TensorSpec(name, dtype, tuple(shape))
