"""Validation report of a checkpoint: 3-D Dice per structure (ED and ES pooled) per
diagnostic group, and clinical agreement (LVEDV, LVEF, LV mass, RVEF) against the ACDC
ground truth, on the validation patients of split.json.

    python training/evaluate.py --run training/runs/sax [--which best] [--json OUT] [--pixel-mm MM]
"""

import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from systole_train.data import acdc_root, load_patient, load_split, read_info  # noqa: E402
from systole_train.infer import dice, predict_volume  # noqa: E402
from systole_train.model import SaxFcn, in_channels_of  # noqa: E402


def volumes(lab, voxel_ml):
    return {c: float((lab == c).sum()) * voxel_ml for c in (1, 2, 3)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--which", default="best")
    ap.add_argument("--json")
    ap.add_argument("--pixel-mm", type=float, help="resample to this pixel size (default: the run's training pixel_mm, if any)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    state = torch.load(os.path.join(args.run, f"{args.which}.pt"), weights_only=False)
    model = SaxFcn(in_channels_of(state["model"]))
    model.load_state_dict(state["model"])
    model.eval()
    pixel_mm = args.pixel_mm or state.get("config", {}).get("pixel_mm")
    root = acdc_root()
    rows = []
    for name in load_split()["val"]:
        p = load_patient(os.path.join(root, name))
        info = read_info(os.path.join(root, name, "Info.cfg"))
        ed, es = int(info["ED"]), int(info["ES"])
        vml = p["spacing"][0] * p["spacing"][1] * p["spacing"][2] / 1000.0
        res = {"patient": name, "group": p["group"], "dice": {}, "truth": {}, "pred": {}}
        for frame, img, lab in p["frames"]:
            pred = predict_volume(model, img, spacing=p["spacing"], pixel_mm=pixel_mm)
            res["dice"][frame] = [float(dice(pred, lab, c)) for c in (1, 2, 3)]
            res["truth"][frame] = volumes(lab, vml)
            res["pred"][frame] = volumes(pred, vml)

        def clinical(v):
            lv_ed, lv_es = v[ed][1], v[es][1]
            rv_ed, rv_es = v[ed][3], v[es][3]
            return {"lv_edv_ml": lv_ed, "lv_ef_pct": 100 * (lv_ed - lv_es) / lv_ed if lv_ed else None,
                    "lv_mass_g": 1.05 * v[ed][2], "rv_ef_pct": 100 * (rv_ed - rv_es) / rv_ed if rv_ed else None}

        res["clinical_truth"] = clinical(res["truth"])
        res["clinical_pred"] = clinical(res["pred"])
        rows.append(res)
    groups = {}
    for r in rows:
        for d in r["dice"].values():
            groups.setdefault(r["group"], []).append(d)
    all_dice = [d for r in rows for d in r["dice"].values()]
    report = {"patients": len(rows), "dice_mean": np.mean(all_dice, 0).round(4).tolist(),
              "dice_per_group": {g: np.mean(v, 0).round(4).tolist() for g, v in sorted(groups.items())}, "clinical": {}}
    for k in ("lv_edv_ml", "lv_ef_pct", "lv_mass_g", "rv_ef_pct"):
        d = np.array([r["clinical_pred"][k] - r["clinical_truth"][k] for r in rows])
        report["clinical"][k] = {"bias": round(float(d.mean()), 2), "sd": round(float(d.std(ddof=1)), 2),
                                 "mean_abs_diff": round(float(np.abs(d).mean()), 2)}
    print(json.dumps(report, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"report": report, "cases": rows}, f, indent=1)


if __name__ == "__main__":
    main()
