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

/// The area under the ROC curve of `score` for telling the positives from the negatives
/// of `(score, positive)` pairs: the probability that a random positive scores above a
/// random negative, ties counting half (Mann-Whitney). `None` without both classes.
pub fn auroc(pairs: &[(f64, bool)]) -> Option<f64> {
    let mut v: Vec<(f64, bool)> = pairs.iter().copied().filter(|p| p.0.is_finite()).collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n_pos = v.iter().filter(|p| p.1).count();
    let n_neg = v.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    // Sum of the positives' mid-ranks (1-based), ties sharing their mean rank.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j < v.len() && v[j].0 == v[i].0 {
            j += 1;
        }
        let mid = (i + 1 + j) as f64 / 2.0;
        rank_sum += mid * v[i..j].iter().filter(|p| p.1).count() as f64;
        i = j;
    }
    let (np, nn) = (n_pos as f64, n_neg as f64);
    Some((rank_sum - np * (np + 1.0) / 2.0) / (np * nn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auroc_by_counting_pairs() {
        // Positives 0.9, 0.5; negatives 0.6, 0.5, 0.1. Pairs (pos > neg): 0.9 beats all
        // three; 0.5 beats 0.1, ties 0.5 (half), loses to 0.6: (3 + 1.5) / 6 = 0.75.
        let v = [
            (0.9, true),
            (0.5, true),
            (0.6, false),
            (0.5, false),
            (0.1, false),
        ];
        assert_eq!(auroc(&v), Some(0.75));
        assert_eq!(auroc(&[(0.1, false), (0.9, true)]), Some(1.0));
        assert_eq!(auroc(&[(0.9, false), (0.1, true)]), Some(0.0));
        assert_eq!(auroc(&[(0.9, true)]), None);
    }

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
