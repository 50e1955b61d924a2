//! Ventricular measures and segmentation metrics: pure functions, no I/O, no GUI.
//!
//! One code path computes every number the viewer, the report and the command line show:
//! [`Engine`] keeps voxel counts per (phase, slice) so that editing one slice updates
//! all measures in microseconds, and [`Engine::measures`] derives volumes, ED/ES,
//! function, mass and indices from those counts.

mod agreement;
mod body;
mod compare;
mod engine;
mod function;
mod metrics;
mod reference;

pub use agreement::{Agreement, agreement, auroc};
pub use body::{BsaFormula, bsa_m2};
pub use compare::{PhaseComparison, SliceVolumes, compare_phase};
pub use engine::{Engine, PhaseVolumes};
pub use function::{
    Context, Measures, Problem, Ventricle, choose_key_phases, contour_volume_ml, disc_volume_ml,
};
pub use metrics::{SliceDistances, dice, hausdorff_3d_mm, slice_distances_2d};
pub use reference::{Flag, Level, flags};

/// Density of myocardium used for LV mass (g/mL), as in Bai et al. 2018 and clinical
/// practice (Schulz-Menger et al., JCMR 2020 post-processing recommendations).
pub const MYOCARDIAL_DENSITY_G_PER_ML: f64 = 1.05;

/// A measure as JSON: the number if it is known and finite, else null (never NaN).
pub fn json_number(v: Option<f64>) -> serde_json::Value {
    v.filter(|x| x.is_finite())
        .map_or(serde_json::Value::Null, |x| serde_json::json!(x))
}
