"""Models with the traits that keep real exported models from loading at symbolic shapes.

Each is small, deterministic (weights from a seeded generator) and carries one or more of what
broke the published models Gateless was tried with (PyTorch, Paddle and JAX exports):

- `conv-dynamic.onnx`: image f32 [batch, 3, height, width] -> mask f32 [batch, 1, height, width]
  and score f32 [batch, 4]. Two convolutions, a max-pool that halves the map, then a
  shape-computing subgraph (Shape -> Gather -> Concat) that feeds a Resize back to the input's
  height and width and a Reshape to [batch, 4, -1]; the intermediate `value_info` annotates
  tensors with the symbols `batch`, `height`, `width`, and `height/2`, `width/2` after the pool,
  as exporters write them. Class `Tolerance`.
- `recurrent-cell.onnx`: x f32 [batch, 16], state f32 [2, batch, 8] and a rank-0 sample rate
  sr i64 [] -> y f32 [batch, 1] and state_next f32 [2, batch, 8], the shape of a voice-activity
  model's step. Class `Tolerance`.
- `two-outputs.onnx`: logits f32 [n, 10] -> probabilities f32 [n, 10] (Softmax) and label
  i64 [n] (ArgMax): two outputs of different dtypes. Class `Tolerance`.
- `int-pair.onnx`: a i32 [n, 4] and b i32 [n, 4] sharing the symbol `n` -> mixed i32 [n, 4] =
  3a - b and total i32 [n] = the row sums of a * b. Integer arithmetic only: class `Exact`.

For each, `models.json` lists the signature as the file declares it (symbols by name, with an
example value for each, the shape a validator attests at) and onnxruntime's outputs at two
different concrete shapes.
"""

import numpy as np
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

TOLERANCE = {"Tolerance": {"abs": 1e-4, "rel": 1e-4}}
DTYPES = {
    np.dtype(np.float32): "f32",
    np.dtype(np.int32): "i32",
    np.dtype(np.int64): "i64",
}


def tensor_json(name, array):
    return {
        "name": name,
        "dtype": DTYPES[array.dtype],
        "shape": list(array.shape),
        "values": array.ravel().tolist(),
    }


def spec(name, dtype, shape):
    return {"name": name, "dtype": dtype, "shape": shape}


def run_all(data, feeds):
    """Every output of `data` on the named `feeds`, by onnxruntime on one thread."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, feeds)))


def references(data, cases):
    """onnxruntime's outputs for each case of named inputs."""
    documents = []
    for feeds in cases:
        outputs = run_all(data, feeds)
        documents.append(
            {
                "engine": f"onnxruntime {onnxruntime.__version__}",
                "inputs": [tensor_json(name, value) for name, value in feeds.items()],
                "outputs": [tensor_json(name, value) for name, value in outputs.items()],
            }
        )
    return documents


