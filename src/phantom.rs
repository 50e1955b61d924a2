//! A synthetic short-axis cine with analytic volumes: the demo study and a test oracle.
//!
//! The LV cavity is a prolate ellipsoid truncated by a basal plane, the myocardium the
//! shell between it and a larger confocal-free ellipsoid (wall thickness `wall_mm`), the
//! RV a crescent: a disc beside the LV minus the LV's epicardial disc. Every slice's
//! areas are closed-form (disc, lens), so the per-phase volumes below are exact for the
//! sampled slices (summation of discs) and need no rasterisation. Deterministic from the
//! seed: noise comes from a small PCG generator, not from the system.

use crate::study::{
    CineStack, Dims, Geometry, ImageSource, KeyPhases, Label, LabelStack, PatientInfo, Phase,
    SeriesSummary, Study, StudyInfo,
};
use std::f64::consts::PI;

pub mod exam;

/// Shape of the phantom. Lengths in mm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhantomConfig {
    pub seed: u64,
    pub phases: usize,
    pub slices: usize,
    pub rows: usize,
    pub columns: usize,
    pub pixel_mm: f64,
    pub slice_mm: f64,
    /// Target LV ejection fraction (%), reached by the end-systolic contraction.
    pub lv_ef_pct: f64,
    /// Phase of end systole (0-based); phase 0 is end diastole.
    pub es_phase: usize,
    /// Noise SD relative to the blood signal.
    pub noise: f64,
    pub heart_rate_bpm: f64,
}

impl Default for PhantomConfig {
    fn default() -> Self {
        PhantomConfig {
            seed: 1,
            phases: 25,
            slices: 12,
            rows: 160,
            columns: 160,
            pixel_mm: 1.6,
            slice_mm: 8.0,
            lv_ef_pct: 60.0,
            es_phase: 9,
            noise: 0.04,
            heart_rate_bpm: 60.0,
        }
    }
}

/// Analytic volumes (mL) per phase, for the sampled slices (area x slice spacing), and
/// the largest error voxel counting can make on them: every pixel whose centre decides
/// its label lies within half a pixel diagonal of a boundary circle, so the error is at
/// most the boundary length x sqrt(2) x pixel size, per slice, times the slice spacing.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyticVolumes {
    pub lv_ml: Vec<f64>,
    pub myo_ml: Vec<f64>,
    pub rv_ml: Vec<f64>,
    pub lv_bound_ml: Vec<f64>,
    pub myo_bound_ml: Vec<f64>,
    pub rv_bound_ml: Vec<f64>,
}

/// The phantom study and its exact volumes.
#[derive(Debug, Clone)]
pub struct Phantom {
    pub study: Study,
    pub volumes: AnalyticVolumes,
    pub config: PhantomConfig,
    /// The same heart in 3-D, for planes other than the short axis.
    pub heart: Heart,
}

/// Cross-sections of one slice at one phase: LV radius, epicardial radius, RV disc
/// (centre offset along -x from the LV centre, radius). Zero radius: absent.
#[derive(Debug, Clone, Copy)]
struct Section {
    lv_r: f64,
    epi_r: f64,
    rv_offset: f64,
    rv_r: f64,
}

/// Area of the intersection of two discs (radii r, s; centres d apart).
fn lens_area(r: f64, s: f64, d: f64) -> f64 {
    if r <= 0.0 || s <= 0.0 || d >= r + s {
        return 0.0;
    }
    if d <= (r - s).abs() {
        let m = r.min(s);
        return PI * m * m;
    }
    let a = r
        * r
        * ((d * d + r * r - s * s) / (2.0 * d * r))
            .clamp(-1.0, 1.0)
            .acos();
    let b = s
        * s
        * ((d * d + s * s - r * r) / (2.0 * d * s))
            .clamp(-1.0, 1.0)
            .acos();
    let c = 0.5
        * ((-d + r + s) * (d + r - s) * (d - r + s) * (d + r + s))
            .max(0.0)
            .sqrt();
    a + b - c
}

impl Section {
    fn areas_mm2(&self) -> (f64, f64, f64) {
        let lv = PI * self.lv_r * self.lv_r;
        let epi = PI * self.epi_r * self.epi_r;
        let rv_disc = PI * self.rv_r * self.rv_r;
        let rv = rv_disc - lens_area(self.rv_r, self.epi_r, self.rv_offset);
        (lv, epi - lv, rv)
    }
}

