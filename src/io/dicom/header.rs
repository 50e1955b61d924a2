//! What Systole takes from one DICOM object's header, read without its pixel data.
//!
//! Single-frame MR images, legacy multi-frame objects and Enhanced MR objects (per-frame
//! and shared functional groups) all become a list of [`FrameInfo`], one per frame.

use crate::study::metadata::parse_dicom_age;
use crate::study::{PatientInfo, Sex, StudyInfo};
use dicom_core::Tag;
use dicom_core::header::Header;
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use dicom_object::mem::InMemElement;
use std::path::PathBuf;
use std::sync::Arc;

/// A multi-frame object with more frames than this is refused (corrupt or not a cine).
const MAX_FRAMES: usize = 65_536;
/// 4096 x 4096: MR images are at most 1024 x 1024 in practice.
const MAX_PIXELS_PER_FRAME: u64 = 1 << 24;
/// 2^28 pixels (1 GiB as f32) in one file: a whole Enhanced MR cine of 50 phases x 30
/// slices x 256 x 256 is under 2^27.
const MAX_PIXELS_PER_FILE: u64 = 1 << 28;

/// Geometry and timing of one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameInfo {
    pub frame: u32,
    /// ImagePositionPatient, LPS mm.
    pub position: Option<[f64; 3]>,
    /// ImageOrientationPatient: row direction, then column direction.
    pub orientation: Option<[f64; 6]>,
    /// PixelSpacing (row spacing, column spacing) mm.
    pub pixel_spacing: Option<[f64; 2]>,
    pub slice_thickness: Option<f64>,
    pub trigger_time_ms: Option<f64>,
    /// (slope, intercept) of the modality rescale.
    pub rescale: (f64, f64),
}

/// Patient and study metadata of one object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meta {
    pub patient: PatientInfo,
    pub study: StudyInfo,
}

/// The header of one file.
#[derive(Debug, Clone)]
pub struct FileHeader {
    pub path: PathBuf,
    /// SeriesInstanceUID, or a stand-in where it is missing.
    pub series_uid: String,
    pub series_number: Option<i32>,
    pub series_description: Option<String>,
    /// ImageType as stored (`ORIGINAL\PRIMARY\LOCALIZER`, ...).
    pub image_type: Option<String>,
    pub instance_number: Option<i32>,
    /// SOPInstanceUID: two files with the same one are copies of one image.
    pub sop_instance_uid: Option<String>,
    /// FrameOfReferenceUID: series that share it share patient coordinates.
    pub frame_of_reference_uid: Option<String>,
    /// AcquisitionTime (else SeriesTime, ContentTime) as stated, HHMMSS.FFFFFF.
    pub acquisition_time: Option<String>,
    pub rows: usize,
    pub columns: usize,
    pub frames: Vec<FrameInfo>,
    pub meta: Arc<Meta>,
}

fn text(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    let s = obj.get(tag)?.to_str().ok()?;
    let s = s.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    (!s.is_empty()).then(|| s.to_string())
}

/// A DICOM date, or `None` for the all-zero placeholder some anonymisers write.
fn date(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    text(obj, tag).filter(|d| d.chars().any(|c| c.is_ascii_digit() && c != '0'))
}

/// Tags stored in binary (US, FD) that this loader reads; every other number it reads is
/// text (DS, IS). Used for elements that arrive with VR UN.
const BINARY_U16: [Tag; 3] = [tags::ROWS, tags::COLUMNS, tags::SAMPLES_PER_PIXEL];
const BINARY_F64: [Tag; 1] = [tags::NOMINAL_CARDIAC_TRIGGER_DELAY_TIME];

/// The values of an element that came as VR UN (implicit VR private converters, some
/// anonymisers), decoded by the VR the standard dictionary gives its tag: little-endian
/// binary for US and FD, backslash-separated decimal text for DS and IS. `None` for any
/// other element, or bytes that do not parse.
fn unknown_vr_values(e: &InMemElement) -> Option<Vec<f64>> {
    if e.vr() != dicom_core::VR::UN {
        return None;
    }
    let bytes = e.to_bytes().ok()?;
    let tag = e.tag();
    if BINARY_U16.contains(&tag) {
        return Some(
            bytes
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]) as f64)
                .collect(),
        );
    }
    if BINARY_F64.contains(&tag) {
        return Some(
            bytes
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
                .collect(),
        );
    }
    let text = std::str::from_utf8(&bytes).ok()?;
    text.trim_matches(|c: char| c.is_whitespace() || c == '\0')
        .split('\\')
        .map(|v| v.trim().parse::<f64>().ok())
        .collect()
}

