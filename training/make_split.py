"""Writes split.json: a patient-level train/validation split of the 80 ACDC patients here,
stratified by diagnostic group (3 validation patients per group), from a fixed seed.
Run once; the file is committed and never regenerated silently."""

import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from systole_train.data import acdc_root, read_info  # noqa: E402

SEED = 20261129
PER_GROUP = 3


def main():
    root = acdc_root()
    groups = {}
    for name in sorted(os.listdir(root)):
        info = read_info(os.path.join(root, name, "Info.cfg"))
        groups.setdefault(info["Group"], []).append(name)
    rng = random.Random(SEED)
    val = []
    for g in sorted(groups):
        names = sorted(groups[g])
        rng.shuffle(names)
        val += sorted(names[:PER_GROUP])
    train = sorted(n for ns in groups.values() for n in ns if n not in val)
    out = {"seed": SEED, "method": f"{PER_GROUP} validation patients per ACDC group, seeded shuffle",
           "groups": {g: sorted(ns) for g, ns in sorted(groups.items())}, "train": train, "val": sorted(val)}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "split.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print(f"{len(train)} train, {len(val)} validation -> {path}")


if __name__ == "__main__":
    main()
