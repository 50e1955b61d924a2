"""Tests of the training code: model shape and size, preprocessing, split, augmentation,
a few optimisation steps and the export round trip. Uses ../shared/data (two patients)."""

import json
import os
import sys
import tempfile
import unittest

import nibabel as nib
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from systole_train.augment import sample_batch  # noqa: E402
from systole_train.data import acdc_root, load_patient, load_split, normalise, resampled_size, resize, with_context  # noqa: E402
from systole_train.infer import dice, predict_volume  # noqa: E402
from systole_train.model import SaxFcn, in_channels_of, parameter_count  # noqa: E402

CFG = json.load(open(os.path.join(HERE, "..", "config.json")))


class ModelTest(unittest.TestCase):
    def test_size_matches_the_paper(self):
        # Bai et al. 2018: about 1.99 M parameters.
        n = parameter_count(SaxFcn())
        self.assertLess(abs(n - 1.99e6) / 1.99e6, 0.01, n)

    def test_logits_have_the_input_size(self):
        m = SaxFcn().eval()
        with torch.no_grad():
            y = m(torch.zeros(2, 1, 64, 48))
        self.assertEqual(tuple(y.shape), (2, 4, 64, 48))


class DataTest(unittest.TestCase):
    def test_context_channels_are_the_neighbours_repeated_at_the_ends(self):
        v = np.arange(4, dtype=np.float32)[:, None, None] * np.ones((1, 2, 3), np.float32)
        c = with_context(v, 1)
        self.assertEqual(c.shape, (4, 3, 2, 3))
        # Channel values are the slice numbers they came from.
        self.assertEqual(c[:, :, 0, 0].tolist(), [[0, 0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 3]])
        self.assertTrue(np.array_equal(with_context(v, 0)[:, 0], v))

    def test_resampling_sizes_and_values(self):
        # floor(n * spacing / pixel + 0.5), at least 1 (the same cases as the Rust test).
        self.assertEqual(resampled_size(216, 1.5625, 1.25), 270)
        self.assertEqual(resampled_size(174, 1.92, 1.25), 267)
        self.assertEqual(resampled_size(3, 1.0, 2.0), 2)
        self.assertEqual(resampled_size(1, 0.1, 10.0), 1)
        # [[0, 1], [2, 3]] doubled: sources at -0.25 (clamped), 0.25, 0.75, 1.25 (upper
        # neighbour clamped) on each axis; values worked out by hand.
        x = torch.tensor([[0.0, 1.0], [2.0, 3.0]])[None, None]
        want = [[0.0, 0.25, 0.75, 1.0], [0.5, 0.75, 1.25, 1.5], [1.5, 1.75, 2.25, 2.5], [2.0, 2.25, 2.75, 3.0]]
        self.assertTrue(torch.allclose(resize(x, (4, 4))[0, 0], torch.tensor(want)))
        self.assertIs(resize(x, (2, 2)), x)

    def test_normalise_clips_to_percentiles(self):
        v = np.arange(1000, dtype=np.float32).reshape(10, 10, 10)
        n = normalise(v)
        lo, hi = np.percentile(v, (1, 99))
        self.assertEqual(n.min(), 0.0)
        self.assertEqual(n.max(), 1.0)
        self.assertAlmostEqual(float(n.reshape(-1)[500]), (500 - lo) / (hi - lo), places=5)
        self.assertTrue(np.all(normalise(np.ones((2, 2, 2))) == 0))

    def test_split_is_patient_level_and_stratified(self):
        s = load_split()
        self.assertFalse(set(s["train"]) & set(s["val"]))
        self.assertEqual(len(s["train"]) + len(s["val"]), 80)
        for group, names in s["groups"].items():
            self.assertEqual(len(set(names) & set(s["val"])), 3, group)

    def test_labels_are_remapped_and_grid_kept(self):
        folder = os.path.join(acdc_root(), "patient001")
        p = load_patient(folder)
        raw = np.asarray(nib.load(os.path.join(folder, "patient001_frame01_gt.nii.gz")).dataobj)
        frame, img, lab = p["frames"][0]
        self.assertEqual(frame, 1)
        self.assertEqual(lab.shape, (raw.shape[2], raw.shape[1], raw.shape[0]))
        # ACDC 3 (LV) -> 1, 1 (RV) -> 3; voxel (i, j, k) -> [k, j, i].
        self.assertEqual(int((lab == 1).sum()), int((raw == 3).sum()))
        self.assertEqual(int((lab == 3).sum()), int((raw == 1).sum()))
        i, j, k = np.argwhere(raw == 3)[0]
        self.assertEqual(lab[k, j, i], 1)
        self.assertTrue(0.0 <= img.min() and img.max() <= 1.0)


class TrainingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.patient = load_patient(os.path.join(acdc_root(), "patient002"))

    def slices(self):
        out = []
        for _, img, lab in self.patient["frames"]:
            for k in range(img.shape[0]):
                out.append((img[k], lab[k], (img.shape[1] / 2.0, img.shape[2] / 2.0)))
        return out

    def test_augmented_batches_have_crop_shape_and_valid_labels(self):
        rng = np.random.default_rng(0)
        x, y = sample_batch(self.slices(), CFG, rng)
        k = CFG["crop"]
        self.assertEqual(tuple(x.shape), (CFG["batch"], 1, k, k))
        self.assertEqual(tuple(y.shape), (CFG["batch"], k, k))
        self.assertTrue(set(torch.unique(y).tolist()) <= {0, 1, 2, 3})

    def test_a_few_steps_fit_one_batch(self):
        torch.manual_seed(0)
        rng = np.random.default_rng(1)
        cfg = dict(CFG, batch=4, crop=64)
        x, y = sample_batch(self.slices(), cfg, rng)
        m = SaxFcn()
        opt = torch.optim.Adam(m.parameters(), lr=1e-3)
        losses = []
        for _ in range(15):
            loss = torch.nn.functional.cross_entropy(m(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss))
        self.assertLess(losses[-1], 0.7 * losses[0], losses)

    def test_whole_volume_inference_keeps_the_grid(self):
        _, img, lab = self.patient["frames"][0]
        pred = predict_volume(SaxFcn().eval(), img[:2])
        self.assertEqual(pred.shape, img[:2].shape)
        self.assertEqual(dice(lab, lab, 1), 1.0)

    def test_fixed_pixel_size_crops_and_inference(self):
        # Crops at a fixed pixel size: at 1.5 times the native spacing the whole heart covers
        # 1 / 1.5^2 of the area it covers in native-pixel crops (same centres, no augmentation).
        from train import slices_of

        sp = self.patient["spacing"]
        cfg = dict(CFG, batch=16, random_crop_prob=0.0, centre_jitter_px=0, rotation_deg=0, scale=[1, 1], crop=128)
        area = {}
        for pixel_mm in (None, sp[0] * 1.5):
            x, y = sample_batch(slices_of([self.patient], 0, pixel_mm), cfg, np.random.default_rng(4))
            area[pixel_mm] = float((y > 0).float().mean())
        self.assertGreater(area[None], 0.01)
        self.assertAlmostEqual(area[sp[0] * 1.5] / area[None], 1 / 1.5**2, delta=0.03)
        # Inference at another pixel size returns labels on the native grid; at the native
        # pixel size it is the plain inference.
        _, img, _ = self.patient["frames"][0]
        m = SaxFcn().eval()
        self.assertEqual(predict_volume(m, img[:2], spacing=sp, pixel_mm=1.3 * sp[0]).shape, img[:2].shape)
        self.assertTrue(np.array_equal(predict_volume(m, img[:2], spacing=sp, pixel_mm=sp[0]), predict_volume(m, img[:2])))

    def test_export_round_trip(self):
        from safetensors.torch import load_file

        import export

        m = SaxFcn()
        with tempfile.TemporaryDirectory() as d:
            torch.save({"model": m.state_dict(), "step": 0, "config": dict(CFG, pixel_mm=1.25)}, os.path.join(d, "best.pt"))
            sys.argv = ["export", "--run", d, "--out", d]
            export.main()
            t = load_file(os.path.join(d, "sax.safetensors"))
            with open(os.path.join(d, "sax.json")) as f:
                card = json.load(f)
            from safetensors import safe_open

            with safe_open(os.path.join(d, "sax.safetensors"), "pt") as f:
                self.assertEqual(f.metadata()["pixel_mm"], "1.25")
        self.assertEqual(card["preprocessing"]["pixel_mm"], 1.25)
        want = {k: v for k, v in m.state_dict().items() if not k.endswith("num_batches_tracked")}
        self.assertEqual(set(t), set(want))
        for k, v in want.items():
            self.assertTrue(torch.equal(t[k], v.float()), k)
        self.assertIn("CC BY-NC-SA 4.0", card["training_data"]["licence"])

    def test_wide_rotation_and_mirroring_keep_image_and_labels_together(self):
        # With every crop mirrored and widely rotated, the labels still sit on the
        # structures: the mean intensity under the LV label stays that of the blood pool.
        rng = np.random.default_rng(3)
        cfg = dict(CFG, wide_rotation_prob=1.0, flip_prob=1.0, noise_sd=0.0, gamma=[1, 1], contrast=[1, 1], random_crop_prob=0.0)
        x, y = sample_batch(self.slices(), cfg, rng)
        lv = x[:, 0][y == 1]
        self.assertGreater(len(lv), 0)
        self.assertGreater(float(lv.mean()), float(x[:, 0][y == 2].mean()))

    def test_context_batches_keep_the_centre_slice_and_swap_neighbours(self):
        # Channels are (slice k-1, k, k+1): the centre channel of an unaugmented crop is
        # the one-channel crop, and a swap reverses the neighbours, never the centre.
        _, vol, lab = self.patient["frames"][0]
        ctx = with_context(vol, 1)
        k = vol.shape[0] // 2
        one = [(vol[k], lab[k], (vol.shape[1] / 2.0, vol.shape[2] / 2.0))]
        three = [(ctx[k], lab[k], (vol.shape[1] / 2.0, vol.shape[2] / 2.0))]
        cfg = dict(CFG, noise_sd=0.0, gamma=[1, 1], contrast=[1, 1], random_crop_prob=0.0, context_swap_prob=0.5, batch=16)
        x1, y1 = sample_batch(one, dict(cfg, context_swap_prob=0.0), np.random.default_rng(5))
        x3, y3 = sample_batch(three, dict(cfg, context_swap_prob=0.0), np.random.default_rng(5))
        self.assertEqual(tuple(x3.shape[:2]), (16, 3))
        self.assertTrue(torch.allclose(x1[:, 0], x3[:, 1], atol=1e-6))
        self.assertTrue(torch.equal(y1, y3))
        # Without geometric augmentation every crop is the same but for the swap.
        fixed = dict(cfg, rotation_deg=0, scale=[1, 1], centre_jitter_px=0)
        plain, _ = sample_batch(three, dict(fixed, context_swap_prob=0.0), np.random.default_rng(6))
        xs, _ = sample_batch(three, fixed, np.random.default_rng(6))
        swapped = 0
        for i in range(16):
            self.assertTrue(torch.equal(xs[i, 1], plain[0, 1]))
            if torch.equal(xs[i], plain[0]):
                continue
            self.assertTrue(torch.equal(xs[i], plain[0].flip(0)))
            swapped += 1
        self.assertFalse(torch.equal(plain[0, 0], plain[0, 2]))
        self.assertTrue(0 < swapped < 16, swapped)

    def test_per_image_dice_weighs_a_small_structure_like_a_large_one(self):
        import train

        # Two crops: a large RV found exactly, a small RV missed entirely. Pooled over the
        # batch the miss hardly counts; per image it costs half of the RV's Dice.
        y = torch.zeros(2, 32, 32, dtype=torch.long)
        y[0, 4:28, 4:28] = 3
        y[1, 10:12, 10:12] = 3
        logits = torch.full((2, 4, 32, 32), -20.0)
        logits[:, 0] = 20.0
        logits[0, :, 4:28, 4:28] = -20.0
        logits[0, 3, 4:28, 4:28] = 20.0
        w = [0.0, 0.0, 1.0]
        pooled = float(train.soft_dice_loss(logits, y, w))
        per_image = float(train.soft_dice_loss(logits, y, w, per_image=True))
        self.assertAlmostEqual(pooled, 1 - (2 * 576 + 1) / (576 + 580 + 1), places=4)
        self.assertAlmostEqual(per_image, 1 - 0.5 * (1.0 + 1 / 5), places=4)

    def test_one_channel_weights_start_a_context_network_as_the_same_function(self):
        import train

        m1 = SaxFcn().eval()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "one.pt")
            torch.save({"model": m1.state_dict()}, path)
            m3 = SaxFcn(3)
            train.load_initial(m3, path)
        self.assertEqual(in_channels_of(m3.state_dict()), 3)
        _, vol, _ = self.patient["frames"][0]
        self.assertTrue(np.array_equal(predict_volume(m1, vol[:3]), predict_volume(m3.eval(), vol[:3])))

    def test_shipped_weights_reproduce_the_golden_logits(self):
        # tests/data/sax_parity.safetensors (the Rust parity test's reference) must come from
        # the weights in assets/models: export.py rewrites both together.
        from safetensors.torch import load_file

        import golden

        root = os.path.join(HERE, "..", "..")
        state = load_file(os.path.join(root, "assets", "models", "sax.safetensors"))
        m = SaxFcn(in_channels_of(state))
        missing, unexpected = m.load_state_dict(state, strict=False)
        self.assertTrue(all(k.endswith("num_batches_tracked") for k in missing) and not unexpected)
        g = load_file(os.path.join(root, "tests", "data", "sax_parity.safetensors"))
        self.assertTrue(torch.equal(g["input"], golden.golden_input(channels=m.in_channels)))
        with torch.no_grad():
            y = m.eval()(g["input"])
        self.assertLess(float((y - g["logits"]).abs().max()), 1e-4)


if __name__ == "__main__":
    unittest.main()
