//! Adult reference ranges and low/normal/high flags.
//!
//! Source: S.E. Petersen et al., "Reference ranges for cardiac structure and function
//! using cardiovascular magnetic resonance (CMR) in Caucasians from the UK Biobank
//! population cohort", J Cardiovasc Magn Reson 19:18 (2017), healthy adults 45-74 y,
//! SSFP at 1.5 T, papillary muscles in the blood pool.
//!
//! - Women's absolute LV and RV ranges: the paper's Table 3 (95% reference interval).
//! - LV ejection fraction and LV mass index for both sexes: the abstract's mean +/- SD
//!   (women 61 +/- 5 %, men 58 +/- 5 %; LVMi men 53 +/- 9, women 42 +/- 7 g/m^2), turned
//!   into mean +/- 1.96 SD as the paper's intervals are.
//!
//! Men's absolute volume ranges are not included yet: no value enters this table
//! before it has been checked against the paper. A measure without a range gets no flag.

use crate::study::Sex;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Level {
    Low,
    Normal,
    High,
}

/// A measure compared with its reference range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    pub measure: &'static str,
    pub value: f64,
    pub low: f64,
    pub high: f64,
    pub level: Level,
    pub source: &'static str,
}

struct Range {
    measure: &'static str,
    sex: Sex,
    low: f64,
    high: f64,
    source: &'static str,
}

const TABLE3: &str = "Petersen et al., JCMR 2017, Table 3 (women)";
const ABSTRACT: &str = "Petersen et al., JCMR 2017, abstract: mean +/- 1.96 SD";

/// mean +/- 1.96 SD, for the ranges given as mean and SD.
const fn interval(mean: f64, sd: f64) -> (f64, f64) {
    (mean - 1.96 * sd, mean + 1.96 * sd)
}

const EF_MEN: (f64, f64) = interval(58.0, 5.0);
const LVMI_MEN: (f64, f64) = interval(53.0, 9.0);
const LVMI_WOMEN: (f64, f64) = interval(42.0, 7.0);

const RANGES: &[Range] = &[
    Range {
        measure: "lv_edv_ml",
        sex: Sex::Female,
        low: 88.0,
        high: 161.0,
        source: TABLE3,
    },
    Range {
        measure: "lv_esv_ml",
        sex: Sex::Female,
        low: 31.0,
        high: 68.0,
        source: TABLE3,
    },
    Range {
        measure: "lv_sv_ml",
        sex: Sex::Female,
        low: 49.0,
        high: 100.0,
        source: TABLE3,
    },
    Range {
        measure: "lv_ef_pct",
        sex: Sex::Female,
        low: 51.0,
        high: 70.0,
        source: TABLE3,
    },
    Range {
        measure: "rv_edv_ml",
        sex: Sex::Female,
        low: 85.0,
        high: 166.0,
        source: TABLE3,
    },
    Range {
        measure: "rv_esv_ml",
        sex: Sex::Female,
        low: 27.0,
        high: 77.0,
        source: TABLE3,
    },
    Range {
        measure: "rv_sv_ml",
        sex: Sex::Female,
        low: 48.0,
        high: 99.0,
        source: TABLE3,
    },
    Range {
        measure: "rv_ef_pct",
        sex: Sex::Female,
        low: 47.0,
        high: 68.0,
        source: TABLE3,
    },
    Range {
        measure: "lv_ef_pct",
        sex: Sex::Male,
        low: EF_MEN.0,
        high: EF_MEN.1,
        source: ABSTRACT,
    },
    Range {
        measure: "lv_mass_g_m2_index",
        sex: Sex::Male,
        low: LVMI_MEN.0,
        high: LVMI_MEN.1,
        source: ABSTRACT,
    },
    Range {
        measure: "lv_mass_g_m2_index",
        sex: Sex::Female,
        low: LVMI_WOMEN.0,
        high: LVMI_WOMEN.1,
        source: ABSTRACT,
    },
];

/// Flags for every measure that has a value and a range for `sex`. (Women's EF uses
/// Table 3's interval, not the abstract's mean +/- SD.)
pub fn flags(scalars: &[(&'static str, Option<f64>)], sex: Option<Sex>) -> Vec<Flag> {
    let Some(sex) = sex else { return Vec::new() };
    let mut out = Vec::new();
    for (name, value) in scalars {
        let Some(v) = value.filter(|v| v.is_finite()) else {
            continue;
        };
        if let Some(r) = RANGES.iter().find(|r| r.measure == *name && r.sex == sex) {
            let level = if v < r.low {
                Level::Low
            } else if v > r.high {
                Level::High
            } else {
                Level::Normal
            };
            out.push(Flag {
                measure: r.measure,
                value: v,
                low: r.low,
                high: r.high,
                level,
                source: r.source,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn women_get_table_ranges_and_men_only_what_is_known() {
        let s = [
            ("lv_edv_ml", Some(170.0)),
            ("lv_ef_pct", Some(45.0)),
            ("rv_esv_ml", Some(50.0)),
            ("lv_mass_g", Some(90.0)),
        ];
        let f = flags(&s, Some(Sex::Female));
        let lv = |m: &str| f.iter().find(|x| x.measure == m).map(|x| x.level);
        assert_eq!(lv("lv_edv_ml"), Some(Level::High));
        assert_eq!(lv("lv_ef_pct"), Some(Level::Low));
        assert_eq!(lv("rv_esv_ml"), Some(Level::Normal));
        assert_eq!(lv("lv_mass_g"), None);
        let m = flags(&s, Some(Sex::Male));
        assert_eq!(m.len(), 1);
        // 58 - 1.96 * 5 = 48.2
        assert!((m[0].low - 48.2).abs() < 1e-9 && m[0].level == Level::Low);
        assert!(flags(&s, None).is_empty());
    }
}
