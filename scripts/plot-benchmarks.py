"""Draws benchmarks/latency-vs-load.png from the end-to-end benchmark's JSON files.

    python scripts/plot-benchmarks.py OUTPUT.png LABEL=RESULTS.json [LABEL=RESULTS.json ...]

For each results file (written by `end-to-end-bench --output`), the latency from submission to
verified result (median and p95, seconds) against the offered load (jobs per minute), and the
jobs verified per minute. Run it with the benchmarks' virtualenv (scripts/setup-bench.sh).
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    output, runs = sys.argv[1], [arg.split("=", 1) for arg in sys.argv[2:]]
    figure, (latency, throughput) = plt.subplots(1, 2, figsize=(12, 4.5))
    for label, path in runs:
        loads = json.load(open(path))["loads"]
        offered = [load["offered_per_minute"] for load in loads]
        median = [load["latency_secs_median"] for load in loads]
        p95 = [load["latency_secs_p95"] for load in loads]
        verified = [load["verified_per_minute"] for load in loads]
        (line,) = latency.plot(offered, median, marker="o", label=f"{label}: median")
        latency.plot(
            offered, p95, marker="x", linestyle="--", color=line.get_color(), label=f"{label}: p95"
        )
        throughput.plot(offered, verified, marker="o", color=line.get_color(), label=label)
    latency.set_xlabel("offered load (jobs per minute)")
    latency.set_ylabel("submission to verified result (s)")
    latency.set_title("Latency, 3 validators, 3 replicas")
    latency.grid(True, alpha=0.3)
    latency.legend()
    top = max(max(line.get_xdata()) for line in throughput.get_lines())
    throughput.plot([0, top], [0, top], color="grey", linestyle=":", label="verified = offered")
    throughput.set_xlabel("offered load (jobs per minute)")
    throughput.set_ylabel("jobs verified per minute")
    throughput.set_title("Sustained throughput")
    throughput.grid(True, alpha=0.3)
    throughput.legend()
    figure.tight_layout()
    figure.savefig(output, dpi=110)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
