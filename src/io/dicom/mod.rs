//! DICOM folders and files (dicom-rs) into a [`Study`].
//!
//! 1. scan: every file's header is read in parallel, stopping before PixelData;
//! 2. group by SeriesInstanceUID and lay each series out as slices x phases;
//! 3. choose the cine (most positions x phases, or the caller's pick);
//! 4. decode only that series' pixel data, in parallel.
//!
//! Files that are not DICOM, not images or broken are skipped with path and reason.

mod assemble;
mod decode;
pub mod guard;
mod header;
mod stack;

pub use assemble::{FrameRef, Layout, layout, layout_with};
pub use decode::{decode_frames, quiet_contained_panics, read_image_bytes};
pub use header::{FileHeader, FrameInfo, Meta, header_from_object};

use super::{Error, LoadOptions, LoadReport, Loaded, Result, Skipped};
use crate::study::exam::{self, LaxView, LongAxisPlane, SeriesKind};
use crate::study::{
    CineStack, Dims, Geometry, ImageSource, KeyPhases, Phase, SeriesSummary, Study,
};
use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, OpenFileOptions};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every regular file under `dir`, recursively, in path order. An unreadable folder
/// inside (`lost+found` on a USB stick) is skipped; only `dir` itself must be readable.
pub fn list_files(dir: &Path) -> Result<Vec<PathBuf>> {
    list_files_skipping(dir, &mut Vec::new())
}

/// [`list_files`], reporting what could not be read.
pub fn list_files_skipping(dir: &Path, skipped: &mut Vec<Skipped>) -> Result<Vec<PathBuf>> {
    std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
    {
        match entry {
            Ok(e) if e.file_type().is_file() => files.push(e.into_path()),
            Ok(_) => {}
            Err(e) => {
                let path = e.path().unwrap_or(dir).to_path_buf();
                let reason = e.into_io_error().map_or_else(
                    || "file system loop".to_string(),
                    |io| format!("not readable: {io}"),
                );
                skipped.push(Skipped { path, reason });
            }
        }
    }
    Ok(files)
}

/// Reads one file's header (stops before PixelData).
pub fn scan_file(path: &Path) -> std::result::Result<FileHeader, String> {
    let obj = open_object(path, true).map_err(|e| format!("not readable as DICOM: {e}"))?;
    header_from_object(&obj, path.to_path_buf())
}

/// Opens a DICOM file after [`guard::check`]: a PS3.10 file, or a bare data set without
/// meta group (ACR-NEMA style), given the meta group it lacks. `header_only` stops a
/// PS3.10 file before its PixelData.
pub fn open_object(
    path: &Path,
    header_only: bool,
) -> std::result::Result<DefaultDicomObject, String> {
    match guard::check_file(path)? {
        guard::Framing::File => {
            let options = OpenFileOptions::new();
            let options = if header_only {
                options.read_until(tags::PIXEL_DATA)
            } else {
                options
            };
            options.open_file(path).map_err(|e| one_line(&e))
        }
        guard::Framing::Bare { explicit } => {
            let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
            bare_object(std::io::BufReader::new(f), explicit)
        }
    }
}

/// A bare data set (no preamble, no meta group) read and given a file meta group.
pub(crate) fn bare_object(
    r: impl std::io::Read,
    explicit: bool,
) -> std::result::Result<DefaultDicomObject, String> {
    use dicom_encoding::TransferSyntaxIndex;
    let uid = if explicit {
        "1.2.840.10008.1.2.1"
    } else {
        "1.2.840.10008.1.2"
    };
    let ts = dicom_transfer_syntax_registry::TransferSyntaxRegistry
        .get(uid)
        .ok_or("the transfer syntax registry lacks the little endian syntaxes")?;
    let obj =
        dicom_object::InMemDicomObject::read_dataset_with_ts(r, ts).map_err(|e| one_line(&e))?;
    // ACR-NEMA files may lack the SOP UIDs the meta group must name: MR Image Storage and
    // a placeholder stand in (the data set's own UIDs win where present).
    let meta = dicom_object::FileMetaTableBuilder::new()
        .transfer_syntax(ts.uid())
        .media_storage_sop_class_uid("1.2.840.10008.5.1.4.1.1.4")
        .media_storage_sop_instance_uid("2.25.0");
    obj.with_meta(meta).map_err(|e| one_line(&e))
}

