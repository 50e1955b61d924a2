"""Tests of training/fit_confidence.py: the AUROC by counting pairs, the logistic fit on
data drawn from a known model, and the end-slice feature."""

import math
import os
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import fit_confidence as fc  # noqa: E402


class FitConfidence(unittest.TestCase):
    def test_auroc_counts_pairs(self):
        # Positives 0.9, 0.5; negatives 0.6, 0.5, 0.1: (3 + 1.5) / 6.
        score = [0.9, 0.5, 0.6, 0.5, 0.1]
        positive = [True, True, False, False, False]
        self.assertAlmostEqual(fc.auroc(score, positive), 0.75)

    def test_logistic_fit_recovers_known_weights(self):
        rng = np.random.default_rng(3)
        x = rng.normal(size=20000)
        X = np.stack([np.ones_like(x), x], 1)
        p = 1 / (1 + np.exp(-(0.5 - 2.0 * x)))
        y = (rng.random(len(x)) < p).astype(float)
        w = fc.fit_logistic(X, y)
        self.assertAlmostEqual(w[0], 0.5, delta=0.08)
        self.assertAlmostEqual(w[1], -2.0, delta=0.1)

    def test_end_slices_of_each_phase(self):
        tmp = tempfile.TemporaryDirectory()
        path = os.path.join(tmp.name, "table.tsv")
        head = "study\tslice\tphase\tslice_mm\tu_lv_mm2\tu_myo_mm2\tu_rv_mm2\terr_lv_ml\terr_myo_ml\terr_rv_ml\tpx_lv\tpx_myo\tpx_rv\tpixel_mm2\tflags\n"
        lines = [head]
        for s, px in enumerate([0, 5, 9, 7, 0]):
            lines.append(f"p1\t{s}\t0\t10\t100\t0\t0\t1\t0\tnan\t{px}\t0\t0\t2\t\n")
        with open(path, "w") as f:
            f.writelines(lines)
        with tmp:
            rows = fc.load(path)
        self.assertEqual([r["from_end"] for r in rows], [-1, 0, 1, 0, -1])
        self.assertAlmostEqual(rows[0]["e_ml"], 1.0)
        self.assertEqual(rows[0]["error_ml"], 1.0)
        self.assertAlmostEqual(fc.features(rows[2])[1], math.log(1.0 + fc.FLOOR_ML))


if __name__ == "__main__":
    unittest.main()
