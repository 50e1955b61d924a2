//! ED/ES, volumes, stroke volume, ejection fraction, mass, output and indices.

use super::engine::{Engine, PhaseVolumes};
use super::reference::{Flag, flags};
use super::{BsaFormula, MYOCARDIAL_DENSITY_G_PER_ML, bsa_m2};
use crate::study::{KeyPhases, Label, Sex, Study};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// What the measures need to know about the patient and the study besides the labels.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Context {
    pub stated: KeyPhases,
    pub sex: Option<Sex>,
    pub height_cm: Option<f64>,
    pub weight_kg: Option<f64>,
    pub heart_rate_bpm: Option<f64>,
    pub bsa_formula: BsaFormula,
}

impl Context {
    pub fn of(study: &Study, bsa_formula: BsaFormula) -> Context {
        Context {
            stated: study.key_phases,
            sex: study.patient.sex,
            height_cm: study.patient.height_cm,
            weight_kg: study.patient.weight_kg,
            heart_rate_bpm: study.info.heart_rate(),
            bsa_formula,
        }
    }

    /// The study's context with the user's values where given (height, weight, ED, ES).
    pub fn with_overrides(
        mut self,
        height_cm: Option<f64>,
        weight_kg: Option<f64>,
        key: KeyPhases,
    ) -> Context {
        self.height_cm = height_cm.or(self.height_cm);
        self.weight_kg = weight_kg.or(self.weight_kg);
        self.stated = KeyPhases {
            ed: key.ed.or(self.stated.ed),
            es: key.es.or(self.stated.es),
        };
        self
    }

    /// The study's context with the user's sex where given (it selects the reference ranges).
    pub fn with_sex(mut self, sex: Option<Sex>) -> Context {
        self.sex = sex.or(self.sex);
        self
    }
}

/// End-diastolic, end-systolic volume, stroke volume (mL) and ejection fraction (%).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Ventricle {
    pub edv_ml: Option<f64>,
    pub esv_ml: Option<f64>,
    pub sv_ml: Option<f64>,
    pub ef_pct: Option<f64>,
}

impl Ventricle {
    fn at(volumes: &[Option<f64>], ed: Option<usize>, es: Option<usize>) -> Ventricle {
        let get = |p: Option<usize>| p.and_then(|p| volumes.get(p).copied().flatten());
        let (edv, esv) = (get(ed), get(es));
        let sv = edv.zip(esv).map(|(d, s)| d - s);
        let ef = sv
            .zip(edv)
            .filter(|(_, d)| *d > 0.0)
            .map(|(sv, d)| 100.0 * sv / d);
        Ventricle {
            edv_ml: edv,
            esv_ml: esv,
            sv_ml: sv,
            ef_pct: ef,
        }
    }
}

/// A value that cannot be true (see [`Measures::problems`]): the measure's JSON key and
/// why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub measure: String,
    pub reason: String,
}

/// Every measure of a study.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measures {
    pub ed_phase: Option<usize>,
    pub es_phase: Option<usize>,
    pub lv: Ventricle,
    pub rv: Ventricle,
    /// Myocardial volume at ED x 1.05 g/mL.
    pub lv_mass_g: Option<f64>,
    /// LV stroke volume x heart rate, L/min.
    pub lv_cardiac_output_l_min: Option<f64>,
    pub bsa_m2: Option<f64>,
    pub heart_rate_bpm: Option<f64>,
    pub volumes: PhaseVolumes,
    pub flags: Vec<Flag>,
}

/// ED = the stated phase if it was measured, else the phase of maximal LV blood-pool
/// volume; ES likewise with the minimum (never the ED phase). Unmeasured phases take no
/// part.
pub fn choose_key_phases(
    lv_ml: &[Option<f64>],
    stated: KeyPhases,
) -> (Option<usize>, Option<usize>) {
    let measured = |p: usize| lv_ml.get(p).copied().flatten().is_some();
    let pick = |better: fn(f64, f64) -> bool, skip: Option<usize>| {
        let mut best: Option<(usize, f64)> = None;
        for (p, v) in lv_ml.iter().enumerate() {
            if let Some(v) = v
                && Some(p) != skip
                && best.is_none_or(|(_, b)| better(*v, b))
            {
                best = Some((p, *v));
            }
        }
        best.map(|(p, _)| p)
    };
    let ed = stated
        .ed
        .filter(|p| measured(*p))
        .or_else(|| pick(|a, b| a > b, None));
    let es = stated
        .es
        .filter(|p| measured(*p) && Some(*p) != ed)
        .or_else(|| pick(|a, b| a < b, ed));
    (ed, es)
}