/// An error and its causes on one line.
pub(crate) fn one_line(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        src = c.source();
    }
    s.replace('\n', " ")
}

/// Loads the cine of a DICOM folder (searched recursively).
pub fn load_folder(dir: &Path, options: &LoadOptions) -> Result<Loaded> {
    let mut unreadable = Vec::new();
    let files = list_files_skipping(dir, &mut unreadable)?;
    let mut loaded = load_files(&files, dir, options)?;
    loaded.report.skipped.extend(unreadable);
    Ok(loaded)
}

/// One series with its layout, before pixel data is read.
struct Candidate {
    summary: SeriesSummary,
    members: Vec<FrameRef>,
    layout: std::result::Result<Layout, String>,
    /// For a stack assembled from several series: the frames of theirs it does not use.
    excluded: Vec<Skipped>,
}

/// Loads the cine among `files`; `root` names the input in errors.
pub fn load_files(files: &[PathBuf], root: &Path, options: &LoadOptions) -> Result<Loaded> {
    let mut report = LoadReport::default();
    let progress = options.progress.as_deref();
    if let Some(pr) = progress {
        pr.add_total(files.len());
    }
    let scanned: Vec<std::result::Result<FileHeader, Skipped>> = files
        .par_iter()
        .map(|p| {
            let r = scan_file(p).map_err(|reason| Skipped {
                path: p.clone(),
                reason,
            });
            if let Some(pr) = progress {
                pr.add_done(1);
            }
            r
        })
        .collect();
    let mut headers = Vec::with_capacity(scanned.len());
    for s in scanned {
        match s {
            Ok(h) => headers.push(h),
            Err(skip) => report.skipped.push(skip),
        }
    }
    report.inputs.extend(headers.iter().map(|h| h.path.clone()));
    dedupe_instances(&mut headers, &mut report.skipped);
    if headers.is_empty() {
        return Err(Error::NothingReadable {
            files: files.len(),
            first: report
                .skipped
                .first()
                .map(|s| s.reason.clone())
                .unwrap_or_else(|| "no files".into()),
            path: root.to_path_buf(),
        });
    }
    let mut candidates = candidates(&headers);
    let assembled = assembled_stacks(&headers, &candidates);
    candidates.extend(assembled);
    let mut chosen = choose(&candidates, options, root, &[])?;
    let mut tried = Vec::new();
    // A series none of whose images decode gives way to the next cine, with the reason;
    // a series the caller picked does not.
    let (layout, pixels) = loop {
        match decode_candidate(&headers, &candidates[chosen], progress, &mut report.skipped) {
            Ok(done) => break done,
            Err(reason) => {
                let name = series_name(&candidates[chosen].summary);
                if options.series.is_some() {
                    return Err(Error::Undecodable {
                        series: name,
                        reason,
                        path: root.to_path_buf(),
                    });
                }
                tried.push(chosen);
                match choose(&candidates, options, root, &tried) {
                    Ok(next) => {
                        report.warnings.push(format!(
                            "series {name} could not be decoded ({reason}); series {} is used instead",
                            series_name(&candidates[next].summary)
                        ));
                        chosen = next;
                    }
                    Err(_) => {
                        return Err(Error::Undecodable {
                            series: name,
                            reason,
                            path: root.to_path_buf(),
                        });
                    }
                }
            }
        }
    };
    // The stack opened when nothing is asked for (sessions of any other are kept apart).
    let default = match options.series {
        None => chosen,
        Some(_) => choose(&candidates, &LoadOptions::default(), root, &[]).unwrap_or(chosen),
    };
    report
        .skipped
        .extend(candidates[chosen].excluded.iter().cloned());
    report.skipped.extend(layout.dropped.iter().cloned());
    report.warnings.extend(layout.left_out.iter().cloned());
    let study = build_study(
        options,
        &headers,
        &layout,
        pixels,
        &mut candidates,
        [chosen, default],
        &mut report,
        root,
    )?;
    report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Loaded { study, report })
}

/// "#7 CINE_SAX (1.2.3...)": how a series is named in messages.
fn series_name(s: &SeriesSummary) -> String {
    let mut out = s.number.map_or_else(String::new, |n| format!("#{n} "));
    if let Some(d) = &s.description {
        out.push_str(d);
        out.push(' ');
    }
    out.push_str(&format!("({})", s.uid));
    out
}

