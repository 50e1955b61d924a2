"""Fits the calibration of systole::qc::confidence and scores it.

Input: the table of `cargo run --example confidence_study -- STUDY...` (one line per
image: the network's expected error areas, the labelled pixels, the true error against
the expert labels, the rule checks). The calibration is fitted on the training split's
images only; the validation split's figures are what the README and the model card quote.

    python training/fit_confidence.py images.tsv [--split training/split.json]

confidence = P(worst-structure error < 5 mL) = sigmoid(w . x), x = (1, ln(e + 0.01),
[end slice], [next to the end slice], [no structure]) where e is the worst structure's
expected error volume (mm^2 x slice spacing / 1000) and "end slice" is the first or last
slice of its phase that has any label.
"""

import argparse
import csv
import json
import math
from collections import defaultdict

import numpy as np

THRESHOLD_ML = 5.0
FLOOR_ML = 0.01
REVIEW_SHARE = 0.2


def load(path):
    rows = []
    with open(path) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            u = [float(r[k]) for k in ("u_lv_mm2", "u_myo_mm2", "u_rv_mm2")]
            err = [float(r[k]) for k in ("err_lv_ml", "err_myo_ml", "err_rv_ml")]
            rows.append(
                {
                    "study": r["study"],
                    "slice": int(r["slice"]),
                    "phase": int(r["phase"]),
                    "e_ml": max(u) * float(r["slice_mm"]) / 1000.0,
                    "labelled": sum(int(r[k]) for k in ("px_lv", "px_myo", "px_rv")) > 0,
                    "error_ml": max(e for e in err if not math.isnan(e)),
                    "error_flag": "Error" in r["flags"],
                }
            )
    # Distance (in slices) from the nearer end of the labelled run of each phase.
    phases = defaultdict(list)
    for r in rows:
        phases[(r["study"], r["phase"])].append(r)
    for images in phases.values():
        labelled = [r["slice"] for r in images if r["labelled"]]
        lo, hi = (min(labelled), max(labelled)) if labelled else (0, -1)
        for r in images:
            s = r["slice"]
            r["from_end"] = min(s - lo, hi - s) if lo <= s <= hi else -1
    return rows


def features(r):
    d = r["from_end"]
    return [1.0, math.log(r["e_ml"] + FLOOR_ML), d == 0, d == 1, d < 0]


def fit_logistic(X, y, steps=100, l2=1e-3):
    """Maximum-likelihood weights of P(y=1) = sigmoid(X w) (Newton, light L2)."""
    w = np.zeros(X.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(X @ w)))
        g = X.T @ (y - p) - l2 * w
        H = -(X.T * (p * (1 - p))) @ X - l2 * np.eye(len(w))
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
    X = np.array([features(r) for r in train], dtype=float)
    y = np.array([r["error_ml"] < THRESHOLD_ML for r in train], dtype=float)
    w = fit_logistic(X, y)
    print(f"fit on {len(train)} training images: w = [{', '.join(f'{v:.4f}' for v in w)}]")
    for name, part in (("training", train), ("validation", val)):
        c = 1 / (1 + np.exp(-(np.array([features(r) for r in part], dtype=float) @ w)))
        for r, ci in zip(part, c):
            r["confidence"] = ci
        bad = [r["error_ml"] >= THRESHOLD_ML for r in part]
        # Review order per study: error flags first, then least confident first.
        found = 0
        for study in sorted({r["study"] for r in part}):
            images = sorted(
                (r for r in part if r["study"] == study),
                key=lambda r: (not r["error_flag"], r["confidence"]),
            )
            first = math.ceil(REVIEW_SHARE * len(images))
            found += sum(r["error_ml"] >= THRESHOLD_ML for r in images[:first])
        print(
            f"{name}: {len(part)} images, {sum(bad)} with error >= {THRESHOLD_ML} mL; "
            f"AUROC of 1 - confidence {auroc(list(1 - c), bad):.3f}; "
            f"in the first {REVIEW_SHARE:.0%} of the review order {found}/{sum(bad)}; "
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
