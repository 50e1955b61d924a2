//! Parity of the Rust (candle) network with PyTorch: the logits of the shipped weights on
//! the golden input that `training/golden.py` wrote, and a round trip through a freshly
//! exported random network with non-trivial batch-norm statistics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use candle_core::{Device, Tensor};
use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use systole::io::{LoadOptions, load_study};
use systole::segment::{SegmentOptions, Segmenter};

/// Runs training/golden.py with these arguments; panics with its stderr when it fails.
fn golden_py<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(args: I) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("training/golden.py");
    let out = Command::new(common::python())
        .arg(script)
        .args(args)
        .output()
        .expect("run training/golden.py");
    assert!(
        out.status.success(),
        "golden.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn load_golden(path: &Path) -> (Vec<f32>, Vec<f32>, [usize; 4]) {
    let t = candle_core::safetensors::load(path, &Device::Cpu).expect("golden file");
    let input: &Tensor = &t["input"];
    let logits: &Tensor = &t["logits"];
    let (n, c, h, w) = input.dims4().unwrap();
    assert!(c == 1 || c == 3, "{c} input channels");
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
    let max = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    let argmax = |v: &[f32], i: usize, p: usize| {
        (0..k)
            .max_by(|&a, &b| v[(i * k + a) * h * w + p].total_cmp(&v[(i * k + b) * h * w + p]))
            .unwrap()
    };
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

/// Max |reference - golden logits| and max |reference - fast path| on the golden input,
/// the reference being the candle-nn definition of the network.
fn reference_differences(weights: &[u8], seg: &Segmenter, golden: &Path) -> (f32, f32) {
    use systole::segment::reference::ReferenceNet;
    let (x, want, [n, _, h, w]) = load_golden(golden);
    let c = x.len() / (n * h * w);
    let net = ReferenceNet::from_safetensors(weights, &Device::Cpu).unwrap();
    let input = Tensor::from_vec(x.clone(), (n, c, h, w), &Device::Cpu).unwrap();
    let got = net
        .forward(&input)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let fast = seg.net().forward_nchw(&x, n, h, w).unwrap();
    let max = |a: &[f32], b: &[f32]| {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(p, q)| (p - q).abs())
            .fold(0f32, f32::max)
    };
    (max(&got, &want), max(&got, &fast))
}

#[test]
fn the_fast_cpu_path_matches_the_candle_nn_reference_network() {
    // The shipped weights on the golden input: the reference (candle-nn layers, batch norm
    // as such, concatenated side outputs) against PyTorch and against the fast path.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let weights = std::fs::read(root.join("assets/models/sax.safetensors")).unwrap();
    let seg = Segmenter::builtin().unwrap();
    let (vs_torch, vs_fast) = reference_differences(
        &weights,
        &seg,
        &root.join("tests/data/sax_parity.safetensors"),
    );
    eprintln!("reference: max |ref - pytorch| = {vs_torch:e}, max |ref - fast| = {vs_fast:e}");
    assert!(vs_torch <= 1e-3, "max |reference - pytorch| = {vs_torch}");
    assert!(vs_fast <= 1e-3, "max |reference - fast path| = {vs_fast}");
}

#[test]
fn random_network_round_trip_through_export() {
    // One input channel (the paper's network) and three (a slice with its neighbours).
    for channels in ["1", "3"] {
        let dir = tempfile::tempdir().unwrap();
        let weights = dir.path().join("random.safetensors");
        let golden = dir.path().join("golden.safetensors");
        let (w, g) = (weights.as_os_str(), golden.as_os_str());
        let args = [
            "--random-model",
            "3",
            "--channels",
            channels,
            "--weights-out",
        ]
        .map(OsStr::new);
        golden_py(args.into_iter().chain([w, OsStr::new("--out"), g]));
        let seg = Segmenter::from_file(&weights).unwrap();
        assert_eq!(seg.net().in_channels().to_string(), channels);
        let (max, _) = compare(&seg, &golden);
        eprintln!("random network, {channels} input channel(s): max |candle - pytorch| = {max:e}");
        let (vs_torch, vs_fast) =
            reference_differences(&std::fs::read(&weights).unwrap(), &seg, &golden);
        assert!(
            vs_torch <= 1e-3 && vs_fast <= 1e-3,
            "reference: {vs_torch} from pytorch, {vs_fast} from the fast path"
        );
        // Logits of an untrained network are of order 1-10; the bound is the 1e-3.
        assert!(max <= 1e-3, "max |candle - pytorch| = {max}");
    }
}

