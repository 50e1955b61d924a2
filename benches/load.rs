//! Loading a real DICOM cine: SCD0000201 (Sunnybrook, 13 slices x 20 phases, 260 files).
//! Goal: at most 0.5 s on a 2-core machine, and faster than pydicom on the same files
//! (benches/pydicom_load.py). Run: cargo bench --bench load

use criterion::{Criterion, criterion_group, criterion_main};
use std::path::PathBuf;
use std::time::Duration;
use systole::io::{LoadOptions, load_study};

fn data_dir() -> PathBuf {
    let p = std::env::var_os("SYSTOLE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    let dir = p.join("sunnybrook/SCD0000201/dicom");
    assert!(
        dir.is_dir(),
        "benchmark data not found at {} (set SYSTOLE_DATA)",
        dir.display()
    );
    dir
}

fn bench_load(c: &mut Criterion) {
    let dir = data_dir();
    let mut g = c.benchmark_group("load");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    g.bench_function("scd0000201_dicom_folder", |b| {
        b.iter(|| {
            let l = load_study(&dir, &LoadOptions::default());
            assert!(l.is_ok_and(|l| l.study.cine.dims().images() == 260));
        })
    });
    g.bench_function("scd0000201_header_scan_only", |b| {
        let files = systole::io::dicom::list_files(&dir).unwrap_or_default();
        b.iter(|| {
            use rayon::prelude::*;
            let n = files
                .par_iter()
                .filter(|p| systole::io::dicom::scan_file(p).is_ok())
                .count();
            assert_eq!(n, 260);
        })
    });
    g.finish();
}

criterion_group!(benches, bench_load);
criterion_main!(benches);
