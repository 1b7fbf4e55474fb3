"""A model of any size, for the tests and benchmarks of models that nodes provide peer to peer.

    python models/bulk_model.py OUT.onnx MIB

Writes a model of MIB MiB of weights (plus a few hundred bytes): x f32 [1, 1024] -> y f32 [1, 64],
y = the maximum over each of 64 bands of x @ W, W f32 [1024, 256 * MIB]. W's values come from the
data-plane models' generator (seed 5), so the file is the same on every machine, byte for byte. It
is not committed (hundreds of MiB): the tests that need one write it into their cache.
"""

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from data_plane_models import generated

ROWS = 1024
BANDS = 64


def bulk_model(mib):
    columns = 256 * mib
    if columns % BANDS:
        raise ValueError(f"{mib} MiB does not split into {BANDS} bands")
    weights = generated((ROWS, columns), 5)
    band = numpy_helper.from_array(np.array([1, BANDS, columns // BANDS], dtype=np.int64), "band")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["product"]),
        helper.make_node("Reshape", ["product", "band"], ["banded"]),
        helper.make_node("ReduceMax", ["banded"], ["y"], axes=[2], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        f"bulk-{mib}mib",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, ROWS])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, BANDS])],
        [numpy_helper.from_array(weights, "w"), band],
    )
    model = helper.make_model(
        graph, producer_name="gateless-bulk-model", opset_imports=[helper.make_opsetid("", 13)]
    )
    model.ir_version = 8
    return model


def main():
    out, mib = sys.argv[1], int(sys.argv[2])
    data = bulk_model(mib).SerializeToString()
    with open(out, "wb") as file:
        file.write(data)
    print(f"{out}: {len(data)} bytes")


if __name__ == "__main__":
    main()
