//! Contours and masks. Pixel coordinates are (column, row) with (0, 0) at the centre of
//! the top-left pixel.

pub mod edit;
pub mod history;
pub mod outline;
pub mod set;
pub mod trace;

/// The three displayed contours, in Systole's label order (1 LV, 2 myocardium, 3 RV).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Structure {
    /// Boundary of the LV blood pool.
    LvEndo,
    /// Outer boundary of LV blood pool plus myocardium.
    LvEpi,
    /// Boundary of the RV blood pool.
    RvEndo,
}

impl Structure {
    pub const ALL: [Structure; 3] = [Structure::LvEndo, Structure::LvEpi, Structure::RvEndo];

    /// The name used in session files and exports.
    pub fn name(self) -> &'static str {
        match self {
            Structure::LvEndo => "lv_endo",
            Structure::LvEpi => "lv_epi",
            Structure::RvEndo => "rv_endo",
        }
    }

    /// What a clinician calls it.
    pub fn title(self) -> &'static str {
        match self {
            Structure::LvEndo => "LV endocardium",
            Structure::LvEpi => "LV epicardium",
            Structure::RvEndo => "RV endocardium",
        }
    }

    /// Whether a pixel with Systole label `label` lies inside this contour.
    pub fn contains(self, label: u8) -> bool {
        match self {
            Structure::LvEndo => label == 1,
            Structure::LvEpi => label == 1 || label == 2,
            Structure::RvEndo => label == 3,
        }
    }
}

/// A closed polygon in pixel coordinates (column, row).
pub type Polygon = Vec<[f64; 2]>;

/// Pixels whose centres lie inside `polygon` (even-odd rule), as a row-major mask.
/// Centres exactly on a left edge count as inside, on a right edge as outside, so that
/// two polygons sharing an edge never both claim a pixel.
pub fn fill(polygon: &[[f64; 2]], rows: usize, columns: usize) -> Vec<bool> {
    let mut mask = vec![false; rows * columns];
    if polygon.len() < 3 || polygon.iter().flatten().any(|v| !v.is_finite()) {
        return mask;
    }
    let mut xs: Vec<f64> = Vec::new();
    for r in 0..rows {
        let y = r as f64;
        xs.clear();
        for i in 0..polygon.len() {
            let [x0, y0] = polygon[i];
            let [x1, y1] = polygon[(i + 1) % polygon.len()];
            if (y0 <= y && y < y1) || (y1 <= y && y < y0) {
                xs.push(x0 + (y - y0) * (x1 - x0) / (y1 - y0));
            }
        }
        xs.sort_by(f64::total_cmp);
        for pair in xs.chunks_exact(2) {
            let start = pair[0].ceil().max(0.0);
            let end = pair[1].ceil().min(columns as f64);
            let mut c = start;
            while c < end {
                mask[r * columns + c as usize] = true;
                c += 1.0;
            }
        }
    }
    mask
}

/// Area of a simple polygon in pixel units (shoelace formula).
pub fn area(polygon: &[[f64; 2]]) -> f64 {
    let n = polygon.len();
    if n < 3 {
        return 0.0;
    }
    let s: f64 = (0..n)
        .map(|i| {
            let [x0, y0] = polygon[i];
            let [x1, y1] = polygon[(i + 1) % n];
            x0 * y1 - x1 * y0
        })
        .sum();
    s.abs() / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_covers_the_enclosed_centres() {
        // Corners at pixel centres 1..=3: centres with 1 <= c < 3 and 1 <= r < 3.
        let sq = [[1.0, 1.0], [3.0, 1.0], [3.0, 3.0], [1.0, 3.0]];
        let m = fill(&sq, 5, 5);
        let inside: Vec<usize> = m
            .iter()
            .enumerate()
            .filter(|(_, v)| **v)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(inside, vec![6, 7, 11, 12]);
        assert_eq!(area(&sq), 4.0);
    }

    #[test]
    fn disc_pixel_count_approaches_its_area() {
        let (cx, cy, rad) = (50.3, 47.8, 20.0);
        let poly: Vec<[f64; 2]> = (0..720)
            .map(|i| {
                let a = i as f64 / 720.0 * std::f64::consts::TAU;
                [cx + rad * a.cos(), cy + rad * a.sin()]
            })
            .collect();
        let n = fill(&poly, 100, 100).iter().filter(|v| **v).count() as f64;
        let exact = std::f64::consts::PI * rad * rad;
        assert!((n - exact).abs() / exact < 0.02, "{n} vs {exact}");
        assert!((area(&poly) - exact).abs() / exact < 0.001);
    }

    #[test]
    fn degenerate_polygons_fill_nothing() {
        assert!(fill(&[[1.0, 1.0], [2.0, 2.0]], 4, 4).iter().all(|v| !v));
        assert!(
            fill(&[[f64::NAN, 1.0], [2.0, 2.0], [3.0, 1.0]], 4, 4)
                .iter()
                .all(|v| !v)
        );
        // Off-image polygons are clipped, not a panic.
        let m = fill(&[[-10.0, -10.0], [100.0, -10.0], [100.0, 100.0]], 4, 4);
        assert!(m.iter().any(|v| *v));
    }
}
