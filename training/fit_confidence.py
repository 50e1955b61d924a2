"""Fits the calibration of systole::qc::confidence and scores it.

Input: the table of `cargo run --release --example confidence_study -- STUDY...` (one line
per image: the network's expected error areas, the true error against the expert labels,
the rule checks). The calibration is fitted on the training split's images only; the
validation split's figures are what the README and the model card quote.

    python training/fit_confidence.py images.tsv [--split training/split.json]

confidence = P(worst-structure error < 5 mL) = 1 / (1 + exp(-(a + b * ln(e_ml + 0.01))))
where e_ml is the worst structure's expected error volume (mm^2 x slice spacing).
"""

import argparse
import csv
import json
import math

import numpy as np

THRESHOLD_ML = 5.0
FLOOR_ML = 0.01


def load(path):
    rows = []
    with open(path) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            u = [float(r[k]) for k in ("u_lv_mm2", "u_myo_mm2", "u_rv_mm2")]
            err = [float(r[k]) for k in ("err_lv_ml", "err_myo_ml", "err_rv_ml")]
            slice_mm = float(r["slice_mm"])
            rows.append(
                {
                    "study": r["study"],
                    "slice": int(r["slice"]),
                    "phase": int(r["phase"]),
                    "e_ml": max(u) * slice_mm / 1000.0,
                    "error_ml": max(e for e in err if not math.isnan(e)),
                    "flags": [c for c in r["flags"].split(",") if c],
                }
            )
    return rows


def feature(rows):
    return np.array([math.log(r["e_ml"] + FLOOR_ML) for r in rows])


def fit_logistic(x, y, steps=50):
    """Maximum-likelihood a, b of P(y=1) = sigmoid(a + b x) by Newton's method."""
    a, b = 0.0, 0.0
    X = np.stack([np.ones_like(x), x], 1)
    w = np.array([a, b])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(X @ w)))
        g = X.T @ (y - p)
        H = -(X.T * (p * (1 - p))) @ X - 1e-9 * np.eye(2)
        w = w - np.linalg.solve(H, g)
    return w


def auroc(score, positive):
    """Probability that a random positive scores above a random negative (ties half)."""
    pos = [s for s, t in zip(score, positive) if t]
    neg = [s for s, t in zip(score, positive) if not t]
    if not pos or not neg:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("table")
    ap.add_argument("--split", default="training/split.json")
    args = ap.parse_args()
    split = json.load(open(args.split))
    rows = load(args.table)
    train = [r for r in rows if r["study"] in split["train"]]
    val = [r for r in rows if r["study"] in split["val"]]
    x = feature(train)
    y = np.array([r["error_ml"] < THRESHOLD_ML for r in train], dtype=float)
    a, b = fit_logistic(x, y)
    print(f"fit on {len(train)} training images: a = {a:.4f}, b = {b:.4f}")
    for name, part in (("training", train), ("validation", val)):
        c = 1 / (1 + np.exp(-(a + b * feature(part))))
        bad = [r["error_ml"] >= THRESHOLD_ML for r in part]
        print(
            f"{name}: {len(part)} images, {sum(bad)} with error >= {THRESHOLD_ML} mL; "
            f"AUROC of 1 - confidence {auroc(list(1 - c), bad):.3f}; "
            f"mean confidence {c.mean():.3f} vs share under {THRESHOLD_ML} mL {1 - np.mean(bad):.3f}"
        )
        for lo, hi in ((0, 0.5), (0.5, 0.8), (0.8, 0.95), (0.95, 1.01)):
            sel = [(ci, bi) for ci, bi in zip(c, bad) if lo <= ci < hi]
            if sel:
                print(
                    f"  confidence {lo:.2f}-{min(hi, 1):.2f}: {len(sel)} images, "
                    f"mean {np.mean([s[0] for s in sel]):.3f}, "
                    f"observed {1 - np.mean([s[1] for s in sel]):.3f}"
                )


if __name__ == "__main__":
    main()
