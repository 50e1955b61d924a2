#!/usr/bin/env bash
# Candle (Systole) against PyTorch on the same weights and the same 8 x 192 x 192 batch,
# both on 2 threads; prints candle_ms_per_image, torch_ms_per_image and ratio
# (candle / torch; below 1 means Systole is faster).
#   scripts/bench_inference.sh [WEIGHTS]   (default: assets/models/sax.safetensors)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${SYSTOLE_PYTHON:-.venv/bin/python}
W=${1:-assets/models/sax.safetensors}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-2}
"$PY" benches/torch_inference.py --weights "$W" --batch-file "$TMP/batch.safetensors" --write-batch --threads 2 > "$TMP/torch.txt"
cargo bench --quiet --bench inference -- "$TMP/batch.safetensors" "$W" > "$TMP/candle.txt"
cat "$TMP/candle.txt" "$TMP/torch.txt"
awk '/^candle_ms_per_image/ {c=$2} /^torch_ms_per_image/ {t=$2} END {printf "ratio %.2f\n", c/t}' "$TMP/candle.txt" "$TMP/torch.txt"