/// Decodes a candidate's images. Files that fail are listed in `skipped` and the series
/// is laid out again without them; when nothing usable is left, the first failing file's
/// reason (or the layout's) is the error.
fn decode_candidate(
    headers: &[FileHeader],
    c: &Candidate,
    progress: Option<&crate::io::LoadProgress>,
    skipped: &mut Vec<Skipped>,
) -> std::result::Result<(Layout, Vec<Vec<f32>>), String> {
    let mut members = c.members.clone();
    let parallel = !c.summary.sources.is_empty();
    let mut first_failure: Option<String> = None;
    loop {
        let layout = layout_with(headers, &members, parallel)
            .ok()
            .filter(|l| l.phases() >= 1 && l.slices() >= 1);
        let Some(layout) = layout else {
            return Err(first_failure.unwrap_or_else(|| "its images do not form a cine".into()));
        };
        let wanted: Vec<FrameRef> = layout.grid.iter().flatten().copied().collect();
        if let Some(pr) = progress {
            pr.add_total(wanted.len());
        }
        match decode_frames(headers, &wanted, &|n| {
            if let Some(pr) = progress {
                pr.add_done(n);
            }
        }) {
            Ok(pixels) => return Ok((layout, pixels)),
            Err(failed) => {
                members.retain(|r| !failed.iter().any(|(file, _)| *file == r.0));
                for (file, reason) in failed {
                    first_failure.get_or_insert_with(|| reason.clone());
                    skipped.push(Skipped {
                        path: headers[file].path.clone(),
                        reason,
                    });
                }
            }
        }
    }
}

/// Keeps one file per SOPInstanceUID (the first by path): a copied file is the same image
/// and must not make its slice look like it has an extra phase.
fn dedupe_instances(headers: &mut Vec<FileHeader>, skipped: &mut Vec<Skipped>) {
    let mut first: std::collections::HashMap<String, PathBuf> = std::collections::HashMap::new();
    headers.retain(|h| {
        let Some(uid) = &h.sop_instance_uid else {
            return true;
        };
        match first.get(uid) {
            Some(kept) => {
                skipped.push(Skipped {
                    path: h.path.clone(),
                    reason: format!(
                        "a copy of {} (same SOPInstanceUID); that file is used",
                        kept.display()
                    ),
                });
                false
            }
            None => {
                first.insert(uid.clone(), h.path.clone());
                true
            }
        }
    });
}

fn candidates(headers: &[FileHeader]) -> Vec<Candidate> {
    let mut by_uid: BTreeMap<&str, Vec<FrameRef>> = BTreeMap::new();
    for (i, h) in headers.iter().enumerate() {
        for f in 0..h.frames.len() {
            by_uid
                .entry(h.series_uid.as_str())
                .or_default()
                .push((i, f));
        }
    }
    let mut out: Vec<Candidate> = by_uid
        .into_iter()
        .map(|(uid, members)| {
            let layout = layout(headers, &members);
            let first = &headers[members[0].0];
            let (positions, phases) = layout.as_ref().map_or((0, 0), |l| (l.slices(), l.phases()));
            Candidate {
                summary: SeriesSummary {
                    uid: uid.to_string(),
                    number: first.series_number,
                    description: first.series_description.clone(),
                    images: members.len(),
                    positions,
                    phases,
                    is_cine: phases >= 2,
                    sources: Vec::new(),
                    kind: SeriesKind::Other,
                    view: None,
                },
                members,
                layout,
                excluded: Vec::new(),
            }
        })
        .collect();
    out.sort_by(|a, b| (a.summary.number, &a.summary.uid).cmp(&(b.summary.number, &b.summary.uid)));
    out
}

