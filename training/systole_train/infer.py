"""Whole-slice inference, mirrored by Systole's Rust segmenter: for a network that works at a
fixed pixel size (`pixel_mm`), resample each slice (and its neighbour channels) bilinearly
to that pixel size; zero-pad at the bottom and right to a multiple of 16, run the network,
crop back; resample the logits bilinearly to the native grid; argmax."""

import numpy as np
import torch
import torch.nn.functional as F

from systole_train.data import resampled_size, resize, with_context


def pad16(n):
    return (n + 15) // 16 * 16


@torch.no_grad()
def predict_volume(model, volume, batch=16, spacing=None, pixel_mm=None):
    """volume: (S, R, C) float32 normalised; returns labels (S, R, C) uint8. A model with
    3 input channels gets each slice with its neighbours (data.with_context). With
    pixel_mm (the pixel size the model works at) and spacing (row_mm, col_mm, ...), the slices
    are resampled to pixel_mm for the network and the logits back to the native grid."""
    s, r, c = volume.shape
    x = torch.from_numpy(with_context(volume, (model.in_channels - 1) // 2))
    rr, cc = r, c
    if pixel_mm:
        rr, cc = resampled_size(r, spacing[0], pixel_mm), resampled_size(c, spacing[1], pixel_mm)
        x = resize(x, (rr, cc))
    x = F.pad(x, (0, pad16(cc) - cc, 0, pad16(rr) - rr))
    out = []
    for i in range(0, s, batch):
        logits = resize(model(x[i : i + batch])[:, :, :rr, :cc], (r, c))
        out.append(logits.argmax(1).to(torch.uint8))
    return torch.cat(out).numpy()


def dice(a, b, label):
    pa, pb = a == label, b == label
    n = pa.sum() + pb.sum()
    return 1.0 if n == 0 else 2.0 * np.logical_and(pa, pb).sum() / n
