"""onnxruntime's side of the inference benchmark (inference-engine/benches/offchain_path.rs).

    python onnxruntime_bench.py MODEL_FILE ROWS RUNS

Loads models/MODEL_FILE into an onnxruntime InferenceSession (one thread, all graph
optimisations, as tract's single-threaded plan), runs the first ROWS rows of the model's reference
input RUNS times and prints one JSON object: the load time, the median time of one `run`, and the
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


def peak_rss_kib() -> int:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    model_file, rows, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    stem = model_file.removesuffix(".onnx")
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
