#!/usr/bin/env python3
"""Times onnxruntime (Python) on one model with Edgeproof's pinned settings.

Usage: bench_inference.py <model.onnx> <input_0.bin> [<input_1.bin> ...] [--iters N] [--warmup N]

Inputs are raw little-endian tensors in graph order (dtype and shape from the model, which must
be static); the Rust bench (`offchain-worker/examples/bench.rs`) writes them and calls this
script so both sides run the same model on the same bytes. Settings match the engine: CPU
provider, intra-op and inter-op threads 1, sequential execution, ORT_ENABLE_ALL. Prints one
JSON line: {"median_us": ..., "iters": ...}.
"""
import argparse
import json
import time

import numpy as np
import onnxruntime as ort

DTYPES = {
    "tensor(float)": np.float32,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(uint8)": np.uint8,
    "tensor(int8)": np.int8,
    "tensor(bool)": np.bool_,
}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("inputs", nargs="+")
    p.add_argument("--iters", type=int, default=200)
    p.add_argument("--warmup", type=int, default=10)
    a = p.parse_args()

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    sess = ort.InferenceSession(a.model, sess_options=opts, providers=["CPUExecutionProvider"])

    feeds = {}
    for spec, path in zip(sess.get_inputs(), a.inputs):
        dtype = DTYPES[spec.type]
        feeds[spec.name] = np.fromfile(path, dtype=np.dtype(dtype).newbyteorder("<")).reshape(spec.shape)

    for _ in range(a.warmup):
        sess.run(None, feeds)
    times = []
    for _ in range(a.iters):
        t = time.perf_counter_ns()
        sess.run(None, feeds)
        times.append(time.perf_counter_ns() - t)
    print(json.dumps({"median_us": float(np.median(times)) / 1000.0, "iters": a.iters}))


if __name__ == "__main__":
    main()
