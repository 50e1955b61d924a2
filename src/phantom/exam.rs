//! The phantom written as a whole synthetic DICOM exam, as a scanner exports one: the
//! short-axis cine as one series per slice (UK Biobank's layout), a slice acquired twice
//! (the first attempt darker, as after a poor breath-hold), 2- and 4-chamber long-axis
//! cines through the same heart (the 4-chamber one tilted), a long-axis cine without a
//! view in its description, and a localiser, the files spread over nested folders. Or the
//! same short-axis cine as one series, to compare with.
//!
//! All planes share one frame of reference: the cine's in-plane axes from the LV axis
//! (x right, y down) and z along the stack, slice `s` at `z = s * slice_mm` (LPS mm).

use super::{Phantom, PhantomConfig, phantom};
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use std::path::{Path, PathBuf};

const MR_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.4";
const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";
/// Root of the exam's UIDs (2.25: UUID-derived, no registration needed).
const UID_ROOT: &str = "2.25.3141592653589793";

/// How to write the exam.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExamOptions {
    /// One series per short-axis slice (and the other series), or the short-axis cine
    /// alone as one series.
    pub split: bool,
    /// Tilt of the 4-chamber plane about its row direction, degrees.
    pub tilt_deg: f64,
    /// Long-axis image size (rows, columns) and pixel size.
    pub lax_rows: usize,
    pub lax_columns: usize,
    pub lax_pixel_mm: f64,
    /// The short-axis slice acquired twice.
    pub repeated_slice: usize,
}

impl Default for ExamOptions {
    fn default() -> Self {
        ExamOptions {
            split: true,
            tilt_deg: 12.0,
            lax_rows: 160,
            lax_columns: 176,
            lax_pixel_mm: 1.5,
            repeated_slice: 5,
        }
    }
}

/// A long-axis plane as written: what a test needs to compute its cross-reference lines
/// independently.
#[derive(Debug, Clone, PartialEq)]
pub struct WrittenPlane {
    pub series_uid: String,
    pub description: String,
    pub rows: usize,
    pub columns: usize,
    pub pixel_mm: f64,
    /// ImagePositionPatient (centre of the top-left pixel).
    pub position_mm: [f64; 3],
    pub row_direction: [f64; 3],
    pub column_direction: [f64; 3],
}

/// What was written.
#[derive(Debug, Clone)]
pub struct WrittenExam {
    pub phantom: Phantom,
    pub files: Vec<PathBuf>,
    /// SeriesInstanceUIDs of the short-axis slices, in slice order.
    pub sax_series: Vec<String>,
    /// The earlier acquisition of the repeated slice (the one to be skipped).
    pub repeat_series: Option<String>,
    /// 4-chamber, 2-chamber, unnamed long-axis planes (empty unless split).
    pub long_axis: Vec<WrittenPlane>,
    pub localiser_series: Option<String>,
}

struct Writer {
    dir: PathBuf,
    files: Vec<PathBuf>,
    study_uid: String,
    frame_uid: String,
    instance: u32,
}

/// One image to write.
struct Image<'a> {
    series_uid: &'a str,
    series_number: i32,
    description: &'a str,
    image_type: &'a str,
    acquisition_time: &'a str,
    position: [f64; 3],
    row_direction: [f64; 3],
    column_direction: [f64; 3],
    pixel_mm: f64,
    thickness_mm: f64,
    trigger_ms: Option<f64>,
    rows: usize,
    columns: usize,
    pixels: Vec<u16>,
}

fn ds(values: &[f64]) -> PrimitiveValue {
    PrimitiveValue::from(
        values
            .iter()
            .map(|v| format!("{:.6}", v))
            .collect::<Vec<_>>()
            .join("\\"),
    )
}

