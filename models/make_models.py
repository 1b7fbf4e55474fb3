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
  second axis, f32 [N, 2048] (8 KiB per row): two rows fill the 16 KiB that an executor may
  reveal, three are over it (the engine's `OutputTooLarge`).
- `models.json`: each model's declared signature, determinism class, blake2-256 hash and size.
- `digits-mlp.reference.json`, `digits-int.reference.json`: inputs (the first 16 test images)
  and onnxruntime's outputs, with the true labels and the test accuracy.
"""

import hashlib
import json
import os

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 13
SEED = 7
REFERENCE_SAMPLES = 16
# How often tiled-pixels.onnx repeats its input: 8 KiB of output per row.
TILES = 32


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


def run(data, inputs):
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: inputs})[0]


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
        "inputs": [spec("pixels", "f32", ["Dynamic", 64])],
        "outputs": [spec("logits", "f32", ["Dynamic", 10])],
    }
    manifest = {
        "digits-mlp.onnx": entry(mlp_bytes, mlp_signature, {"Tolerance": {"abs": 1e-4, "rel": 1e-5}}),
        "digits-int.onnx": entry(
            int_bytes,
            {
                "inputs": [spec("pixels", "i32", ["Dynamic", 64])],
                "outputs": [spec("scores", "i32", ["Dynamic", 10])],
            },
            "Exact",
        ),
        "digits-wrong-signature.onnx": entry(wrong, mlp_signature, {"Tolerance": {"abs": 1e-4, "rel": 1e-5}}),
        "unsupported-op.onnx": entry(
            unsupported,
            {"inputs": [spec("x", "f32", ["Dynamic", 4])], "outputs": [spec("y", "f32", ["Dynamic", 4])]},
            "Exact",
        ),
    }
    manifest["tiled-pixels.onnx"] = entry(
        tiled,
        {
            "inputs": [spec("pixels", "f32", ["Dynamic", 64])],
            "outputs": [spec("tiled", "f32", ["Dynamic", 64 * TILES])],
        },
        "Exact",
    )
    truncated = mlp_bytes[: len(mlp_bytes) // 2]
    manifest["digits-mlp-truncated.onnx"] = entry(truncated, mlp_signature, "Exact")
    with open(path("models.json"), "w") as file:
        json.dump(manifest, file, indent=1, sort_keys=True)
        file.write("\n")
    print(f"digits-mlp: {len(mlp_bytes)} bytes, test accuracy {mlp_accuracy:.4f}")
    print(f"digits-int: {len(int_bytes)} bytes, test accuracy {int_accuracy:.4f}")


if __name__ == "__main__":
    main()
