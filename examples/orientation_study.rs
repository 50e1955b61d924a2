//! For each study given, the network's self-agreement in each of the eight in-plane
//! orientations on the reference phase's mid slices (the data behind
//! `pipeline::orientation`'s rule), one line per orientation and probe (`all`: the
//! probes together, as the search asks; then each probe slice alone):
//!
//!     cargo run --release --example orientation_study -- ../shared/data/acdc/training/patient004 ...
#![allow(clippy::print_stdout)]

use systole::io::{LoadOptions, load_study};
use systole::pipeline::Orientation;
use systole::pipeline::orientation::probe_slices;
use systole::segment::Segmenter;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seg = Segmenter::builtin()?;
    println!("study\tprobe\tturns\tmirror\tsd_lv\tsd_myo\tsd_rv\tarea_lv\tarea_myo\tarea_rv");
    for path in std::env::args().skip(1) {
        let study = load_study(std::path::Path::new(&path), &LoadOptions::default())?.study;
        let reference = study.key_phases.ed.unwrap_or(0);
        let d = study.cine.dims();
        let probes: Vec<(usize, usize)> = probe_slices(d.slices)
            .into_iter()
            .map(|s| (reference, s))
            .collect();
        for o in Orientation::all() {
            let turned = o.apply_cine(&study.cine)?;
            let mut asks = vec![("all".to_string(), probes.clone())];
            asks.extend(probes.iter().map(|&p| (p.1.to_string(), vec![p])));
            for (probe, list) in asks {
                let a = seg.self_agreement(&turned, &list)?;
                println!(
                    "{path}\t{probe}\t{}\t{}\t{:.4}\t{:.4}\t{:.4}\t{:.0}\t{:.0}\t{:.0}",
                    o.quarter_turns,
                    o.mirror,
                    a.soft_dice[0],
                    a.soft_dice[1],
                    a.soft_dice[2],
                    a.area_px[0],
                    a.area_px[1],
                    a.area_px[2]
                );
            }
        }
    }
    Ok(())
}