fn number(e: &InMemElement) -> Option<f64> {
    match unknown_vr_values(e) {
        Some(v) => v.first().copied(),
        None => e.to_float64().ok(),
    }
    .filter(|v| v.is_finite())
}

fn num(obj: &InMemDicomObject, tag: Tag) -> Option<f64> {
    number(obj.get(tag)?)
}

fn int(obj: &InMemDicomObject, tag: Tag) -> Option<i32> {
    let e = obj.get(tag)?;
    match unknown_vr_values(e) {
        Some(v) => v
            .first()
            .filter(|x| x.fract() == 0.0 && x.abs() <= i32::MAX as f64)
            .map(|x| *x as i32),
        None => e.to_int::<i32>().ok(),
    }
}

fn numbers<const N: usize>(e: &InMemElement) -> Option<[f64; N]> {
    let v = match unknown_vr_values(e) {
        Some(v) => v,
        None => e.to_multi_float64().ok()?,
    };
    if v.len() < N || v.iter().take(N).any(|x| !x.is_finite()) {
        return None;
    }
    Some(std::array::from_fn(|i| v[i]))
}

/// Looks `attr` up in the first item of `seq` inside the per-frame group, then the shared
/// group (DICOM PS3.3 C.7.6.16, Enhanced MR functional groups).
fn in_groups(groups: [Option<&InMemDicomObject>; 2], seq: Tag, attr: Tag) -> Option<&InMemElement> {
    groups
        .into_iter()
        .flatten()
        .find_map(|g| g.get(seq)?.items()?.first()?.get(attr))
}

fn meta(obj: &InMemDicomObject) -> Meta {
    let patient = PatientInfo {
        id: text(obj, tags::PATIENT_ID),
        name: text(obj, tags::PATIENT_NAME).map(|n| n.replace('^', " ").trim().to_string()),
        sex: text(obj, tags::PATIENT_SEX).and_then(|s| Sex::from_dicom(&s)),
        birth_date: date(obj, tags::PATIENT_BIRTH_DATE),
        age_years: text(obj, tags::PATIENT_AGE).and_then(|a| parse_dicom_age(&a)),
        // PatientSize is in metres.
        height_cm: num(obj, tags::PATIENT_SIZE)
            .filter(|h| *h > 0.0)
            .map(|h| h * 100.0),
        weight_kg: num(obj, tags::PATIENT_WEIGHT).filter(|w| *w > 0.0),
    };
    let study = StudyInfo {
        study_date: date(obj, tags::STUDY_DATE),
        manufacturer: text(obj, tags::MANUFACTURER),
        model: text(obj, tags::MANUFACTURER_MODEL_NAME),
        field_strength_t: num(obj, tags::MAGNETIC_FIELD_STRENGTH).filter(|t| *t > 0.0),
        heart_rate_bpm: num(obj, tags::HEART_RATE).filter(|h| *h > 0.0),
        rr_interval_ms: num(obj, tags::NOMINAL_INTERVAL).filter(|r| *r > 0.0),
        study_instance_uid: text(obj, tags::STUDY_INSTANCE_UID),
        series_instance_uid: text(obj, tags::SERIES_INSTANCE_UID),
    };
    Meta { patient, study }
}

