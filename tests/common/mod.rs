//! Shared helpers for integration tests: where the real data lives, and a small DICOM
//! writer for synthetic series (written with dicom-object directly, not with Systole).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use dicom_core::value::{DataSetSequence, PixelFragmentSequence};
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use std::path::{Path, PathBuf};

/// ../shared/data beside the repository (or $SYSTOLE_DATA). Panics, saying where it
/// looked, when the data is missing: tests on real data never skip silently.
pub fn shared_data() -> PathBuf {
    let candidates: Vec<PathBuf> = std::env::var_os("SYSTOLE_DATA")
        .map(PathBuf::from)
        .into_iter()
        .chain([Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data")])
        .collect();
    for c in &candidates {
        if c.join("acdc").is_dir() && c.join("sunnybrook").is_dir() {
            return c.clone();
        }
    }
    panic!(
        "real CMR data not found; looked in {:?} (set SYSTOLE_DATA or put the shared data beside the repository)",
        candidates
    );
}

/// The Python of the training code: $SYSTOLE_PYTHON or the repository's .venv. Panics,
/// saying how to create it, when it is missing.
pub fn python() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var_os("SYSTOLE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv/bin/python"));
    assert!(
        python.exists(),
        "Python for the training code not found at {} (create it: python3 -m venv .venv && .venv/bin/pip install -r training/requirements.txt, or set SYSTOLE_PYTHON)",
        python.display()
    );
    python
}

fn ds(values: &[f64]) -> PrimitiveValue {
    PrimitiveValue::from(
        values
            .iter()
            .map(|v| format!("{v}"))
            .collect::<Vec<_>>()
            .join("\\"),
    )
}

/// One synthetic MR image.
#[derive(Clone, Debug)]
pub struct Img {
    pub rows: u16,
    pub columns: u16,
    pub pixels: Vec<u16>,
    pub position: [f64; 3],
    pub orientation: [f64; 6],
    pub spacing: [f64; 2],
    pub trigger_ms: Option<f64>,
    pub instance: i32,
    pub series_uid: String,
    pub series_number: i32,
    pub photometric: &'static str,
    pub rescale: Option<(f64, f64)>,
}

impl Img {
    pub fn new(rows: u16, columns: u16) -> Img {
        Img {
            rows,
            columns,
            pixels: vec![0; rows as usize * columns as usize],
            position: [0.0; 3],
            orientation: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
            spacing: [1.0, 1.0],
            trigger_ms: None,
            instance: 1,
            series_uid: "1.2.826.0.1.3680043.9.7433.1".into(),
            series_number: 1,
            photometric: "MONOCHROME2",
            rescale: None,
        }
    }

