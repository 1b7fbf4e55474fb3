"""The records the SDK returns: models, signatures, quotes, jobs and results.

They are read from the JSON of the ``gateless_*`` methods (``rpc/src/types.rs``); amounts are
``int`` in the smallest unit (10⁻¹² GATE), accounts SS58 strings, hashes ``0x``-hex. Each record
keeps the node's JSON as ``raw`` for the fields it does not model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: One dimension of a declared shape: a fixed size, a symbol's name (``"batch"``), or ``None``
#: for an anonymous dynamic dimension.
Dim = int | str | None

#: The little-endian NumPy dtype of each of the chain's element types, by the name the JSON-RPC
#: uses (``bool`` is one byte, 0 or 1).
NUMPY_DTYPES: dict[str, np.dtype[Any]] = {
    "f32": np.dtype("<f4"),
    "f64": np.dtype("<f8"),
    "f16": np.dtype("<f2"),
    "i8": np.dtype("i1"),
    "i16": np.dtype("<i2"),
    "i32": np.dtype("<i4"),
    "i64": np.dtype("<i8"),
    "u8": np.dtype("u1"),
    "u16": np.dtype("<u2"),
    "u32": np.dtype("<u4"),
    "u64": np.dtype("<u8"),
    "bool": np.dtype("?"),
}


def dtype_name(dtype: np.dtype[Any]) -> str | None:
    """The chain's name of a NumPy dtype (``float32`` → ``f32``), ``None`` if it has none."""
    for name, candidate in NUMPY_DTYPES.items():
        if np.dtype(dtype).newbyteorder("<") == candidate:
            return name
    return None


GATE = 10**12
"""One GATE in the smallest unit: the chain's token has 12 decimals (``price=GATE // 10`` is
0.1 GATE)."""


@dataclass(frozen=True)
class TensorSpec:
    """A declared input or output: its name in the ONNX graph, dtype (``f32``, ``i64``, ...) and
    shape, each dimension a size, a symbol's name or ``None`` (any size)."""

    name: str
    dtype: str
    shape: tuple[Dim, ...]

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        """The NumPy dtype of its elements."""
        return NUMPY_DTYPES[self.dtype]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TensorSpec:
        return cls(data["name"], data["dtype"], tuple(data["shape"]))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}


@dataclass(frozen=True)
class Symbol:
    """A named symbolic dimension (``batch``): the same size in every input that names it.
    ``example`` is the size validators attest the model at."""

    name: str
    example: int = 1