impl Writer {
    fn write(&mut self, im: Image<'_>) -> std::io::Result<()> {
        self.instance += 1;
        let n = self.instance;
        let text = |tag, vr, v: &str| DataElement::new(tag, vr, PrimitiveValue::from(v));
        let us = |tag, v: u16| DataElement::new(tag, VR::US, PrimitiveValue::from(v));
        let sop = format!("{UID_ROOT}.3.{n}");
        let mut o = InMemDicomObject::from_element_iter([
            text(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 100"),
            text(tags::IMAGE_TYPE, VR::CS, im.image_type),
            text(tags::SOP_CLASS_UID, VR::UI, MR_IMAGE_STORAGE),
            text(tags::SOP_INSTANCE_UID, VR::UI, &sop),
            text(tags::STUDY_DATE, VR::DA, "20261204"),
            text(tags::ACQUISITION_TIME, VR::TM, im.acquisition_time),
            text(tags::MODALITY, VR::CS, "MR"),
            text(tags::MANUFACTURER, VR::LO, "Systole phantom"),
            text(tags::SERIES_DESCRIPTION, VR::LO, im.description),
            text(tags::PATIENT_NAME, VR::PN, "Phantom^Exam"),
            text(tags::PATIENT_ID, VR::LO, "PHANTOM-EXAM"),
            text(tags::PATIENT_SEX, VR::CS, "M"),
            text(tags::STUDY_INSTANCE_UID, VR::UI, &self.study_uid),
            text(tags::SERIES_INSTANCE_UID, VR::UI, im.series_uid),
            text(tags::SERIES_NUMBER, VR::IS, &im.series_number.to_string()),
            text(tags::INSTANCE_NUMBER, VR::IS, &n.to_string()),
            text(tags::FRAME_OF_REFERENCE_UID, VR::UI, &self.frame_uid),
            DataElement::new(tags::IMAGE_POSITION_PATIENT, VR::DS, ds(&im.position)),
            DataElement::new(
                tags::IMAGE_ORIENTATION_PATIENT,
                VR::DS,
                ds(&[
                    im.row_direction[0],
                    im.row_direction[1],
                    im.row_direction[2],
                    im.column_direction[0],
                    im.column_direction[1],
                    im.column_direction[2],
                ]),
            ),
            DataElement::new(tags::SLICE_THICKNESS, VR::DS, ds(&[im.thickness_mm])),
            DataElement::new(tags::PIXEL_SPACING, VR::DS, ds(&[im.pixel_mm, im.pixel_mm])),
            us(tags::SAMPLES_PER_PIXEL, 1),
            text(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2"),
            us(tags::ROWS, im.rows as u16),
            us(tags::COLUMNS, im.columns as u16),
            us(tags::BITS_ALLOCATED, 16),
            us(tags::BITS_STORED, 16),
            us(tags::HIGH_BIT, 15),
            us(tags::PIXEL_REPRESENTATION, 0),
            DataElement::new(
                tags::PIXEL_DATA,
                VR::OW,
                PrimitiveValue::U16(im.pixels.into()),
            ),
        ]);
        if let Some(t) = im.trigger_ms {
            o.put(DataElement::new(tags::TRIGGER_TIME, VR::DS, ds(&[t])));
        }
        // Nested folders, names unrelated to series, slice or phase.
        let sub = self
            .dir
            .join(format!("d{}", (n * 7) % 3))
            .join(format!("s{}", (n * 13) % 4));
        std::fs::create_dir_all(&sub)?;
        let path = sub.join(format!("IM{:05}.dcm", (n * 7919) % 100_003));
        let file = o
            .with_meta(FileMetaTableBuilder::new().transfer_syntax(EXPLICIT_VR_LE))
            .map_err(std::io::Error::other)?;
        file.write_to_file(&path).map_err(std::io::Error::other)?;
        self.files.push(path);
        Ok(())
    }
}

fn to_u16(v: f32) -> u16 {
    v.round().clamp(0.0, 65535.0) as u16
}

fn unit(v: [f64; 3]) -> [f64; 3] {
    let l = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    [v[0] / l, v[1] / l, v[2] / l]
}

/// Writes the exam of the phantom `cfg` into `dir` (which must be empty or missing).
pub fn write_exam(
    cfg: &PhantomConfig,
    dir: &Path,
    opt: &ExamOptions,
) -> std::io::Result<WrittenExam> {
    std::fs::create_dir_all(dir)?;
    let p = phantom(cfg);
    let cfg = p.config;
    let cine = &p.study.cine;
    let d = cine.dims();
    let mut w = Writer {
        dir: dir.to_path_buf(),
        files: Vec::new(),
        study_uid: format!("{UID_ROOT}.1.{}", cfg.seed),
        frame_uid: format!("{UID_ROOT}.2.{}", cfg.seed),
        instance: 0,
    };
    let rr = 60_000.0 / cfg.heart_rate_bpm;
    let (cx, cy) = (cfg.columns as f64 * 0.5, cfg.rows as f64 * 0.5);
    let sax_position = |s: usize| {
        [
            -cx * cfg.pixel_mm,
            -cy * cfg.pixel_mm,
            s as f64 * cfg.slice_mm,
        ]
    };
    let mut sax_series = Vec::new();
    let single = format!("{UID_ROOT}.4.0");
    for s in 0..d.slices {
        let uid = if opt.split {
            format!("{UID_ROOT}.4.{}", s + 1)
        } else {
            single.clone()
        };
        let number = if opt.split { 100 + 2 * s as i32 } else { 100 };
        let description = if opt.split {
            format!("CINE_segmented_SAX_b{}", s + 1)
        } else {
            "CINE_segmented_SAX".to_string()
        };
        let time = format!("10{:02}00", s);
        // Each breath-hold has its own heart rate: trigger times differ slice to slice.
        let rr_s = rr * (1.0 + 0.01 * s as f64);
        let repeat = opt.split && s == opt.repeated_slice;
        for acquisition in 0..1 + repeat as usize {
            // The first of two acquisitions: an earlier series, darker.
            let first_of_two = repeat && acquisition == 0;
            let (uid, number, time, gain) = if first_of_two {
                (
                    format!("{UID_ROOT}.4.999"),
                    number - 1,
                    format!("09{:02}00", s),
                    0.5,
                )
            } else {
                (uid.clone(), number, time.clone(), 1.0)
            };
            for ph in 0..d.phases {
                w.write(Image {
                    series_uid: &uid,
                    series_number: number,
                    description: &description,
                    image_type: "ORIGINAL\\PRIMARY\\M\\NORM",
                    acquisition_time: &time,
                    position: sax_position(s),
                    row_direction: [1.0, 0.0, 0.0],
                    column_direction: [0.0, 1.0, 0.0],
                    pixel_mm: cfg.pixel_mm,
                    thickness_mm: cfg.slice_mm,
                    trigger_ms: Some(rr_s * ph as f64 / d.phases as f64),
                    rows: d.rows,
                    columns: d.columns,
                    pixels: cine
                        .image(ph, s)
                        .iter()
                        .map(|&v| to_u16(v * gain))
                        .collect(),
                })?;
            }
            if !first_of_two && (opt.split || s == 0) {
                sax_series.push(uid.clone());
            }
        }
    }
    let heart = p.heart;
    let mut long_axis = Vec::new();
    let mut localiser_series = None;
    if opt.split {
        let z_mid = 0.5 * (d.slices - 1) as f64 * cfg.slice_mm;
        let t = opt.tilt_deg.to_radians();
        let planes = [
            // 4-chamber: through the LV and RV (both on the x axis), tilted.
            (
                "CINE_segmented_LAX_4Ch",
                [1.0, 0.0, 0.0],
                [0.0, t.sin(), -t.cos()],
                200,
            ),
            // 2-chamber: through the LV along y.
            (
                "CINE_segmented_LAX_2Ch",
                [0.0, 1.0, 0.0],
                [0.0, 0.0, -1.0],
                202,
            ),
            // A long-axis plane at 45 degrees whose description names no view.
            (
                "tfi2d1_19",
                unit([1.0, 1.0, 0.0]),
                unit([0.0, 0.2, -1.0]),
                204,
            ),
        ];
        for (k, (description, x_dir, y_dir, number)) in planes.into_iter().enumerate() {
            let (rows, columns, px) = (opt.lax_rows, opt.lax_columns, opt.lax_pixel_mm);
            // The image centre on the LV axis at mid-stack.
            let half_c = 0.5 * (columns - 1) as f64 * px;
            let half_r = 0.5 * (rows - 1) as f64 * px;
            let origin: [f64; 3] = std::array::from_fn(|i| {
                [0.0, 0.0, z_mid][i] - half_c * x_dir[i] - half_r * y_dir[i]
            });
            let uid = format!("{UID_ROOT}.5.{}", k + 1);
            for ph in 0..d.phases {
                let mut pixels = Vec::with_capacity(rows * columns);
                for r in 0..rows {
                    for c in 0..columns {
                        let p: [f64; 3] = std::array::from_fn(|i| {
                            origin[i] + c as f64 * px * x_dir[i] + r as f64 * px * y_dir[i]
                        });
                        pixels.push(to_u16(heart.at(p, ph).1));
                    }
                }
                w.write(Image {
                    series_uid: &uid,
                    series_number: number,
                    description,
                    image_type: "ORIGINAL\\PRIMARY\\M\\NORM",
                    acquisition_time: "110000",
                    position: origin,
                    row_direction: x_dir,
                    column_direction: y_dir,
                    pixel_mm: px,
                    thickness_mm: 8.0,
                    trigger_ms: Some(rr * ph as f64 / d.phases as f64),
                    rows,
                    columns,
                    pixels,
                })?;
            }
            long_axis.push(WrittenPlane {
                series_uid: uid,
                description: description.to_string(),
                rows,
                columns,
                pixel_mm: px,
                position_mm: origin,
                row_direction: x_dir,
                column_direction: y_dir,
            });
        }
        // Localiser: three orthogonal still images.
        let uid = format!("{UID_ROOT}.6.1");
        let directions = [
            ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]),
            ([0.0, 1.0, 0.0], [0.0, 0.0, -1.0]),
            ([1.0, 0.0, 0.0], [0.0, 0.0, -1.0]),
        ];
        for (x_dir, y_dir) in directions {
            let n = 64;
            let px = 4.0;
            let origin: [f64; 3] = std::array::from_fn(|i| {
                [0.0, 0.0, z_mid][i] - 0.5 * (n - 1) as f64 * px * (x_dir[i] + y_dir[i])
            });
            let mut pixels = Vec::with_capacity(n * n);
            for r in 0..n {
                for c in 0..n {
                    let p: [f64; 3] = std::array::from_fn(|i| {
                        origin[i] + c as f64 * px * x_dir[i] + r as f64 * px * y_dir[i]
                    });
                    pixels.push(to_u16(heart.at(p, 0).1));
                }
            }
            w.write(Image {
                series_uid: &uid,
                series_number: 1,
                description: "localizer",
                image_type: "ORIGINAL\\PRIMARY\\LOCALIZER",
                acquisition_time: "090000",
                position: origin,
                row_direction: x_dir,
                column_direction: y_dir,
                pixel_mm: px,
                thickness_mm: 10.0,
                trigger_ms: None,
                rows: n,
                columns: n,
                pixels,
            })?;
        }
        localiser_series = Some(uid);
    }
    Ok(WrittenExam {
        phantom: p,
        files: w.files,
        sax_series,
        repeat_series: opt.split.then(|| format!("{UID_ROOT}.4.999")),
        long_axis,
        localiser_series,
    })
}
