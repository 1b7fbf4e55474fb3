#!/usr/bin/env python3
"""Makes the ONNX models that Gateless tests with, and their reference outputs.

Run `models/make_models.sh` (it installs the pinned packages in a virtualenv and runs this).
Everything is deterministic: fixed seeds, scikit-learn's bundled 8x8 digits data set (no
download), ONNX graphs written with `onnx.helper`, and reference outputs computed by an
independent runtime, onnxruntime, so that tests compare tract against something it did not
produce.

Files written next to this script:

- `digits-mlp.onnx`: a float MLP (64 -> 32 ReLU -> 10 logits) trained on the digits set.
  Input `pixels` f32 [N, 64] (values 0..16), output `logits` f32 [N, 10]. Determinism class:
  `Tolerance`.
- `digits-int.onnx`: an integer linear classifier: the same data, a logistic regression whose
  weights are scaled by 256 and rounded to int32. Input `pixels` i32 [N, 64], output `scores`
  i32 [N, 10]. Integer arithmetic only, so every engine agrees bit for bit: class `Exact`.
- `digits-mlp-truncated.onnx`: the MLP cut in half (a malformed file).
- `digits-wrong-signature.onnx`: a valid model whose input is [N, 32], not the [N, 64] that
  `models.json` declares for it.
- `unsupported-op.onnx`: a valid ONNX file with an operator no engine knows.
- `tiled-pixels.onnx`: a valid model that repeats its f32 [N, 64] input 32 times along the
  second axis, f32 [N, 2048] (8 KiB per row): 32 rows fill the 256 KiB that an executor may
  reveal, 33 are over it (the engine's `OutputTooLarge`).
- Hostile models, for validator nodes to survive (each marked `hostile` in `models.json`):
  - `bomb-constant-of-shape.onnx` (248 bytes): x f32 [1] -> y f32 [1], y = x + the sum of a
    `ConstantOfShape` of the constant shape [2^23, 2^23] f32, 256 TiB. An engine that folds
    constants while loading (tract does) allocates it at load time, before any job. Never run
    here: onnxruntime would try the same allocation.
  - `bomb-input-tile.onnx`: x f32 [1, 4] and repeats i64 [2] -> y = Tile(x, repeats) f32 [?, ?]:
    the job's input chooses the output's size. Runs with repeats [2, 3] (reference in
    `models.json`). tract types a Tile only with constant repeats (tract-hir
    src/ops/array/tile.rs:52), so it should refuse this one at load ("shape input is variable").
  - `bomb-input-expand.onnx`: x f32 [1] -> y f32 [1]: n = int64(x), Concat [n, n] is the target
    shape of an `Expand` of a scalar 1.0, summed: x = 2 gives 4, x = 1e9 asks for 1e18 f32
    (4 EB). tract also needs an Expand target it can type (tract-hir src/ops/array/broadcast.rs:91),
    so it should refuse this one at load too.
  - `bomb-input-range.onnx`: an input-driven bomb that tract runs: x f32 [1] -> y =
    ReduceSum(Range(0, x, 1)) f32 [1]: x = 2 gives 1, x = 1e10 asks for 40 GB of Range.
  - `slow-square.onnx`: x f32 [1, n] -> 16 times A = Tanh(A @ A) over A = Tanh(x^T x) [n, n],
    y the mean, f32 [1, 1]: instant at its example n = 1, minutes at n = 4096 (a 16 KiB input):
    a model that validators attest and a job's input makes run past any time limit.
  - `slow-matmul.onnx` (4.4 MB): x f32 [1, 1040] plus a per-row offset makes [2048, 1040], then
    1,280 times Tanh(h @ w) with one shared 1040 x 1040 f32 weight, then the mean over the
    rows, y f32 [1, 1040]: 5.7 TFLOP in little memory (the 4.3 MB weight and a few 8.5 MB
    activations: about 45 MB over its baseline in onnxruntime; tract not measured). onnxruntime 1.31.1 on one thread (intra_op_num_threads=1) took 46.9 s on the
    AVX-512 Xeon this was made on (about 120 GFLOP/s, with a build running on the other core);
    `GATELESS_TIME_SLOW_MODEL=1` times it again.
  - Panic candidates, from reading tract 0.23.9's source, valid protobuf and passing
    `onnx.checker` (not its full check, whose shape inference rejects the first two), never run
    here (onnxruntime refuses them):
    - `panic-transpose-perm.onnx`: Transpose perm [1, 5] of a rank-2 input: tract-hir
      src/ops/array/permute_axes.rs:21 indexes the input shape with 5 while typing (load).
    - `panic-depth-to-space-zero.onnx`: DepthToSpace blocksize 0: tract-onnx src/ops/d2s.rs:50
      divides the channel count by 0, an integer division in tract-data src/dim/tree.rs:284,
      while typing (load).
    - `panic-gather-index.onnx`: Gather of x f32 [3] at the constant indices [0, 7]: tract-core
      src/ops/array/gather.rs:75 indexes the input slice with 7 unchecked (run).
- Models with symbolic dimensions, several inputs and outputs, a rank-0 input and the
  intermediate shape annotations of real exports (`conv-dynamic.onnx`, `recurrent-cell.onnx`,
  `two-outputs.onnx`, `int-pair.onnx`), written by `dynamic_models.py` (see there), with
  onnxruntime's outputs at two concrete shapes each in `models.json`.
- Models whose inputs travel off chain (`image-classifier.onnx`, 224x224 RGB plus an inline
  temperature; `large-input.onnx`, 16 MiB), written by `data_plane_models.py` (see there); their
  reference inputs are generated from a seed, not listed.
- `models.json`: each model's declared signature, determinism class, blake2-256 hash and size.
- `digits-mlp.reference.json`, `digits-int.reference.json`: inputs (the first 16 test images)
  and onnxruntime's outputs, with the true labels and the test accuracy.
"""