def conv_model(rng, graph_model):
    def weights(*shape):
        return (rng.standard_normal(shape) * 0.3).astype(np.float32)

    i64 = lambda values, name: numpy_helper.from_array(np.array(values, dtype=np.int64), name)
    initializers = [
        numpy_helper.from_array(weights(8, 3, 3, 3), "conv1_w"),
        numpy_helper.from_array(weights(8), "conv1_b"),
        numpy_helper.from_array(weights(4, 8, 3, 3), "conv2_w"),
        numpy_helper.from_array(weights(4), "conv2_b"),
        numpy_helper.from_array(weights(1, 4, 1, 1), "head_w"),
        i64([0, 1], "batch_channels"),
        i64([2, 3], "height_width"),
        i64([0], "batch_axis"),
        i64([4, -1], "four_rest"),
        numpy_helper.from_array(np.array([], dtype=np.float32), "no_roi"),
        numpy_helper.from_array(np.array([], dtype=np.float32), "no_scales"),
    ]
    nodes = [
        helper.make_node("Conv", ["image", "conv1_w", "conv1_b"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "conv2_w", "conv2_b"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        # The map's batch and channels, the image's height and width: Resize back up to them.
        helper.make_node("Shape", ["r2"], ["r2_shape"]),
        helper.make_node("Gather", ["r2_shape", "batch_channels"], ["r2_bc"], axis=0),
        helper.make_node("Shape", ["image"], ["image_shape"]),
        helper.make_node("Gather", ["image_shape", "height_width"], ["image_hw"], axis=0),
        helper.make_node("Concat", ["r2_bc", "image_hw"], ["sizes"], axis=0),
        helper.make_node(
            "Resize", ["r2", "no_roi", "no_scales", "sizes"], ["up"], mode="nearest"
        ),
        helper.make_node("Conv", ["up", "head_w"], ["head"]),
        helper.make_node("Sigmoid", ["head"], ["mask"]),
        # [batch, 4, everything else], averaged: one score per channel.
        helper.make_node("Gather", ["r2_shape", "batch_axis"], ["batch"], axis=0),
        helper.make_node("Concat", ["batch", "four_rest"], ["flat_shape"], axis=0),
        helper.make_node("Reshape", ["r2", "flat_shape"], ["flat"]),
        helper.make_node("ReduceMean", ["flat"], ["score"], axes=[2], keepdims=0),
    ]
    float_info = lambda name, shape: helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)
    int_info = lambda name, shape: helper.make_tensor_value_info(name, TensorProto.INT64, shape)
    model = graph_model(
        "conv_dynamic",
        nodes,
        [float_info("image", ["batch", 3, "height", "width"])],
        [float_info("mask", ["batch", 1, "height", "width"]), float_info("score", ["batch", 4])],
        initializers,
    )
    # As exporters annotate intermediate tensors: with the input's symbols, and new ones after
    # the pool, which a reader cannot relate to them.
    model.graph.value_info.extend(
        [
            float_info("c1", ["batch", 8, "height", "width"]),
            float_info("r1", ["batch", 8, "height", "width"]),
            float_info("p1", ["batch", 8, "height/2", "width/2"]),
            float_info("r2", ["batch", 4, "height/2", "width/2"]),
            int_info("r2_shape", [4]),
            int_info("sizes", [4]),
            float_info("up", ["batch", 4, "height", "width"]),
        ]
    )
    return model


def recurrent_model(rng, graph_model):
    def weights(*shape):
        return (rng.standard_normal(shape) * 0.3).astype(np.float32)

    initializers = [
        numpy_helper.from_array(weights(16, 8), "w_x"),
        numpy_helper.from_array(weights(8, 8), "w_h"),
        numpy_helper.from_array(weights(8), "bias"),
        numpy_helper.from_array(weights(8, 1), "w_y"),
        numpy_helper.from_array(np.array(16000.0, dtype=np.float32), "reference_rate"),
        numpy_helper.from_array(np.array(0, dtype=np.int64), "first"),
        numpy_helper.from_array(np.array(1, dtype=np.int64), "second"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "axis0"),
        numpy_helper.from_array(np.array(0.5, dtype=np.float32), "half"),
    ]
    nodes = [
        # h = tanh(x W_x + state[0] W_h + b) * (sr / 16000)
        helper.make_node("Gather", ["state", "first"], ["h_prev"], axis=0),
        helper.make_node("Gather", ["state", "second"], ["c_prev"], axis=0),
        helper.make_node("MatMul", ["x", "w_x"], ["from_x"]),
        helper.make_node("MatMul", ["h_prev", "w_h"], ["from_h"]),
        helper.make_node("Add", ["from_x", "from_h"], ["pre"]),
        helper.make_node("Add", ["pre", "bias"], ["pre_b"]),
        helper.make_node("Tanh", ["pre_b"], ["h_raw"]),
        helper.make_node("Cast", ["sr"], ["sr_f"], to=TensorProto.FLOAT),
        helper.make_node("Div", ["sr_f", "reference_rate"], ["rate"]),
        helper.make_node("Mul", ["h_raw", "rate"], ["h"]),
        # c = c / 2 + h; the next state stacks h and c.
        helper.make_node("Mul", ["c_prev", "half"], ["c_half"]),
        helper.make_node("Add", ["c_half", "h"], ["c"]),
        helper.make_node("Unsqueeze", ["h", "axis0"], ["h_1"]),
        helper.make_node("Unsqueeze", ["c", "axis0"], ["c_1"]),
        helper.make_node("Concat", ["h_1", "c_1"], ["state_next"], axis=0),
        helper.make_node("MatMul", ["c", "w_y"], ["y_pre"]),
        helper.make_node("Sigmoid", ["y_pre"], ["y"]),
    ]
    float_info = lambda name, shape: helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)
    return graph_model(
        "recurrent_cell",
        nodes,
        [
            float_info("x", ["batch", 16]),
            float_info("state", [2, "batch", 8]),
            helper.make_tensor_value_info("sr", TensorProto.INT64, []),
        ],
        [float_info("y", ["batch", 1]), float_info("state_next", [2, "batch", 8])],
        initializers,
    )


