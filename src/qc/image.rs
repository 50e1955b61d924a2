//! What the rule checks need to know of one label image, in one pass plus a flood fill.

use super::MIN_PIXELS;
use crate::study::Label;

/// Pixel counts, pieces and the LV border of one label image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageStats {
    /// Pixels of each label value 0..=3.
    pub count: [u32; 4],
    /// Connected pieces (8-neighbourhood) of each structure with at least
    /// [`MIN_PIXELS`] pixels; smaller specks are not counted.
    pub parts: [usize; 4],
    /// Share of the LV blood pool's border pixels (4-neighbourhood) that touch background
    /// or RV instead of myocardium; 0 without LV.
    pub open_border: f64,
}

impl ImageStats {
    pub fn of(image: &[u8], rows: usize, cols: usize) -> ImageStats {
        let mut count = [0u32; 4];
        for &v in image {
            if let Some(c) = count.get_mut(v as usize) {
                *c += 1;
            }
        }
        let mut parts = [0usize; 4];
        for label in Label::STRUCTURES {
            let v = label as u8;
            if count[v as usize] >= MIN_PIXELS {
                parts[v as usize] = pieces(image, rows, cols, v);
            }
        }
        let (mut border, mut open) = (0u32, 0u32);
        let lv = Label::LvBloodPool as u8;
        for r in 0..rows {
            for c in 0..cols {
                if image[r * cols + c] != lv {
                    continue;
                }
                let mut on_border = false;
                let mut touches = false;
                for (dr, dc) in [(-1i64, 0i64), (1, 0), (0, -1), (0, 1)] {
                    let (rr, cc) = (r as i64 + dr, c as i64 + dc);
                    // Off the image counts as background.
                    let v = if rr < 0 || cc < 0 || rr >= rows as i64 || cc >= cols as i64 {
                        0
                    } else {
                        image[rr as usize * cols + cc as usize]
                    };
                    if v != lv {
                        on_border = true;
                        if v == Label::Background as u8 || v == Label::RvBloodPool as u8 {
                            touches = true;
                        }
                    }
                }
                border += on_border as u32;
                open += touches as u32;
            }
        }
        ImageStats {
            count,
            parts,
            open_border: if border == 0 {
                0.0
            } else {
                open as f64 / border as f64
            },
        }
    }

    /// The myocardium's mean thickness as the width of the annulus with the same areas:
    /// sqrt((A_lv + A_myo) / pi) - sqrt(A_lv / pi), mm; `None` without LV and myocardium.
    pub fn wall_thickness_mm(&self, pixel_mm2: f64) -> Option<f64> {
        let lv = self.count[Label::LvBloodPool as usize];
        let myo = self.count[Label::Myocardium as usize];
        if lv < MIN_PIXELS || myo < MIN_PIXELS {
            return None;
        }
        let a_lv = lv as f64 * pixel_mm2;
        let a_myo = myo as f64 * pixel_mm2;
        let pi = std::f64::consts::PI;
        Some(((a_lv + a_myo) / pi).sqrt() - (a_lv / pi).sqrt())
    }
}

/// Connected pieces (8-neighbourhood) of value `v` with at least [`MIN_PIXELS`] pixels.
fn pieces(image: &[u8], rows: usize, cols: usize, v: u8) -> usize {
    let mut seen = vec![false; image.len()];
    let mut stack = Vec::new();
    let mut n = 0;
    for start in 0..image.len() {
        if image[start] != v || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut size = 0u32;
        while let Some(i) = stack.pop() {
            size += 1;
            let (r, c) = (i / cols, i % cols);
            for dr in -1i64..=1 {
                for dc in -1i64..=1 {
                    let (rr, cc) = (r as i64 + dr, c as i64 + dc);
                    if rr < 0 || cc < 0 || rr >= rows as i64 || cc >= cols as i64 {
                        continue;
                    }
                    let j = rr as usize * cols + cc as usize;
                    if image[j] == v && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        if size >= MIN_PIXELS {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 40 x 40 image: LV disc of radius 8 in a myocardial ring to radius 12 at (20, 20).
    fn ring() -> Vec<u8> {
        let mut img = vec![0u8; 40 * 40];
        for r in 0..40 {
            for c in 0..40 {
                let d = ((r as f64 - 20.0).powi(2) + (c as f64 - 20.0).powi(2)).sqrt();
                img[r * 40 + c] = if d <= 8.0 {
                    1
                } else if d <= 12.0 {
                    2
                } else {
                    0
                };
            }
        }
        img
    }

    #[test]
    fn a_closed_ring_is_one_piece_with_a_covered_border_and_its_width() {
        let st = ImageStats::of(&ring(), 40, 40);
        assert_eq!(st.parts[1], 1);
        assert_eq!(st.parts[2], 1);
        assert_eq!(st.open_border, 0.0);
        // Annulus of radii 8 and 12 on 1 mm pixels: about 4 mm.
        let t = st.wall_thickness_mm(1.0).unwrap_or(0.0);
        assert!((t - 4.0).abs() < 0.3, "{t}");
        // 2 mm pixels (4 mm^2): twice as thick.
        let t2 = st.wall_thickness_mm(4.0).unwrap_or(0.0);
        assert!((t2 - 2.0 * t).abs() < 1e-9);
    }

    #[test]
    fn an_opened_ring_and_split_pieces_are_seen() {
        let mut img = ring();
        // Cut the ring on the right: columns 28..=32 of rows 17..=23 become background.
        for r in 17..=23 {
            for c in 28..=32 {
                img[r * 40 + c] = 0;
            }
        }
        let st = ImageStats::of(&img, 40, 40);
        assert!(st.open_border > 0.0, "{}", st.open_border);
        // The ring is still one piece (open, not cut in two).
        assert_eq!(st.parts[2], 1);
        // A second RV piece of 12 pixels and a 3-pixel speck: two RV pieces counted.
        let mut img = ring();
        for c in 0..12 {
            img[c] = 3;
            img[39 * 40 + c] = 3;
        }
        img[20 * 40 + 39] = 3;
        img[21 * 40 + 39] = 3;
        img[22 * 40 + 39] = 3;
        let st = ImageStats::of(&img, 40, 40);
        assert_eq!(st.parts[3], 2);
        assert_eq!(st.count[3], 27);
    }
}
