"""The SDK against a real Gateless dev node (``gateless-node --dev``: Alice the one validator).

    GATELESS_URL=ws://127.0.0.1:9944 clients/python/.venv/bin/pytest clients/python/tests -v

A fresh builder account, funded by //Eve, registers the committed recurrent cell (inputs ``x``
[batch, 16] f32, ``state`` [2, batch, 8] f32, ``sr`` [] i64) and digits MLP, so that the tests
can run again on the same chain; //Ferdie runs the jobs. Outputs are compared with onnxruntime's.
Each job takes a few blocks (6 s each); the whole file about three minutes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import onnx.numpy_helper
import onnxruntime
import pytest
from substrateinterface import Keypair, SubstrateInterface

from gateless import (
    GATE,
    BadInputError,
    ChainError,
    Determinism,
    FeeAboveMaxError,
    Gateless,
    InsufficientFundsError,
    Model,
    ModelNotActiveError,
    ModelRejectedError,
    QuoteError,
    Signature,
    Symbol,
    TensorSpec,
    UnknownModelError,
    read_signature,
)

URL = os.environ.get("GATELESS_URL")
if not URL:
    pytest.fail(
        "GATELESS_URL is not set: these tests need a dev node, e.g. "
        "GATELESS_URL=ws://127.0.0.1:9944 (gateless-node --dev --tmp)",
        pytrace=False,
    )

MODELS = Path(__file__).resolve().parents[3] / "models"
RECURRENT = MODELS / "recurrent-cell.onnx"
DIGITS = MODELS / "digits-mlp.onnx"
PRICE = GATE // 10
# The dev chain has one validator.
REPLICAS = 1
# The recurrent cell's tolerance (models/models.json), also what onnxruntime is compared within.
TOLERANCE = (1e-4, 1e-4)


def fund(keypair: Keypair, amount: int) -> None:
    """Sends `amount` from //Eve to `keypair`'s account and waits until it is in a block."""
    substrate = SubstrateInterface(url=URL)
    eve = Keypair.create_from_uri("//Eve")
    call = substrate.compose_call(
        "Balances", "transfer_keep_alive", {"dest": keypair.ss58_address, "value": amount}
    )
    nonce = substrate.rpc_request("system_accountNextIndex", [eve.ss58_address])["result"]
    extrinsic = substrate.create_signed_extrinsic(call=call, keypair=eve, nonce=nonce)
    receipt = substrate.submit_extrinsic(extrinsic, wait_for_inclusion=True)
    assert receipt.is_success, receipt.error_message
    substrate.close()


def new_account() -> Keypair:
    return Keypair.create_from_mnemonic(Keypair.generate_mnemonic())


@pytest.fixture(scope="session")
def builder() -> Keypair:
    """A new account with 100 GATE: it has registered nothing yet on any chain."""
    keypair = new_account()
    fund(keypair, 100 * GATE)
    return keypair


@pytest.fixture(scope="session")
def builder_client(builder: Keypair) -> Iterator[Gateless]:
    with Gateless(URL, builder) as client:
        yield client


@pytest.fixture(scope="session")
def client() -> Iterator[Gateless]:
    """The user's client: //Ferdie pays for the jobs."""
    with Gateless(URL, Keypair.create_from_uri("//Ferdie")) as client:
        yield client


@pytest.fixture(scope="session")
def recurrent(builder_client: Gateless) -> Model:
    """The recurrent cell, registered inline and attested active (``wait_active``)."""
    return builder_client.register(
        RECURRENT,
        name="recurrent-cell",
        price=PRICE,
        description="one step of a recurrent cell",
        determinism=TOLERANCE,
        timeout=120,
    )


@pytest.fixture(scope="session")
def digits(builder_client: Gateless) -> Model:
    """The digits MLP, registered without waiting, then waited for."""
    model = builder_client.register(DIGITS, name="digits-mlp", price=PRICE, wait_active=False)
    assert model.status == "pending"
    return builder_client.wait_active(model, timeout=120)


def onnxruntime_outputs(path: Path, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(names, inputs), strict=True))


def recurrent_inputs(batch: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x": rng.uniform(-1, 1, (batch, 16)).astype(np.float32),
        "state": rng.uniform(-1, 1, (2, batch, 8)).astype(np.float32),
        "sr": np.array(16000, dtype=np.int64),
    }


def nonce(client: Gateless) -> int:
    return client.rpc("system_accountNextIndex", [client.keypair.ss58_address])


# -- registration and reads ---------------------------------------------------------------------


