//! Candle half of scripts/bench_inference.sh: times Systole's network on the batch the
//! PyTorch half wrote (same weights, same input) and prints `candle_ms_per_image`, then
//! the per-image confidence's extra work on those logits (`confidence_ms_per_image`:
//! softmax and expected error per structure, `segment::expected_error_px`) and its share
//! of the network's time.
//!
//!     cargo bench --bench inference -- BATCH.safetensors [WEIGHTS.safetensors] [REPEATS]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use candle_core::Device;
use std::time::Instant;
use systole::segment::Segmenter;

// The allocator the `systole` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(batch) = args.first() else {
        eprintln!("usage: cargo bench --bench inference -- BATCH.safetensors [WEIGHTS] [REPEATS]");
        std::process::exit(2);
    };
    let seg = match args.get(1) {
        Some(w) => Segmenter::from_file(std::path::Path::new(w)),
        None => Segmenter::builtin(),
    }
    .expect("weights");
    let repeats: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(10);
    let t = candle_core::safetensors::load(batch, &Device::Cpu).expect("batch file");
    let x = &t["input"];
    let (n, c, h, w) = x.dims4().expect("(n, channels, h, w) input");
    let nchw = x
        .flatten_all()
        .and_then(|t| t.to_vec1::<f32>())
        .expect("f32 input");
    let data = systole::segment::model::nchw_to_nhwc(&nchw, n, c, h, w);
    let mut times = Vec::new();
    for i in 0..repeats + 2 {
        let t0 = Instant::now();
        let y = seg.net().forward(&data, n, h, w).expect("forward");
        std::hint::black_box(&y.data);
        if i >= 2 {
            times.push(t0.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!("candle_ms_per_image {:.2}", 1000.0 * median / n as f64);
    let y = seg.net().forward(&data, n, h, w).expect("forward");
    let per = h * w * systole::segment::model::CLASSES;
    let mut extra = Vec::new();
    for _ in 0..repeats + 2 {
        let t0 = Instant::now();
        for i in 0..n {
            let e = systole::segment::expected_error_px(&y.data[i * per..(i + 1) * per], h, w, w);
            std::hint::black_box(e);
        }
        extra.push(t0.elapsed().as_secs_f64());
    }
    extra.sort_by(f64::total_cmp);
    let extra_median = extra[extra.len() / 2];
    println!(
        "confidence_ms_per_image {:.3} ({:.2} % of the network's time)",
        1000.0 * extra_median / n as f64,
        100.0 * extra_median / median
    );
    eprintln!(
        "candle, {} rayon threads, batch ({n}, {c}, {h}, {w}), median of {}",
        rayon::current_num_threads(),
        times.len()
    );
}