import hashlib
import json
import os
import time

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from data_plane_models import add_data_plane_models
from dynamic_models import add_dynamic_models

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 13
SEED = 7
REFERENCE_SAMPLES = 16
# How often tiled-pixels.onnx repeats its input: 8 KiB of output per row.
TILES = 32
# bomb-constant-of-shape.onnx's constant is [BOMB_SIDE, BOMB_SIDE] f32: 2^48 bytes, 256 TiB.
BOMB_SIDE = 1 << 23
# slow-matmul.onnx: SLOW_LAYERS times a [SLOW_ROWS, SLOW_WIDTH] @ [SLOW_WIDTH, SLOW_WIDTH] MatMul
# (8.9 GFLOP each) and a Tanh, every MatMul reading the one SLOW_WIDTH^2 f32 weight. 1040^2 f32
# is 4.3 MB, just over tract's 4 MiB constant-folding allowance (CONST_FOLD_MEM_BUDGET), so that
# tract cannot fold one packed copy of the shared weight per MatMul (which would be 5.5 GB).
SLOW_WIDTH = 1040
SLOW_ROWS = 2048
SLOW_LAYERS = 1280
# slow-square.onnx: SLOW_SQUARE_LAYERS times an [n, n] @ [n, n] MatMul, n chosen by the input.
SLOW_SQUARE_LAYERS = 16
# Set to time slow-matmul.onnx with onnxruntime on one thread (about a minute) after writing it.
TIME_SLOW = os.environ.get("GATELESS_TIME_SLOW_MODEL") == "1"


def path(name):
    return os.path.join(HERE, name)


def save(model, name):
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    with open(path(name), "wb") as file:
        file.write(data)
    return data


def blake2_256(data):
    return "0x" + hashlib.blake2b(data, digest_size=32).hexdigest()


def graph_model(name, nodes, inputs, outputs, initializers):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializers)
    model = helper.make_model(
        graph,
        producer_name="gateless-make-models",
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    model.ir_version = 8
    return model


def mlp_model(mlp, input_width=64):
    w1, w2 = (w.astype(np.float32) for w in mlp.coefs_)
    b1, b2 = (b.astype(np.float32) for b in mlp.intercepts_)
    if input_width != w1.shape[0]:
        w1 = w1[:input_width]
    nodes = [
        helper.make_node("MatMul", ["pixels", "w1"], ["h1"]),
        helper.make_node("Add", ["h1", "b1"], ["h1b"]),
        helper.make_node("Relu", ["h1b"], ["h1r"]),
        helper.make_node("MatMul", ["h1r", "w2"], ["h2"]),
        helper.make_node("Add", ["h2", "b2"], ["logits"]),
    ]
    return graph_model(
        "digits_mlp",
        nodes,
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["N", input_width])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        [
            numpy_helper.from_array(w1, "w1"),
            numpy_helper.from_array(b1, "b1"),
            numpy_helper.from_array(w2, "w2"),
            numpy_helper.from_array(b2, "b2"),
        ],
    )


