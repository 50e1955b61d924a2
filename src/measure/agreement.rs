//! Clinical agreement between two sets of measures (Bland-Altman style).

use serde::Serialize;

/// Agreement of paired values (test - reference). Statistics that need more data are
/// `None` (null in JSON), never NaN.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Agreement {
    pub n: usize,
    /// Mean difference.
    pub bias: Option<f64>,
    /// Sample standard deviation of the differences.
    pub sd: Option<f64>,
    /// Mean absolute difference.
    pub mean_abs_diff: Option<f64>,
    /// Pearson correlation.
    pub r: Option<f64>,
}

/// Agreement over the pairs where both values are known.
pub fn agreement(pairs: &[(Option<f64>, Option<f64>)]) -> Agreement {
    let p: Vec<(f64, f64)> = pairs
        .iter()
        .filter_map(|(a, b)| Some((a.filter(|x| x.is_finite())?, b.filter(|x| x.is_finite())?)))
        .collect();
    let n = p.len();
    if n == 0 {
        return Agreement::default();
    }
    let nf = n as f64;
    let d: Vec<f64> = p.iter().map(|(a, b)| a - b).collect();
    let bias = d.iter().sum::<f64>() / nf;
    let sd =
        (n > 1).then(|| (d.iter().map(|x| (x - bias).powi(2)).sum::<f64>() / (nf - 1.0)).sqrt());
    let mad = d.iter().map(|x| x.abs()).sum::<f64>() / nf;
    let (ma, mb) = (
        p.iter().map(|x| x.0).sum::<f64>() / nf,
        p.iter().map(|x| x.1).sum::<f64>() / nf,
    );
    let cov: f64 = p.iter().map(|(a, b)| (a - ma) * (b - mb)).sum();
    let va: f64 = p.iter().map(|(a, _)| (a - ma).powi(2)).sum();
    let vb: f64 = p.iter().map(|(_, b)| (b - mb).powi(2)).sum();
    let r = (n > 1 && va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt());
    Agreement {
        n,
        bias: Some(bias),
        sd,
        mean_abs_diff: Some(mad),
        r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // differences 1, -1, 3: bias 1, sd = sqrt((0 + 4 + 4) / 2) = 2, mad 5/3.
        let a = agreement(&[
            (Some(11.0), Some(10.0)),
            (Some(19.0), Some(20.0)),
            (Some(33.0), Some(30.0)),
            (None, Some(5.0)),
        ]);
        assert_eq!(a.n, 3);
        assert_eq!(a.bias, Some(1.0));
        assert_eq!(a.sd, Some(2.0));
        assert!((a.mean_abs_diff.unwrap_or(0.0) - 5.0 / 3.0).abs() < 1e-12);
        assert!(a.r.is_some_and(|r| r > 0.98 && r <= 1.0));
        assert_eq!(agreement(&[]).bias, None);
        assert_eq!(agreement(&[(Some(1.0), Some(2.0))]).sd, None);
    }
}