/// Reads the header fields of an object. Errors are one-line reasons for the skip list.
pub fn header_from_object(obj: &InMemDicomObject, path: PathBuf) -> Result<FileHeader, String> {
    let rows = int(obj, tags::ROWS).filter(|r| *r > 0);
    let columns = int(obj, tags::COLUMNS).filter(|c| *c > 0);
    let (Some(rows), Some(columns)) = (rows, columns) else {
        return Err("not an image (no Rows/Columns)".into());
    };
    if let Some(spp) = int(obj, tags::SAMPLES_PER_PIXEL)
        && spp != 1
    {
        return Err(format!(
            "colour images are not supported ({spp} samples per pixel)"
        ));
    }
    if obj.get(tags::MODALITY_LUT_SEQUENCE).is_some() {
        return Err("a Modality LUT Sequence maps its values: not supported (only RescaleSlope and RescaleIntercept are)".into());
    }
    let n_frames = int(obj, tags::NUMBER_OF_FRAMES).unwrap_or(1).max(1) as usize;
    if n_frames > MAX_FRAMES {
        return Err(format!(
            "{n_frames} frames is more than this loader accepts"
        ));
    }
    // Bound what one file may ask the decoder for (f32: 4 bytes per pixel).
    let pixels = rows as u64 * columns as u64;
    let total = pixels * n_frames as u64;
    if pixels > MAX_PIXELS_PER_FRAME || total > MAX_PIXELS_PER_FILE {
        return Err(format!(
            "{columns} x {rows} pixels x {n_frames} frames is more than an MR image holds (at most {MAX_PIXELS_PER_FRAME} pixels per frame and {MAX_PIXELS_PER_FILE} per file)"
        ));
    }
    let per_frame = obj
        .get(tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE)
        .and_then(|e| e.items());
    let shared = obj
        .get(tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE)
        .and_then(|e| e.items())
        .and_then(|i| i.first());
    let frame_time = num(obj, tags::FRAME_TIME);
    let frame_time_vector = obj
        .get(tags::FRAME_TIME_VECTOR)
        .and_then(|e| e.to_multi_float64().ok());
    let top_trigger = num(obj, tags::TRIGGER_TIME);

    let mut frames = Vec::with_capacity(n_frames);
    for f in 0..n_frames {
        let groups = [per_frame.and_then(|items| items.get(f)), shared];
        let find = |seq: Tag, attr: Tag| in_groups(groups, seq, attr).or_else(|| obj.get(attr));
        let position = find(tags::PLANE_POSITION_SEQUENCE, tags::IMAGE_POSITION_PATIENT)
            .and_then(numbers::<3>);
        let orientation = find(
            tags::PLANE_ORIENTATION_SEQUENCE,
            tags::IMAGE_ORIENTATION_PATIENT,
        )
        .and_then(numbers::<6>);
        let pixel_spacing = find(tags::PIXEL_MEASURES_SEQUENCE, tags::PIXEL_SPACING)
            .and_then(numbers::<2>)
            .filter(|s| s[0] > 0.0 && s[1] > 0.0);
        let slice_thickness =
            find(tags::PIXEL_MEASURES_SEQUENCE, tags::SLICE_THICKNESS).and_then(number);
        let trigger = in_groups(
            groups,
            tags::CARDIAC_SYNCHRONIZATION_SEQUENCE,
            tags::NOMINAL_CARDIAC_TRIGGER_DELAY_TIME,
        )
        .and_then(number)
        .or(if n_frames == 1 { top_trigger } else { None })
        .or_else(|| {
            // Legacy multi-frame cine: frames are equally spaced in time, or the
            // FrameTimeVector gives each frame's increment.
            match &frame_time_vector {
                Some(v) if v.len() == n_frames => Some(v[..=f].iter().sum::<f64>()),
                _ => frame_time.map(|t| t * f as f64),
            }
            .map(|t| t + top_trigger.unwrap_or(0.0))
            .filter(|_| n_frames > 1)
        });
        let slope = find(
            tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE,
            tags::RESCALE_SLOPE,
        )
        .and_then(number);
        let intercept = find(
            tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE,
            tags::RESCALE_INTERCEPT,
        )
        .and_then(number);
        frames.push(FrameInfo {
            frame: f as u32,
            position,
            orientation,
            pixel_spacing,
            slice_thickness,
            trigger_time_ms: trigger,
            rescale: (
                slope.filter(|s| *s != 0.0).unwrap_or(1.0),
                intercept.unwrap_or(0.0),
            ),
        });
    }
    let series_uid = text(obj, tags::SERIES_INSTANCE_UID).unwrap_or_else(|| {
        // Without a UID, group by what is left: study, series number and description.
        format!(
            "no-uid:{}:{}:{}",
            text(obj, tags::STUDY_INSTANCE_UID).unwrap_or_default(),
            int(obj, tags::SERIES_NUMBER).unwrap_or(0),
            text(obj, tags::SERIES_DESCRIPTION).unwrap_or_default()
        )
    });
    Ok(FileHeader {
        path,
        series_uid,
        series_number: int(obj, tags::SERIES_NUMBER),
        series_description: text(obj, tags::SERIES_DESCRIPTION),
        image_type: text(obj, tags::IMAGE_TYPE),
        instance_number: int(obj, tags::INSTANCE_NUMBER),
        sop_instance_uid: text(obj, tags::SOP_INSTANCE_UID),
        frame_of_reference_uid: text(obj, tags::FRAME_OF_REFERENCE_UID),
        acquisition_time: text(obj, tags::ACQUISITION_TIME)
            .or_else(|| text(obj, tags::SERIES_TIME))
            .or_else(|| text(obj, tags::CONTENT_TIME)),
        rows: rows as usize,
        columns: columns as usize,
        frames,
        meta: Arc::new(meta(obj)),
    })
}