def test_register_reads_the_signature_from_the_file(recurrent: Model, builder: Keypair) -> None:
    assert isinstance(recurrent.id, int)
    assert recurrent.status == "active"
    assert recurrent.name == "recurrent-cell" and recurrent.version == "1.0.0"
    assert recurrent.owner == builder.ss58_address
    assert recurrent.price == PRICE
    assert recurrent.location["kind"] == "inline"
    assert recurrent.size == RECURRENT.stat().st_size
    assert recurrent.determinism == Determinism.tolerance(*TOLERANCE)
    assert recurrent.signature == read_signature(RECURRENT)
    assert [(s.name, s.dtype, s.shape) for s in recurrent.signature.inputs] == [
        ("x", "f32", ("batch", 16)),
        ("state", "f32", (2, "batch", 8)),
        ("sr", "i64", ()),
    ]
    assert [(s.name, s.shape) for s in recurrent.signature.outputs] == [
        ("y", ("batch", 1)),
        ("state_next", (2, "batch", 8)),
    ]
    assert [(s.name, s.example) for s in recurrent.signature.symbols] == [("batch", 1)]


def test_register_without_waiting_then_wait_active(digits: Model) -> None:
    assert digits.status == "active"
    assert digits.determinism == Determinism.tolerance(1e-4, 1e-5)  # the default for floats
    assert [(s.name, s.dtype, s.shape) for s in digits.signature.inputs] == [
        ("pixels", "f32", ("N", 64))
    ]


def test_models_and_model(client: Gateless, recurrent: Model, digits: Model) -> None:
    listed = {model.id: model for model in client.models()}
    assert listed[recurrent.id].name == "recurrent-cell"
    assert listed[digits.id].name == "digits-mlp"
    assert client.model(recurrent.id) == recurrent
    with pytest.raises(UnknownModelError) as refused:
        client.model(10**9)
    assert refused.value.name == "UnknownModel"


def test_quote(client: Gateless, recurrent: Model) -> None:
    quote = client.quote(
        recurrent, replicas=REPLICAS, input_shapes={"x": [3, 16], "state": [2, 3, 8], "sr": []}
    )
    assert quote.replicas == REPLICAS
    assert quote.model_price == PRICE
    assert quote.executor_fee > 0 and quote.data_fee > 0
    assert quote.total == quote.model_price + quote.replicas * quote.executor_fee + quote.data_fee
    # In declared order, and at the model's example shapes.
    assert client.quote(recurrent.id, REPLICAS, [[3, 16], [2, 3, 8], []]) == quote
    at_examples = client.quote(recurrent, replicas=REPLICAS)
    assert at_examples.total <= quote.total

    with pytest.raises(QuoteError) as refused:
        client.quote(recurrent, replicas=0)
    assert refused.value.code == 9003 and refused.value.reason == "badReplicas"
    with pytest.raises(QuoteError) as refused:
        client.quote(recurrent, replicas=REPLICAS, input_shapes=[[3, 16], [2, 4, 8], []])
    assert refused.value.reason == "badInputs"
    with pytest.raises(UnknownModelError):
        client.quote(10**9, replicas=REPLICAS)


# -- jobs ---------------------------------------------------------------------------------------


def test_infer_several_named_inputs(client: Gateless, recurrent: Model) -> None:
    inputs = recurrent_inputs(batch=3)
    quote = client.quote(recurrent, REPLICAS, [list(array.shape) for array in inputs.values()])
    result = client.infer(recurrent, inputs, replicas=REPLICAS, timeout=180)

    expected = onnxruntime_outputs(RECURRENT, inputs)
    assert set(result.outputs) == {"y", "state_next"}
    for name, array in result.outputs.items():
        assert array.dtype == np.float32
        assert array.shape == expected[name].shape
        np.testing.assert_allclose(array, expected[name], atol=TOLERANCE[0], rtol=TOLERANCE[1])
    assert result.outputs["state_next"].shape == (2, 3, 8)

    alice = Keypair.create_from_uri("//Alice").ss58_address
    assert result.executors == (alice,)
    assert result.digest.startswith("0x") and len(result.digest) == 66
    fees = result.fees
    assert fees.total == quote.total and fees.data_fee == quote.data_fee
    assert fees.owner == PRICE
    assert fees.executors == {alice: quote.executor_fee}
    assert fees.held == fees.owner + sum(fees.executors.values()) + fees.refunded

    job = client.job(result.job)
    assert job.status == "finalized" and job.model == recurrent.id
    assert job.submitter == client.keypair.ss58_address
    assert alice in job.executors
    again = client.result(result.job)
    assert again is not None
    np.testing.assert_array_equal(again.outputs["y"], result.outputs["y"])