/// Short-axis stacks that several of the series form together (stack::stacks), as
/// candidates of their own after the series as stored.
fn assembled_stacks(headers: &[FileHeader], c: &[Candidate]) -> Vec<Candidate> {
    let usable: Vec<(usize, &Layout)> = c
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.layout.as_ref().ok().map(|l| (i, l)))
        .collect();
    let inputs: Vec<stack::SeriesInput<'_>> = usable
        .iter()
        .map(|&(i, l)| stack::SeriesInput {
            uid: &c[i].summary.uid,
            number: c[i].summary.number,
            layout: l,
        })
        .collect();
    stack::stacks(headers, &inputs)
        .into_iter()
        .map(|st| {
            let sources: Vec<String> = st
                .sources
                .iter()
                .map(|&k| c[usable[k].0].summary.uid.clone())
                .collect();
            let layout = layout_with(headers, &st.members, true);
            let (positions, phases) = layout.as_ref().map_or((0, 0), |l| (l.slices(), l.phases()));
            Candidate {
                summary: SeriesSummary {
                    uid: format!("stack:{}", sources.first().cloned().unwrap_or_default()),
                    number: None,
                    description: Some(format!(
                        "short-axis stack assembled from {} series",
                        sources.len()
                    )),
                    images: st.members.len(),
                    positions,
                    phases,
                    is_cine: phases >= 2,
                    sources,
                    kind: SeriesKind::ShortAxisCine,
                    view: None,
                },
                members: st.members,
                layout,
                excluded: st.excluded,
            }
        })
        .collect()
}

/// The caller's pick, else the cine with most positions x phases (ties: more positions),
/// series named as long-axis last.
fn choose(c: &[Candidate], options: &LoadOptions, root: &Path, tried: &[usize]) -> Result<usize> {
    if let Some(want) = &options.series {
        let by_uid = c.iter().position(|s| s.summary.uid == *want);
        let by_number = want
            .parse::<i32>()
            .ok()
            .and_then(|n| c.iter().position(|s| s.summary.number == Some(n)));
        let by_index = want.parse::<usize>().ok().filter(|i| *i < c.len());
        return by_uid
            .or(by_number)
            .or(by_index)
            .ok_or_else(|| Error::NoSuchSeries {
                wanted: want.clone(),
                available: c
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        format!(
                            "[{i}] #{} {}",
                            s.summary.number.map_or("-".into(), |n| n.to_string()),
                            s.summary.uid
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            });
    }
    c.iter()
        .enumerate()
        .filter(|(i, s)| s.summary.is_cine && s.layout.is_ok() && !tried.contains(i))
        // A series whose description names a long-axis view is the short axis only when
        // nothing else is a cine.
        .max_by_key(|(_, s)| {
            let named_lax = s
                .summary
                .description
                .as_deref()
                .and_then(exam::view_from_description)
                .is_some();
            (
                !named_lax,
                s.summary.positions * s.summary.phases,
                s.summary.positions,
            )
        })
        .map(|(i, _)| i)
        .ok_or_else(|| Error::NoCine(root.to_path_buf()))
}

/// The pixel spacing most images of the cine state (one bad header must not rescale the
/// whole study), with a warning naming how many disagree. Without any usable value: the
/// caller's `assume` (with a warning), else NaN, which every volume refuses.
fn consensus_spacing(
    frames: &[&FrameInfo],
    assume: Option<f64>,
    warnings: &mut Vec<String>,
) -> [f64; 2] {
    // Values equal to 1e-4 mm count as one.
    let same = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).abs() < 1e-4 && (a[1] - b[1]).abs() < 1e-4;
    let mut counts: Vec<([f64; 2], usize)> = Vec::new();
    let mut missing = 0;
    for f in frames {
        match f.pixel_spacing.filter(|s| {
            crate::study::plausible_pixel_mm(s[0]) && crate::study::plausible_pixel_mm(s[1])
        }) {
            Some(s) => match counts.iter_mut().find(|(k, _)| same(*k, s)) {
                Some((_, n)) => *n += 1,
                None => counts.push((s, 1)),
            },
            None => missing += 1,
        }
    }
    let Some(&(spacing, n)) = counts.iter().max_by_key(|(_, n)| *n) else {
        return match assume.filter(|a| crate::study::plausible_pixel_mm(*a)) {
            Some(a) => {
                warnings.push(format!("no image states a usable PixelSpacing: {a} mm pixels assumed as asked (--assume-pixel-mm)"));
                [a, a]
            }
            None => {
                warnings.push("no image states a usable PixelSpacing: areas and volumes cannot be measured (give --assume-pixel-mm to assume one)".into());
                [f64::NAN, f64::NAN]
            }
        };
    };
    let others = frames.len() - n;
    if others > 0 {
        warnings.push(format!(
            "{others} of {} images state another PixelSpacing or none ({missing} missing or unusable); the {:.4} x {:.4} mm most images state is used",
            frames.len(),
            spacing[0],
            spacing[1]
        ));
    }
    spacing
}