/// Summation of discs: sum of slice areas (mm^2) x slice spacing (mm), in mL.
pub fn disc_volume_ml(areas_mm2: &[f64], slice_spacing_mm: f64) -> f64 {
    areas_mm2.iter().sum::<f64>() * slice_spacing_mm / 1000.0
}

/// Summation of discs over closed contours in pixel coordinates (column, row): each
/// slice's polygon areas x pixel area x slice spacing, in mL.
pub fn contour_volume_ml(
    slices: &[Vec<crate::contour::Polygon>],
    pixel_spacing_mm: [f64; 2],
    slice_spacing_mm: f64,
) -> f64 {
    let px = pixel_spacing_mm[0] * pixel_spacing_mm[1];
    let areas: Vec<f64> = slices
        .iter()
        .map(|polys| polys.iter().map(|p| crate::contour::area(p) * px).sum())
        .collect();
    disc_volume_ml(&areas, slice_spacing_mm)
}

impl Engine {
    /// All measures from the current counts.
    pub fn measures(&self, ctx: &Context) -> Measures {
        Measures::from_volumes(self.volumes(), ctx)
    }
}

impl Measures {
    pub fn from_volumes(volumes: PhaseVolumes, ctx: &Context) -> Measures {
        let (ed, es) = choose_key_phases(&volumes.lv_ml, ctx.stated);
        let lv = Ventricle::at(&volumes.lv_ml, ed, es);
        // The RV shares the LV's ED and ES phases, as in clinical reporting and ACDC.
        let rv = Ventricle::at(&volumes.rv_ml, ed, es);
        let lv_mass_g = ed
            .and_then(|p| volumes.myo_ml.get(p).copied().flatten())
            .map(|v| v * MYOCARDIAL_DENSITY_G_PER_ML);
        let hr = ctx.heart_rate_bpm.filter(|h| h.is_finite() && *h > 0.0);
        let lv_cardiac_output_l_min = lv.sv_ml.zip(hr).map(|(sv, hr)| sv * hr / 1000.0);
        let bsa = bsa_m2(ctx.height_cm, ctx.weight_kg, ctx.bsa_formula);
        let mut m = Measures {
            ed_phase: ed,
            es_phase: es,
            lv,
            rv,
            lv_mass_g,
            lv_cardiac_output_l_min,
            bsa_m2: bsa,
            heart_rate_bpm: hr,
            volumes,
            flags: Vec::new(),
        };
        // An impossible value gets no reference-range rating: it is a problem, not a finding.
        let bad: Vec<String> = m.problems().into_iter().map(|p| p.measure).collect();
        let rated: Vec<_> = m
            .scalars()
            .into_iter()
            .filter(|(k, _)| !bad.iter().any(|b| b == k))
            .collect();
        m.flags = flags(&rated, ctx.sex);
        m
    }

    /// (name, value) of every scalar measure, indices included where BSA is known.
    pub fn scalars(&self) -> Vec<(&'static str, Option<f64>)> {
        let mut v = vec![
            ("lv_edv_ml", self.lv.edv_ml),
            ("lv_esv_ml", self.lv.esv_ml),
            ("lv_sv_ml", self.lv.sv_ml),
            ("lv_ef_pct", self.lv.ef_pct),
            ("lv_mass_g", self.lv_mass_g),
            ("rv_edv_ml", self.rv.edv_ml),
            ("rv_esv_ml", self.rv.esv_ml),
            ("rv_sv_ml", self.rv.sv_ml),
            ("rv_ef_pct", self.rv.ef_pct),
            ("lv_cardiac_output_l_min", self.lv_cardiac_output_l_min),
        ];
        if let Some(bsa) = self.bsa_m2.filter(|b| *b > 0.0) {
            let idx: Vec<(&'static str, Option<f64>)> = vec![
                ("lv_edv_ml_m2_index", self.lv.edv_ml.map(|x| x / bsa)),
                ("lv_esv_ml_m2_index", self.lv.esv_ml.map(|x| x / bsa)),
                ("lv_sv_ml_m2_index", self.lv.sv_ml.map(|x| x / bsa)),
                ("lv_mass_g_m2_index", self.lv_mass_g.map(|x| x / bsa)),
                ("rv_edv_ml_m2_index", self.rv.edv_ml.map(|x| x / bsa)),
                ("rv_esv_ml_m2_index", self.rv.esv_ml.map(|x| x / bsa)),
                ("rv_sv_ml_m2_index", self.rv.sv_ml.map(|x| x / bsa)),
                (
                    "lv_cardiac_index_l_min_m2",
                    self.lv_cardiac_output_l_min.map(|x| x / bsa),
                ),
            ];
            v.extend(idx);
        }
        v
    }

