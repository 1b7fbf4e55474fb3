"""The exceptions the SDK raises.

Every exception is a :class:`GatelessError`. A refusal by the chain is a :class:`ChainError`
named as the runtime names it (``InferenceJobs.FeeAboveMax``), whether the SDK found it before
submitting anything (by the chain's own rule), the node's transaction pool refused the
transaction, or the transaction failed in a block. The errors a caller is most likely to handle
have subclasses of their own::

    GatelessError
    ├── RpcError                  a gateless_* / Substrate JSON-RPC method answered with an error
    │   └── QuoteError            gateless_quote's 9003: no quote, for `reason`
    ├── ChainError                the chain refused it: `pallet`, `name`, `docs`, `stage`
    │   ├── UnknownModelError     UnknownModel
    │   ├── ModelNotActiveError   ModelNotActive
    │   ├── FeeAboveMaxError      FeeAboveMax
    │   ├── BadInputError         InputCountMismatch, InputDTypeMismatch, InputShapeMismatch, ...
    │   └── InsufficientFundsError  CannotAffordFee, InsufficientDeposit, InvalidTransaction.Payment
    ├── ModelRejectedError        validators did not activate a registered model
    ├── JobFailedError            a job ended without outputs (failed, expired, cancelled, or an
    │                             agreed error such as ``badInput``)
    └── GatelessTimeoutError      a wait ran out (also a built-in ``TimeoutError``)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .types import Model, Quote

#: Where a :class:`ChainError` was found: ``"client"`` by this SDK before anything was submitted
#: (by the same rule the chain applies; nothing paid), ``"pool"`` by the node's transaction pool
#: (nothing paid), ``"block"`` when the transaction was dispatched in a block and failed (its
#: transaction fee was paid, nothing else).
Stage = Literal["client", "pool", "block"]


class GatelessError(Exception):
    """The base of every error this SDK raises."""


class RpcError(GatelessError):
    """A JSON-RPC method answered with an error.

    Attributes:
        method: The method called, e.g. ``gateless_putContent``.
        code: The JSON-RPC error code (``9000``–``9009`` for the ``gateless_*`` methods, see the
            README's error table; ``1010`` for a transaction the pool found invalid).
        message: The node's message.
        data: The node's ``data``, e.g. the reason of a ``9003``; ``None`` when it sent none.
    """

    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        self.method = method
        self.code = code
        self.message = message
        self.data = data
        detail = f" ({data})" if data is not None else ""
        super().__init__(f"{method}: {message}{detail} [code {code}]")


class QuoteError(RpcError):
    """``gateless_quote`` could not quote a job (error ``9003``).

    Attributes:
        reason: Why, as the node names it: ``modelNotActive``, ``badReplicas``, ``badInputs``
            (shapes that do not fit the model's inputs, or too many bytes), ``outputsTooLarge``
            or ``overflow``.
    """

    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        super().__init__(method, code, message, data)
        self.reason: str = str(data)

    @property
    def name(self) -> str:
        """The reason, for symmetry with :attr:`ChainError.name`."""
        return self.reason


class ChainError(GatelessError):
    """The chain refused a transaction, or would have: the SDK checks what it can first.

    Attributes:
        pallet: The pallet whose error it is, as the runtime's metadata names it
            (``InferenceJobs``, ``ModelRegistry``, ``Balances``), or ``InvalidTransaction`` for
            a transaction the pool refused before any block (``InvalidTransaction.Payment``: the
            account cannot pay the transaction fee), or the kind of a dispatch error that is not
            a pallet's (``Token``, ``Arithmetic``, ``BadOrigin``).
        name: The error's name, e.g. ``FeeAboveMax``.
        docs: The runtime's documentation of the error (or the node's words for a pool refusal).
        stage: Where it was found: see :data:`Stage`.
        detail: What the SDK adds, e.g. which input is wrong and how; empty when nothing.
    """

    def __init__(
        self,
        pallet: str,
        name: str,
        docs: str = "",
        stage: Stage = "block",
        detail: str = "",
    ) -> None:
        self.pallet = pallet
        self.name = name
        self.docs = docs
        self.stage: Stage = stage
        self.detail = detail
        where = {
            "client": "refused before submitting",
            "pool": "the transaction pool refused it",
            "block": "the transaction failed in its block",
        }[stage]
        text = f"{pallet}.{name}"
        if docs:
            text += f": {docs}"
        if detail:
            text += f" ({detail})"
        super().__init__(f"{text} [{where}]")

    @property
    def qualified_name(self) -> str:
        """``pallet.name``, e.g. ``InferenceJobs.FeeAboveMax``."""
        return f"{self.pallet}.{self.name}"


class UnknownModelError(ChainError):
    """No model has this id (``InferenceJobs.UnknownModel`` / ``ModelRegistry.UnknownModel``)."""


class ModelNotActiveError(ChainError):
    """The model is pending, rejected, deprecated or banned (``ModelNotActive``)."""


class FeeAboveMaxError(ChainError):
    """The job's fee is above the ``max_fee`` given (``InferenceJobs.FeeAboveMax``).

    Attributes:
        quote: What the job costs, when the SDK found it before submitting; else ``None``.
    """

    quote: Quote | None = None


class BadInputError(ChainError):
    """The inputs do not fit the model's declared inputs: ``InputCountMismatch``,
    ``InputDTypeMismatch``, ``InputRankMismatch``, ``InputShapeMismatch``,
    ``InputLengthMismatch``, ``InputSymbolMismatch`` (a symbol such as ``batch`` with two sizes),
    ``InputTooLarge``, ``InputPlacement`` or ``OutputsTooLarge``; :attr:`detail` names the input.
    """


class InsufficientFundsError(ChainError):
    """The account cannot pay: the transaction fee (the pool's ``InvalidTransaction.Payment``,
    *Inability to pay some fees*), a job's fee (``InferenceJobs.CannotAffordFee``), a
    registration deposit (``ModelRegistry.InsufficientDeposit``), or a balance error
    (``Balances.InsufficientBalance``, ``Token.FundsUnavailable``, ...)."""


# Which subclass a chain error of this name is raised as.
_CLASS_OF_NAME: dict[str, type[ChainError]] = {
    "UnknownModel": UnknownModelError,
    "ModelNotActive": ModelNotActiveError,
    "FeeAboveMax": FeeAboveMaxError,
    **{
        name: BadInputError
        for name in (
            "InputCountMismatch",
            "InputDTypeMismatch",
            "InputRankMismatch",
            "InputShapeMismatch",
            "InputLengthMismatch",
            "InputSymbolMismatch",
            "InputTooLarge",
            "InputPlacement",
            "OutputsTooLarge",
        )
    },
    **{
        name: InsufficientFundsError
        for name in (
            "CannotAffordFee",  # InferenceJobs: the job's fee cannot be held
            "InsufficientDeposit",  # ModelRegistry: the registration deposit
            "Payment",  # InvalidTransaction: the transaction fee
            "InsufficientBalance",  # Balances
            "FundsUnavailable",  # Token
            "BelowMinimum",  # Token: the account would fall below the existential deposit
        )
    },
}


def chain_error(
    pallet: str, name: str, docs: str = "", stage: Stage = "block", detail: str = ""
) -> ChainError:
    """The :class:`ChainError` (of the subclass for `name`, if it has one) for an error."""
    return _CLASS_OF_NAME.get(name, ChainError)(pallet, name, docs, stage, detail)


class ModelRejectedError(GatelessError):
    """A registered model did not become active.

    Attributes:
        model: The model as the chain has it now (its ``status`` and ``rejection``).
        reason: Why, as the chain says: ``malformed``, ``unsupported``, ``signatureMismatch``,
            ``hashMismatch``, ``sizeMismatch``, ``unavailable``, ``tooLarge``,
            ``referenceMismatch``, ``admin``; or its status when it has no rejection.
    """

    def __init__(self, model: Model) -> None:
        self.model = model
        self.reason: str = model.rejection or model.status
        super().__init__(f"model {model.id} ({model.name}) is {model.status}: {self.reason}")


class JobFailedError(GatelessError):
    """A job ended without outputs.

    Attributes:
        job: The job's id.
        status: ``failed``, ``expired``, ``cancelled``, or ``finalized`` when the executors
            agreed on an error rather than outputs.
        reason: Why: the failure (``noQuorum``, ``noFreshExecutors``, ``modelWithdrawn``,
            ``inputUnavailable``, ``notAssigned``) or the agreed error (``badInput``,
            ``badModel``, ``signatureMismatch``, ``nonFiniteOutput``, ``outputTooLarge``,
            ``modelUnavailable``, ``timeout``); ``None`` when the chain gives none.
    """

    def __init__(self, job: int, status: str, reason: str | None) -> None:
        self.job = job
        self.status = status
        self.reason = reason
        because = f": {reason}" if reason else ""
        super().__init__(f"job {job} ended {status}{because}")


class GatelessTimeoutError(GatelessError, TimeoutError):
    """A wait (for a block, an attestation, a job's result) ran out of time."""