def two_outputs_model(graph_model):
    nodes = [
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        helper.make_node("ArgMax", ["logits"], ["label"], axis=1, keepdims=0),
    ]
    return graph_model(
        "two_outputs",
        nodes,
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", 10])],
        [
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["n", 10]),
            helper.make_tensor_value_info("label", TensorProto.INT64, ["n"]),
        ],
        [],
    )


def int_pair_model(graph_model):
    initializers = [
        numpy_helper.from_array(np.array(3, dtype=np.int32), "three"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "last_axis"),
    ]
    nodes = [
        helper.make_node("Mul", ["a", "three"], ["a3"]),
        helper.make_node("Sub", ["a3", "b"], ["mixed"]),
        helper.make_node("Mul", ["a", "b"], ["products"]),
        helper.make_node("ReduceSum", ["products", "last_axis"], ["total"], keepdims=0),
    ]
    int_info = lambda name, shape: helper.make_tensor_value_info(name, TensorProto.INT32, shape)
    return graph_model(
        "int_pair",
        nodes,
        [int_info("a", ["n", 4]), int_info("b", ["n", 4])],
        [int_info("mixed", ["n", 4]), int_info("total", ["n"])],
        initializers,
    )


def add_dynamic_models(manifest, entry, save, graph_model, seed):
    """Writes the models above and adds them to `manifest` with their references."""
    rng = np.random.default_rng(seed)

    def add(name, data, signature, determinism, cases):
        manifest[name] = entry(data, signature, determinism)
        manifest[name]["references"] = references(data, cases)

    def floats(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    def ints(*shape):
        return rng.integers(-100, 100, size=shape).astype(np.int32)

    conv = save(conv_model(rng, graph_model), "conv-dynamic.onnx")
    add(
        "conv-dynamic.onnx",
        conv,
        {
            "inputs": [spec("image", "f32", ["batch", 3, "height", "width"])],
            "outputs": [
                spec("mask", "f32", ["batch", 1, "height", "width"]),
                spec("score", "f32", ["batch", 4]),
            ],
            "examples": {"batch": 1, "height": 16, "width": 16},
        },
        TOLERANCE,
        [{"image": floats(1, 3, 16, 16)}, {"image": floats(2, 3, 24, 20)}],
    )

    recurrent = save(recurrent_model(rng, graph_model), "recurrent-cell.onnx")
    add(
        "recurrent-cell.onnx",
        recurrent,
        {
            "inputs": [
                spec("x", "f32", ["batch", 16]),
                spec("state", "f32", [2, "batch", 8]),
                spec("sr", "i64", []),
            ],
            "outputs": [spec("y", "f32", ["batch", 1]), spec("state_next", "f32", [2, "batch", 8])],
            "examples": {"batch": 1},
        },
        TOLERANCE,
        [
            {"x": floats(1, 16), "state": floats(2, 1, 8), "sr": np.array(16000, dtype=np.int64)},
            {"x": floats(3, 16), "state": floats(2, 3, 8), "sr": np.array(8000, dtype=np.int64)},
        ],
    )

    two = save(two_outputs_model(graph_model), "two-outputs.onnx")
    add(
        "two-outputs.onnx",
        two,
        {
            "inputs": [spec("logits", "f32", ["n", 10])],
            "outputs": [spec("probabilities", "f32", ["n", 10]), spec("label", "i64", ["n"])],
            "examples": {"n": 1},
        },
        TOLERANCE,
        [{"logits": floats(1, 10)}, {"logits": floats(5, 10)}],
    )

    pair = save(int_pair_model(graph_model), "int-pair.onnx")
    cases = [{"a": ints(1, 4), "b": ints(1, 4)}, {"a": ints(6, 4), "b": ints(6, 4)}]
    for feeds in cases:
        outputs = run_all(pair, feeds)
        assert np.array_equal(outputs["mixed"], 3 * feeds["a"] - feeds["b"])
        assert np.array_equal(outputs["total"], (feeds["a"] * feeds["b"]).sum(axis=1))
    add(
        "int-pair.onnx",
        pair,
        {
            "inputs": [spec("a", "i32", ["n", 4]), spec("b", "i32", ["n", 4])],
            "outputs": [spec("mixed", "i32", ["n", 4]), spec("total", "i32", ["n"])],
            "examples": {"n": 1},
        },
        "Exact",
        cases,
    )
