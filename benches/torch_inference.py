"""PyTorch half of scripts/bench_inference.sh: writes the shared input batch (if asked) and
times the forward pass of the training code's SaxFcn with the shipped weights.

    python benches/torch_inference.py --weights W --batch-file B [--write-batch] [--n 8] [--size 192]

Prints `torch_ms_per_image <median ms / image>`.
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "training"))
from golden import golden_input  # noqa: E402
from systole_train.model import SaxFcn, in_channels_of  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--batch-file", required=True)
    ap.add_argument("--write-batch", action="store_true")
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--size", type=int, default=192)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    state = load_file(args.weights)
    model = SaxFcn(in_channels_of(state))
    if args.write_batch:
        x = golden_input(n=args.n, h=args.size, w=args.size, seed=7, channels=model.in_channels)
        save_file({"input": x.contiguous()}, args.batch_file)
    x = load_file(args.batch_file)["input"]
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert all(k.endswith("num_batches_tracked") for k in missing) and not unexpected
    model.eval()
    times = []
    with torch.inference_mode():
        for i in range(args.repeats + 2):
            t = time.perf_counter()
            model(x)
            if i >= 2:
                times.append(time.perf_counter() - t)
    n = x.shape[0]
    print(f"torch_ms_per_image {1000 * statistics.median(times) / n:.2f}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {tuple(x.shape)}, median of {len(times)}", file=sys.stderr)


if __name__ == "__main__":
    main()
