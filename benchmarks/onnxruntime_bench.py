"""onnxruntime's side of the inference benchmark (inference-engine/benches/offchain_path.rs).

    python onnxruntime_bench.py MODEL_FILE ROWS RUNS

Loads models/MODEL_FILE into an onnxruntime InferenceSession (one thread, all graph
optimisations, as tract's single-threaded plan), runs the first ROWS rows of the model's reference
input (for conv-dynamic, a synthetic 64 x 64 image per row; for slow-square, x [1, ROWS]) RUNS
times and prints one JSON object: the load time, the median time of one `run`, and the
process's peak resident memory before and after. The Rust harness runs it once per model, so that
each figure of peak memory belongs to one model.
"""

import json
import pathlib
import resource
import statistics
import sys
import time

import numpy as np
import onnxruntime

MODELS = pathlib.Path(__file__).resolve().parent.parent / "models"
DTYPES = {"f32": np.float32, "i32": np.int32}
# conv-dynamic.onnx is run on a [rows, 3, CONV_SIDE, CONV_SIDE] image.
CONV_SIDE = 64


def peak_rss_kib() -> int:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    model_file, rows, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    stem = model_file.removesuffix(".onnx")
    if stem == "slow-square":
        # x [1, n] of i / n, as the Rust side's bench_input; ROWS is n.
        inputs = (np.arange(rows, dtype=np.float32) / np.float32(rows)).reshape(1, rows)
    elif stem == "conv-dynamic":
        # The same image as the Rust side's bench_input: (i * 37 mod 256) / 255, [rows, 3, 64, 64].
        count = rows * 3 * CONV_SIDE * CONV_SIDE
        values = (np.arange(count, dtype=np.int64) * 37 % 256).astype(np.float32) / np.float32(255.0)
        inputs = values.reshape(rows, 3, CONV_SIDE, CONV_SIDE)
    else:
        reference = json.loads((MODELS / f"{stem}.reference.json").read_text())["input"]
        batch = np.asarray(reference["values"], dtype=DTYPES[reference["dtype"]]).reshape(
            reference["shape"]
        )
        inputs = batch[:rows]
    baseline = peak_rss_kib()

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    model_bytes = (MODELS / model_file).read_bytes()
    loads = []
    for _ in range(20):
        started = time.perf_counter()
        session = onnxruntime.InferenceSession(
            model_bytes, options, providers=["CPUExecutionProvider"]
        )
        loads.append(time.perf_counter() - started)
    feed = {session.get_inputs()[0].name: inputs}

    for _ in range(max(runs // 10, 1)):
        session.run(None, feed)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        session.run(None, feed)
        samples.append(time.perf_counter() - started)

    print(
        json.dumps(
            {
                "onnxruntime": onnxruntime.__version__,
                "model": model_file,
                "rows": rows,
                "runs": runs,
                "load_ms": statistics.median(loads) * 1e3,
                "run_us": statistics.median(samples) * 1e6,
                "peak_rss_before_kib": baseline,
                "peak_rss_kib": peak_rss_kib(),
            }
        )
    )


if __name__ == "__main__":
    main()
