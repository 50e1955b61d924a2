//! The whole exam around the short-axis cine: what kind each series is, the long-axis
//! planes, and where each short-axis slice crosses a long-axis image (the
//! cross-reference lines every clinical viewer draws). Pure geometry, no I/O.

use super::Geometry;
use serde::Serialize;

/// What a series of the exam is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesKind {
    /// A short-axis cine (the chosen stack, the series it was assembled from, or another
    /// stack parallel to it).
    ShortAxisCine,
    /// A long-axis cine (2-, 3- or 4-chamber, or a long-axis plane of unknown view).
    LongAxisCine,
    /// A localiser (scout, survey) image set.
    Localiser,
    /// Anything else: still images, other sequences.
    #[default]
    Other,
}

/// The view of a long-axis cine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LaxView {
    /// 2-chamber (vertical long axis).
    #[serde(rename = "2ch")]
    TwoChamber,
    /// 3-chamber (LV outflow tract).
    #[serde(rename = "3ch")]
    ThreeChamber,
    /// 4-chamber (horizontal long axis).
    #[serde(rename = "4ch")]
    FourChamber,
    /// A long-axis plane whose view neither its description nor its geometry tells.
    #[serde(rename = "lax")]
    Unknown,
}

impl LaxView {
    pub fn name(self) -> &'static str {
        match self {
            LaxView::TwoChamber => "2ch",
            LaxView::ThreeChamber => "3ch",
            LaxView::FourChamber => "4ch",
            LaxView::Unknown => "lax",
        }
    }
}

/// Keywords of SeriesDescription (upper case, spaces, `_` and `-` removed) that name a
/// long-axis view, as scanners and protocols write them (Siemens `CINE_segmented_LAX_4Ch`,
/// GE `FIESTA 2CH`, Philips `sBTFE_VLA`).
const VIEW_WORDS: [(&str, LaxView); 12] = [
    ("2CH", LaxView::TwoChamber),
    ("2CHAMBER", LaxView::TwoChamber),
    ("VLA", LaxView::TwoChamber),
    ("3CH", LaxView::ThreeChamber),
    ("3CHAMBER", LaxView::ThreeChamber),
    ("LVOT", LaxView::ThreeChamber),
    ("4CH", LaxView::FourChamber),
    ("4CHAMBER", LaxView::FourChamber),
    ("HLA", LaxView::FourChamber),
    ("LAX", LaxView::Unknown),
    ("LONGAXIS", LaxView::Unknown),
    ("LAXIS", LaxView::Unknown),
];

/// The long-axis view a SeriesDescription names, if any.
pub fn view_from_description(description: &str) -> Option<LaxView> {
    let squeezed: String = description
        .to_ascii_uppercase()
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.'))
        .collect();
    VIEW_WORDS
        .iter()
        .find(|(w, _)| squeezed.contains(w))
        .map(|&(_, v)| v)
}

/// Whether a SeriesDescription or ImageType names a localiser.
pub fn is_localiser_text(description: &str, image_type: &str) -> bool {
    let d = description.to_ascii_uppercase();
    let t = image_type.to_ascii_uppercase();
    t.contains("LOCALIZER")
        || [
            "LOCALI",
            "SCOUT",
            "SURVEY",
            "TRIPILOT",
            "TRI-PILOT",
            "PILOT",
            "3PLANE",
            "3-PLANE",
        ]
        .iter()
        .any(|w| d.contains(w))
}

/// A long-axis cine's image plane (its first position), from its DICOM geometry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LongAxisPlane {
    pub uid: String,
    pub number: Option<i32>,
    pub description: Option<String>,
    pub view: LaxView,
    pub rows: usize,
    pub columns: usize,
    pub phases: usize,
    /// ImagePositionPatient: the centre of the top-left pixel, LPS mm.
    pub position_mm: [f64; 3],
    /// Direction of increasing column index (first half of ImageOrientationPatient).
    pub row_direction: [f64; 3],
    /// Direction of increasing row index.
    pub column_direction: [f64; 3],
    /// PixelSpacing: (between rows, between columns) mm.
    pub pixel_spacing_mm: [f64; 2],
    /// The cine at this position, one image (rows x columns, row-major) per phase; empty
    /// when its pixel data could not be decoded (the plane is still listed).
    #[serde(skip)]
    pub images: Vec<Vec<f32>>,
}

