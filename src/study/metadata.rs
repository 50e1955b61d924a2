//! Patient and study metadata, as far as the source states it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sex {
    Female,
    Male,
    Other,
}

impl Sex {
    /// Parses DICOM PatientSex (F, M, O); anything else is unknown.
    pub fn from_dicom(code: &str) -> Option<Sex> {
        match code.trim().to_ascii_uppercase().as_str() {
            "F" => Some(Sex::Female),
            "M" => Some(Sex::Male),
            "O" => Some(Sex::Other),
            _ => None,
        }
    }
}

/// DICOM DA (YYYYMMDD) as YYYY-MM-DD; anything else as it is.
pub fn display_date(d: &str) -> String {
    let d = d.trim();
    if !d.bytes().all(|b| b.is_ascii_digit()) {
        return d.to_string();
    }
    // Anonymisers keep the year and zero the rest: an unknown month or day is not shown.
    match (d.len(), d.get(4..6), d.get(6..8)) {
        (8, Some("00"), _) | (4, _, _) => d[..4].to_string(),
        (8, Some(m), Some("00")) | (6, Some(m), None) => format!("{}-{m}", &d[..4]),
        (8, Some(m), Some(day)) => format!("{}-{m}-{day}", &d[..4]),
        _ => d.to_string(),
    }
}

/// Who was scanned. Every field is optional: anonymised exports strip most of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PatientInfo {
    pub id: Option<String>,
    pub name: Option<String>,
    pub sex: Option<Sex>,
    /// DICOM date string YYYYMMDD as stored.
    pub birth_date: Option<String>,
    /// Age in years (DICOM PatientAge, or derived by the source).
    pub age_years: Option<f64>,
    pub height_cm: Option<f64>,
    pub weight_kg: Option<f64>,
}

/// How and where the study was acquired.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StudyInfo {
    /// DICOM date string YYYYMMDD as stored.
    pub study_date: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub field_strength_t: Option<f64>,
    pub heart_rate_bpm: Option<f64>,
    /// Nominal RR interval in ms (DICOM NominalInterval).
    pub rr_interval_ms: Option<f64>,
    pub study_instance_uid: Option<String>,
    pub series_instance_uid: Option<String>,
}

impl StudyInfo {
    /// Heart rate from the stated value, else from the RR interval.
    pub fn heart_rate(&self) -> Option<f64> {
        self.heart_rate_bpm.or_else(|| {
            self.rr_interval_ms
                .filter(|rr| *rr > 0.0)
                .map(|rr| 60_000.0 / rr)
        })
    }
}

/// Parses a DICOM Age String such as "045Y", "006M", "003W", "010D" into years.
pub fn parse_dicom_age(age: &str) -> Option<f64> {
    let age = age.trim();
    // The unit is the last character, whatever its width (a corrupt header may end the
    // value in a multi-byte character: found by the mutation test).
    let (at, _) = age.char_indices().last()?;
    if at == 0 {
        return None;
    }
    let (num, unit) = age.split_at(at);
    let n: f64 = num.trim().parse().ok()?;
    match unit {
        "Y" | "y" => Some(n),
        "M" | "m" => Some(n / 12.0),
        "W" | "w" => Some(n * 7.0 / 365.25),
        "D" | "d" => Some(n / 365.25),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_with_unknown_parts_show_what_is_known() {
        assert_eq!(display_date("20090314"), "2009-03-14");
        assert_eq!(display_date("20090000"), "2009");
        assert_eq!(display_date("20090300"), "2009-03");
        assert_eq!(display_date("2009"), "2009");
        assert_eq!(display_date(" 20090314 "), "2009-03-14");
        assert_eq!(
            display_date("2009.03.14"),
            "2009.03.14",
            "not DICOM DA: shown as stored"
        );
    }

    #[test]
    fn dicom_ages() {
        assert_eq!(parse_dicom_age("045Y"), Some(45.0));
        assert_eq!(parse_dicom_age("006M"), Some(0.5));
        assert_eq!(parse_dicom_age("Y"), None);
        assert_eq!(parse_dicom_age("12X"), None);
        // A multi-byte last character (a mutated header) is no unit, and no panic.
        assert_eq!(parse_dicom_age("052\u{ff}"), None);
        assert_eq!(parse_dicom_age("\u{ff}"), None);
        assert_eq!(parse_dicom_age(""), None);
    }

    #[test]
    fn heart_rate_from_rr() {
        let info = StudyInfo {
            rr_interval_ms: Some(1000.0),
            ..Default::default()
        };
        assert_eq!(info.heart_rate(), Some(60.0));
        let info = StudyInfo {
            heart_rate_bpm: Some(72.0),
            rr_interval_ms: Some(1000.0),
            ..Default::default()
        };
        assert_eq!(info.heart_rate(), Some(72.0));
    }

    #[test]
    fn sex_codes() {
        assert_eq!(Sex::from_dicom("f "), Some(Sex::Female));
        assert_eq!(Sex::from_dicom("M"), Some(Sex::Male));
        assert_eq!(Sex::from_dicom(""), None);
    }
}
