"""NumPy arrays in and out: a job's inputs checked against a model's declared inputs, encoded as
the chain takes them, and outputs decoded back into arrays.

Tensors travel as their elements' little-endian bytes in row-major order (``bool`` one byte, 0
or 1). The checks are the chain's own (``check_inputs`` in ``primitives/src/job.rs``), in its
order, so that a job that would be refused is refused here, before anything is paid, with the
name the chain would give.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .types import NUMPY_DTYPES, Signature, TensorSpec, dtype_name

#: A job's inputs: arrays by input name, or one bare array for a model with one input. Python
#: scalars and (nested) lists are taken as arrays of the declared dtype.
Inputs = Mapping[str, ArrayLike] | ArrayLike

# The chain's DType variants, by the JSON-RPC's names.
CHAIN_DTYPES = {
    "f32": "F32",
    "f64": "F64",
    "f16": "F16",
    "i8": "I8",
    "i16": "I16",
    "i32": "I32",
    "i64": "I64",
    "u8": "U8",
    "u16": "U16",
    "u32": "U32",
    "u64": "U64",
    "bool": "Bool",
}


class InputMismatch(Exception):
    """Inputs the chain would refuse: `name` is the chain's error (``InputShapeMismatch``, ...),
    `detail` says which input and how."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"{name}: {detail}")
        self.name = name
        self.detail = detail


def by_name(signature: Signature, inputs: Inputs) -> dict[str, Any]:
    """The inputs by declared name: a bare array is the only input of a one-input model.

    Raises:
        InputMismatch: ``InputCountMismatch`` for a missing or unknown name, or a bare array
            for a model with several inputs.
    """
    names = [spec.name for spec in signature.inputs]
    if not isinstance(inputs, Mapping):
        if len(names) != 1:
            raise InputMismatch(
                "InputCountMismatch",
                f"the model has {len(names)} inputs ({', '.join(names)}): give them by name",
            )
        return {names[0]: inputs}
    missing = [name for name in names if name not in inputs]
    unknown = [str(name) for name in inputs if name not in names]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown {', '.join(unknown)}")
        raise InputMismatch(
            "InputCountMismatch",
            f"{'; '.join(problems)} (the model's inputs are {', '.join(names)})",
        )
    return dict(inputs)


def prepare(signature: Signature, inputs: Inputs) -> list[np.ndarray]:
    """The inputs as arrays in the model's declared order, checked as the chain checks them.

    A NumPy array must have the declared dtype already (``x.astype(np.float32)``); scalars and
    lists are converted to it when that loses no kind (ints to floats, not floats to ints).

    Raises:
        InputMismatch: ``InputCountMismatch``, ``InputDTypeMismatch``, ``InputRankMismatch``,
            ``InputShapeMismatch`` (a dimension 0 or not the declared fixed size) or
            ``InputSymbolMismatch`` (a symbol such as ``batch`` with two sizes).
    """
    given = by_name(signature, inputs)
    arrays = [_array_of(spec, given[spec.name]) for spec in signature.inputs]
    bound: dict[str, tuple[int, str]] = {}
    for spec, array in zip(signature.inputs, arrays, strict=True):
        _check_shape(spec, array.shape)
        for dim, size in zip(spec.shape, array.shape, strict=True):
            if isinstance(dim, str):
                first = bound.setdefault(dim, (size, spec.name))
                if first[0] != size:
                    raise InputMismatch(
                        "InputSymbolMismatch",
                        f"`{dim}` is {first[0]} in input {first[1]} and {size} in {spec.name}",
                    )
    return arrays


def as_given(signature: Signature | None, inputs: Inputs) -> list[np.ndarray]:
    """The inputs as arrays without any check (to let the chain judge them): in the declared
    order when the signature is known and names them all, else in the order given."""
    if signature is not None:
        try:
            given = by_name(signature, inputs)
            return [np.asarray(given[spec.name]) for spec in signature.inputs]
        except InputMismatch:
            pass
    if isinstance(inputs, Mapping):
        return [np.asarray(value) for value in inputs.values()]
    return [np.asarray(inputs)]


def _array_of(spec: TensorSpec, value: Any) -> np.ndarray:
    """`value` as an array of the declared dtype, refusing a NumPy array of another dtype."""
    declared = spec.numpy_dtype
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.dtype.newbyteorder("<") != declared:
            raise InputMismatch(
                "InputDTypeMismatch",
                f"input {spec.name} is {dtype_name(array.dtype) or array.dtype}, the model "
                f"declares {spec.dtype} (convert it: .astype(np.{declared.name}))",
            )
        return array
    array = np.asarray(value)
    if array.dtype == object or not np.can_cast(array.dtype, declared, casting="same_kind"):
        raise InputMismatch(
            "InputDTypeMismatch",
            f"input {spec.name}: {array.dtype} values for a {spec.dtype} input",
        )
    return array.astype(declared)


def _check_shape(spec: TensorSpec, shape: Sequence[int]) -> None:
    if len(shape) != len(spec.shape):
        raise InputMismatch(
            "InputRankMismatch",
            f"input {spec.name} has shape {list(shape)}, the model declares "
            f"{_shape_text(spec)} (rank {len(spec.shape)})",
        )
    for position, (dim, size) in enumerate(zip(spec.shape, shape, strict=True)):
        if size == 0 or (isinstance(dim, int) and size != dim):
            raise InputMismatch(
                "InputShapeMismatch",
                f"input {spec.name} has shape {list(shape)}, the model declares "
                f"{_shape_text(spec)} (dimension {position})",
            )


def _shape_text(spec: TensorSpec) -> str:
    return "[" + ", ".join("?" if dim is None else str(dim) for dim in spec.shape) + "]"


def encode(array: np.ndarray) -> bytes:
    """The array's elements as the chain takes them: little-endian, row-major."""
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()


def chain_dtype(array: np.ndarray) -> str:
    """The chain's DType variant of the array's dtype (``F32``, ``I64``, ``Bool``, ...)."""
    name = dtype_name(array.dtype)
    if name is None:
        raise InputMismatch("InputDTypeMismatch", f"the chain has no dtype {array.dtype}")
    return CHAIN_DTYPES[name]


def decode(dtype: str, shape: Sequence[int], data: bytes) -> np.ndarray:
    """An output's array from its little-endian bytes, in the machine's byte order."""
    little = NUMPY_DTYPES[dtype]
    array = np.frombuffer(data, dtype=little).reshape(tuple(shape))
    return array.astype(little.newbyteorder("="))