def int_model(weights, bias):
    nodes = [
        helper.make_node("MatMul", ["pixels", "weights"], ["product"]),
        helper.make_node("Add", ["product", "bias"], ["scores"]),
    ]
    return graph_model(
        "digits_int",
        nodes,
        [helper.make_tensor_value_info("pixels", TensorProto.INT32, ["N", 64])],
        [helper.make_tensor_value_info("scores", TensorProto.INT32, ["N", 10])],
        [numpy_helper.from_array(weights, "weights"), numpy_helper.from_array(bias, "bias")],
    )


def tiled_model():
    nodes = [helper.make_node("Tile", ["pixels", "repeats"], ["tiled"])]
    return graph_model(
        "tiled_pixels",
        nodes,
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["N", 64])],
        [helper.make_tensor_value_info("tiled", TensorProto.FLOAT, ["N", 64 * TILES])],
        [numpy_helper.from_array(np.array([1, TILES], dtype=np.int64), "repeats")],
    )


def unsupported_model():
    nodes = [helper.make_node("GatelessNoSuchOp", ["x"], ["y"], domain="ai.gateless.test")]
    graph = helper.make_graph(
        nodes,
        "unsupported",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])],
    )
    model = helper.make_model(
        graph,
        producer_name="gateless-make-models",
        opset_imports=[
            helper.make_opsetid("", OPSET),
            helper.make_opsetid("ai.gateless.test", 1),
        ],
    )
    model.ir_version = 8
    # The checker rejects unknown domains' ops only when asked to; the file itself is valid ONNX.
    data = model.SerializeToString()
    with open(path("unsupported-op.onnx"), "wb") as file:
        file.write(data)
    return data


def constant_bomb_model():
    """ConstantOfShape of a constant [2^23, 2^23] shape, summed and added to the input."""
    nodes = [
        helper.make_node(
            "ConstantOfShape",
            ["shape"],
            ["ones"],
            value=helper.make_tensor("value", TensorProto.FLOAT, [1], [1.0]),
        ),
        helper.make_node("ReduceSum", ["ones"], ["total"], keepdims=0),
        helper.make_node("Add", ["x", "total"], ["y"]),
    ]
    return graph_model(
        "bomb_constant_of_shape",
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        [numpy_helper.from_array(np.array([BOMB_SIDE, BOMB_SIDE], dtype=np.int64), "shape")],
    )


def tile_bomb_model():
    """Tile of `x` by the job's own `repeats`."""
    nodes = [helper.make_node("Tile", ["x", "repeats"], ["y"])]
    return graph_model(
        "bomb_input_tile",
        nodes,
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4]),
            helper.make_tensor_value_info("repeats", TensorProto.INT64, [2]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["rows", "columns"])],
        [],
    )


def bomb_tail(shape_name):
    """Expands a scalar 1.0 to the shape vector `shape_name` and sums it into `y` f32 [1]."""
    return [
        helper.make_node("Expand", ["one", shape_name], ["ones"]),
        helper.make_node("ReduceSum", ["ones"], ["total"], keepdims=0),
        helper.make_node("Reshape", ["total", "one_element"], ["y"]),
    ]


def bomb_constants():
    return [
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "one_element"),
    ]


def expand_bomb_model():
    """x f32 [1], cast to int64, as both sides of an Expand target: sum of an [n, n] of ones."""
    nodes = [
        helper.make_node("Cast", ["x"], ["n"], to=TensorProto.INT64),
        helper.make_node("Concat", ["n", "n"], ["shape"], axis=0),
    ] + bomb_tail("shape")
    return graph_model(
        "bomb_input_expand",
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        bomb_constants(),
    )


