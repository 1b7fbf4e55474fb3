"""Gateless: verified AI inference on a Substrate chain, from Python.

::

    from substrateinterface import Keypair
    from gateless import GATE, Gateless

    client = Gateless("ws://127.0.0.1:9944", Keypair.create_from_uri("//Bob"))
    model = client.register("models/digits-mlp.onnx", name="digits-mlp", price=GATE // 10)
    result = client.infer(model, images.astype("float32"), replicas=1)
    result.outputs["logits"]

See :class:`Gateless` for the methods and :mod:`gateless.errors` for what they raise.
"""

from .client import Gateless
from .errors import (
    BadInputError,
    ChainError,
    FeeAboveMaxError,
    GatelessError,
    GatelessTimeoutError,
    InsufficientFundsError,
    JobFailedError,
    ModelNotActiveError,
    ModelRejectedError,
    QuoteError,
    RpcError,
    UnknownModelError,
)
from .onnx_signature import SignatureError, read_signature
from .types import (
    GATE,
    Determinism,
    Fees,
    Job,
    Model,
    Quote,
    Replay,
    Result,
    Signature,
    Symbol,
    TensorSpec,
)

__all__ = [
    "GATE",
    "BadInputError",
    "ChainError",
    "Determinism",
    "FeeAboveMaxError",
    "Fees",
    "Gateless",
    "GatelessError",
    "GatelessTimeoutError",
    "InsufficientFundsError",
    "Job",
    "JobFailedError",
    "Model",
    "ModelNotActiveError",
    "ModelRejectedError",
    "Quote",
    "QuoteError",
    "Replay",
    "Result",
    "RpcError",
    "Signature",
    "SignatureError",
    "Symbol",
    "TensorSpec",
    "UnknownModelError",
    "read_signature",
]