    fn common(&self, sop_uid: &str) -> InMemDicomObject {
        let mut o = InMemDicomObject::new_empty();
        let s = |o: &mut InMemDicomObject, tag, vr, v: &str| {
            o.put(DataElement::new(tag, vr, PrimitiveValue::from(v)));
        };
        s(
            &mut o,
            tags::SOP_CLASS_UID,
            VR::UI,
            "1.2.840.10008.5.1.4.1.1.4",
        );
        s(&mut o, tags::SOP_INSTANCE_UID, VR::UI, sop_uid);
        s(&mut o, tags::MODALITY, VR::CS, "MR");
        s(&mut o, tags::PATIENT_ID, VR::LO, "SYN001");
        s(&mut o, tags::PATIENT_NAME, VR::PN, "Test^Patient");
        s(&mut o, tags::PATIENT_SEX, VR::CS, "F");
        s(&mut o, tags::PATIENT_AGE, VR::AS, "052Y");
        s(&mut o, tags::PATIENT_SIZE, VR::DS, "1.68");
        s(&mut o, tags::PATIENT_WEIGHT, VR::DS, "61");
        s(
            &mut o,
            tags::STUDY_INSTANCE_UID,
            VR::UI,
            "1.2.826.0.1.3680043.9.7433.0",
        );
        s(&mut o, tags::SERIES_INSTANCE_UID, VR::UI, &self.series_uid);
        s(
            &mut o,
            tags::SERIES_NUMBER,
            VR::IS,
            &self.series_number.to_string(),
        );
        s(
            &mut o,
            tags::INSTANCE_NUMBER,
            VR::IS,
            &self.instance.to_string(),
        );
        s(&mut o, tags::MAGNETIC_FIELD_STRENGTH, VR::DS, "1.5");
        s(&mut o, tags::HEART_RATE, VR::IS, "64");
        s(
            &mut o,
            tags::PHOTOMETRIC_INTERPRETATION,
            VR::CS,
            self.photometric,
        );
        o.put(DataElement::new(
            tags::SAMPLES_PER_PIXEL,
            VR::US,
            PrimitiveValue::from(1u16),
        ));
        o.put(DataElement::new(
            tags::ROWS,
            VR::US,
            PrimitiveValue::from(self.rows),
        ));
        o.put(DataElement::new(
            tags::COLUMNS,
            VR::US,
            PrimitiveValue::from(self.columns),
        ));
        o.put(DataElement::new(
            tags::BITS_ALLOCATED,
            VR::US,
            PrimitiveValue::from(16u16),
        ));
        o.put(DataElement::new(
            tags::BITS_STORED,
            VR::US,
            PrimitiveValue::from(12u16),
        ));
        o.put(DataElement::new(
            tags::HIGH_BIT,
            VR::US,
            PrimitiveValue::from(11u16),
        ));
        o.put(DataElement::new(
            tags::PIXEL_REPRESENTATION,
            VR::US,
            PrimitiveValue::from(0u16),
        ));
        if let Some((slope, intercept)) = self.rescale {
            o.put(DataElement::new(tags::RESCALE_SLOPE, VR::DS, ds(&[slope])));
            o.put(DataElement::new(
                tags::RESCALE_INTERCEPT,
                VR::DS,
                ds(&[intercept]),
            ));
        }
        o
    }

    /// A classic single-frame MR object.
    pub fn object(&self) -> InMemDicomObject {
        let mut o = self.common(&format!("{}.{}", self.series_uid, self.instance));
        o.put(DataElement::new(
            tags::IMAGE_POSITION_PATIENT,
            VR::DS,
            ds(&self.position),
        ));
        o.put(DataElement::new(
            tags::IMAGE_ORIENTATION_PATIENT,
            VR::DS,
            ds(&self.orientation),
        ));
        o.put(DataElement::new(
            tags::PIXEL_SPACING,
            VR::DS,
            ds(&self.spacing),
        ));
        o.put(DataElement::new(tags::SLICE_THICKNESS, VR::DS, ds(&[8.0])));
        if let Some(t) = self.trigger_ms {
            o.put(DataElement::new(tags::TRIGGER_TIME, VR::DS, ds(&[t])));
        }
        o.put(DataElement::new(
            tags::PIXEL_DATA,
            VR::OW,
            PrimitiveValue::U16(self.pixels.clone().into()),
        ));
        o
    }

    pub fn write(&self, path: &Path) {
        write_object(self.object(), path, "1.2.840.10008.1.2.1");
    }
}

pub fn write_object(obj: InMemDicomObject, path: &Path, ts: &str) {
    let f = obj
        .with_meta(FileMetaTableBuilder::new().transfer_syntax(ts))
        .expect("meta");
    f.write_to_file(path).expect("write dicom");
}

