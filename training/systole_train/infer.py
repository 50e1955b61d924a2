"""Whole-slice inference, mirrored by Systole's Rust segmenter: zero-pad each slice (and its
neighbour channels) at the bottom and right to a multiple of 16, run the network, crop
back, argmax."""

import numpy as np
import torch
import torch.nn.functional as F

from systole_train.data import with_context


def pad16(n):
    return (n + 15) // 16 * 16


@torch.no_grad()
def predict_volume(model, volume, batch=16):
    """volume: (S, R, C) float32 normalised; returns labels (S, R, C) uint8. A model with
    3 input channels gets each slice with its neighbours (data.with_context)."""
    s, r, c = volume.shape
    x = torch.from_numpy(with_context(volume, (model.in_channels - 1) // 2))
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
