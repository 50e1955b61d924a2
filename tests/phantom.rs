//! The phantom's voxel-counted measures against its analytic volumes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use systole::measure::{BsaFormula, Context, Engine};
use systole::phantom::{PhantomConfig, phantom};
use systole::study::Label;

#[test]
fn voxel_volumes_stay_within_the_discretisation_bound_of_the_analytic_ones() {
    for (seed, ef, phases) in [(1u64, 60.0, 25usize), (7, 35.0, 20), (3, 70.0, 30)] {
        let cfg = PhantomConfig {
            seed,
            lv_ef_pct: ef,
            phases,
            ..Default::default()
        };
        let p = phantom(&cfg);
        let labels = p.study.reference_labels.as_ref().unwrap();
        let engine = Engine::new(labels, p.study.cine.geometry.voxel_volume_ml().unwrap());
        let m = engine.measures(&Context::of(&p.study, BsaFormula::Mosteller));
        let a = &p.volumes;
        for ph in 0..phases {
            for (label, exact, bound) in [
                (Label::LvBloodPool, a.lv_ml[ph], a.lv_bound_ml[ph]),
                (Label::Myocardium, a.myo_ml[ph], a.myo_bound_ml[ph]),
                (Label::RvBloodPool, a.rv_ml[ph], a.rv_bound_ml[ph]),
            ] {
                let got = m.volume_ml(ph, label).unwrap();
                assert!(
                    (got - exact).abs() <= bound,
                    "seed {seed} phase {ph} {label:?}: {got} vs {exact} +/- {bound}"
                );
                // In practice the errors cancel along the boundary: far below the bound.
                assert!(
                    (got - exact).abs() < 0.02 * exact,
                    "seed {seed} phase {ph} {label:?}: {got} vs {exact}"
                );
            }
        }
        assert_eq!((m.ed_phase, m.es_phase), (Some(0), Some(cfg.es_phase)));
        let ef_got = m.lv.ef_pct.unwrap();
        assert!((ef_got - ef).abs() < 1.0, "EF {ef_got} vs {ef}");
        // Heart rate 60 and BSA from 175 cm / 70 kg are part of the phantom.
        let co = m.lv_cardiac_output_l_min.unwrap();
        assert!((co - m.lv.sv_ml.unwrap() * 60.0 / 1000.0).abs() < 1e-12);
        assert!((m.bsa_m2.unwrap() - (175.0f64 * 70.0 / 3600.0).sqrt()).abs() < 1e-12);
    }
}

#[test]
fn editing_one_slice_updates_the_measures_like_a_full_recount() {
    let p = phantom(&PhantomConfig {
        rows: 96,
        columns: 96,
        pixel_mm: 2.6,
        ..Default::default()
    });
    let mut labels = p.study.reference_labels.clone().unwrap();
    let voxel_ml = p.study.cine.geometry.voxel_volume_ml().unwrap();
    let ctx = Context::of(&p.study, BsaFormula::DuBois);
    let mut engine = Engine::new(&labels, voxel_ml);
    // Paint the whole ES mid slice as LV blood pool, then erase it entirely.
    for fill in [Label::LvBloodPool as u8, 0u8] {
        let img = labels.image_mut(9, 6).unwrap();
        img.iter_mut().for_each(|v| *v = fill);
        let ann = labels.annotated(9, 6);
        engine.update_slice(9, 6, labels.image(9, 6), ann);
        assert_eq!(
            engine.measures(&ctx),
            Engine::new(&labels, voxel_ml).measures(&ctx)
        );
    }
}
