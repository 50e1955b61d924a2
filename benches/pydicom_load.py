"""The same load as benches/load.rs, done with pydicom + numpy, for comparison.

Reads every file of a DICOM folder (header and pixels), orders slices by position along
the normal and phases by TriggerTime, applies the rescale and stacks float32 images.
Usage: python benches/pydicom_load.py [DIR] [REPEATS]
"""
import os
import sys
import time

import numpy as np
import pydicom


def load(folder):
    items = []
    for name in sorted(os.listdir(folder)):
        ds = pydicom.dcmread(os.path.join(folder, name))
        o = np.array(ds.ImageOrientationPatient, dtype=float)
        n = np.cross(o[:3], o[3:])
        d = float(np.dot(np.array(ds.ImagePositionPatient, dtype=float), n))
        px = ds.pixel_array.astype(np.float32) * float(getattr(ds, "RescaleSlope", 1)) + float(
            getattr(ds, "RescaleIntercept", 0)
        )
        items.append((round(d, 1), float(ds.TriggerTime), px))
    items.sort(key=lambda t: (t[0], t[1]))
    positions = sorted({t[0] for t in items})
    phases = len(items) // len(positions)
    return np.stack([t[2] for t in items]).reshape(len(positions), phases, *items[0][2].shape)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../shared/data/sunnybrook/SCD0000201/dicom")
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    load(folder)  # warm the page cache, as criterion's warm-up does
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        stack = load(folder)
        times.append(time.perf_counter() - t0)
    times.sort()
    print(f"pydicom {pydicom.__version__}: shape {stack.shape}, median {times[len(times) // 2] * 1000:.1f} ms, "
          f"min {times[0] * 1000:.1f} ms over {repeats} runs")


if __name__ == "__main__":
    main()
