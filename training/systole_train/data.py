"""ACDC loading and preprocessing, written once here and mirrored in Rust.

Preprocessing of one volume (all slices of one frame), as Bai et al.: intensities clipped
to the volume's 1st and 99th percentiles and rescaled to [0, 1]. Labels are remapped from
ACDC's order (1 RV, 2 myocardium, 3 LV) to Systole's (1 LV, 2 myocardium, 3 RV).
Arrays are (slices, rows, columns): NIfTI index i is the column, j the row, k the slice.
"""

import json
import math
import os
import re

import nibabel as nib
import numpy as np

ACDC_TO_SYSTOLE = np.array([0, 3, 2, 1], dtype=np.uint8)
PERCENTILES = (1.0, 99.0)


def normalise(volume):
    """Clip to the 1st-99th percentile of the whole volume, rescale to [0, 1] (float32)."""
    lo, hi = np.percentile(volume, PERCENTILES)
    if hi <= lo:
        return np.zeros_like(volume, dtype=np.float32)
    return ((np.clip(volume, lo, hi) - lo) / (hi - lo)).astype(np.float32)


def with_context(volume, context):
    """(S, R, C) -> (S, 1 + 2 * context, R, C): each slice with its `context` neighbours on
    either side in stack order as channels (k - context, ..., k, ..., k + context); beyond
    the first and last slice the nearest slice of the stack is repeated."""
    s = volume.shape[0]
    idx = np.clip(np.arange(s)[:, None] + np.arange(-context, context + 1)[None, :], 0, s - 1)
    return np.ascontiguousarray(volume[idx])


def resampled_size(n, spacing_mm, pixel_mm):
    """Pixels along an axis of n pixels of spacing_mm once resampled to pixel_mm:
    floor(n * spacing_mm / pixel_mm + 0.5), at least 1 (mirrored in Rust)."""
    return max(1, int(math.floor(n * spacing_mm / pixel_mm + 0.5)))


def resize(x, size):
    """Bilinear resampling of (N, C, R, C) to (N, C, size[0], size[1]) with pixel centres
    aligned (align_corners=False, no anti-aliasing): output pixel i samples the input at
    (i + 0.5) * n_in / n_out - 0.5, clamped at 0. Mirrored in Rust."""
    import torch.nn.functional as F

    if tuple(x.shape[2:]) == tuple(size):
        return x
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)


def read_info(path):
    info = {}
    with open(path) as f:
        for line in f:
            if ":" in line:
                k, v = line.split(":", 1)
                info[k.strip()] = v.strip()
    return info


def to_srf(a):
    """NIfTI (i=column, j=row, k=slice) -> (slice, row, column)."""
    return np.ascontiguousarray(np.transpose(a, (2, 1, 0)))


def load_patient(folder):
    """Returns dict(group, frames=[(frame, image (S,R,C) float32 in [0,1], labels (S,R,C) uint8)],
    spacing=(row_mm, col_mm, slice_mm))."""
    name = os.path.basename(os.path.normpath(folder))
    info = read_info(os.path.join(folder, "Info.cfg"))
    frames = []
    spacing = None
    for fname in sorted(os.listdir(folder)):
        m = re.fullmatch(re.escape(name) + r"_frame(\d+)\.nii(\.gz)?", fname)
        if not m:
            continue
        img = nib.load(os.path.join(folder, fname))
        gt_path = os.path.join(folder, fname.replace(".nii", "_gt.nii", 1))
        image = normalise(to_srf(np.asarray(img.dataobj, dtype=np.float32)))
        labels = ACDC_TO_SYSTOLE[to_srf(np.asarray(nib.load(gt_path).dataobj, dtype=np.uint8))]
        z = img.header.get_zooms()
        spacing = (float(z[1]), float(z[0]), float(z[2]))
        frames.append((int(m.group(1)), image, labels))
    return {"name": name, "group": info.get("Group", "?"), "frames": frames, "spacing": spacing}


def acdc_root():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.environ.get("SYSTOLE_DATA", os.path.join(here, "..", "..", "..", "shared", "data"))
    path = os.path.join(root, "acdc", "training")
    if not os.path.isdir(path):
        raise FileNotFoundError(f"ACDC training data not found at {os.path.abspath(path)} (set SYSTOLE_DATA)")
    return path


def load_split(path=None):
    path = path or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "split.json")
    with open(path) as f:
        return json.load(f)