def test_infer_through_the_data_plane(client: Gateless, recurrent: Model) -> None:
    """At batch 65, x and state hold 4,160 bytes each, above the 4 KiB inline threshold: they
    are uploaded to the node, and the 4,160-byte state_next is revealed off chain by content."""
    inputs = recurrent_inputs(batch=65, seed=11)
    assert client.constant("InferenceJobs", "MaxInlineBytes") < inputs["x"].nbytes
    result = client.infer(recurrent, inputs, replicas=REPLICAS, timeout=180)
    assert result.raw["output"]["kind"] == "content"
    expected = onnxruntime_outputs(RECURRENT, inputs)
    for name in ("y", "state_next"):
        np.testing.assert_allclose(
            result.outputs[name], expected[name], atol=TOLERANCE[0], rtol=TOLERANCE[1]
        )


def test_infer_one_input_as_a_bare_array(client: Gateless, digits: Model) -> None:
    images = np.random.default_rng(3).integers(0, 17, (2, 64)).astype(np.float32)
    result = client.infer(digits, images, replicas=REPLICAS, timeout=180)
    expected = onnxruntime_outputs(DIGITS, {"pixels": images})["logits"]
    logits = result.outputs["logits"]
    assert logits.shape == (2, 10) and logits.dtype == np.float32
    np.testing.assert_allclose(logits, expected, atol=1e-4, rtol=1e-5)
    assert list(logits.argmax(axis=1)) == list(expected.argmax(axis=1))

    # Public replay through the `gateless` command line (its pinned tract), when the test run
    # names it (the end-to-end test does): the job's own model agrees; a copy whose weights were
    # overwritten does not, and is not the file the job ran.
    if os.environ.get("GATELESS_CLIENT_BIN"):
        replay = client.verify(result.job)
        assert replay.agrees and replay.model_hash_matches, replay
        tampered = bytearray(DIGITS.read_bytes())
        middle = len(tampered) // 2
        tampered[middle : middle + 16] = b"\x7f" * 16
        copy = Path(tempfile.mkdtemp()) / "tampered.onnx"
        copy.write_bytes(bytes(tampered))
        replay = client.verify(result.job, model_file=copy)
        assert not replay.agrees and not replay.model_hash_matches, replay


# -- typed errors -------------------------------------------------------------------------------


def test_unknown_model(client: Gateless) -> None:
    before = nonce(client)
    with pytest.raises(UnknownModelError) as refused:
        client.infer(10**9, {"x": np.zeros((1, 16), np.float32)}, replicas=REPLICAS)
    assert refused.value.name == "UnknownModel" and refused.value.stage == "client"
    assert refused.value.pallet == "InferenceJobs" and refused.value.docs
    assert nonce(client) == before


def test_bad_inputs_are_refused_before_paying(client: Gateless, recurrent: Model) -> None:
    good = recurrent_inputs(batch=2)
    cases = {
        "InputShapeMismatch": {**good, "x": np.zeros((2, 15), np.float32)},
        "InputRankMismatch": {**good, "sr": np.array([16000], np.int64)},
        "InputSymbolMismatch": {**good, "state": np.zeros((2, 3, 8), np.float32)},
        "InputDTypeMismatch": {**good, "x": good["x"].astype(np.float64)},
        "InputCountMismatch": {"x": good["x"], "state": good["state"]},
    }
    before = nonce(client)
    for name, inputs in cases.items():
        with pytest.raises(BadInputError) as refused:
            client.infer(recurrent, inputs, replicas=REPLICAS)
        assert refused.value.name == name, refused.value
        assert refused.value.stage == "client" and refused.value.pallet == "InferenceJobs"
    with pytest.raises(BadInputError) as refused:
        client.infer(recurrent, good["x"], replicas=REPLICAS)  # a bare array, three inputs
    assert refused.value.name == "InputCountMismatch"
    assert nonce(client) == before  # nothing was submitted


def test_bad_shape_refused_by_the_chain(client: Gateless, recurrent: Model) -> None:
    """Without the SDK's checks, the chain refuses the same input with the same name."""
    inputs = {**recurrent_inputs(batch=2), "x": np.zeros((2, 15), np.float32)}
    with pytest.raises(BadInputError) as refused:
        client.submit(recurrent, inputs, replicas=REPLICAS, max_fee=GATE, precheck=False)
    error = refused.value
    assert (error.pallet, error.name, error.stage) == (
        "InferenceJobs",
        "InputShapeMismatch",
        "block",
    )
    assert "fixed one" in error.docs  # the runtime's own documentation, from the metadata


