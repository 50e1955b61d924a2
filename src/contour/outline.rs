//! Outlines of label regions for display: the pixel edges between a pixel inside a
//! structure and one outside it (or the image border), as line segments in pixel
//! coordinates (column, row) with (0, 0) at the centre of the top-left pixel, so edges lie
//! on half-integers.
//! Editable smooth contours are in [`super::trace`].

pub use super::Structure;

/// Unit edge segments `[[x0, y0], [x1, y1]]` around `structure` in a `columns`-wide label
/// image. Adjacent collinear edges are merged along rows and columns.
pub fn outline(labels: &[u8], columns: usize, structure: Structure) -> Vec<[[f32; 2]; 2]> {
    if columns == 0 {
        return Vec::new();
    }
    let rows = labels.len() / columns;
    let inside = |r: isize, c: isize| {
        r >= 0
            && c >= 0
            && (r as usize) < rows
            && (c as usize) < columns
            && structure.contains(labels[r as usize * columns + c as usize])
    };
    let mut out = Vec::new();
    // Horizontal edges: between row r-1 and r, for r in 0..=rows.
    for r in 0..=rows as isize {
        let mut run: Option<usize> = None;
        for c in 0..=columns {
            let edge = c < columns && inside(r - 1, c as isize) != inside(r, c as isize);
            match (edge, run) {
                (true, None) => run = Some(c),
                (false, Some(start)) => {
                    out.push([
                        [start as f32 - 0.5, r as f32 - 0.5],
                        [c as f32 - 0.5, r as f32 - 0.5],
                    ]);
                    run = None;
                }
                _ => {}
            }
        }
    }
    // Vertical edges: between column c-1 and c.
    for c in 0..=columns as isize {
        let mut run: Option<usize> = None;
        for r in 0..=rows {
            let edge = r < rows && inside(r as isize, c - 1) != inside(r as isize, c);
            match (edge, run) {
                (true, None) => run = Some(r),
                (false, Some(start)) => {
                    out.push([
                        [c as f32 - 0.5, start as f32 - 0.5],
                        [c as f32 - 0.5, r as f32 - 0.5],
                    ]);
                    run = None;
                }
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_square_has_four_merged_sides_and_length_equal_to_its_perimeter() {
        // 4 x 5 image with LV on a 2 x 3 block at rows 1-2, columns 1-3, myocardium right of it.
        let mut l = vec![0u8; 20];
        for r in 1..3 {
            for c in 1..4 {
                l[r * 5 + c] = 1;
            }
            l[r * 5 + 4] = 2;
        }
        let endo = outline(&l, 5, Structure::LvEndo);
        assert_eq!(endo.len(), 4);
        let len: f32 = endo
            .iter()
            .map(|s| (s[1][0] - s[0][0]).abs() + (s[1][1] - s[0][1]).abs())
            .sum();
        assert_eq!(len, 10.0);
        // The epicardium encloses LV + myocardium and runs along the image's right border.
        let epi = outline(&l, 5, Structure::LvEpi);
        let len: f32 = epi
            .iter()
            .map(|s| (s[1][0] - s[0][0]).abs() + (s[1][1] - s[0][1]).abs())
            .sum();
        assert_eq!(len, 12.0);
        assert!(epi.contains(&[[4.5, 0.5], [4.5, 2.5]]));
        assert!(outline(&l, 5, Structure::RvEndo).is_empty());
    }
}
