//! Contour exports for other tools: CSV (one row per vertex) and JSON (the session's
//! contour records). Label maps go out as NIfTI through [`super::write_labels`].

use super::session::ContourRecord;
use crate::contour::set::{ContourSet, Source};
use std::fmt::Write;

/// `phase,slice,structure,source,vertex,column,row`, 0-based indices, pixel coordinates
/// (column, row) from the centre of the top-left pixel.
pub fn contours_csv(set: &ContourSet) -> String {
    let mut s = String::from("phase,slice,structure,source,vertex,column,row\n");
    for (&(phase, slice, structure), c) in set.iter() {
        let source = match c.source {
            Source::Auto => "auto",
            Source::Manual => "manual",
        };
        for (i, p) in c.points.iter().enumerate() {
            let _ = writeln!(
                s,
                "{phase},{slice},{},{source},{i},{},{}",
                structure.name(),
                p[0],
                p[1]
            );
        }
    }
    s
}

/// `{"contours": [...]}` with the records of the session format.
pub fn contours_json(set: &ContourSet) -> serde_json::Result<String> {
    let records: Vec<ContourRecord> = set
        .iter()
        .map(|(&(phase, slice, structure), c)| ContourRecord {
            slice,
            phase,
            structure,
            points: c.points.clone(),
            source: c.source,
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "contours": records }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contour::Structure;
    use crate::contour::set::Contour;
    use crate::study::Dims;

    #[test]
    fn every_vertex_is_one_csv_row_and_json_reads_back() {
        let mut set = ContourSet::new(Dims {
            phases: 2,
            slices: 3,
            rows: 10,
            columns: 10,
        });
        let tri = Contour {
            points: vec![[1.0, 1.5], [4.25, 1.0], [4.0, 5.0]],
            source: Source::Manual,
        };
        assert!(set.set((1, 2, Structure::RvEndo), Some(tri)).is_ok());
        let csv = contours_csv(&set);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[2], "1,2,rv_endo,manual,1,4.25,1");
        let v: serde_json::Value =
            serde_json::from_str(&contours_json(&set).unwrap_or_default()).unwrap_or_default();
        assert_eq!(v["contours"][0]["structure"], "rv_endo");
        assert_eq!(v["contours"][0]["points"][1][0], 4.25);
    }
}