/// Where a short-axis slice's plane crosses a long-axis image: a segment in that image's
/// pixel coordinates (column, row; 0-based, pixel centres), clipped to the image.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SaxLine {
    pub slice: usize,
    pub from: [f64; 2],
    pub to: [f64; 2],
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// `a x b`.
pub fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

impl LongAxisPlane {
    /// The plane's unit normal.
    pub fn normal(&self) -> [f64; 3] {
        unit(cross(self.row_direction, self.column_direction))
    }

    /// The line where the plane through `point` with unit normal `n` crosses this image,
    /// clipped to `[0, columns-1] x [0, rows-1]`; `None` when it misses the image or the
    /// planes are (nearly) parallel.
    pub fn crossing(&self, point: [f64; 3], n: [f64; 3]) -> Option<([f64; 2], [f64; 2])> {
        ImagePlane {
            position_mm: self.position_mm,
            row_direction: self.row_direction,
            column_direction: self.column_direction,
            pixel_spacing_mm: self.pixel_spacing_mm,
            rows: self.rows,
            columns: self.columns,
        }
        .crossing(point, n)
    }

    /// The cross-reference line of every short-axis slice of `sax` that crosses this
    /// image, in slice order.
    pub fn sax_lines(&self, sax: &Geometry) -> Vec<SaxLine> {
        let n = unit(cross(sax.row_direction, sax.column_direction));
        sax.slice_positions_mm
            .iter()
            .enumerate()
            .filter_map(|(slice, &p)| {
                self.crossing(p, n)
                    .map(|(from, to)| SaxLine { slice, from, to })
            })
            .collect()
    }
}

/// Any image's plane in patient space: where another plane crosses it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImagePlane {
    /// The centre of the top-left pixel, LPS mm.
    pub position_mm: [f64; 3],
    pub row_direction: [f64; 3],
    pub column_direction: [f64; 3],
    /// (between rows, between columns) mm.
    pub pixel_spacing_mm: [f64; 2],
    pub rows: usize,
    pub columns: usize,
}

impl ImagePlane {
    /// Short-axis slice `slice` of a cine with this geometry and image size.
    pub fn of_slice(g: &Geometry, slice: usize, rows: usize, columns: usize) -> Option<ImagePlane> {
        Some(ImagePlane {
            position_mm: *g.slice_positions_mm.get(slice)?,
            row_direction: g.row_direction,
            column_direction: g.column_direction,
            pixel_spacing_mm: g.pixel_spacing_mm,
            rows,
            columns,
        })
    }

    /// The line where the plane through `point` with unit normal `n` crosses this image,
    /// in pixel coordinates (column, row; pixel centres), clipped to
    /// `[0, columns-1] x [0, rows-1]`; `None` when it misses the image or the planes are
    /// (nearly) parallel.
    pub fn crossing(&self, point: [f64; 3], n: [f64; 3]) -> Option<([f64; 2], [f64; 2])> {
        // Pixel (c, r) lies at O + c * dc * X + r * dr * Y; on the plane where
        // a c + b r + d = 0.
        let [dr, dc] = self.pixel_spacing_mm;
        let a = dc * dot(n, self.row_direction);
        let b = dr * dot(n, self.column_direction);
        let o = self.position_mm;
        let d = dot(n, [o[0] - point[0], o[1] - point[1], o[2] - point[2]]);
        // Parallel planes: the line's direction vanishes (less than 1e-3 per pixel).
        if !(a.is_finite() && b.is_finite() && d.is_finite())
            || (a * a + b * b).sqrt() < 1e-3 * dc.min(dr)
        {
            return None;
        }
        let (w, h) = (
            (self.columns.max(1) - 1) as f64,
            (self.rows.max(1) - 1) as f64,
        );
        let mut hits: Vec<[f64; 2]> = Vec::with_capacity(4);
        let tol = 1e-9;
        // Edges c = 0, c = w: solve for r; edges r = 0, r = h: solve for c.
        if b.abs() > tol {
            for c in [0.0, w] {
                let r = -(a * c + d) / b;
                if (-tol..=h + tol).contains(&r) {
                    hits.push([c, r.clamp(0.0, h)]);
                }
            }
        }
        if a.abs() > tol {
            for r in [0.0, h] {
                let c = -(b * r + d) / a;
                if (-tol..=w + tol).contains(&c) {
                    hits.push([c.clamp(0.0, w), r]);
                }
            }
        }
        // The two hits furthest apart (a corner is hit twice).
        let mut best: Option<([f64; 2], [f64; 2], f64)> = None;
        for (i, p) in hits.iter().enumerate() {
            for q in &hits[i + 1..] {
                let l = (p[0] - q[0]).hypot(p[1] - q[1]);
                if best.is_none_or(|(_, _, m)| l > m) {
                    best = Some((*p, *q, l));
                }
            }
        }
        best.filter(|(_, _, l)| *l > 0.0).map(|(p, q, _)| (p, q))
    }
}