    /// Values that cannot be true of a heart, with the reason: a negative stroke volume
    /// (ESV above EDV), an ejection fraction below 0 or above 100 %. They come from
    /// contours that are wrong or incomplete and must be shown as a problem, never as a
    /// measurement.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        for (name, v) in [("LV", &self.lv), ("RV", &self.rv)] {
            let key = |k: &str| format!("{}_{k}", name.to_ascii_lowercase());
            if let Some(sv) = v.sv_ml.filter(|sv| *sv < 0.0) {
                out.push(Problem {
                    measure: key("sv_ml"),
                    reason: format!("{name} stroke volume {sv:.1} mL is negative: the end-systolic volume exceeds the end-diastolic one; check the contours and ED/ES"),
                });
            }
            if let Some(ef) = v.ef_pct.filter(|ef| !(0.0..=100.0).contains(ef)) {
                out.push(Problem {
                    measure: key("ef_pct"),
                    reason: format!("{name} ejection fraction {ef:.1} % is outside 0-100 %; check the contours and ED/ES"),
                });
            }
        }
        out
    }

    /// One flat JSON object (the `systole measure --json` contract). Unknown values are
    /// null, never NaN.
    pub fn to_json(&self) -> Value {
        let num = super::json_number;
        let arr = |xs: &[Option<f64>]| Value::Array(xs.iter().map(|x| num(*x)).collect());
        let mut o = Map::new();
        o.insert("ed_phase".into(), json!(self.ed_phase));
        o.insert("es_phase".into(), json!(self.es_phase));
        for (k, v) in self.scalars() {
            o.insert(k.into(), num(v));
        }
        o.insert("bsa_m2".into(), num(self.bsa_m2));
        o.insert("heart_rate_bpm".into(), num(self.heart_rate_bpm));
        o.insert("lv_volume_ml".into(), arr(&self.volumes.lv_ml));
        o.insert("rv_volume_ml".into(), arr(&self.volumes.rv_ml));
        o.insert("myo_volume_ml".into(), arr(&self.volumes.myo_ml));
        o.insert("flags".into(), json!(self.flags));
        o.insert("problems".into(), json!(self.problems()));
        Value::Object(o)
    }

    /// [`Measures::to_json`] with the study's load warnings under `warnings` (the form
    /// every command and the viewer write).
    pub fn to_json_with_warnings(&self, warnings: &[String]) -> Value {
        let mut v = self.to_json();
        if let Value::Object(o) = &mut v {
            o.insert("warnings".into(), json!(warnings));
        }
        v
    }

    /// Volume of a structure at a phase, as measured.
    pub fn volume_ml(&self, phase: usize, label: Label) -> Option<f64> {
        self.volumes.of(label).get(phase).copied().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_values_are_problems_and_get_no_range_flag() {
        // ED stated at phase 0 with a smaller LV than the stated ES: negative SV and EF.
        let volumes = PhaseVolumes {
            lv_ml: vec![Some(100.0), Some(120.0)],
            myo_ml: vec![None, None],
            rv_ml: vec![Some(80.0), Some(60.0)],
        };
        let ctx = Context {
            stated: KeyPhases {
                ed: Some(0),
                es: Some(1),
            },
            sex: Some(Sex::Female),
            ..Context::default()
        };
        let m = Measures::from_volumes(volumes, &ctx);
        assert_eq!(m.lv.sv_ml, Some(-20.0));
        let keys: Vec<String> = m.problems().into_iter().map(|p| p.measure).collect();
        assert_eq!(keys, vec!["lv_sv_ml", "lv_ef_pct"]);
        assert!(
            !m.flags
                .iter()
                .any(|f| f.measure == "lv_ef_pct" || f.measure == "lv_sv_ml")
        );
        assert!(
            m.flags.iter().any(|f| f.measure == "rv_ef_pct"),
            "the RV's valid EF (25 %) is still rated"
        );
        assert_eq!(m.to_json()["problems"][0]["measure"], json!("lv_sv_ml"));
        // A normal heart has none.
        let ok = Measures::from_volumes(
            PhaseVolumes {
                lv_ml: vec![Some(150.0), Some(60.0)],
                myo_ml: vec![None, None],
                rv_ml: vec![None, None],
            },
            &Context::default(),
        );
        assert!(ok.problems().is_empty());
    }

    #[test]
    fn key_phases_skip_unmeasured_and_respect_stated() {
        let lv = [None, Some(120.0), Some(80.0), Some(50.0), None, Some(130.0)];
        assert_eq!(
            choose_key_phases(&lv, KeyPhases::default()),
            (Some(5), Some(3))
        );
        let stated = KeyPhases {
            ed: Some(1),
            es: Some(2),
        };
        assert_eq!(choose_key_phases(&lv, stated), (Some(1), Some(2)));
        // A stated phase without labels is not used.
        let stated = KeyPhases {
            ed: Some(0),
            es: Some(4),
        };
        assert_eq!(choose_key_phases(&lv, stated), (Some(5), Some(3)));
        assert_eq!(
            choose_key_phases(&[None, None], KeyPhases::default()),
            (None, None)
        );
        assert_eq!(
            choose_key_phases(&[Some(3.0)], KeyPhases::default()),
            (Some(0), None)
        );
    }

    #[test]
    fn function_by_hand() {
        let volumes = PhaseVolumes {
            lv_ml: vec![Some(150.0), Some(60.0)],
            myo_ml: vec![Some(100.0), Some(110.0)],
            rv_ml: vec![Some(160.0), None],
        };
        let ctx = Context {
            heart_rate_bpm: Some(60.0),
            height_cm: Some(180.0),
            weight_kg: Some(80.0),
            ..Default::default()
        };
        let m = Measures::from_volumes(volumes, &ctx);
        assert_eq!((m.ed_phase, m.es_phase), (Some(0), Some(1)));
        assert_eq!(m.lv.sv_ml, Some(90.0));
        assert_eq!(m.lv.ef_pct, Some(60.0));
        assert_eq!(m.lv_mass_g, Some(105.0));
        assert_eq!(m.lv_cardiac_output_l_min, Some(5.4));
        assert_eq!(m.rv.edv_ml, Some(160.0));
        assert_eq!((m.rv.esv_ml, m.rv.ef_pct), (None, None));
        assert_eq!(m.bsa_m2, Some(2.0));
        let j = m.to_json();
        assert_eq!(j["lv_edv_ml_m2_index"], json!(75.0));
        assert_eq!(j["rv_ef_pct"], Value::Null);
        assert_eq!(j["lv_volume_ml"], json!([150.0, 60.0]));
    }

    #[test]
    fn contours_and_their_rasterised_labels_agree_within_the_pixel_band() {
        use crate::study::{Dims, LabelStack, Structures};
        // Circles of radius 10..30 px on five slices, 0.8 x 1.2 mm pixels, 6 mm slices.
        let d = Dims {
            phases: 1,
            slices: 5,
            rows: 80,
            columns: 80,
        };
        let mut labels = LabelStack::empty(d);
        let (sp, dz) = ([0.8, 1.2], 6.0);
        let mut polys = Vec::new();
        let mut band = 0.0;
        for s in 0..5 {
            let r = 10.0 + 5.0 * s as f64;
            let poly: crate::contour::Polygon = (0..400)
                .map(|i| {
                    let t = i as f64 / 400.0 * std::f64::consts::TAU;
                    [39.3 + r * t.cos(), 40.1 + r * t.sin()]
                })
                .collect();
            let mask = crate::contour::fill(&poly, 80, 80);
            if let Some(img) = labels.image_mut(0, s) {
                img.iter_mut().zip(&mask).for_each(|(v, m)| *v = *m as u8);
            }
            labels.set_annotated(0, s, Structures::ALL);
            // Boundary length in pixels x half a pixel diagonal, in mm^2.
            band += std::f64::consts::TAU * r * 0.5 * 2f64.sqrt() * sp[0] * sp[1];
            polys.push(vec![poly]);
        }
        let by_contour = contour_volume_ml(&polys, sp, dz);
        let by_voxels = Engine::new(&labels, sp[0] * sp[1] * dz / 1000.0)
            .volume_ml(0, Label::LvBloodPool)
            .unwrap_or(0.0);
        assert!(
            (by_contour - by_voxels).abs() <= band * dz / 1000.0,
            "{by_contour} vs {by_voxels}"
        );
        assert!((by_contour - by_voxels).abs() / by_contour < 0.01);
    }

    #[test]
    fn discs_sum_areas_times_spacing() {
        assert_eq!(disc_volume_ml(&[1000.0, 2000.0, 500.0], 10.0), 35.0);
    }
}