def test_fee_above_max(client: Gateless, recurrent: Model) -> None:
    inputs = recurrent_inputs(batch=1)
    before = nonce(client)
    with pytest.raises(FeeAboveMaxError) as refused:
        client.infer(recurrent, inputs, replicas=REPLICAS, max_fee=1)
    assert refused.value.name == "FeeAboveMax" and refused.value.stage == "client"
    assert refused.value.quote is not None and refused.value.quote.total > 1
    assert nonce(client) == before

    with pytest.raises(FeeAboveMaxError) as refused:
        client.submit(recurrent, inputs, replicas=REPLICAS, max_fee=1, precheck=False)
    assert (refused.value.pallet, refused.value.stage) == ("InferenceJobs", "block")


def test_no_funds(recurrent: Model) -> None:
    """An account that holds nothing cannot pay the transaction fee: the pool refuses it."""
    with Gateless(URL, new_account()) as pauper:
        with pytest.raises(InsufficientFundsError) as refused:
            pauper.infer(recurrent, recurrent_inputs(batch=1), replicas=REPLICAS)
    error = refused.value
    assert (error.pallet, error.name, error.stage) == ("InvalidTransaction", "Payment", "pool")
    assert "Inability to pay some fees" in error.docs
    assert isinstance(error, ChainError)


def test_funds_below_the_job_fee(recurrent: Model) -> None:
    """An account that pays the transaction fee but not the job's: the pallet refuses it."""
    poor = new_account()
    fund(poor, GATE // 20)  # 0.05 GATE; the job costs about 0.11
    with Gateless(URL, poor) as client:
        with pytest.raises(InsufficientFundsError) as refused:
            client.infer(recurrent, recurrent_inputs(batch=1), replicas=REPLICAS)
    error = refused.value
    assert (error.pallet, error.name, error.stage) == ("InferenceJobs", "CannotAffordFee", "block")


def test_more_replicas_than_validators(client: Gateless, recurrent: Model) -> None:
    """The chain's default of 3 replicas on a one-validator chain: refused before paying."""
    before = nonce(client)
    with pytest.raises(ChainError) as refused:
        client.infer(recurrent, recurrent_inputs(batch=1))
    assert (refused.value.name, refused.value.stage) == ("NotEnoughValidators", "client")
    assert nonce(client) == before


def test_model_above_the_inline_limit_goes_through_the_node(
    builder_client: Gateless, client: Gateless, tmp_path: Path
) -> None:
    """A 320 KiB model: its chunks are handed to the node (gateless_putChunk), registered as
    `peers` content, put together once registered (gateless_putModelContent), and fetched and
    attested by the validator. Pending, it takes no jobs and gets no quote."""
    weights = np.random.default_rng(5).uniform(-1, 1, (256, 320)).astype(np.float32)
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("MatMul", ["x", "w"], ["y"])],
        "wide-matmul",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["batch", 256])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["batch", 320])],
        [onnx.numpy_helper.from_array(weights, "w")],
    )
    model_proto = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 13)])
    model_proto.ir_version = 8
    path = tmp_path / "wide-matmul.onnx"
    onnx.save(model_proto, path)
    inline_limit = builder_client.constant("ModelRegistry", "MaxInlineModelBytes")
    assert path.stat().st_size > inline_limit

    model = builder_client.register(path, name="wide-matmul", price=PRICE, wait_active=False)
    assert model.location["kind"] == "peers"
    assert model.status == "pending"
    x = np.ones((1, 256), np.float32)
    with pytest.raises(ModelNotActiveError) as refused:
        client.infer(model, x, replicas=REPLICAS)
    assert refused.value.stage == "client"
    with pytest.raises(QuoteError) as not_quoted:
        client.quote(model, replicas=REPLICAS)
    assert not_quoted.value.reason == "modelNotActive"

    model = builder_client.wait_active(model, timeout=120)
    result = client.infer(model, x, replicas=REPLICAS, timeout=180)
    np.testing.assert_allclose(result.outputs["y"], x @ weights, atol=1e-4, rtol=1e-5)


def test_rejected_model(builder_client: Gateless) -> None:
    """A file whose graph takes [N, 32], registered as taking [N, 64]: the validator attests
    the mismatch and the model is rejected."""
    declared = Signature(
        inputs=(TensorSpec("pixels", "f32", ("N", 64)),),
        outputs=(TensorSpec("logits", "f32", ("N", 10)),),
        symbols=(Symbol("N", 1),),
    )
    with pytest.raises(ModelRejectedError) as rejected:
        builder_client.register(
            MODELS / "digits-wrong-signature.onnx",
            name="digits-wrong-signature",
            price=PRICE,
            signature=declared,
            timeout=120,
        )
    assert rejected.value.reason == "signatureMismatch"
    assert rejected.value.model.status == "rejected"