/// The tissue at (x, y) mm from the LV axis in a cross-section (x right, y down): its
/// label and its intensity before coil shading and noise (body ellipse with two dark
/// lungs; blood bright, muscle dark).
fn tissue(sec: &Section, x: f64, y: f64) -> (Label, f64) {
    let d2 = x * x + y * y;
    let rx = x + sec.rv_offset;
    let label = if d2 <= sec.lv_r * sec.lv_r {
        Label::LvBloodPool
    } else if d2 <= sec.epi_r * sec.epi_r {
        Label::Myocardium
    } else if rx * rx + y * y <= sec.rv_r * sec.rv_r {
        Label::RvBloodPool
    } else {
        Label::Background
    };
    let body = (x / 120.0).powi(2) + (y / 85.0).powi(2) <= 1.0;
    let lung = ((x - 70.0) / 35.0).powi(2) + (y / 55.0).powi(2) <= 1.0
        || ((x + 100.0) / 22.0).powi(2) + (y / 50.0).powi(2) <= 1.0;
    let base = match label {
        Label::LvBloodPool | Label::RvBloodPool => 0.9,
        Label::Myocardium => 0.28,
        Label::Background if lung => 0.06,
        Label::Background if body => 0.38,
        Label::Background => 0.02,
    };
    (label, base)
}

/// The phantom's heart as a 3-D shape: label and intensity (before shading and noise,
/// scaled as the cine's) at any point, so that any image plane through it can be drawn.
#[derive(Debug, Clone, Copy)]
pub struct Heart {
    cfg: PhantomConfig,
    es_scale: f64,
}

impl Heart {
    /// Label and intensity at patient position `p` (mm; x and y as the cine's in-plane
    /// axes from the LV axis, z along the stack with slice `s` at `s * slice_mm`) in
    /// cardiac phase `phase`.
    pub fn at(&self, p: [f64; 3], phase: usize) -> (Label, f32) {
        let k = contraction(phase, &self.cfg);
        let sec = section(p[2] + 0.5 * self.cfg.slice_mm, k, self.es_scale, &self.cfg);
        let (label, base) = tissue(&sec, p[0], p[1]);
        (label, (base * 1000.0) as f32)
    }
}

/// 0 at ED (phase 0), 1 at ES, smooth (raised cosine) in between and back.
fn contraction(phase: usize, cfg: &PhantomConfig) -> f64 {
    let t = phase as f64;
    let es = cfg.es_phase.clamp(1, cfg.phases.saturating_sub(1).max(1)) as f64;
    let n = cfg.phases as f64;
    let u = if t <= es {
        t / es
    } else {
        1.0 - (t - es) / (n - es)
    };
    0.5 - 0.5 * (PI * u).cos()
}

/// Ellipsoid geometry at contraction level `k` with end-systolic in-plane scale `s_es`.
fn section(z_mm: f64, k: f64, s_es: f64, cfg: &PhantomConfig) -> Section {
    let height = cfg.slices as f64 * cfg.slice_mm;
    // Base plane at the top of the stack (slice centre of the last slice + half a slice),
    // ellipsoid centre a fifth of the way down from it: the cavity is truncated there.
    let base = height - 0.5 * cfg.slice_mm;
    let centre = base - 0.2 * height;
    let scale = 1.0 + (s_es - 1.0) * k;
    let a = 26.0 * scale; // in-plane cavity radius at the centre, mm
    let c = 0.72 * height * (1.0 - 0.12 * k); // long-axis semi-axis, shortening in systole
    let wall = 9.0 + 4.0 * k; // thicker wall in systole
    let dz = z_mm - centre;
    let radius = |semi_r: f64, semi_z: f64| {
        if z_mm > base || dz.abs() >= semi_z {
            0.0
        } else {
            semi_r * (1.0 - (dz / semi_z).powi(2)).sqrt()
        }
    };
    let lv_r = radius(a, c);
    let epi_r = radius(a + wall, c + wall);
    // RV: a large disc centred beside the septum, minus the LV's epicardial disc: a
    // crescent wrapping the septum, shorter than the LV towards the apex.
    let rv_full = 40.0 * (1.0 + (s_es - 1.0) * 0.8 * k);
    let rv_r = radius(rv_full, 0.8 * c);
    Section {
        lv_r,
        epi_r,
        rv_offset: 0.6 * (a + wall) + 12.0,
        rv_r,
    }
}

struct Pcg(u64);

