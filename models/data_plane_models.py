"""Models whose inputs are too large to travel on chain: the data plane's test models.

- `image-classifier.onnx`: image f32 [1, 3, 224, 224] (588 KiB, off chain) and temperature
  f32 [1] (inline) -> probabilities f32 [1, 10]: a strided convolution, ReLU, global average
  pooling, a dense layer, logits divided by the temperature, Softmax. Class `Tolerance`.
- `large-input.onnx`: x f32 [1, 4, 1024, 1024] (16 MiB, sixteen 1 MiB chunks) -> mean f32
  [1, 4, 8] and peak i64 [1, 4, 8]: in each of 8 bands of rows of each channel, the mean and the
  position of the largest value (which any changed byte of the input is likely to move). Class
  `Tolerance`.
- `megabyte-input.onnx`: the same with x f32 [1, 4, 256, 256] (1 MiB, one chunk), for the data
  plane's benchmark of submission to verdict by input size.
- `segmentation-map.onnx`: x f32 [1, 3, 128, 128] (192 KiB, off chain) -> map f32
  [1, 16, 128, 128] (1 MiB, kept off chain by the executors): a 3×3 convolution to 16 channels and
  a Sigmoid, a per-pixel class map like a segmentation model's. Class `Tolerance`.

Their reference inputs are too large for `models.json`: each is written as a `generator`
(`{"seed": s}`), element i being `((i * 2654435761 + s * 40503) mod 2^32) / 2^32 - 0.5`, rounded to
f32; the tests compute the same values (integer arithmetic and a power-of-two division, exact in
f64 on every machine). Reference outputs of more than 64 Ki elements are written beside the models
as raw little-endian bytes (`{"file": NAME}` instead of `values`).
"""

import os

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from dynamic_models import references, spec

TOLERANCE = {"Tolerance": {"abs": 1e-4, "rel": 1e-4}}


def generated(shape, seed):
    """The generator's values, as the tests compute them."""
    count = int(np.prod(shape))
    i = np.arange(count, dtype=np.uint64)
    k = (i * np.uint64(2654435761) + np.uint64(seed * 40503)) % np.uint64(1 << 32)
    return (k.astype(np.float64) / float(1 << 32) - 0.5).astype(np.float32).reshape(shape)


def classifier_model(rng, graph_model):
    def weights(*shape):
        return (rng.standard_normal(shape) * 0.3).astype(np.float32)

    initializers = [
        numpy_helper.from_array(weights(8, 3, 3, 3), "conv_w"),
        numpy_helper.from_array(weights(8), "conv_b"),
        numpy_helper.from_array(weights(8, 10), "dense_w"),
        numpy_helper.from_array(weights(10), "dense_b"),
    ]
    nodes = [
        helper.make_node(
            "Conv", ["image", "conv_w", "conv_b"], ["features"], strides=[2, 2], pads=[1, 1, 1, 1]
        ),
        helper.make_node("Relu", ["features"], ["active"]),
        helper.make_node("GlobalAveragePool", ["active"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "dense_w", "dense_b"], ["logits"]),
        helper.make_node("Div", ["logits", "temperature"], ["scaled"]),
        helper.make_node("Softmax", ["scaled"], ["probabilities"], axis=1),
    ]
    return graph_model(
        "image-classifier",
        nodes,
        [
            helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 224, 224]),
            helper.make_tensor_value_info("temperature", TensorProto.FLOAT, [1]),
        ],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, 10])],
        initializers,
    )


def large_input_model(graph_model, name="large-input", side=1024):
    band = side * side // 8
    shape = numpy_helper.from_array(np.array([1, 4, 8, band], dtype=np.int64), "bands")
    nodes = [
        helper.make_node("Reshape", ["x", "bands"], ["banded"]),
        helper.make_node("ReduceMean", ["banded"], ["mean"], axes=[3], keepdims=0),
        helper.make_node("ArgMax", ["banded"], ["peak"], axis=3, keepdims=0),
    ]
    return graph_model(
        name,
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, side, side])],
        [
            helper.make_tensor_value_info("mean", TensorProto.FLOAT, [1, 4, 8]),
            helper.make_tensor_value_info("peak", TensorProto.INT64, [1, 4, 8]),
        ],
        [shape],
    )


