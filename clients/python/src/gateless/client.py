"""The :class:`Gateless` client: register models, quote and run verified inference jobs.

Reads go through the node's ``gateless_*`` JSON-RPC methods (README, "``gateless_*``
JSON-RPC"); transactions are built by py-substrate-interface from the runtime's metadata, signed
with the caller's :class:`substrateinterface.Keypair`, and followed until they are in a block.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
from substrateinterface import ExtrinsicReceipt, Keypair, SubstrateInterface
from substrateinterface.exceptions import SubstrateRequestException
from websocket import WebSocketTimeoutException

from . import content, tensors
from .errors import (
    ChainError,
    FeeAboveMaxError,
    GatelessError,
    GatelessTimeoutError,
    JobFailedError,
    ModelRejectedError,
    QuoteError,
    RpcError,
    chain_error,
)
from .onnx_signature import read_signature
from .types import Determinism, Fees, Job, Model, Quote, Replay, Result, Signature

log = logging.getLogger("gateless")

#: A model, by id or as :meth:`Gateless.model` returns it.
ModelRef = int | Model

T = TypeVar("T")

# JSON-RPC error codes of the gateless_* methods (rpc/src/types.rs, `error_code`).
UNKNOWN_MODEL = 9001
NO_QUOTE = 9003
UPLOAD_RATE = 9006
# The pool's refusal of an invalid transaction.
INVALID_TRANSACTION = 1010

# What the node says for each `InvalidTransaction` (sp-runtime's Display of each variant), so
# that a pool refusal is named as the runtime names it.
_INVALID_TRANSACTION_NAMES = {
    "Inability to pay some fees": "Payment",
    "Transaction is outdated": "Stale",
    "Transaction will be valid in the future": "Future",
    "Transaction has a bad signature": "BadProof",
    "Transaction has an ancient birth block": "AncientBirthBlock",
    "Transaction would exhaust the block limits": "ExhaustsResources",
    "Transaction call is not expected": "Call",
    "Invalid signing address": "BadSigner",
}

# The registry's bounds on a model's texts (primitives/src/model.rs).
MAX_MODEL_NAME_LEN = 64
MAX_MODEL_VERSION_LEN = 32
MAX_DESCRIPTION_LEN = 512

# How long an upload waits for the node's per-minute allowance before it tries again.
_UPLOAD_RETRY_SECONDS = 2.0


class Gateless:
    """A connection to a Gateless node, acting for one account.

    Args:
        url: The node's WebSocket endpoint, e.g. ``ws://127.0.0.1:9944``.
        keypair: The account that signs registrations and jobs (and pays for them). Reading
            (models, quotes, jobs, results) needs none.
        request_timeout: The most seconds one request to the node may take before
            :class:`GatelessTimeoutError` (longer waits, for attestations and results, have
            their own ``timeout``).
        poll_interval: Seconds between two reads of a model or job being waited for.

    Example::

        from substrateinterface import Keypair
        from gateless import Gateless

        client = Gateless("ws://127.0.0.1:9944", Keypair.create_from_uri("//Eve"))
        result = client.infer(0, {"pixels": images}, replicas=1)
        result.outputs["logits"]
    """

    def __init__(
        self,
        url: str,
        keypair: Keypair | None = None,
        *,
        request_timeout: float = 60.0,
        poll_interval: float = 1.0,
    ) -> None:
        self.url = url
        self.keypair = keypair
        self.poll_interval = poll_interval
        try:
            self.substrate = SubstrateInterface(url=url, ws_options={"timeout": request_timeout})
            self.substrate.init_runtime()
        except (OSError, WebSocketTimeoutException) as error:
            raise GatelessError(f"cannot connect to a node at {url}: {error}") from error
        self._constants: dict[tuple[str, str], int] = {}

    # -- connection ---------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the connection to the node."""
        self.substrate.close()

    def __enter__(self) -> Gateless:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def rpc(self, method: str, params: Sequence[Any] = ()) -> Any:
        """Calls a JSON-RPC method and returns its ``result``.

        Raises:
            QuoteError: ``gateless_quote`` answered ``9003``.
            RpcError: Any other error the node answered.
            GatelessTimeoutError: No answer within ``request_timeout``.
        """
        try:
            response = self.substrate.rpc_request(method, list(params))
        except SubstrateRequestException as error:
            raise _rpc_error(method, error) from None
        except WebSocketTimeoutException as error:
            raise GatelessTimeoutError(f"{method}: no answer from {self.url}") from error
        return response.get("result")

    def constant(self, pallet: str, name: str) -> int:
        """A numeric constant of the runtime, e.g. ``("InferenceJobs", "MaxInlineBytes")``."""
        key = (pallet, name)
        if key not in self._constants:
            value = self.substrate.get_constant(pallet, name)
            if value is None:
                raise GatelessError(f"the runtime has no constant {pallet}.{name}")
            self._constants[key] = int(value.value)
        return self._constants[key]

    # -- models -------------------------------------------------------------------------------

    def model(self, model: ModelRef) -> Model:
        """The model with this id, as the chain has it now (``gateless_model``).

        Raises:
            UnknownModelError: No model has this id.
        """
        model_id = _model_id(model)
        data = self.rpc("gateless_model", [model_id])
        if data is None:
            raise self._refusal("ModelRegistry", "UnknownModel", f"there is no model {model_id}")
        return Model.from_json(data)

    def models(self, page_size: int = 100) -> list[Model]:
        """Every registered model, in id order (``gateless_models``, read page by page)."""
        found: list[Model] = []
        start: int | None = None
        while True:
            page = self.rpc("gateless_models", [start, page_size])
            found.extend(Model.from_json(data) for data in page["models"])
            start = page["next"]
            if start is None:
                return found

    def register(
        self,
        path: str | os.PathLike[str],
        *,
        name: str,
        price: int,
        version: str = "1.0.0",
        description: str = "",
        determinism: Determinism | str | tuple[float, float] | None = None,
        examples: Mapping[str, int] | None = None,
        signature: Signature | None = None,
        uris: Sequence[str] = (),
        inline: bool | None = None,
        wait_active: bool = True,
        timeout: float = 120.0,
    ) -> Model:
        """Registers an ONNX model and returns it once its registration is in a block (and,
        with `wait_active`, once validators have attested it active).

        Its hash and size are computed and its signature read from the file
        (:func:`gateless.read_signature`); its bytes go on chain when it fits the registry's
        inline limit (256 KiB), else they are handed to the connected node chunk by chunk
        (``gateless_putChunk``, then ``gateless_putModelContent`` once the registration is in a
        block), which provides them to the validators; with `uris`, validators fetch it there.
        A deposit is held while the model is registered.

        Args:
            path: The ONNX file.
            name: The model's name (unique with `version` per owner; at most 64 bytes).
            price: What each job pays you, in the smallest unit (``GATE // 10`` is 0.1 GATE).
            version: Its version (at most 32 bytes).
            description: Free text (at most 512 bytes).
            determinism: How executors' outputs are compared: ``"exact"``, a
                :class:`Determinism`, or ``(abs, rel)`` tolerances; by default a tolerance of
                ``(1e-4, 1e-5)`` when an output is a float, else exact.
            examples: The size of symbolic dimensions in the shapes validators attest the
                model at (``{"batch": 2}``); 1 for those not named.
            signature: A signature to declare instead of the file's.
            uris: http(s) URIs serving the file (at most 4), instead of the chain or the node.
            inline: Force the bytes on chain (``True``) or to the node (``False``); by default
                on chain when they fit.
            wait_active: Wait until validators have attested the model.
            timeout: The most seconds to wait for the attestations.

        Raises:
            SignatureError: The file is not an ONNX model the chain can take.
            ValueError: `name`, `version` or `description` is over its length.
            ChainError: The registry refused it (``ModelRegistry.DuplicateHash``,
                ``DuplicateVersion``, ``InvalidSignature``, ...); ``InsufficientFundsError``
                when the account cannot pay the deposit or the transaction fee.
            ModelRejectedError: Validators rejected it (with `wait_active`).
            GatelessTimeoutError: It was still pending after `timeout` seconds.
        """
        for field, text, limit in (
            ("name", name, MAX_MODEL_NAME_LEN),
            ("version", version, MAX_MODEL_VERSION_LEN),
            ("description", description, MAX_DESCRIPTION_LEN),
        ):
            if len(text.encode()) > limit:
                raise ValueError(f"the model's {field} is over {limit} bytes")
        if not name:
            raise self._refusal("ModelRegistry", "EmptyName")
        if not version:
            raise self._refusal("ModelRegistry", "EmptyVersion")
        with open(path, "rb") as file:
            data = file.read()
        declared = signature or read_signature(data, examples)
        model_hash = content.blake2_256(data)
        if inline is None:
            inline = not uris and len(data) <= self.constant("ModelRegistry", "MaxInlineModelBytes")
        chunk_hashes: list[str] = []
        if uris:
            source: Any = {"Uris": _bounded(list(uris))}
        elif inline:
            source = {"Inline": content.to_hex(data)}
        else:
            # Nodes will provide it: its chunks go to the node first (kept for the content
            # time-to-live), the registration names their list, then the node puts them together.
            chunk_hashes = self._upload_chunks(data, f"model {name}")
            source = {
                "Peers": {
                    "content": content.to_hex(content.content_hash(data)),
                    "uris": _bounded([]),
                }
            }

        log.info(
            "registering %s %s: %d bytes, hash 0x%s", name, version, len(data), model_hash.hex()
        )
        event = self._submit(
            "ModelRegistry",
            "register_model",
            {
                "name": name,
                "version": version,
                "hash": content.to_hex(model_hash),
                "size": len(data),
                "source": source,
                "signature": _signature_arg(declared),
                "determinism": _determinism_arg(_determinism_of(determinism, declared)),
                "price": int(price),
                "description": description,
                "card": None,
                "references": _bounded([]),
            },
            event=("ModelRegistry", "ModelRegistered"),
        )
        model_id = int(event["model"])
        if chunk_hashes:
            self.rpc("gateless_putModelContent", [model_id, chunk_hashes])
            log.info("model %d handed to the node, which provides it to the validators", model_id)
        model = self.model(model_id)
        if wait_active:
            model = self.wait_active(model_id, timeout=timeout)
        return model

    def wait_active(self, model: ModelRef, timeout: float = 120.0) -> Model:
        """Waits until validators have attested the model, and returns it active.

        Raises:
            ModelRejectedError: It was rejected (or banned, deprecated) instead.
            GatelessTimeoutError: It was still pending after `timeout` seconds.
        """
        model_id = _model_id(model)
        found = self._poll(
            lambda: self.model(model_id),
            lambda current: current.status != "pending",
            timeout,
            f"model {model_id} is still pending",
        )
        if not found.is_active:
            raise ModelRejectedError(found)
        return found

    # -- jobs ---------------------------------------------------------------------------------

    def quote(
        self,
        model: ModelRef,
        replicas: int | None = 3,
        input_shapes: Sequence[Sequence[int]] | Mapping[str, Sequence[int]] | None = None,
    ) -> Quote:
        """What a job on `model` costs now (``gateless_quote``).

        Args:
            model: The model.
            replicas: How many validators run it (1 to the runtime's maximum, 5); ``None``:
                the chain's default.
            input_shapes: Each input's shape, in declared order or by name; the model's example
                shapes when ``None``.

        Raises:
            QuoteError: No quote, for its ``reason``: ``modelNotActive``, ``badReplicas``,
                ``badInputs``, ``outputsTooLarge``, ``overflow``.
            UnknownModelError: No model has this id.
        """
        model_id = _model_id(model)
        shapes: list[list[int]] | None = None
        if isinstance(input_shapes, Mapping):
            signature = self.model(model).signature
            shapes = [list(input_shapes[spec.name]) for spec in signature.inputs]
        elif input_shapes is not None:
            shapes = [[int(size) for size in shape] for shape in input_shapes]
        try:
            return Quote.from_json(self.rpc("gateless_quote", [model_id, replicas, shapes]))
        except RpcError as error:
            if error.code == UNKNOWN_MODEL:
                raise self._refusal(
                    "InferenceJobs", "UnknownModel", f"there is no model {model_id}"
                ) from None
            raise

    def submit(
        self,
        model: ModelRef,
        inputs: tensors.Inputs,
        *,
        replicas: int | None = 3,
        max_fee: int | None = None,
        precheck: bool = True,
    ) -> int:
        """Submits a job and returns its id once it is in a block; :meth:`wait` for its result.

        The inputs are checked against the model's declared inputs and quoted at their shapes
        first, so that a job the chain would refuse is refused before anything is paid; inputs
        above the runtime's inline threshold (4 KiB) are uploaded to the node
        (``gateless_putChunk``, ``gateless_putContent``) and named by their content hash.

        Args:
            model: The model (it must be active).
            inputs: An array per declared input, by name; a bare array for a one-input model.
                NumPy arrays must have the declared dtype; scalars and lists are converted.
            replicas: How many validators run it; ``None``: the chain's default.
            max_fee: The most the job may hold, in the smallest unit; the quote when ``None``.
            precheck: Check and quote before submitting (default). ``False`` sends the inputs
                as given and lets the chain judge them (`max_fee` is then required).

        Raises:
            UnknownModelError, ModelNotActiveError, BadInputError, FeeAboveMaxError,
            InsufficientFundsError, ChainError: refused, by this SDK (``stage == "client"``:
                also ``InferenceJobs.NotEnoughValidators`` for more replicas than active
                validators), the pool or the chain.
            QuoteError: ``gateless_quote`` could not quote it (e.g. ``badReplicas``).
        """
        model_id = _model_id(model)
        if precheck:
            arrays, fee = self._checked(model_id, inputs, replicas, max_fee)
        else:
            if max_fee is None:
                raise ValueError("give max_fee when precheck is False")
            try:
                signature: Signature | None = self.model(model_id).signature
            except ChainError:
                signature = None
            arrays, fee = tensors.as_given(signature, inputs), int(max_fee)

        threshold = self.constant("InferenceJobs", "MaxInlineBytes")
        placed = []
        for position, array in enumerate(arrays):
            try:
                dtype = tensors.chain_dtype(array)
            except tensors.InputMismatch as mismatch:
                raise self._refusal("InferenceJobs", mismatch.name, mismatch.detail) from None
            data = tensors.encode(array)
            if len(data) <= threshold:
                where: Any = {"Inline": content.to_hex(data)}
            else:
                where = {"Content": self._upload(data, f"input {position}")}
            placed.append(
                {
                    "dtype": dtype,
                    "shape": _bounded(list(array.shape)),
                    "data": where,
                }
            )

        event = self._submit(
            "InferenceJobs",
            "submit_job",
            {
                "model": model_id,
                # `InputTensors` is a one-field tuple struct around a bounded vector.
                "inputs": _bounded(_bounded(placed)),
                "replicas": replicas,
                "max_fee": fee,
            },
            event=("InferenceJobs", "JobSubmitted"),
        )
        job_id = int(event["job"])
        log.info("job %d submitted to model %d", job_id, model_id)
        return job_id

    def infer(
        self,
        model: ModelRef,
        inputs: tensors.Inputs,
        *,
        replicas: int | None = 3,
        max_fee: int | None = None,
        timeout: float = 300.0,
        precheck: bool = True,
    ) -> Result:
        """Runs `model` on `inputs` and returns the verified result: :meth:`submit`, then
        :meth:`wait`. See them for the arguments and errors.

        Example::

            result = client.infer(model, {"x": x, "state": state, "sr": 16000}, replicas=1)
            result.outputs["state_next"]  # np.ndarray, float32 [2, batch, 8]
        """
        job_id = self.submit(model, inputs, replicas=replicas, max_fee=max_fee, precheck=precheck)
        return self.wait(job_id, timeout=timeout)

    def job(self, job: int) -> Job:
        """The job with this id, as the chain has it now (``gateless_job``).

        Raises:
            ChainError: ``InferenceJobs.UnknownJob``: never submitted, or pruned (an hour after
                its deadline).
        """
        data = self.rpc("gateless_job", [int(job)])
        if data is None:
            raise self._refusal("InferenceJobs", "UnknownJob", f"there is no job {job}")
        return Job.from_json(data)

    def wait(self, job: int, timeout: float = 300.0) -> Result:
        """Waits until the job ends and returns its verified result.

        Raises:
            JobFailedError: It failed, expired or was cancelled, or the executors agreed on an
                error (``badInput``, ...) rather than outputs.
            GatelessTimeoutError: It had not ended after `timeout` seconds.
        """
        ended = self._poll(
            lambda: self.job(job),
            lambda current: current.has_ended,
            timeout,
            f"job {job} has not ended",
        )
        if ended.status != "finalized":
            raise JobFailedError(ended.id, ended.status, ended.failure)
        result = self.result(ended.id)
        if result is None:
            raise JobFailedError(ended.id, ended.status, "the node has no result for it")
        return result

    def result(self, job: int) -> Result | None:
        """The job's verified result, with every output's values read through the node
        (``gateless_result``, ``gateless_output``); ``None`` while it is not verified.

        Raises:
            JobFailedError: The executors agreed on an error rather than outputs.
        """
        data = self.rpc("gateless_result", [int(job)])
        if data is None:
            return None
        output = data["output"]
        if output["kind"] == "error":
            raise JobFailedError(int(job), "finalized", output["error"])
        record = self.job(job)
        held = record.fee.total - record.fee.data_fee
        per_executor = int(data["paidEach"])
        executors = tuple(data["agreeing"])
        return Result(
            job=int(job),
            model=record.model,
            outputs=self._outputs(int(job)),
            digest=data["digest"],
            executors=executors,
            fees=Fees(
                total=record.fee.total,
                data_fee=record.fee.data_fee,
                held=held,
                per_executor=per_executor,
                executors={account: per_executor for account in executors},
                owner=int(data["ownerPaid"]),
                refunded=int(data["refunded"]),
            ),
            finalized_at=int(data["finalizedAt"]),
            raw=data,
        )

    def verify(
        self, job: int, *, model_file: str | os.PathLike[str] | None = None, gateless: str | None = None
    ) -> Replay:
        """Replays a verified job on this machine: runs its model on its inputs with the same
        pinned tract as the validators and compares the outputs with the agreed ones by the
        chain's rule for the model's determinism class.

        The pinned tract lives in the ``gateless`` command line (Rust), which this runs
        (``gateless --json job verify``): found at ``gateless``, else ``$GATELESS_CLIENT_BIN``,
        else on ``PATH``. ``model_file`` replays a local copy of the model instead (its hash is
        reported). The node must still have the state of the block the job was submitted in.

        Raises:
            GatelessError: No ``gateless`` binary, or it could not replay the job (unknown or
                unverified job, inputs no longer in the node's state).
        """
        binary = gateless or os.environ.get("GATELESS_CLIENT_BIN") or shutil.which("gateless")
        if not binary:
            raise GatelessError(
                "verify needs the `gateless` command line (its pinned tract runs the model): "
                "pass gateless=PATH or set GATELESS_CLIENT_BIN"
            )
        command = [str(binary), "--url", self.url, "--json", "job", "verify", str(int(job))]
        if model_file is not None:
            command += ["--model-file", os.fspath(model_file)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        # Exit status 2: the replay ran and disagrees; anything else but 0 is a failure to replay.
        if done.returncode not in (0, 2):
            raise GatelessError(f"gateless job verify {job} failed: {done.stderr.strip()}")
        report = json.loads(done.stdout)
        return Replay(
            job=int(report["job"]),
            agrees=bool(report["agrees"]),
            model_source=report["modelSource"],
            model_hash_matches=bool(report["modelHashMatches"]),
            findings=tuple(report["findings"]),
        )

    # -- internals ----------------------------------------------------------------------------

    def _checked(
        self,
        model_id: int,
        inputs: tensors.Inputs,
        replicas: int | None,
        max_fee: int | None,
    ) -> tuple[list[np.ndarray], int]:
        """The inputs checked as the chain will check them, and the fee to offer."""
        data = self.rpc("gateless_model", [model_id])
        if data is None:
            raise self._refusal("InferenceJobs", "UnknownModel", f"there is no model {model_id}")
        model = Model.from_json(data)
        if not model.is_active:
            raise self._refusal(
                "InferenceJobs", "ModelNotActive", f"model {model_id} is {model.status}"
            )
        try:
            arrays = tensors.prepare(model.signature, inputs)
        except tensors.InputMismatch as mismatch:
            raise self._refusal("InferenceJobs", mismatch.name, mismatch.detail) from None
        carried = sum(array.nbytes for array in arrays)
        if carried > self.constant("InferenceJobs", "MaxInputBytes"):
            raise self._refusal("InferenceJobs", "InputTooLarge", f"{carried} bytes of inputs")
        try:
            quote = self.quote(model_id, replicas, [list(array.shape) for array in arrays])
        except QuoteError as error:
            if error.reason == "outputsTooLarge":
                raise self._refusal("InferenceJobs", "OutputsTooLarge", error.message) from None
            raise
        active = sum(1 for validator in self.rpc("gateless_validators") if validator["active"])
        if quote.replicas > active:
            raise self._refusal(
                "InferenceJobs",
                "NotEnoughValidators",
                f"{quote.replicas} replicas, {active} active validator(s)",
            )
        if max_fee is not None and quote.total > max_fee:
            refusal = self._refusal(
                "InferenceJobs",
                "FeeAboveMax",
                f"the job costs {quote.total}, max_fee is {max_fee}",
            )
            assert isinstance(refusal, FeeAboveMaxError)
            refusal.quote = quote
            raise refusal
        return arrays, quote.total if max_fee is None else int(max_fee)

    def _refusal(self, pallet: str, name: str, detail: str = "") -> ChainError:
        """The error the chain would give, found by this SDK before submitting."""
        return chain_error(pallet, name, self._error_docs(pallet, name), "client", detail)

    def _error_docs(self, pallet: str, name: str) -> str:
        """The runtime's documentation of a pallet's error, from the metadata."""
        found = self.substrate.metadata.get_metadata_pallet(pallet)
        for variant in found.errors if found else []:
            fields = _plain(variant)
            if fields["name"] == name:
                return _docs(fields)
        return ""

    def _require_keypair(self) -> Keypair:
        if self.keypair is None:
            raise GatelessError("this needs a keypair: Gateless(url, keypair)")
        return self.keypair

    def _submit(
        self,
        pallet: str,
        function: str,
        params: dict[str, Any],
        event: tuple[str, str],
    ) -> dict[str, Any]:
        """Signs and submits a call, waits until it is in a block, and returns the attributes of
        its `event` (``(pallet, name)``).

        Raises:
            ChainError: The pool refused it (``stage == "pool"``) or it failed in its block.
        """
        keypair = self._require_keypair()
        call = self.substrate.compose_call(pallet, function, params)
        # The nonce after the account's transactions in the node's pool too: the runtime's
        # (the best block's) would repeat the nonce of a transaction not yet in a block.
        nonce = self.rpc("system_accountNextIndex", [keypair.ss58_address])
        extrinsic = self.substrate.create_signed_extrinsic(call=call, keypair=keypair, nonce=nonce)
        block_hash = self._watch(str(extrinsic.data), f"{pallet}.{function}")
        receipt = ExtrinsicReceipt(
            substrate=self.substrate,
            extrinsic_hash=content.to_hex(extrinsic.extrinsic_hash),
            block_hash=block_hash,
        )
        found: dict[str, Any] | None = None
        for record in receipt.triggered_events:
            value = record.value
            key = (value["module_id"], value["event_id"])
            if key == ("System", "ExtrinsicFailed"):
                raise self._dispatch_error(value["attributes"]["dispatch_error"])
            if key == event and found is None:
                found = value["attributes"]
        if found is None:
            raise GatelessError(f"{pallet}.{function} emitted no {event[0]}.{event[1]} event")
        return found

    def _watch(self, extrinsic_hex: str, what: str) -> str:
        """Submits an encoded extrinsic and returns the hash of the block it is in.

        Raises:
            ChainError: The pool refused it.
            GatelessError: It was dropped, found invalid or usurped while it waited.
        """

        def on_status(message: dict[str, Any], _update: int, subscription: str) -> Any:
            status = message["params"]["result"]
            if isinstance(status, dict):
                if "inBlock" in status or "finalized" in status:
                    self.substrate.rpc_request("author_unwatchExtrinsic", [subscription])
                    return status.get("inBlock") or status["finalized"]
                if "usurped" in status:
                    raise GatelessError(f"{what}: another transaction with its nonce replaced it")
            elif status in ("invalid", "dropped"):
                raise GatelessError(f"{what}: the transaction was {status} while it waited")
            return None

        try:
            block_hash: str = self.substrate.rpc_request(
                "author_submitAndWatchExtrinsic", [extrinsic_hex], result_handler=on_status
            )
        except SubstrateRequestException as error:
            raise self._pool_error("author_submitAndWatchExtrinsic", error) from None
        except WebSocketTimeoutException as error:
            raise GatelessTimeoutError(f"{what}: no block included it in time") from error
        return block_hash

    def _pool_error(self, method: str, error: SubstrateRequestException) -> GatelessError:
        """A refusal by the transaction pool, named as the runtime names it."""
        rpc = _rpc_error(method, error)
        if rpc.code != INVALID_TRANSACTION:
            return rpc
        text = str(rpc.data or rpc.message)
        name = next(
            (name for start, name in _INVALID_TRANSACTION_NAMES.items() if text.startswith(start)),
            "Invalid",
        )
        return chain_error("InvalidTransaction", name, text, "pool")

    def _dispatch_error(self, error: Any) -> ChainError:
        """A dispatch error of an ``ExtrinsicFailed`` event, named from the metadata."""
        if isinstance(error, str):  # a unit variant: BadOrigin, CannotLookup, ...
            return chain_error("DispatchError", error, "", "block")
        ((kind, detail),) = error.items()
        if kind != "Module":  # Token, Arithmetic, Transactional, ...: `detail` is the variant
            return chain_error(kind, str(detail), "", "block")
        # `error` is the 4-byte index of the pallet's error enum, the first byte the variant.
        index = detail["error"]
        variant_index = int(index[2:4], 16) if isinstance(index, str) else int(index)
        pallet = self.substrate.metadata.get_pallet_by_index(int(detail["index"]))
        variant = self.substrate.metadata.get_module_error(
            module_index=int(detail["index"]), error_index=variant_index
        )
        fields = _plain(variant)
        return chain_error(pallet.name, fields["name"], _docs(fields), "block")

    def _upload_chunks(self, data: bytes, what: str) -> list[str]:
        """Hands `data` to the node chunk by chunk (``gateless_putChunk``), checking the hash it
        names each; returns the chunks' hashes, in order."""
        hashes = []
        total = len(data)
        for index, chunk in enumerate(content.chunks(data)):
            if total > content.CHUNK_BYTES:
                log.info("uploading %s: %.1f of %.1f MiB", what, index, total / content.CHUNK_BYTES)
            while True:
                try:
                    named = self.rpc("gateless_putChunk", [content.to_hex(chunk)])
                    break
                except RpcError as error:
                    # Each connection may upload so much a minute: beyond, wait for it.
                    if error.code != UPLOAD_RATE:
                        raise
                    time.sleep(_UPLOAD_RETRY_SECONDS)
            expected = content.to_hex(content.blake2_256(chunk))
            if named != expected:
                raise GatelessError(
                    f"the node named chunk {index} of {what} {named}, not {expected}"
                )
            hashes.append(named)
        return hashes

    def _upload(self, data: bytes, what: str) -> dict[str, Any]:
        """Hands `data` to the node as content and returns the ``{hash, len}`` a job names it by."""
        chunk_hashes = self._upload_chunks(data, what)
        answer = self.rpc("gateless_putContent", [len(data), chunk_hashes])
        expected = content.to_hex(content.content_hash(data))
        if answer["hash"] != expected:
            raise GatelessError(f"the node named {what} {answer['hash']}, not {expected}")
        log.info("uploaded %s (%d bytes) as %s", what, len(data), expected)
        return {"hash": expected, "len": len(data)}

    def _outputs(self, job: int) -> dict[str, np.ndarray]:
        """A verified job's outputs by name (``gateless_output``): the node fetches and checks
        those kept off chain; when they are too large for one answer they are read chunk by
        chunk (``gateless_contentChunk``) and checked against their hash here."""
        answer = self.rpc("gateless_output", [job])
        if answer is None:
            raise GatelessError(f"the node has no outputs of job {job}")
        outputs: dict[str, np.ndarray] = {}
        for position, tensor in enumerate(answer["tensors"]):
            name = tensor["name"] or f"output_{position}"
            if tensor["bytes"] is not None:
                data = content.from_hex(tensor["bytes"])
            else:
                where = tensor["content"]
                count = -(-int(where["len"]) // content.CHUNK_BYTES)
                data = b"".join(
                    content.from_hex(self.rpc("gateless_contentChunk", [where["hash"], index]))
                    for index in range(count)
                )
                if content.to_hex(content.content_hash(data)) != where["hash"]:
                    raise GatelessError(
                        f"output {name}: the node's bytes do not match {where['hash']}"
                    )
            outputs[name] = tensors.decode(tensor["dtype"], tensor["shape"], data)
        return outputs

    def _poll(
        self,
        read: Callable[[], T],
        done: Callable[[T], bool],
        timeout: float,
        still: str,
    ) -> T:
        """Reads with `read` every `poll_interval` seconds until `done`, for at most `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            current = read()
            if done(current):
                return current
            if time.monotonic() >= deadline:
                raise GatelessTimeoutError(f"{still} after {timeout:g} s")
            time.sleep(self.poll_interval)


def _bounded(items: Sequence[Any]) -> tuple[Sequence[Any]]:
    """A list as a call argument of a ``BoundedVec`` type: scalecodec sees a one-field tuple
    struct, and would take a bare list for its fields rather than for its one field."""
    return (items,)


def _plain(variant: Any) -> dict[str, Any]:
    """A metadata enum variant (a scalecodec object) as plain Python values."""
    return dict(getattr(variant, "value", variant))


def _docs(variant: dict[str, Any]) -> str:
    """A metadata item's documentation lines as one text."""
    return " ".join(str(line).strip() for line in variant.get("docs", []))


def _model_id(model: ModelRef) -> int:
    return model.id if isinstance(model, Model) else int(model)


def _rpc_error(method: str, error: SubstrateRequestException) -> RpcError:
    """The node's JSON-RPC error as an :class:`RpcError` (a :class:`QuoteError` for ``9003``)."""
    detail = error.args[0] if error.args else None
    if not isinstance(detail, dict):
        return RpcError(method, 0, str(error))
    code = int(detail.get("code", 0))
    cls = QuoteError if code == NO_QUOTE else RpcError
    return cls(method, code, str(detail.get("message", "")), detail.get("data"))


def _determinism_of(
    given: Determinism | str | tuple[float, float] | None, signature: Signature
) -> Determinism:
    """`given` as a :class:`Determinism`; by default a tolerance for float outputs."""
    if isinstance(given, Determinism):
        return given
    if given == "exact":
        return Determinism.exact()
    if given == "tolerance":
        return Determinism.tolerance()
    if isinstance(given, tuple):
        return Determinism.tolerance(*given)
    if given is not None:
        raise ValueError(
            f"determinism: 'exact', 'tolerance', (abs, rel) or Determinism, not {given!r}"
        )
    if any(spec.dtype.startswith("f") for spec in signature.outputs):
        return Determinism.tolerance(1e-4, 1e-5)
    return Determinism.exact()


def _determinism_arg(determinism: Determinism) -> Any:
    """The call's ``Determinism``: tolerances in billionths (``FixedU64``, ``Perbill``)."""
    if determinism.kind == "exact":
        return "Exact"
    return {
        "Tolerance": {
            "abs": round(determinism.abs * 1e9),
            "rel": round(determinism.rel * 1e9),
        }
    }


def _signature_arg(signature: Signature) -> dict[str, Any]:
    """The call's ``ModelSignature``: symbols by index, dims as ``Dim`` variants."""
    index = {symbol.name: position for position, symbol in enumerate(signature.symbols)}

    def dim(value: Any) -> Any:
        if value is None:
            return "Dynamic"
        if isinstance(value, str):
            return {"Symbol": index[value]}
        return {"Fixed": int(value)}

    def spec(tensor: Any) -> dict[str, Any]:
        return {
            "name": tensor.name,
            "dtype": tensors.CHAIN_DTYPES[tensor.dtype],
            "shape": _bounded([dim(value) for value in tensor.shape]),
        }

    return {
        "inputs": _bounded([spec(tensor) for tensor in signature.inputs]),
        "outputs": _bounded([spec(tensor) for tensor in signature.outputs]),
        "symbols": _bounded([{"name": s.name, "example": s.example} for s in signature.symbols]),
    }