def range_bomb_model():
    """x f32 [1] as the limit of a Range(0, x, 1), summed: the job's input chooses how many
    elements the Range allocates, and tract runs it (it cannot run an Expand whose target comes
    from a Range's shape: "Undetermined symbol in expression")."""
    nodes = [
        helper.make_node("Reshape", ["x", "scalar_shape"], ["limit"]),
        helper.make_node("Range", ["zero", "limit", "one"], ["steps"]),
        helper.make_node("ReduceSum", ["steps"], ["y"], keepdims=1),
    ]
    return graph_model(
        "bomb_input_range",
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        [
            numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
            numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one"),
            numpy_helper.from_array(np.zeros([0], dtype=np.int64), "scalar_shape"),
        ],
    )


def slow_weight():
    # Uniform in [-1, 1) (exact doubles from the generator's bits) scaled to a variance of
    # 1/width: each MatMul keeps the activations' scale, and Tanh bounds them anyway.
    rng = np.random.default_rng(SEED)
    scale = np.sqrt(3.0 / SLOW_WIDTH)
    return ((rng.random((SLOW_WIDTH, SLOW_WIDTH)) * 2 - 1) * scale).astype(np.float32)


def slow_model(layers=SLOW_LAYERS):
    """x f32 [1, width] plus a per-row offset makes [rows, width]; then `layers` times
    Tanh(h @ w) with one shared weight; the output is the mean over the rows, f32 [1, width]."""
    nodes = [helper.make_node("Add", ["x", "row_offsets"], ["h0"])]
    for layer in range(layers):
        nodes.append(helper.make_node("MatMul", [f"h{layer}", "w"], [f"m{layer}"]))
        nodes.append(helper.make_node("Tanh", [f"m{layer}"], [f"h{layer + 1}"]))
    nodes.append(helper.make_node("ReduceMean", [f"h{layers}"], ["y"], axes=[0], keepdims=1))
    offsets = np.linspace(-1.0, 1.0, SLOW_ROWS, dtype=np.float32).reshape(SLOW_ROWS, 1)
    return graph_model(
        "slow_matmul",
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, SLOW_WIDTH])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, SLOW_WIDTH])],
        [numpy_helper.from_array(slow_weight(), "w"), numpy_helper.from_array(offsets, "row_offsets")],
    )


def slow_square_model(layers=SLOW_SQUARE_LAYERS):
    """x f32 [1, n] -> A = Tanh(x^T x) [n, n], then `layers` times A = Tanh(A @ A), and the mean
    of A, y f32 [1, 1]: 2 n^3 FLOP a layer, nothing at n = 1, minutes at n = 4096."""
    nodes = [
        helper.make_node("Transpose", ["x"], ["column"], perm=[1, 0]),
        helper.make_node("MatMul", ["column", "x"], ["outer"]),
        helper.make_node("Tanh", ["outer"], ["a0"]),
    ]
    for layer in range(layers):
        nodes.append(helper.make_node("MatMul", [f"a{layer}", f"a{layer}"], [f"p{layer}"]))
        nodes.append(helper.make_node("Tanh", [f"p{layer}"], [f"a{layer + 1}"]))
    nodes.append(helper.make_node("ReduceMean", [f"a{layers}"], ["y"], axes=[0, 1], keepdims=1))
    return graph_model(
        "slow_square",
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])],
        [],
    )


def panic_transpose_model():
    """A Transpose of a rank-2 input whose perm names axis 5."""
    nodes = [helper.make_node("Transpose", ["x"], ["y"], perm=[1, 5])]
    return graph_model(
        "panic_transpose_perm",
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 2])],
        [],
    )


def panic_depth_to_space_model():
    """A DepthToSpace with blocksize 0 (the channels are divided by blocksize^2)."""
    nodes = [helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=0)]
    return graph_model(
        "panic_depth_to_space",
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 4, 4])],
        [],
    )


def panic_gather_model():
    """A Gather of the input [3] at the constant indices [0, 7]."""
    nodes = [helper.make_node("Gather", ["x", "indices"], ["y"], axis=0)]
    return graph_model(
        "panic_gather_index",
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
        [numpy_helper.from_array(np.array([0, 7], dtype=np.int64), "indices")],
    )


def run(data, inputs):
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: inputs})[0]