def segmentation_model(rng, graph_model):
    initializers = [
        numpy_helper.from_array((rng.standard_normal((16, 3, 3, 3)) * 0.5).astype(np.float32), "w"),
        numpy_helper.from_array((rng.standard_normal(16) * 0.1).astype(np.float32), "b"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["logits"], pads=[1, 1, 1, 1]),
        helper.make_node("Sigmoid", ["logits"], ["map"]),
    ]
    return graph_model(
        "segmentation-map",
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 128, 128])],
        [helper.make_tensor_value_info("map", TensorProto.FLOAT, [1, 16, 128, 128])],
        initializers,
    )


# Reference outputs with more elements than this go to a file of their own.
MAX_JSON_ELEMENTS = 64 * 1024


def raw_outputs(model, documents):
    """Moves the large outputs of `documents` to `<model stem>.<output>.bin` beside the models."""
    here = os.path.dirname(os.path.abspath(__file__))
    stem = model.removesuffix(".onnx")
    for document in documents:
        for tensor in document["outputs"]:
            if len(tensor["values"]) > MAX_JSON_ELEMENTS:
                name = f"{stem}.{tensor['name']}.bin"
                dtype = {"f32": "<f4", "i64": "<i8", "i32": "<i4"}[tensor["dtype"]]
                with open(os.path.join(here, name), "wb") as file:
                    file.write(np.array(tensor["values"], dtype=dtype).tobytes())
                del tensor["values"]
                tensor["file"] = name
    return documents


def generated_references(data, cases):
    """`references` of `cases`, each input either an array (written by its values) or a
    `(shape, seed)` pair (written as its generator)."""
    feeds = [
        {name: how if isinstance(how, np.ndarray) else generated(*how) for name, how in case.items()}
        for case in cases
    ]
    documents = references(data, feeds)
    for document, case in zip(documents, cases):
        for tensor in document["inputs"]:
            how = case[tensor["name"]]
            if not isinstance(how, np.ndarray):
                del tensor["values"]
                tensor["generator"] = {"seed": how[1]}
    return documents


def add_data_plane_models(manifest, entry, save, graph_model, seed):
    """Writes the models above and adds them to `manifest` with their references."""
    rng = np.random.default_rng(seed + 2)

    def add(name, data, signature, cases):
        manifest[name] = entry(data, signature, TOLERANCE)
        manifest[name]["references"] = raw_outputs(name, generated_references(data, cases))

    add(
        "image-classifier.onnx",
        save(classifier_model(rng, graph_model), "image-classifier.onnx"),
        {
            "inputs": [
                spec("image", "f32", [1, 3, 224, 224]),
                spec("temperature", "f32", [1]),
            ],
            "outputs": [spec("probabilities", "f32", [1, 10])],
            "examples": {},
        },
        [{"image": ((1, 3, 224, 224), 1), "temperature": np.array([0.5], np.float32)}],
    )
    add(
        "large-input.onnx",
        save(large_input_model(graph_model), "large-input.onnx"),
        {
            "inputs": [spec("x", "f32", [1, 4, 1024, 1024])],
            "outputs": [spec("mean", "f32", [1, 4, 8]), spec("peak", "i64", [1, 4, 8])],
            "examples": {},
        },
        [{"x": ((1, 4, 1024, 1024), 2)}],
    )
    add(
        "megabyte-input.onnx",
        save(large_input_model(graph_model, "megabyte-input", 256), "megabyte-input.onnx"),
        {
            "inputs": [spec("x", "f32", [1, 4, 256, 256])],
            "outputs": [spec("mean", "f32", [1, 4, 8]), spec("peak", "i64", [1, 4, 8])],
            "examples": {},
        },
        [{"x": ((1, 4, 256, 256), 4)}],
    )
    add(
        "segmentation-map.onnx",
        save(segmentation_model(rng, graph_model), "segmentation-map.onnx"),
        {
            "inputs": [spec("x", "f32", [1, 3, 128, 128])],
            "outputs": [spec("map", "f32", [1, 16, 128, 128])],
            "examples": {},
        },
        [{"x": ((1, 3, 128, 128), 3)}],
    )
