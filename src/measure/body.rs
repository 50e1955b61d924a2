//! Body surface area.

use serde::Serialize;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum BsaFormula {
    /// sqrt(height_cm x weight_kg / 3600) (Mosteller, N Engl J Med 1987;317:1098).
    #[default]
    Mosteller,
    /// 0.007184 x weight_kg^0.425 x height_cm^0.725 (Du Bois and Du Bois, Arch Intern Med 1916).
    DuBois,
}

/// Body surface area in m^2, or `None` without a plausible height and weight.
pub fn bsa_m2(height_cm: Option<f64>, weight_kg: Option<f64>, formula: BsaFormula) -> Option<f64> {
    let (h, w) = (height_cm?, weight_kg?);
    if !(h.is_finite() && w.is_finite() && h > 0.0 && w > 0.0) {
        return None;
    }
    Some(match formula {
        BsaFormula::Mosteller => (h * w / 3600.0).sqrt(),
        BsaFormula::DuBois => 0.007184 * w.powf(0.425) * h.powf(0.725),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mosteller_and_dubois_by_hand() {
        // 180 cm, 80 kg: sqrt(14400 / 3600) = 2 exactly.
        assert_eq!(
            bsa_m2(Some(180.0), Some(80.0), BsaFormula::Mosteller),
            Some(2.0)
        );
        // Du Bois for 180 cm, 80 kg: 0.007184 * 6.4389 * 43.159 = 1.9964
        // (80^0.425 = e^(0.425 ln 80) = 6.4389; 180^0.725 = e^(0.725 ln 180) = 43.159).
        let d = bsa_m2(Some(180.0), Some(80.0), BsaFormula::DuBois).unwrap_or(0.0);
        assert!((d - 1.9964).abs() < 2e-3, "{d}");
        assert_eq!(bsa_m2(None, Some(80.0), BsaFormula::Mosteller), None);
        assert_eq!(bsa_m2(Some(0.0), Some(80.0), BsaFormula::Mosteller), None);
    }
}
