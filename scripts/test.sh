#!/usr/bin/env bash
# The one test command (README "Test"): on a fresh Debian/Ubuntu machine with a Rust
# toolchain it installs what the tests need (Mesa's software Vulkan, Xvfb, poppler; the
# training code's pinned Python environment in .venv), checks formatting and clippy, then
# runs every Rust and Python test. Run it from anywhere; it works in the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "test: $(date -u +%FT%TZ) $(nproc) cores; free disk: $(df -h . | awk 'NR==2 {print $4}')"
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: install a Rust toolchain (https://rustup.rs) first" >&2
  exit 1
fi
if ! dpkg -s mesa-vulkan-drivers libvulkan1 xvfb xauth poppler-utils >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  # A registry hiccup must not fail the run: each step is tried up to three times.
  for attempt in 1 2 3; do
    if $SUDO apt-get update -q -o Acquire::Retries=3 &&
       DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q -o Acquire::Retries=3 \
         mesa-vulkan-drivers libvulkan1 xvfb xauth poppler-utils; then
      break
    fi
    if [ "$attempt" = 3 ]; then echo "apt-get failed three times" >&2; exit 1; fi
    sleep 15
  done
fi
# The DICOM codecs are pure Rust. The training code's tests need Python with PyTorch
# (PyPI's torch wheel, a CUDA build that runs on the CPU) in the repository's .venv.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# pip ends with "ERROR: Exception" (exit 2) when a download of the multi-GB torch wheels is
# cut off part way; that is retried too. No cache: it would hold a second copy of them.
for attempt in 1 2 3; do
  if .venv/bin/pip install --quiet --disable-pip-version-check --no-cache-dir \
       --timeout 60 --retries 10 -r training/requirements.txt; then
    break
  fi
  if [ "$attempt" = 3 ]; then echo "pip install failed three times" >&2; exit 1; fi
  sleep 15
done
if [ ! -d ../shared/data ]; then
  echo "note: ../shared/data not found; the real-data tests will fail and say where they looked" >&2
fi

stage() { echo "test: $1 at $(date -u +%FT%TZ); free disk: $(df -h . | awk 'NR==2 {print $4}')"; }
stage "environment ready"
# A one-off build gains nothing from incremental caches; they cost disk and time.
export CARGO_INCREMENTAL=0
cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
stage "clippy clean"
# cargo-nextest (on this project's CI machines) runs the test binaries side by side, one
# process per test, keeping both cores busy while a long test waits on one; the doc tests
# it does not run follow. Without it, plain cargo test runs the same tests.
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --no-fail-fast
  cargo test --locked --doc
else
  cargo test --locked
fi
stage "tests passed"
