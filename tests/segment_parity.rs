//! Parity of the Rust (candle) network with PyTorch: the logits of the shipped weights on
//! the golden input that `training/golden.py` wrote, and a round trip through a freshly
//! exported random network with non-trivial batch-norm statistics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use candle_core::{Device, Tensor};
use std::path::Path;
use std::process::Command;
use systole::segment::Segmenter;

fn load_golden(path: &Path) -> (Vec<f32>, Vec<f32>, [usize; 4]) {
    let t = candle_core::safetensors::load(path, &Device::Cpu).expect("golden file");
    let input: &Tensor = &t["input"];
    let logits: &Tensor = &t["logits"];
    let (n, c, h, w) = input.dims4().unwrap();
    assert_eq!(c, 1);
    assert_eq!(logits.dims(), &[n, 4, h, w]);
    let x = input.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let y = logits.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    (x, y, [n, 4, h, w])
}

/// Max absolute difference, and the share of pixels whose argmax agrees.
fn compare(seg: &Segmenter, golden: &Path) -> (f32, f64) {
    let (x, want, [n, k, h, w]) = load_golden(golden);
    let got = seg.net().forward_nchw(&x, n, h, w).unwrap();
    assert_eq!(got.len(), want.len());
    let max = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    let argmax = |v: &[f32], i: usize, p: usize| (0..k).max_by(|&a, &b| v[(i * k + a) * h * w + p].total_cmp(&v[(i * k + b) * h * w + p])).unwrap();
    let mut same = 0;
    for i in 0..n {
        for p in 0..h * w {
            same += (argmax(&got, i, p) == argmax(&want, i, p)) as usize;
        }
    }
    (max, same as f64 / (n * h * w) as f64)
}

#[test]
fn shipped_weights_match_pytorch_logits() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sax_parity.safetensors");
    let seg = Segmenter::builtin().unwrap();
    let (max, agree) = compare(&seg, &golden);
    eprintln!("shipped weights: max |candle - pytorch| = {max:e}, argmax agreement {agree}");
    assert!(max <= 1e-3, "max |candle - pytorch| = {max}");
    assert!(agree > 0.999, "argmax agreement {agree}");
}

#[test]
fn random_network_round_trip_through_export() {
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("random.safetensors");
    let golden = dir.path().join("golden.safetensors");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(common::python())
        .arg(root.join("training/golden.py"))
        .args(["--random-model", "3", "--weights-out"])
        .arg(&weights)
        .arg("--out")
        .arg(&golden)
        .output()
        .expect("run training/golden.py");
    assert!(out.status.success(), "golden.py failed: {}", String::from_utf8_lossy(&out.stderr));
    let seg = Segmenter::from_file(&weights).unwrap();
    let (max, _) = compare(&seg, &golden);
    eprintln!("random network: max |candle - pytorch| = {max:e}");
    // Logits of an untrained network are of order 1-10; the bound is the 1e-3.
    assert!(max <= 1e-3, "max |candle - pytorch| = {max}");
}

#[test]
fn corrupt_or_foreign_weights_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("truncated.safetensors");
    let bytes = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models/sax.safetensors")).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let e = Segmenter::from_file(&truncated).err().expect("truncated weights must fail").to_string();
    assert!(e.contains("truncated.safetensors") && e.contains("unusable"), "{e}");
    // A valid safetensors file without the network's tensors (the golden file itself).
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sax_parity.safetensors");
    let e = Segmenter::from_file(&golden).err().expect("foreign weights must fail").to_string();
    assert!(e.contains("levels.0.0.conv.weight") && e.contains("missing"), "{e}");
    let e = Segmenter::from_file(&dir.path().join("nope.safetensors")).err().expect("missing file must fail").to_string();
    assert!(e.contains("nope.safetensors"), "{e}");
}
