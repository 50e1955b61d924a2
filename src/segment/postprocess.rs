//! Post-processing of the network output: argmax over the classes (the first maximum wins,
//! as `torch.argmax`) cropped back to the image, and the optional clean-up that keeps the
//! largest 3-D connected component of each structure.

use super::model::CLASSES;
use crate::study::{Label, LabelStack};

/// Writes the class of each pixel of a `rows x cols` image from channels-last logits of
/// the padded image (`padded_cols` wide).
pub fn argmax_cropped(
    logits: &[f32],
    padded_cols: usize,
    rows: usize,
    cols: usize,
    out: &mut [u8],
) {
    for r in 0..rows {
        for c in 0..cols {
            out[r * cols + c] = argmax(
                &logits[(r * padded_cols + c) * CLASSES..(r * padded_cols + c + 1) * CLASSES],
            );
        }
    }
}

/// The index of the largest of one pixel's logits; the first maximum wins.
pub fn argmax(px: &[f32]) -> u8 {
    let mut best = 0;
    for k in 1..px.len() {
        if px[k] > px[best] {
            best = k;
        }
    }
    best as u8
}

/// For each structure, keeps only its largest connected component over the given slices of
/// one phase (26-neighbourhood; slices `s` and `s + 1` are neighbours when both are listed);
/// the rest becomes background.
pub fn keep_largest_components(labels: &mut LabelStack, phase: usize, slices: &[usize]) {
    let d = labels.dims();
    let (rows, cols) = (d.rows, d.columns);
    let npx = rows * cols;
    let mut listed = vec![false; d.slices];
    for &s in slices {
        if s < d.slices {
            listed[s] = true;
        }
    }
    // Copy the phase out, label it, write it back.
    let mut vol = vec![0u8; d.slices * npx];
    for s in 0..d.slices {
        if listed[s] {
            vol[s * npx..(s + 1) * npx].copy_from_slice(labels.image(phase, s));
        }
    }
    for label in Label::STRUCTURES {
        let v = label as u8;
        let mut comp = vec![0u32; vol.len()];
        let mut sizes = vec![0usize]; // component ids start at 1
        let mut stack = Vec::new();
        for start in 0..vol.len() {
            if vol[start] != v || comp[start] != 0 || !listed[start / npx] {
                continue;
            }
            let id = sizes.len() as u32;
            sizes.push(0);
            comp[start] = id;
            stack.push(start);
            while let Some(i) = stack.pop() {
                sizes[id as usize] += 1;
                let (s, r, c) = (i / npx, (i % npx) / cols, i % cols);
                for ds in -1isize..=1 {
                    let ns = s as isize + ds;
                    if ns < 0 || ns >= d.slices as isize || !listed[ns as usize] {
                        continue;
                    }
                    for dr in -1isize..=1 {
                        let nr = r as isize + dr;
                        if nr < 0 || nr >= rows as isize {
                            continue;
                        }
                        for dc in -1isize..=1 {
                            let nc = c as isize + dc;
                            if nc < 0 || nc >= cols as isize {
                                continue;
                            }
                            let j = ns as usize * npx + nr as usize * cols + nc as usize;
                            if vol[j] == v && comp[j] == 0 {
                                comp[j] = id;
                                stack.push(j);
                            }
                        }
                    }
                }
            }
        }
        if sizes.len() <= 2 {
            continue; // none or one component
        }
        let keep = (1..sizes.len()).max_by_key(|&k| sizes[k]).unwrap_or(1) as u32;
        for (x, &cid) in vol.iter_mut().zip(&comp) {
            if cid != 0 && cid != keep {
                *x = 0;
            }
        }
    }
    for s in 0..d.slices {
        if listed[s] {
            if let Some(img) = labels.image_mut(phase, s) {
                img.copy_from_slice(&vol[s * npx..(s + 1) * npx]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::Dims;

    #[test]
    fn argmax_takes_the_first_maximum_and_crops() {
        // 1 x 2 image padded to 2 columns... plus a padded column that must be ignored.
        let logits = [
            0.0, 1.0, 1.0, 0.0, /* px 1 */ 5.0, 0.0, 0.0, 6.0, /* pad */ 9.0, 9.0, 9.0,
            9.0,
        ];
        let mut out = [9u8; 2];
        argmax_cropped(&logits, 3, 1, 2, &mut out);
        assert_eq!(out, [1, 3]);
    }

    #[test]
    fn largest_component_survives_across_listed_slices_only() {
        let dims = Dims {
            phases: 1,
            slices: 3,
            rows: 4,
            columns: 4,
        };
        let mut l = LabelStack::empty(dims);
        // LV: a 2x2 block on slices 0 and 1 (one component of 8) and a single voxel far away
        // on slice 2, which is not listed; RV: two separate voxels on slice 0.
        for s in 0..2 {
            let img = l.image_mut(0, s).unwrap_or_default();
            for i in [0, 1, 4, 5] {
                img[i] = 1;
            }
        }
        l.image_mut(0, 2).unwrap_or_default()[15] = 1;
        {
            let img = l.image_mut(0, 0).unwrap_or_default();
            img[3] = 3;
            img[15] = 3;
        }
        l.image_mut(0, 1).unwrap_or_default()[7] = 3; // touches img0[3] diagonally across slices
        keep_largest_components(&mut l, 0, &[0, 1]);
        assert_eq!(l.count(0, Label::LvBloodPool), 9); // slice 2 untouched
        assert_eq!(l.image(0, 0)[15], 0);
        assert_eq!(l.image(0, 0)[3], 3);
        assert_eq!(l.image(0, 1)[7], 3);
    }
}
