//! The data behind `systole::qc::confidence`: for every image of each ACDC study given
//! (segmented as `systole segment` does), the network's expected error areas, the
//! image's true error against the expert labels and the rule checks that concern it,
//! one tab-separated line per image:
//!
//!     cargo run --release --example confidence_study -- ../shared/data/acdc/training/patient0* > images.tsv
//!
//! training/fit_confidence.py fits the calibration on the training split's lines.
#![allow(clippy::print_stdout)]

use systole::cli::eval::image_errors;
use systole::cli::segment::segment_study;
use systole::io::{LoadOptions, load_study};
use systole::measure::Context;
use systole::segment::{SegmentOptions, Segmenter};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seg = Segmenter::builtin()?;
    println!(
        "study\tslice\tphase\tslice_mm\tu_lv_mm2\tu_myo_mm2\tu_rv_mm2\terr_lv_ml\terr_myo_ml\terr_rv_ml\tpx_lv\tpx_myo\tpx_rv\tpixel_mm2\tflags"
    );
    for path in std::env::args().skip(1) {
        let path = std::path::Path::new(&path);
        let study = load_study(path, &LoadOptions::default())?.study;
        let Some(truth) = study.reference_labels.clone() else {
            continue;
        };
        let (result, _) =
            segment_study(&study, &seg, false, &SegmentOptions::default(), &mut |_| {})?;
        let ctx = Context::of(&study, systole::measure::BsaFormula::Mosteller);
        let measures = systole::cli::measure::measure_labels(&study, &result.labels, &ctx)?;
        let flags = systole::qc::rule_checks(&result.labels, &study.cine.geometry, &measures);
        let slice_mm = study.cine.geometry.slice_spacing_mm().unwrap_or(f64::NAN);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        for e in image_errors(&study, &truth, &result.labels) {
            let u = result
                .uncertainty
                .get(e.phase, e.slice)
                .unwrap_or([f64::NAN; 3]);
            let codes: Vec<String> = flags
                .iter()
                .filter(|f| systole::qc::concerns(f, e.slice, e.phase))
                .map(|f| format!("{}:{:?}", f.code, f.severity))
                .collect();
            let img = result.labels.image(e.phase, e.slice);
            let count = |v: u8| img.iter().filter(|&&x| x == v).count();
            let sp = study.cine.geometry.pixel_spacing_mm;
            let err = e
                .error_ml
                .map(|v| v.map_or("nan".into(), |x| format!("{x:.3}")));
            println!(
                "{}\t{}\t{}\t{slice_mm:.2}\t{:.1}\t{:.1}\t{:.1}\t{}\t{}\t{}\t{}\t{}\t{}\t{:.4}\t{}",
                name.as_deref().unwrap_or("?"),
                e.slice,
                e.phase,
                u[0],
                u[1],
                u[2],
                err[0],
                err[1],
                err[2],
                count(1),
                count(2),
                count(3),
                sp[0] * sp[1],
                codes.join(",")
            );
        }
    }
    Ok(())
}