@dataclass(frozen=True)
class Signature:
    """A model's declared inputs and outputs, in the graph's order, and its symbols."""

    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    symbols: tuple[Symbol, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Signature:
        return cls(
            tuple(TensorSpec.from_json(spec) for spec in data["inputs"]),
            tuple(TensorSpec.from_json(spec) for spec in data["outputs"]),
            tuple(Symbol(s["name"], s["example"]) for s in data.get("symbols", [])),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "inputs": [spec.to_json() for spec in self.inputs],
            "outputs": [spec.to_json() for spec in self.outputs],
            "symbols": [{"name": s.name, "example": s.example} for s in self.symbols],
        }

    def input(self, name: str) -> TensorSpec:
        """The declared input called `name`."""
        for spec in self.inputs:
            if spec.name == name:
                return spec
        raise KeyError(name)


@dataclass(frozen=True)
class Determinism:
    """How executors' outputs are compared: bit for bit (``exact``), or element-wise within
    ``abs + rel × |value|`` (``tolerance``, for float outputs)."""

    kind: str
    abs: float = 0.0
    rel: float = 0.0

    @classmethod
    def exact(cls) -> Determinism:
        """Outputs must be equal bit for bit: integer and quantized models."""
        return cls("exact")

    @classmethod
    def tolerance(cls, abs: float = 1e-4, rel: float = 1e-5) -> Determinism:
        """Float outputs agree within ``abs + rel × |value|`` (each between 0 and 1)."""
        if not (0.0 <= abs <= 1.0 and 0.0 <= rel <= 1.0):
            raise ValueError(f"tolerances are between 0 and 1, not abs={abs}, rel={rel}")
        return cls("tolerance", abs, rel)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Determinism:
        if data["kind"] == "exact":
            return cls.exact()
        return cls("tolerance", float(data["abs"]), float(data["rel"]))


@dataclass(frozen=True)
class Model:
    """A registered model (``gateless_model``).

    ``status`` is ``pending``, ``active``, ``rejected``, ``deprecated`` or ``banned``;
    ``rejection`` says why a rejected model was rejected; ``location`` is
    ``{"kind": "inline" | "uris" | "peers", ...}``; ``attestations`` (``loads``, ``fails``,
    ``threshold``) is there while it is pending.
    """

    id: int
    owner: str
    name: str
    version: str
    hash: str
    size: int
    signature: Signature
    determinism: Determinism
    price: int
    deposit: int
    status: str
    rejection: str | None
    registered_at: int
    description: str
    location: dict[str, Any]
    attestations: dict[str, int] | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def is_active(self) -> bool:
        """Whether jobs can be submitted to it."""
        return self.status == "active"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Model:
        return cls(
            id=int(data["id"]),
            owner=data["owner"],
            name=data["name"],
            version=data["version"],
            hash=data["hash"],
            size=int(data["size"]),
            signature=Signature.from_json(data["signature"]),
            determinism=Determinism.from_json(data["determinism"]),
            price=int(data["price"]),
            deposit=int(data["deposit"]),
            status=data["status"],
            rejection=data.get("rejection"),
            registered_at=int(data["registeredAt"]),
            description=data.get("description", ""),
            location=data["location"],
            attestations=data.get("attestations"),
            raw=data,
        )


@dataclass(frozen=True)
class Quote:
    """What a job costs (``gateless_quote``): ``total = model_price + replicas × executor_fee +
    data_fee``, in the smallest unit. The data fee is burnt at submission, the rest held until
    the job ends; ``operations`` is the job's compute by the model's estimate (``None``: no
    estimate, the executor fee is the floor)."""

    model_price: int
    executor_fee: int
    replicas: int
    data_fee: int
    total: int
    operations: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Quote:
        return cls(
            model_price=int(data["modelPrice"]),
            executor_fee=int(data["executorFee"]),
            replicas=int(data["replicas"]),
            data_fee=int(data["dataFee"]),
            total=int(data["total"]),
            operations=data.get("operations"),
        )


@dataclass(frozen=True)
class Job:
    """A job as the chain has it (``gateless_job``).

    ``status`` is ``assigning`` (its committee is drawn at the end of the next block),
    ``running``, ``finalized``, ``failed``, ``expired`` or ``cancelled``; ``failure`` says why a
    failed job failed; ``executors`` every executor assigned so far; ``round`` the current
    verification round while it runs (committee, commits, reveals, abstentions).
    """

    id: int
    submitter: str
    model: int
    model_hash: str
    fee: Quote
    status: str
    failure: str | None
    executors: tuple[str, ...]
    submitted_at: int
    expires_at: int
    round: dict[str, Any] | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def has_ended(self) -> bool:
        """Whether its status is final."""
        return self.status not in ("assigning", "running")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        return cls(
            id=int(data["id"]),
            submitter=data["submitter"],
            model=int(data["model"]),
            model_hash=data["modelHash"],
            fee=Quote.from_json(data["fee"]),
            status=data["status"],
            failure=data.get("failure"),
            executors=tuple(data["executors"]),
            submitted_at=int(data["submittedAt"]),
            expires_at=int(data["expiresAt"]),
            round=data.get("round"),
            raw=data,
        )


@dataclass(frozen=True)
class Fees:
    """Where a finalized job's fee went, in the smallest unit.

    ``held`` is what the job held at submission besides the burnt ``data_fee``; of it, each
    agreeing executor got ``per_executor`` (``executors`` by account), the model's owner
    ``owner``, and ``refunded`` came back to the submitter.
    """

    total: int
    data_fee: int
    held: int
    per_executor: int
    executors: dict[str, int]
    owner: int
    refunded: int


@dataclass(frozen=True)
class Result:
    """A job's verified result.

    ``outputs`` maps each declared output's name to its values, with the declared dtype and the
    shape the executors computed; ``digest`` is the agreed digest under the model's determinism;
    ``executors`` the accounts that agreed on it; ``finalized_at`` its block.
    """

    job: int
    model: int
    outputs: dict[str, np.ndarray]
    digest: str
    executors: tuple[str, ...]
    fees: Fees
    finalized_at: int
    raw: dict[str, Any] = field(repr=False, compare=False)

    def __getitem__(self, name: str) -> np.ndarray:
        """The output called `name`: ``result["y"]``."""
        return self.outputs[name]


@dataclass(frozen=True)
class Replay:
    """What replaying a verified job here found (:meth:`gateless.Gateless.verify`).

    ``agrees``: whether the local output falls in the agreed group under the model's determinism
    class; ``model_hash_matches``: whether the model's bytes are those the job ran; ``findings``:
    one line per output (bit for bit, within the tolerance, or how it differs).
    """

    job: int
    agrees: bool
    model_source: str
    model_hash_matches: bool
    findings: tuple[str, ...]