/// An Enhanced-MR-style multi-frame object: one frame per (position, trigger time),
/// geometry in per-frame and shared functional groups.
pub fn write_multiframe(path: &Path, base: &Img, frames: &[([f64; 3], f64, Vec<u16>)]) {
    let mut o = base.common("1.2.826.0.1.3680043.9.7433.77");
    o.put(DataElement::new(
        tags::NUMBER_OF_FRAMES,
        VR::IS,
        PrimitiveValue::from(frames.len().to_string()),
    ));
    let item = |tag, vr, v: PrimitiveValue| {
        InMemDicomObject::from_element_iter([DataElement::new(tag, vr, v)])
    };
    let seq = |tag, items: Vec<InMemDicomObject>| {
        DataElement::new(tag, VR::SQ, DataSetSequence::from(items))
    };
    let shared = InMemDicomObject::from_element_iter([
        seq(
            tags::PLANE_ORIENTATION_SEQUENCE,
            vec![item(
                tags::IMAGE_ORIENTATION_PATIENT,
                VR::DS,
                ds(&base.orientation),
            )],
        ),
        seq(
            tags::PIXEL_MEASURES_SEQUENCE,
            vec![InMemDicomObject::from_element_iter([
                DataElement::new(tags::PIXEL_SPACING, VR::DS, ds(&base.spacing)),
                DataElement::new(tags::SLICE_THICKNESS, VR::DS, ds(&[8.0])),
            ])],
        ),
    ]);
    o.put(seq(tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE, vec![shared]));
    let per: Vec<InMemDicomObject> = frames
        .iter()
        .map(|(pos, t, _)| {
            InMemDicomObject::from_element_iter([
                seq(
                    tags::PLANE_POSITION_SEQUENCE,
                    vec![item(tags::IMAGE_POSITION_PATIENT, VR::DS, ds(pos))],
                ),
                seq(
                    tags::CARDIAC_SYNCHRONIZATION_SEQUENCE,
                    vec![item(
                        tags::NOMINAL_CARDIAC_TRIGGER_DELAY_TIME,
                        VR::FD,
                        PrimitiveValue::from(*t),
                    )],
                ),
            ])
        })
        .collect();
    o.put(seq(tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE, per));
    let all: Vec<u16> = frames
        .iter()
        .flat_map(|(_, _, px)| px.iter().copied())
        .collect();
    o.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OW,
        PrimitiveValue::U16(all.into()),
    ));
    write_object(o, path, "1.2.840.10008.1.2.1");
}

/// RLE Lossless (PS3.5 Annex G) of one 16-bit frame, written here with literal runs
/// only: two segments (high bytes, then low bytes).
pub fn rle_encode_u16(pixels: &[u16]) -> Vec<u8> {
    let planes: [Vec<u8>; 2] = [
        pixels.iter().map(|p| (p >> 8) as u8).collect(),
        pixels.iter().map(|p| (p & 0xff) as u8).collect(),
    ];
    let mut segments: Vec<Vec<u8>> = Vec::new();
    for plane in planes {
        let mut seg = Vec::new();
        for chunk in plane.chunks(128) {
            seg.push((chunk.len() - 1) as u8);
            seg.extend_from_slice(chunk);
        }
        if seg.len() % 2 == 1 {
            seg.push(0);
        }
        segments.push(seg);
    }
    let mut header = [0u32; 16];
    header[0] = segments.len() as u32;
    let mut offset = 64u32;
    for (i, s) in segments.iter().enumerate() {
        header[i + 1] = offset;
        offset += s.len() as u32;
    }
    let mut out: Vec<u8> = header.iter().flat_map(|v| v.to_le_bytes()).collect();
    segments.iter().for_each(|s| out.extend_from_slice(s));
    out
}

/// Writes `img` with RLE Lossless pixel data.
pub fn write_rle(img: &Img, path: &Path) {
    let mut o = img.object();
    let frag = rle_encode_u16(&img.pixels);
    o.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        dicom_core::value::Value::from(PixelFragmentSequence::new(vec![], vec![frag])),
    ));
    write_object(o, path, "1.2.840.10008.1.2.5");
}

/// Copies every file of `from` into `to` (created if missing).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// Runs `systole ARGS` and parses its standard output as JSON; panics with its standard
/// error when it fails.
pub fn systole_json<I, S>(args: I) -> serde_json::Value
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_systole"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Writes `dataset` (explicit VR little endian bytes) as a deflated DICOM file (PS3.5
/// A.5: raw deflate after the meta group), built by hand from the bytes.
pub fn write_deflated(path: &Path, sop_class: &str, sop_instance: &str, dataset: &[u8]) {
    use std::io::Write;
    let meta = dicom_object::FileMetaTableBuilder::new()
        .transfer_syntax("1.2.840.10008.1.2.1.99")
        .media_storage_sop_class_uid(sop_class)
        .media_storage_sop_instance_uid(sop_instance)
        .build()
        .unwrap();
    let mut out = vec![0u8; 128];
    out.extend_from_slice(b"DICM");
    meta.write(&mut out).unwrap();
    let mut z = flate2::write::DeflateEncoder::new(out, flate2::Compression::fast());
    z.write_all(dataset).unwrap();
    std::fs::write(path, z.finish().unwrap()).unwrap();
}
