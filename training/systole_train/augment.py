"""Batched crops with random rotation, scale and shift (one affine resampling per sample)
and intensity changes (gamma, contrast, noise), on the CPU with torch."""

import math

import numpy as np
import torch
import torch.nn.functional as F


def sample_batch(slices, cfg, rng):
    """slices: list of (image (R,C) or (channels,R,C) float32, labels (R,C) uint8, centre
    (row, col)[, (row, col) native pixels per crop pixel, for a fixed pixel size]).
    Returns images (N,channels,K,K) float32 and labels (N,K,K) int64, K = cfg['crop'].
    With context channels (data.with_context) and cfg['context_swap_prob'], the neighbour
    order is reversed that often (stacks run base-to-apex or apex-to-base)."""
    k = cfg["crop"]
    n = cfg["batch"]
    images, labels, thetas = [], [], []
    sizes = []
    for _ in range(n):
        img, lab, centre, *step = slices[rng.integers(len(slices))]
        sy, sx = step[0] if step else (1.0, 1.0)
        if img.ndim == 2:
            img = img[None]
        r, c = img.shape[1:]
        if rng.random() < cfg["random_crop_prob"]:
            cy, cx = rng.uniform(0, r), rng.uniform(0, c)
        else:
            j = cfg["centre_jitter_px"]
            cy, cx = centre[0] + rng.uniform(-j, j), centre[1] + rng.uniform(-j, j)
        # Orientation: mostly near ACDC's own (+-rotation_deg); with wide_rotation_prob any
        # angle, and with flip_prob mirrored, so that other scanners' and sites' image
        # orientations are seen too. (Draws only when enabled: older configs replay exactly.)
        deg = cfg["rotation_deg"]
        if cfg.get("wide_rotation_prob", 0) > 0 and rng.random() < cfg["wide_rotation_prob"]:
            deg = 180.0
        ang = math.radians(rng.uniform(-deg, deg))
        mirror = -1.0 if cfg.get("flip_prob", 0) > 0 and rng.random() < cfg["flip_prob"] else 1.0
        s = rng.uniform(*cfg["scale"])
        if img.shape[0] > 1 and cfg.get("context_swap_prob", 0) > 0 and rng.random() < cfg["context_swap_prob"]:
            img = np.ascontiguousarray(img[::-1])
        # Output pixel offsets (u, v) from the crop centre map to input pixel
        # (cx, cy) + diag(sx, sy) s R(ang) (mirror * u, v), (sx, sy) the native pixels per crop
        # pixel (rotation in millimetres); affine_grid works in normalised coordinates.
        ca, sa = math.cos(ang) * s, math.sin(ang) * s
        half = k / 2.0
        theta = np.array(
            [
                [sx * mirror * ca * half / (c / 2.0), -sx * sa * half / (c / 2.0), (2 * cx + 1) / c - 1],
                [sy * mirror * sa * half / (r / 2.0), sy * ca * half / (r / 2.0), (2 * cy + 1) / r - 1],
            ],
            dtype=np.float32,
        )
        images.append(torch.from_numpy(img)[None])
        labels.append(torch.from_numpy(lab.astype(np.float32))[None, None])
        thetas.append(torch.from_numpy(theta)[None])
        sizes.append((r, c))
    out_i, out_l = [], []
    for img, lab, th in zip(images, labels, thetas):
        grid = F.affine_grid(th, (1, img.shape[1], k, k), align_corners=False)
        out_i.append(F.grid_sample(img, grid, mode="bilinear", padding_mode="zeros", align_corners=False))
        out_l.append(F.grid_sample(lab, grid, mode="nearest", padding_mode="zeros", align_corners=False))
    x = torch.cat(out_i)
    y = torch.cat(out_l)[:, 0].round().long()
    # Intensity: gamma, contrast about the mean, Gaussian noise; stay in [0, 1].
    g = torch.from_numpy(rng.uniform(*cfg["gamma"], size=(n, 1, 1, 1)).astype(np.float32))
    a = torch.from_numpy(rng.uniform(*cfg["contrast"], size=(n, 1, 1, 1)).astype(np.float32))
    x = x.clamp(0, 1) ** g
    m = x.mean(dim=(2, 3), keepdim=True)
    x = (m + (x - m) * a).clamp(0, 1)
    x = x + cfg["noise_sd"] * torch.from_numpy(rng.standard_normal(x.shape).astype(np.float32))
    return x, y