/// A warning when the cine's images name more than one PatientID: images of another
/// patient in one series (a mixed-up export) would make every volume wrong.
fn mixed_patients(headers: &[FileHeader], layout: &Layout) -> Option<String> {
    let mut ids: Vec<&str> = layout
        .grid
        .iter()
        .flatten()
        .filter_map(|r| headers[r.0].meta.patient.id.as_deref())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    (ids.len() > 1).then(|| {
        format!(
            "the cine's images name {} different PatientIDs ({}): images of another patient may be mixed in; check the export before trusting any volume",
            ids.len(),
            ids.join(", ")
        )
    })
}

/// Two planes within this angle count as parallel (another short-axis stack); beyond
/// [`LAX_MIN_ANGLE_DEG`] a single-position cine is a long-axis plane. Long-axis planes
/// stand at about 90 degrees to the short axis; a stack tilted to follow the heart may
/// differ from the first by a few degrees.
const PARALLEL_MAX_ANGLE_DEG: f64 = 10.0;
const LAX_MIN_ANGLE_DEG: f64 = 45.0;

/// The images of a long-axis cine's first position, one per phase (empty when any fails
/// to decode: the plane is still listed, without pixels).
fn lax_images(headers: &[FileHeader], c: &Candidate) -> Vec<Vec<f32>> {
    let Ok(layout) = &c.layout else {
        return Vec::new();
    };
    let Some(row) = layout.grid.first() else {
        return Vec::new();
    };
    decode_frames(headers, row, &|_| {}).unwrap_or_default()
}

/// Sets every series' kind (and a long-axis cine's view) and returns the long-axis planes,
/// with their images when `with_images`.
///
/// The chosen cine and the series it was assembled from are the short axis. Another
/// series is a localiser when its description or ImageType says so; a cine is long-axis
/// when its description names a view (2CH, 4CH, LVOT, VLA, HLA, LAX, ...), or when it has
/// one position in a plane at least 45 degrees from the short axis (view `lax`); a cine
/// parallel to the short axis is short-axis too; the rest is other.
fn classify(
    headers: &[FileHeader],
    candidates: &mut [Candidate],
    chosen: usize,
    sax: &Geometry,
    with_images: bool,
) -> Vec<LongAxisPlane> {
    let sax_normal = exam::cross(sax.row_direction, sax.column_direction);
    let sax_sources: Vec<String> = candidates[chosen].summary.sources.clone();
    let mut planes = Vec::new();
    for (i, c) in candidates.iter_mut().enumerate() {
        let Some(&(file, frame)) = c.members.first() else {
            continue;
        };
        let h = &headers[file];
        let f = &h.frames[frame];
        let description = c.summary.description.clone().unwrap_or_default();
        let image_type = h.image_type.clone().unwrap_or_default();
        let orientation = f.orientation;
        let angle = orientation.map(|o| {
            exam::angle_between_planes_deg(
                sax_normal,
                exam::cross([o[0], o[1], o[2]], [o[3], o[4], o[5]]),
            )
        });
        let named_view = exam::view_from_description(&description);
        let (kind, view) =
            if i == chosen || sax_sources.contains(&c.summary.uid) || !c.summary.sources.is_empty()
            {
                (SeriesKind::ShortAxisCine, None)
            } else if exam::is_localiser_text(&description, &image_type) {
                (SeriesKind::Localiser, None)
            } else if !c.summary.is_cine && c.summary.phases < 2 {
                (SeriesKind::Other, None)
            } else if let Some(v) = named_view {
                (SeriesKind::LongAxisCine, Some(v))
            } else if angle.is_some_and(|a| a <= PARALLEL_MAX_ANGLE_DEG) {
                (SeriesKind::ShortAxisCine, None)
            } else if c.summary.positions <= 1 && angle.is_some_and(|a| a >= LAX_MIN_ANGLE_DEG) {
                (SeriesKind::LongAxisCine, Some(LaxView::Unknown))
            } else {
                (SeriesKind::Other, None)
            };
        c.summary.kind = kind;
        c.summary.view = view;
        if let (SeriesKind::LongAxisCine, Some(view), Some(o), Some(position), Some(spacing)) =
            (kind, view, orientation, f.position, f.pixel_spacing)
        {
            planes.push(LongAxisPlane {
                uid: c.summary.uid.clone(),
                number: c.summary.number,
                description: c.summary.description.clone(),
                view,
                rows: h.rows,
                columns: h.columns,
                phases: c.summary.phases,
                position_mm: position,
                row_direction: [o[0], o[1], o[2]],
                column_direction: [o[3], o[4], o[5]],
                pixel_spacing_mm: spacing,
                images: if with_images {
                    lax_images(headers, c)
                } else {
                    Vec::new()
                },
            });
        }
    }
    planes
}