def run_feeds(data, feeds, threads=0):
    """Runs `data` on the named `feeds` (0 threads: onnxruntime's default); the first output."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = threads
    session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0]


def tensor_json(name, array):
    dtype = {np.dtype(np.float32): "f32", np.dtype(np.int64): "i64"}[array.dtype]
    return {"name": name, "dtype": dtype, "shape": list(array.shape), "values": array.ravel().tolist()}


def small_reference(feeds, output_name, output):
    """A small input that runs and onnxruntime's output for it, for a hostile model's entry."""
    return {
        "engine": f"onnxruntime {onnxruntime.__version__}",
        "inputs": [tensor_json(name, value) for name, value in feeds.items()],
        "outputs": [tensor_json(output_name, output)],
    }


def reference(name, dtype, determinism, inputs, outputs, labels, accuracy):
    document = {
        "model": name,
        "engine": f"onnxruntime {onnxruntime.__version__}",
        "determinism": determinism,
        "input": {"dtype": dtype, "shape": list(inputs.shape), "values": inputs.ravel().tolist()},
        "output": {
            "dtype": "i32" if outputs.dtype == np.int32 else "f32",
            "shape": list(outputs.shape),
            "values": outputs.ravel().tolist(),
        },
        "labels": labels.tolist(),
        "predicted": outputs.argmax(axis=1).tolist(),
        "test_accuracy": accuracy,
    }
    with open(path(f"{name}.reference.json"), "w") as file:
        json.dump(document, file, indent=1)
        file.write("\n")


def spec(name, dtype, shape):
    return {"name": name, "dtype": dtype, "shape": shape}


def main():
    digits = load_digits()
    x = digits.data.astype(np.float32)
    y = digits.target
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=SEED, stratify=y
    )

    mlp = MLPClassifier(hidden_layer_sizes=(32,), max_iter=600, random_state=SEED)
    mlp.fit(x_train, y_train)
    mlp_bytes = save(mlp_model(mlp), "digits-mlp.onnx")
    mlp_logits = run(mlp_bytes, x_test)
    mlp_accuracy = float((mlp_logits.argmax(axis=1) == y_test).mean())
    samples = x_test[:REFERENCE_SAMPLES]
    reference(
        "digits-mlp",
        "f32",
        {"Tolerance": {"abs": 1e-4, "rel": 1e-5}},
        samples,
        run(mlp_bytes, samples),
        y_test[:REFERENCE_SAMPLES],
        mlp_accuracy,
    )

    linear = LogisticRegression(max_iter=2000, random_state=SEED)
    linear.fit(x_train, y_train)
    weights = np.round(linear.coef_.T * 256).astype(np.int32)
    bias = np.round(linear.intercept_ * 256).astype(np.int32)
    int_bytes = save(int_model(weights, bias), "digits-int.onnx")
    int_inputs = x_test.astype(np.int32)
    int_scores = run(int_bytes, int_inputs)
    # The integer graph computed by hand must be what onnxruntime gives.
    assert np.array_equal(int_scores, int_inputs @ weights + bias)
    int_accuracy = float((int_scores.argmax(axis=1) == y_test).mean())
    reference(
        "digits-int",
        "i32",
        "Exact",
        int_inputs[:REFERENCE_SAMPLES],
        int_scores[:REFERENCE_SAMPLES],
        y_test[:REFERENCE_SAMPLES],
        int_accuracy,
    )

    with open(path("digits-mlp-truncated.onnx"), "wb") as file:
        file.write(mlp_bytes[: len(mlp_bytes) // 2])
    wrong = save(mlp_model(mlp, input_width=32), "digits-wrong-signature.onnx")
    unsupported = unsupported_model()
    tiled = save(tiled_model(), "tiled-pixels.onnx")
    tiled_rows = run(tiled, samples[:2])
    assert tiled_rows.shape == (2, 64 * TILES) and np.array_equal(tiled_rows[:, 64:128], samples[:2])

    def entry(data, signature, determinism):
        return {"blake2_256": blake2_256(data), "size": len(data), "signature": signature,
                "determinism": determinism}

    mlp_signature = {
        "inputs": [spec("pixels", "f32", ["N", 64])],
        "outputs": [spec("logits", "f32", ["N", 10])],
    }
    manifest = {
        "digits-mlp.onnx": entry(mlp_bytes, mlp_signature, {"Tolerance": {"abs": 1e-4, "rel": 1e-5}}),
        "digits-int.onnx": entry(
            int_bytes,
            {
                "inputs": [spec("pixels", "i32", ["N", 64])],
                "outputs": [spec("scores", "i32", ["N", 10])],
            },
            "Exact",
        ),
        "digits-wrong-signature.onnx": entry(wrong, mlp_signature, {"Tolerance": {"abs": 1e-4, "rel": 1e-5}}),
        "unsupported-op.onnx": entry(
            unsupported,
            {"inputs": [spec("x", "f32", ["N", 4])], "outputs": [spec("y", "f32", ["N", 4])]},
            "Exact",
        ),
    }
    manifest["tiled-pixels.onnx"] = entry(
        tiled,
        {
            "inputs": [spec("pixels", "f32", ["N", 64])],
            "outputs": [spec("tiled", "f32", ["N", 64 * TILES])],
        },
        "Exact",
    )
    truncated = mlp_bytes[: len(mlp_bytes) // 2]
    manifest["digits-mlp-truncated.onnx"] = entry(truncated, mlp_signature, "Exact")
    add_dynamic_models(manifest, entry, save, graph_model, SEED)
    add_data_plane_models(manifest, entry, save, graph_model, SEED)
    add_hostile_models(manifest, entry)
    with open(path("models.json"), "w") as file:
        json.dump(manifest, file, indent=1, sort_keys=True)
        file.write("\n")
    print(f"digits-mlp: {len(mlp_bytes)} bytes, test accuracy {mlp_accuracy:.4f}")
    print(f"digits-int: {len(int_bytes)} bytes, test accuracy {int_accuracy:.4f}")


def add_hostile_models(manifest, entry):
    """Writes the hostile models and adds them to `manifest` with a `hostile` note (and, for
    those that run on a small input, that input and onnxruntime's output)."""

    def hostile(name, data, signature, what, reference=None, determinism="Exact"):
        manifest[name] = entry(data, signature, determinism)
        manifest[name]["hostile"] = what
        if reference is not None:
            manifest[name]["reference"] = reference

    one_in_one_out = {
        "inputs": [spec("x", "f32", [1])],
        "outputs": [spec("y", "f32", [1])],
    }

    # Never run: onnxruntime would try to allocate the 256 TiB too.
    constant = save(constant_bomb_model(), "bomb-constant-of-shape.onnx")
    hostile(
        "bomb-constant-of-shape.onnx",
        constant,
        one_in_one_out,
        "allocation bomb at load: ConstantOfShape of the constant shape [2^23, 2^23] f32 "
        "(256 TiB) summed into y; an engine that folds constants allocates it while optimising",
    )

    tile = save(tile_bomb_model(), "bomb-input-tile.onnx")
    feeds = {"x": np.array([[1, 2, 3, 4]], dtype=np.float32), "repeats": np.array([2, 3], dtype=np.int64)}
    tiled = run_feeds(tile, feeds)
    assert np.array_equal(tiled, np.tile(feeds["x"], (2, 3)))
    hostile(
        "bomb-input-tile.onnx",
        tile,
        {
            "inputs": [spec("x", "f32", [1, 4]), spec("repeats", "i64", [2])],
            "outputs": [spec("y", "f32", ["Dynamic", "Dynamic"])],
        },
        "allocation bomb from the job's input: y = Tile(x, repeats), so repeats [1e9, 1e9] asks "
        "for 1e9 x 4e9 f32 (16 EB); a data-dependent output shape",
        small_reference(feeds, "y", tiled),
    )

    expand = save(expand_bomb_model(), "bomb-input-expand.onnx")
    feeds = {"x": np.array([2.0], dtype=np.float32)}
    total = run_feeds(expand, feeds)
    assert np.array_equal(total, np.array([4.0], dtype=np.float32))
    hostile(
        "bomb-input-expand.onnx",
        expand,
        one_in_one_out,
        "allocation bomb from the job's input: n = int64(x) is the Expand target [n, n] of a "
        "scalar 1.0, summed into y = n^2; x = 1e9 asks for 1e18 f32 (4 EB), x = 2 gives 4",
        small_reference(feeds, "y", total),
    )

    ranged = save(range_bomb_model(), "bomb-input-range.onnx")
    feeds = {"x": np.array([2.0], dtype=np.float32)}
    total = run_feeds(ranged, feeds)
    assert np.array_equal(total, np.array([1.0], dtype=np.float32))
    hostile(
        "bomb-input-range.onnx",
        ranged,
        one_in_one_out,
        "allocation bomb from the job's input: y = ReduceSum(Range(0, x, 1)); the Range holds "
        "ceil(x) f32, so x = 1e10 asks for 40 GB, x = 2 gives 0 + 1 = 1",
        small_reference(feeds, "y", total),
    )

    slow = save(slow_model(), "slow-matmul.onnx")
    # The whole model runs for about a minute; its first layers show that it is numerically tame.
    x = np.linspace(-1.0, 1.0, SLOW_WIDTH, dtype=np.float32).reshape(1, SLOW_WIDTH)
    head = run_feeds(slow_model(layers=4).SerializeToString(), {"x": x})
    assert np.isfinite(head).all() and np.abs(head).max() < 1
    if TIME_SLOW:
        start = time.perf_counter()
        output = run_feeds(slow, {"x": x}, threads=1)
        seconds = time.perf_counter() - start
        assert np.isfinite(output).all()
        print(f"slow-matmul: {seconds:.1f} s on one onnxruntime thread, max |y| {np.abs(output).max():.3g}")
    gflop = 2 * SLOW_ROWS * SLOW_WIDTH * SLOW_WIDTH * SLOW_LAYERS / 1e9
    hostile(
        "slow-matmul.onnx",
        slow,
        {
            "inputs": [spec("x", "f32", [1, SLOW_WIDTH])],
            "outputs": [spec("y", "f32", [1, SLOW_WIDTH])],
        },
        f"slow: {SLOW_LAYERS} MatMuls [{SLOW_ROWS}, {SLOW_WIDTH}] @ [{SLOW_WIDTH}, {SLOW_WIDTH}] "
        f"with Tanh, {gflop:.0f} GFLOP (47 s on one onnxruntime thread) in little memory (one "
        f"4.3 MB weight, 8.5 MB activations)",
        determinism={"Tolerance": {"abs": 1e-4, "rel": 1e-5}},
    )

    square = save(slow_square_model(), "slow-square.onnx")
    feeds = {"x": np.array([[0.5, -0.25, 0.125]], dtype=np.float32)}
    hostile(
        "slow-square.onnx",
        square,
        {
            "inputs": [spec("x", "f32", [1, "n"])],
            "outputs": [spec("y", "f32", [1, 1])],
            "examples": {"n": 1},
        },
        f"slow from the job's input: x f32 [1, n], {SLOW_SQUARE_LAYERS} MatMuls [n, n] @ [n, n] "
        f"with Tanh: instant at its example n = 1 (so it is attested), "
        f"{2 * SLOW_SQUARE_LAYERS * 4096**3 / 1e12:.1f} TFLOP at n = 4096 (a 16 KiB input)",
        small_reference(feeds, "y", run_feeds(square, feeds)),
        determinism={"Tolerance": {"abs": 1e-4, "rel": 1e-5}},
    )

    # Meant to make tract panic; not run here (onnxruntime refuses them).
    panics = [
        (
            "panic-transpose-perm.onnx",
            panic_transpose_model(),
            [2, 3],
            [3, 2],
            "panic candidate at load: Transpose perm [1, 5] on a rank-2 input; tract-hir "
            "0.23.9 src/ops/array/permute_axes.rs:21 indexes the input shape with 5",
        ),
        (
            "panic-depth-to-space-zero.onnx",
            panic_depth_to_space_model(),
            [1, 4, 2, 2],
            [1, 1, 4, 4],
            "panic candidate at load: DepthToSpace blocksize 0; tract-onnx 0.23.9 src/ops/d2s.rs:50 "
            "divides the channels TDim by 0, an integer division in tract-data 0.23.9 "
            "src/dim/tree.rs:284",
        ),
        (
            "panic-gather-index.onnx",
            panic_gather_model(),
            [3],
            [2],
            "panic candidate at run: Gather of x [3] at the constant indices [0, 7]; tract-core "
            "0.23.9 src/ops/array/gather.rs:75 reads the input slice at 7 unchecked",
        ),
    ]
    for name, model, input_shape, output_shape, what in panics:
        data = save(model, name)
        signature = {
            "inputs": [spec("x", "f32", input_shape)],
            "outputs": [spec("y", "f32", output_shape)],
        }
        hostile(name, data, signature, what)


if __name__ == "__main__":
    main()
