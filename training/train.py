"""Trains the SAX FCN on the ACDC training split; resumable.

    python training/train.py --run runs/sax [--config training/config.json] [--steps N]
        [--patients N]   (use the first N training patients: for tests)
        [--init WEIGHTS] (start a new run from a state_dict: .pt checkpoint or .safetensors)

Writes RUN/ckpt.pt every cfg.ckpt_every steps (model, optimiser, step, RNG), RUN/best.pt
(best validation mean Dice), RUN/log.jsonl. Re-running the same command resumes.
Loss: cross-entropy + soft Dice over the three structures; Adam with linear warm-up and
cosine decay; heart-centred crops with jitter plus some random crops.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from systole_train.augment import sample_batch  # noqa: E402
from systole_train.data import acdc_root, load_patient, load_split, with_context  # noqa: E402
from systole_train.infer import dice, predict_volume  # noqa: E402
from systole_train.model import SaxFcn, in_channels_of, parameter_count  # noqa: E402


def slices_of(patients, context=0, pixel_mm=None):
    """Training samples: (image, labels, heart centre, (row, column) pixels per crop pixel)
    per slice; with context > 0 the image is (1 + 2 * context, rows, columns), the slice with
    its neighbours. With pixel_mm, a crop pixel is pixel_mm wide (the native pixels per crop
    pixel are pixel_mm / spacing), else one native pixel."""
    out = []
    for p in patients:
        step = (1.0, 1.0) if not pixel_mm else (pixel_mm / p["spacing"][0], pixel_mm / p["spacing"][1])
        for _, vol, lab in p["frames"]:
            img = with_context(vol, context) if context else vol
            for k in range(vol.shape[0]):
                fg = np.argwhere(lab[k] > 0)
                centre = fg.mean(0) if len(fg) else np.array(vol.shape[1:]) / 2.0
                out.append((img[k], lab[k], (float(centre[0]), float(centre[1])), step))
    return out


def soft_dice_loss(logits, target, weights=None, per_image=False):
    """1 - the (weighted) mean soft Dice of LV, myocardium and RV over the batch; with
    per_image, each crop's Dice counts alike (small end-systolic and apical structures
    weigh as much as large basal ones) and the mean is taken over crops."""
    p = logits.softmax(1)[:, 1:]
    t = F.one_hot(target, 4).permute(0, 3, 1, 2).float()[:, 1:]
    dims = (2, 3) if per_image else (0, 2, 3)
    inter = (p * t).sum(dims)
    denom = p.sum(dims) + t.sum(dims)
    d = (2 * inter + 1.0) / (denom + 1.0)
    if per_image:
        d = d.mean(0)
    w = torch.ones(3) if weights is None else torch.tensor(weights, dtype=d.dtype)
    return 1.0 - (w * d).sum() / w.sum()


def lr_at(step, cfg):
    if step < cfg["warmup"]:
        return cfg["lr"] * (step + 1) / cfg["warmup"]
    t = (step - cfg["warmup"]) / max(1, cfg["steps"] - cfg["warmup"])
    return cfg["min_lr"] + 0.5 * (cfg["lr"] - cfg["min_lr"]) * (1 + math.cos(math.pi * min(1.0, t)))


def validate(model, patients, pixel_mm=None):
    model.eval()
    per = []
    for p in patients:
        for frame, img, lab in p["frames"]:
            pred = predict_volume(model, img, spacing=p["spacing"], pixel_mm=pixel_mm)
            per.append({"patient": p["name"], "group": p["group"], "frame": frame,
                        "dice": [float(dice(pred, lab, c)) for c in (1, 2, 3)]})
    model.train()
    mean = np.mean([r["dice"] for r in per], axis=0).tolist()
    groups = {}
    for r in per:
        groups.setdefault(r["group"], []).append(r["dice"])
    return {"mean_dice": mean, "groups": {g: np.mean(v, axis=0).tolist() for g, v in sorted(groups.items())}, "cases": per}


def load_initial(model, path):
    """Loads a state_dict from a checkpoint or from exported safetensors (which leave out
    the batch-norm step counters); any other missing or unexpected key is an error.
    Weights of a one-channel network start a network with neighbour channels as the same
    function: the first convolution's centre channel gets the old weights, the neighbour
    channels zeros."""
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        state = load_file(path)
    else:
        state = torch.load(path, weights_only=False)["model"]
    key = "levels.0.0.conv.weight"
    have, want = in_channels_of(state), model.in_channels
    if have == 1 and want > 1:
        w = torch.zeros(state[key].shape[0], want, *state[key].shape[2:], dtype=state[key].dtype)
        w[:, want // 2] = state[key][:, 0]
        state = dict(state, **{key: w})
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"{path}: missing {missing}, unexpected {unexpected}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--config", default=os.path.join(here, "config.json"))
    ap.add_argument("--steps", type=int)
    ap.add_argument("--patients", type=int)
    ap.add_argument("--val-patients", type=int)
    ap.add_argument("--init", help="initial weights (.pt with 'model' or .safetensors); ignored when resuming")
    args = ap.parse_args()
    with open(args.config) as f:
        cfg = json.load(f)
    if args.steps:
        cfg["steps"] = args.steps
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(cfg["seed"])
    os.makedirs(args.run, exist_ok=True)
    split = load_split()
    root = acdc_root()
    train_names = split["train"][: args.patients] if args.patients else split["train"]
    val_names = split["val"][: args.val_patients] if args.val_patients else split["val"]
    assert not set(train_names) & set(val_names), "a validation patient is in the training set"
    train = [load_patient(os.path.join(root, n)) for n in train_names]
    val = [load_patient(os.path.join(root, n)) for n in val_names]
    context = cfg.get("context_slices", 0)
    slices = slices_of(train, context, cfg.get("pixel_mm"))
    model = SaxFcn(in_channels=1 + 2 * context)
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    rng = np.random.default_rng(cfg["seed"])
    step, best = 0, -1.0
    ckpt = os.path.join(args.run, "ckpt.pt")
    if os.path.exists(ckpt):
        state = torch.load(ckpt, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, best = state["step"], state["best"]
        rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        print(f"resumed at step {step}", flush=True)
    elif args.init:
        load_initial(model, args.init)
        print(f"initialised from {args.init}", flush=True)
    print(f"{parameter_count(model)} parameters, {len(slices)} training slices, {len(val)} validation patients", flush=True)
    log = open(os.path.join(args.run, "log.jsonl"), "a")
    model.train()
    t0 = time.time()
    while step < cfg["steps"]:
        lr = lr_at(step, cfg)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = sample_batch(slices, cfg, rng)
        logits = model(x)
        ce = F.cross_entropy(logits, y)
        dl = soft_dice_loss(logits, y, cfg.get("dice_class_weights"), cfg.get("dice_per_image", False))
        loss = ce + cfg["dice_weight"] * dl
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 20 == 0:
            rec = {"step": step, "lr": lr, "ce": float(ce), "dice_loss": float(dl), "s_per_step": (time.time() - t0) / 20}
            t0 = time.time()
            log.write(json.dumps(rec) + "\n")
            log.flush()
            print(rec, flush=True)
        if step % cfg["val_every"] == 0 or step == cfg["steps"]:
            v = validate(model, val, cfg.get("pixel_mm"))
            log.write(json.dumps({"step": step, "val": {k: v[k] for k in ("mean_dice", "groups")}}) + "\n")
            log.flush()
            print("validation", step, v["mean_dice"], flush=True)
            score = float(np.mean(v["mean_dice"]))
            if score > best:
                best = score
                torch.save({"model": model.state_dict(), "step": step, "val": v, "config": cfg}, os.path.join(args.run, "best.pt"))
            t0 = time.time()
        if step % cfg["ckpt_every"] == 0 or step == cfg["steps"]:
            tmp = ckpt + ".tmp"
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "best": best,
                        "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state()}, tmp)
            os.replace(tmp, ckpt)
    print("done; best validation mean Dice", best, flush=True)


if __name__ == "__main__":
    main()