// The load's pieces, each used once; bundling them would only rename them.
#[allow(clippy::too_many_arguments)]
fn build_study(
    options: &LoadOptions,
    headers: &[FileHeader],
    layout: &Layout,
    mut pixels: Vec<Vec<f32>>,
    candidates: &mut [Candidate],
    [chosen, default]: [usize; 2],
    report: &mut LoadReport,
    root: &Path,
) -> Result<Study> {
    let (slices, phases) = (layout.slices(), layout.phases());
    let dims = Dims {
        phases,
        slices,
        rows: layout.rows,
        columns: layout.columns,
    };
    let frame = |r: FrameRef| &headers[r.0].frames[r.1];
    let first = layout.grid[0][0];
    let frames: Vec<&FrameInfo> = layout.grid.iter().flatten().map(|&r| frame(r)).collect();
    let spacing = consensus_spacing(&frames, options.assume_pixel_mm, &mut report.warnings);
    let o = layout.orientation;
    let geometry = Geometry {
        pixel_spacing_mm: spacing,
        row_direction: [o[0], o[1], o[2]],
        column_direction: [o[3], o[4], o[5]],
        slice_positions_mm: layout
            .grid
            .iter()
            .map(|g| frame(g[0]).position.unwrap_or_default())
            .collect(),
        slice_thickness_mm: frame(first).slice_thickness,
    };
    let phase_info: Vec<Phase> = (0..phases)
        .map(|p| {
            let times: Vec<f64> = layout
                .grid
                .iter()
                .filter_map(|g| frame(g[p]).trigger_time_ms)
                .collect();
            let mean = (!times.is_empty()).then(|| times.iter().sum::<f64>() / times.len() as f64);
            Phase {
                trigger_time_ms: mean,
                source_frame: None,
            }
        })
        .collect();
    // `pixels` is in grid order (slice-major); the cine is phase-major.
    let mut data = vec![0f32; dims.len()];
    let mut images = Vec::with_capacity(dims.images());
    let n = dims.pixels_per_image();
    for p in 0..phases {
        for s in 0..slices {
            let r = layout.grid[s][p];
            let src = std::mem::take(&mut pixels[s * phases + p]);
            let o = dims.image_offset(p, s);
            data[o..o + n].copy_from_slice(&src);
            let h = &headers[r.0];
            images.push(ImageSource {
                phase: p,
                slice: s,
                path: h.path.clone(),
                instance_number: h.instance_number,
                frame: r.1 as u32,
            });
        }
    }
    let cine = CineStack::new(dims, data, geometry, phase_info).map_err(|source| Error::Shape {
        source,
        path: root.to_path_buf(),
    })?;
    let long_axis = classify(
        headers,
        candidates,
        chosen,
        &cine.geometry,
        options.long_axis_images,
    );
    let meta = &headers[first.0].meta;
    if let Some(w) = mixed_patients(headers, layout) {
        report.warnings.push(w);
    }
    candidates[chosen].summary.positions = slices;
    candidates[chosen].summary.phases = phases;
    Ok(Study {
        patient: meta.patient.clone(),
        info: meta.study.clone(),
        series: candidates.iter().map(|c| c.summary.clone()).collect(),
        chosen_series: chosen,
        default_series: default,
        cine,
        images,
        reference_labels: None,
        key_phases: KeyPhases::default(),
        group: None,
        warnings: Vec::new(),
        long_axis,
    })
}