fn unit(v: [f64; 3]) -> [f64; 3] {
    let l = dot(v, v).sqrt();
    if l > 0.0 {
        [v[0] / l, v[1] / l, v[2] / l]
    } else {
        v
    }
}

/// The angle in degrees between two planes with normals `a` and `b` (0-90).
pub fn angle_between_planes_deg(a: [f64; 3], b: [f64; 3]) -> f64 {
    let c = dot(unit(a), unit(b)).abs().min(1.0);
    c.acos().to_degrees()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn four_chamber() -> LongAxisPlane {
        // Rows along x, columns down z; 100 x 80 pixels of 2 x 1.5 mm (dr, dc), the
        // top-left pixel at (-60, 0, 100).
        LongAxisPlane {
            uid: "lax".into(),
            number: None,
            description: None,
            view: LaxView::FourChamber,
            rows: 100,
            columns: 80,
            phases: 20,
            position_mm: [-60.0, 0.0, 100.0],
            row_direction: [1.0, 0.0, 0.0],
            column_direction: [0.0, 0.0, -1.0],
            pixel_spacing_mm: [2.0, 1.5],
            images: Vec::new(),
        }
    }

    #[test]
    fn an_axial_plane_crosses_as_a_full_row() {
        // z = 80 is 20 mm below the top: row 10, across every column.
        let l = four_chamber()
            .crossing([5.0, 7.0, 80.0], [0.0, 0.0, 1.0])
            .unwrap();
        assert_eq!(l, ([0.0, 10.0], [79.0, 10.0]));
        // Outside the image (above it) and parallel planes: no line.
        assert!(
            four_chamber()
                .crossing([0.0, 0.0, 150.0], [0.0, 0.0, 1.0])
                .is_none()
        );
        assert!(
            four_chamber()
                .crossing([0.0, 3.0, 0.0], [0.0, 1.0, 0.0])
                .is_none()
        );
    }

    #[test]
    fn a_tilted_plane_crosses_diagonally_and_is_clipped() {
        // Plane x - z = -100 through (-60, 0, 40): at column c (x = -60 + 1.5c) the row is
        // where z = x + 100, i.e. 100 - 2r = 40 + 1.5c: r = 30 - 0.75c; r = 0 at c = 40.
        let n = unit([1.0, 0.0, -1.0]);
        let (p, q) = four_chamber().crossing([-60.0, 0.0, 40.0], n).unwrap();
        let (a, b) = if p[0] < q[0] { (p, q) } else { (q, p) };
        assert!(
            (a[0] - 0.0).abs() < 1e-9 && (a[1] - 30.0).abs() < 1e-9,
            "{a:?}"
        );
        assert!((b[0] - 40.0).abs() < 1e-9 && b[1].abs() < 1e-9, "{b:?}");
    }

    #[test]
    fn views_are_read_from_descriptions() {
        assert_eq!(
            view_from_description("CINE_segmented_LAX_4Ch"),
            Some(LaxView::FourChamber)
        );
        assert_eq!(
            view_from_description("FIESTA 2 CH"),
            Some(LaxView::TwoChamber)
        );
        assert_eq!(
            view_from_description("sBTFE_LVOT"),
            Some(LaxView::ThreeChamber)
        );
        assert_eq!(view_from_description("cine LAX"), Some(LaxView::Unknown));
        assert_eq!(view_from_description("CINE_segmented_SAX_b3"), None);
        assert!(is_localiser_text("Localizer", ""));
        assert!(is_localiser_text("", "ORIGINAL\\PRIMARY\\LOCALIZER"));
        assert!(!is_localiser_text(
            "CINE_segmented_SAX_b3",
            "ORIGINAL\\PRIMARY\\M"
        ));
    }
}
