"""Golden input and PyTorch logits for the Rust parity test.

    python training/golden.py [--weights assets/models/sax.safetensors] [--out tests/data/sax_parity.safetensors]
    python training/golden.py --random-model SEED --weights-out W.safetensors --out G.safetensors
    python training/golden.py --context-from W1 --weights-out W3.safetensors --out G.safetensors
    python training/golden.py --weights W --predict-patient ACDC_DIR --out L.safetensors

The input is synthetic (no patient data in the repository): two 48 x 80 images (not square,
so a row/column mix-up shows) of smooth blobs and rings plus noise, in [0, 1]. With
--random-model, a freshly initialised network with randomised batch-norm statistics is
exported first (a round trip that exercises the batch-norm folding with non-trivial values).
With --predict-patient, the labels `infer.predict_volume` gives for each frame of an ACDC
patient (normalisation, neighbour channels, resampling to the weights' `pixel_mm` if their
metadata has one, and padding, as in training) are written instead,
for the Rust test of the whole segmentation pipeline.
"""

import argparse
import os
import sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from systole_train.model import SaxFcn, in_channels_of  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def golden_input(n=2, h=48, w=80, seed=20261129, channels=1):
    """(n, channels, h, w): n * channels synthetic images in turn (the first n are the same
    for every channel count)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.zeros((n * channels, 1, h, w), np.float32)
    for i in range(n * channels):
        img = np.zeros((h, w), np.float32)
        for _ in range(6):
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
            r = rng.uniform(4, 14)
            d = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
            img += rng.uniform(0.3, 1.0) * np.exp(-((d - r * rng.uniform(0, 1)) ** 2) / (2 * (r / 3) ** 2))
        img += 0.05 * rng.standard_normal((h, w)).astype(np.float32)
        img = (img - img.min()) / (img.max() - img.min())
        out[i, 0] = img
    return torch.from_numpy(out.reshape(n, channels, h, w))


def random_model(seed, in_channels=1):
    torch.manual_seed(seed)
    m = SaxFcn(in_channels)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)
    return m


def context_model(path):
    """A three-channel network made from weights (their centre channel) whose output depends on the
    neighbour channels, and on their order: the first convolution sees slice k-1 with 0.5
    and slice k+1 with -0.3 times the centre's weights (for tests, not for use)."""
    state = load_file(path)
    w = state["levels.0.0.conv.weight"]
    w = w[:, w.shape[1] // 2 : w.shape[1] // 2 + 1]
    m = SaxFcn(3)
    state = dict(state, **{"levels.0.0.conv.weight": torch.cat([0.5 * w, w, -0.3 * w], dim=1)})
    missing, unexpected = m.load_state_dict(state, strict=False)
    assert all(k.endswith("num_batches_tracked") for k in missing) and not unexpected, (missing, unexpected)
    return m


def pixel_mm_of(path):
    """The pixel size a weight file's network works at (its `pixel_mm` metadata), or None."""
    from safetensors import safe_open

    with safe_open(path, "pt") as f:
        value = (f.metadata() or {}).get("pixel_mm")
    return float(value) if value else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=os.path.join(HERE, "..", "assets", "models", "sax.safetensors"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "tests", "data", "sax_parity.safetensors"))
    ap.add_argument("--random-model", type=int)
    ap.add_argument("--weights-out")
    ap.add_argument("--context-from", help="one-channel weights to make a test three-channel network of (see context_model)")
    ap.add_argument("--channels", type=int, default=1, help="input channels of the random model")
    ap.add_argument("--pixel-mm", type=float, help="pixel size to write into the test network's metadata (with --random-model or --context-from)")
    ap.add_argument("--predict-patient", help="an ACDC patient folder: write its predicted labels (frames, slices, rows, columns)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    if args.random_model is not None or args.context_from:
        model = context_model(args.context_from) if args.context_from else random_model(args.random_model, args.channels)
        tensors = {k: v.detach().float().contiguous() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
        meta = {"format": "pt"}
        if args.pixel_mm:
            meta["pixel_mm"] = repr(args.pixel_mm)
        save_file(tensors, args.weights_out, metadata=meta)
        pixel_mm = args.pixel_mm
    else:
        state = load_file(args.weights)
        pixel_mm = pixel_mm_of(args.weights)
        model = SaxFcn(in_channels_of(state))
        missing, unexpected = model.load_state_dict(state, strict=False)
        assert all(k.endswith("num_batches_tracked") for k in missing) and not unexpected, (missing, unexpected)
    model.eval()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    if args.predict_patient:
        from systole_train.data import load_patient
        from systole_train.infer import predict_volume

        p = load_patient(args.predict_patient)
        labels = np.stack([predict_volume(model, img, spacing=p["spacing"], pixel_mm=pixel_mm) for _, img, _ in p["frames"]])
        labels = labels.astype(np.float32)
        save_file({"labels": torch.from_numpy(labels)}, args.out)
        print(f"wrote {args.out}: labels {labels.shape}")
        return
    x = golden_input(channels=model.in_channels)
    with torch.no_grad():
        y = model(x)
    save_file({"input": x.contiguous(), "logits": y.contiguous()}, args.out)
    print(f"wrote {args.out}: input {tuple(x.shape)}, logits {tuple(y.shape)}")


if __name__ == "__main__":
    main()
