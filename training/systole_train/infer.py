"""Whole-slice inference, mirrored by Systole's Rust segmenter: zero-pad each slice at the
bottom and right to a multiple of 16, run the network, crop back, argmax."""

import numpy as np
import torch
import torch.nn.functional as F


def pad16(n):
    return (n + 15) // 16 * 16


@torch.no_grad()
def predict_volume(model, volume, batch=16):
    """volume: (S, R, C) float32 normalised; returns labels (S, R, C) uint8."""
    s, r, c = volume.shape
    x = torch.from_numpy(volume)[:, None]
    x = F.pad(x, (0, pad16(c) - c, 0, pad16(r) - r))
    out = []
    for i in range(0, s, batch):
        logits = model(x[i : i + batch])
        out.append(logits[:, :, :r, :c].argmax(1).to(torch.uint8))
    return torch.cat(out).numpy()


def dice(a, b, label):
    pa, pb = a == label, b == label
    n = pa.sum() + pb.sum()
    return 1.0 if n == 0 else 2.0 * np.logical_and(pa, pb).sum() / n