/// The whole pipeline against PyTorch's: loading, percentile normalisation, neighbour-slice
/// channels, resampling to the network's pixel size and back, padding, network and argmax
/// on a real ACDC patient (both frames), for the shipped network and a three-channel test
/// network whose output depends on the neighbours' order (`golden.py --context-from`),
/// marked as trained at 1.1 mm pixels (patient003's are 1.5625 mm: its images are resampled
/// up, 256 x 256 -> 364 x 364).
#[test]
fn whole_pipeline_labels_match_pytorch_on_a_real_patient() {
    let patient = common::shared_data().join("acdc/training/patient003");
    let study = load_study(&patient, &LoadOptions::default()).unwrap().study;
    let cine = &study.cine;
    let d = cine.dims();
    let dir = tempfile::tempdir().unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models/sax.safetensors");
    let context = dir.path().join("context3.safetensors");
    let unused = dir.path().join("unused.safetensors");
    let args = [
        OsStr::new("--context-from"),
        shipped.as_os_str(),
        OsStr::new("--pixel-mm"),
        OsStr::new("1.1"),
    ];
    golden_py(args.into_iter().chain([
        OsStr::new("--weights-out"),
        context.as_os_str(),
        OsStr::new("--out"),
        unused.as_os_str(),
    ]));
    assert_eq!(
        Segmenter::from_file(&context).unwrap().net().pixel_mm(),
        Some(1.1)
    );
    for weights in [shipped, context] {
        let want_file = dir.path().join("labels.safetensors");
        golden_py([
            OsStr::new("--weights"),
            weights.as_os_str(),
            OsStr::new("--predict-patient"),
            patient.as_os_str(),
            OsStr::new("--out"),
            want_file.as_os_str(),
        ]);
        let t = candle_core::safetensors::load(&want_file, &Device::Cpu).unwrap();
        let want = t["labels"].flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(t["labels"].dims(), &[d.phases, d.slices, d.rows, d.columns]);
        let seg = Segmenter::from_file(&weights).unwrap();
        let options = SegmentOptions {
            largest_component: false,
            heart_margin_px: None,
            ..SegmentOptions::default()
        };
        let got = seg
            .segment_all(cine, &options, &mut |_| {}, &AtomicBool::new(false))
            .unwrap();
        let n = d.phases * d.slices * d.rows * d.columns;
        let (mut same, mut labelled, mut rv) = (0usize, 0usize, 0usize);
        for p in 0..d.phases {
            for s in 0..d.slices {
                let w = &want[(p * d.slices + s) * d.rows * d.columns..][..d.rows * d.columns];
                for (&g, &w) in got.image(p, s).iter().zip(w) {
                    same += (g as f32 == w) as usize;
                    labelled += (w != 0.0) as usize;
                    rv += (w == 3.0) as usize;
                }
            }
        }
        let agree = same as f64 / n as f64;
        let net = seg.net();
        eprintln!(
            "{}: {} input channel(s), pixel size {:?} mm, label agreement {agree} ({labelled} labelled pixels)",
            weights.display(),
            net.in_channels(),
            net.pixel_mm()
        );
        assert!(
            rv > 1000 && labelled < n / 5,
            "labels unlike a heart ({labelled} labelled, {rv} RV): nothing to compare"
        );
        assert!(agree > 0.9999, "label agreement {agree}");
    }
}

#[test]
fn corrupt_or_foreign_weights_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("truncated.safetensors");
    let bytes =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models/sax.safetensors"))
            .unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let e = Segmenter::from_file(&truncated)
        .err()
        .expect("truncated weights must fail")
        .to_string();
    assert!(
        e.contains("truncated.safetensors") && e.contains("unusable"),
        "{e}"
    );
    // A valid safetensors file without the network's tensors (the golden file itself).
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sax_parity.safetensors");
    let e = Segmenter::from_file(&golden)
        .err()
        .expect("foreign weights must fail")
        .to_string();
    assert!(
        e.contains("levels.0.0.conv.weight") && e.contains("missing"),
        "{e}"
    );
    let e = Segmenter::from_file(&dir.path().join("nope.safetensors"))
        .err()
        .expect("missing file must fail")
        .to_string();
    assert!(e.contains("nope.safetensors"), "{e}");
    // The shipped weights with a pixel size in their metadata that is not one.
    for bad in ["abc", "0", "-1.25", "NaN", "1e9"] {
        let file = dir.path().join("bad_pixel.safetensors");
        std::fs::write(&file, with_metadata(&bytes, "pixel_mm", bad)).unwrap();
        let e = Segmenter::from_file(&file)
            .err()
            .expect("a bad pixel_mm must fail")
            .to_string();
        assert!(
            e.contains("bad_pixel.safetensors") && e.contains("pixel_mm") && e.contains(bad),
            "{e}"
        );
    }
    let fine = dir.path().join("pixel.safetensors");
    std::fs::write(&fine, with_metadata(&bytes, "pixel_mm", "1.4")).unwrap();
    assert_eq!(
        Segmenter::from_file(&fine).unwrap().net().pixel_mm(),
        Some(1.4)
    );
}

/// A safetensors file's bytes with one metadata entry set (the format: an 8-byte
/// little-endian header length, the JSON header, the tensor data).
fn with_metadata(bytes: &[u8], key: &str, value: &str) -> Vec<u8> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let meta = header
        .as_object_mut()
        .unwrap()
        .entry("__metadata__")
        .or_insert_with(|| serde_json::json!({}));
    meta.as_object_mut().unwrap().insert(
        key.to_string(),
        serde_json::Value::String(value.to_string()),
    );
    let text = serde_json::to_vec(&header).unwrap();
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&text);
    out.extend_from_slice(&bytes[8 + n..]);
    out
}