impl Pcg {
    fn next_f64(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let x = ((self.0 >> 18) ^ self.0) >> 27;
        let rot = (self.0 >> 59) as u32;
        let v = (x as u32).rotate_right(rot);
        (v as f64 + 0.5) / 4294967296.0
    }
    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next_f64(), self.next_f64());
        (-2.0 * u.ln()).sqrt() * (2.0 * PI * v).cos()
    }
}

fn sampled_lv_ml(s_es: f64, k: f64, cfg: &PhantomConfig) -> f64 {
    (0..cfg.slices)
        .map(|i| {
            section(i as f64 * cfg.slice_mm + 0.5 * cfg.slice_mm, k, s_es, cfg)
                .areas_mm2()
                .0
        })
        .sum::<f64>()
        * cfg.slice_mm
        / 1000.0
}

/// Builds the phantom.
pub fn phantom(cfg: &PhantomConfig) -> Phantom {
    let cfg = PhantomConfig {
        phases: cfg.phases.max(2),
        slices: cfg.slices.max(1),
        ..*cfg
    };
    // Find the end-systolic scale that gives the requested EF (bisection: EF falls as
    // the scale grows).
    let ef_at = |s: f64| 100.0 * (1.0 - sampled_lv_ml(s, 1.0, &cfg) / sampled_lv_ml(s, 0.0, &cfg));
    let target = cfg.lv_ef_pct.clamp(5.0, 85.0);
    let (mut lo, mut hi) = (0.05, 1.0);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if ef_at(mid) > target {
            lo = mid
        } else {
            hi = mid
        }
    }
    let s_es = 0.5 * (lo + hi);

    let dims = Dims {
        phases: cfg.phases,
        slices: cfg.slices,
        rows: cfg.rows,
        columns: cfg.columns,
    };
    let mut data = vec![0f32; dims.len()];
    let mut labels = LabelStack::empty(dims);
    let mut rng = Pcg(cfg.seed ^ 0x5EED_CAFE_F00D);
    let (lv_ml, myo_ml, rv_ml) = (&mut Vec::new(), &mut Vec::new(), &mut Vec::new());
    let (lv_b, myo_b, rv_b) = (&mut Vec::new(), &mut Vec::new(), &mut Vec::new());
    let band = 2f64.sqrt() * cfg.pixel_mm * cfg.slice_mm / 1000.0;
    let (cx, cy) = (cfg.columns as f64 * 0.5, cfg.rows as f64 * 0.5);
    for p in 0..cfg.phases {
        let k = contraction(p, &cfg);
        let (mut vl, mut vm, mut vr) = (0.0, 0.0, 0.0);
        let (mut bl, mut bm, mut br) = (0.0, 0.0, 0.0);
        for s in 0..cfg.slices {
            let z = s as f64 * cfg.slice_mm + 0.5 * cfg.slice_mm;
            let sec = section(z, k, s_es, &cfg);
            let (al, am, ar) = sec.areas_mm2();
            vl += al;
            vm += am;
            vr += ar;
            let circ = |r: f64| 2.0 * PI * r;
            bl += circ(sec.lv_r) * band;
            bm += (circ(sec.lv_r) + circ(sec.epi_r)) * band;
            br += if sec.rv_r > 0.0 {
                (circ(sec.rv_r) + circ(sec.epi_r)) * band
            } else {
                0.0
            };
            let o = dims.image_offset(p, s);
            let mut lab = labels.image_mut(p, s);
            for r in 0..cfg.rows {
                for c in 0..cfg.columns {
                    // Pixel centre in mm from the LV centre (x right, y down).
                    let x = (c as f64 - cx) * cfg.pixel_mm;
                    let y = (r as f64 - cy) * cfg.pixel_mm;
                    let (label, base) = tissue(&sec, x, y);
                    // Coil shading: brighter towards the anterior (top) chest wall.
                    let shade = 1.15 - 0.35 * (r as f64 / cfg.rows as f64);
                    let v = base * shade + cfg.noise * rng.normal();
                    data[o + r * cfg.columns + c] = (v.max(0.0) * 1000.0) as f32;
                    if let Some(l) = lab.as_deref_mut() {
                        l[r * cfg.columns + c] = label as u8;
                    }
                }
            }
            labels.set_annotated(p, s, crate::study::Structures::ALL);
        }
        lv_ml.push(vl * cfg.slice_mm / 1000.0);
        myo_ml.push(vm * cfg.slice_mm / 1000.0);
        rv_ml.push(vr * cfg.slice_mm / 1000.0);
        lv_b.push(bl);
        myo_b.push(bm);
        rv_b.push(br);
    }
    let geometry = Geometry {
        pixel_spacing_mm: [cfg.pixel_mm, cfg.pixel_mm],
        row_direction: [1.0, 0.0, 0.0],
        column_direction: [0.0, 1.0, 0.0],
        slice_positions_mm: (0..cfg.slices)
            .map(|s| [0.0, 0.0, s as f64 * cfg.slice_mm])
            .collect(),
        slice_thickness_mm: Some(cfg.slice_mm),
    };
    let rr = 60_000.0 / cfg.heart_rate_bpm;
    let phases = (0..cfg.phases)
        .map(|p| Phase {
            trigger_time_ms: Some(rr * p as f64 / cfg.phases as f64),
            source_frame: None,
        })
        .collect();
    let volumes = AnalyticVolumes {
        lv_ml: lv_ml.clone(),
        myo_ml: myo_ml.clone(),
        rv_ml: rv_ml.clone(),
        lv_bound_ml: lv_b.clone(),
        myo_bound_ml: myo_b.clone(),
        rv_bound_ml: rv_b.clone(),
    };
    let images = (0..cfg.phases)
        .flat_map(|p| {
            (0..cfg.slices).map(move |s| ImageSource {
                phase: p,
                slice: s,
                path: "phantom".into(),
                instance_number: None,
                frame: 0,
            })
        })
        .collect();
    let cine = match CineStack::new(dims, data, geometry, phases) {
        Ok(c) => c,
        // The shapes above are built from `dims`; this cannot happen.
        Err(e) => unreachable!("phantom shape: {e}"),
    };
    let study = Study {
        patient: PatientInfo {
            id: Some("PHANTOM".into()),
            height_cm: Some(175.0),
            weight_kg: Some(70.0),
            ..Default::default()
        },
        info: StudyInfo {
            heart_rate_bpm: Some(cfg.heart_rate_bpm),
            manufacturer: Some("Systole phantom".into()),
            ..Default::default()
        },
        series: vec![SeriesSummary {
            uid: "phantom".into(),
            number: None,
            description: Some(format!("Synthetic short-axis cine, seed {}", cfg.seed)),
            images: dims.images(),
            positions: cfg.slices,
            phases: cfg.phases,
            is_cine: true,
            sources: Vec::new(),
            kind: crate::study::SeriesKind::ShortAxisCine,
            view: None,
        }],
        chosen_series: 0,
        default_series: 0,
        cine,
        images,
        reference_labels: Some(labels),
        key_phases: KeyPhases::default(),
        group: None,
        warnings: Vec::new(),
        long_axis: Vec::new(),
    };
    Phantom {
        study,
        volumes,
        config: cfg,
        heart: Heart {
            cfg,
            es_scale: s_es,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lens_area_limits() {
        assert_eq!(lens_area(1.0, 1.0, 3.0), 0.0);
        assert!((lens_area(1.0, 3.0, 0.5) - PI).abs() < 1e-12);
        // Two unit discs one radius apart: 2 pi/3 - sqrt(3)/2.
        let want = 2.0 * PI / 3.0 - 3f64.sqrt() / 2.0;
        assert!((lens_area(1.0, 1.0, 1.0) - want).abs() < 1e-12);
    }

    #[test]
    fn deterministic_and_reaches_the_requested_ef() {
        let cfg = PhantomConfig {
            rows: 96,
            columns: 96,
            pixel_mm: 2.5,
            phases: 20,
            lv_ef_pct: 55.0,
            ..Default::default()
        };
        let a = phantom(&cfg);
        let b = phantom(&cfg);
        assert_eq!(a.study.cine.data(), b.study.cine.data());
        let v = &a.volumes.lv_ml;
        let ef = 100.0 * (v[0] - v[cfg.es_phase]) / v[0];
        assert!((ef - 55.0).abs() < 0.01, "{ef}");
        // ED is the largest volume, ES the smallest, and the curve is smooth.
        let max = v.iter().cloned().fold(f64::MIN, f64::max);
        let min = v.iter().cloned().fold(f64::MAX, f64::min);
        assert_eq!((v[0], v[cfg.es_phase]), (max, min));
        let other = phantom(&PhantomConfig { seed: 2, ..cfg });
        assert_ne!(other.study.cine.data(), a.study.cine.data());
    }
}
