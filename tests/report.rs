//! `systole report` as a user runs it, checked with poppler (pdftotext, pdffonts, pdfinfo,
//! pdftoppm): every measure as `systole measure --json` reports it, rounded as printed;
//! embedded fonts; paper sizes; no identifier anywhere in an anonymised report; a small
//! snapshot of page 1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read;
use std::path::Path;
use std::process::Command;

fn systole(args: &[&str]) -> std::process::Output {
    // A fixed generation time makes the report reproducible (SOURCE_DATE_EPOCH).
    Command::new(env!("CARGO_BIN_EXE_systole"))
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1796000000")
        .output()
        .unwrap()
}

fn ok(o: std::process::Output) -> std::process::Output {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

fn poppler(tool: &str, args: &[&str]) -> String {
    let o = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} (Debian's poppler-utils) is needed: {e}"));
    assert!(
        o.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// (JSON key, decimals) of every number the report's table prints.
const PRINTED: [(&str, usize); 19] = [
    ("lv_edv_ml", 1),
    ("lv_esv_ml", 1),
    ("lv_sv_ml", 1),
    ("lv_ef_pct", 1),
    ("lv_mass_g", 1),
    ("lv_cardiac_output_l_min", 2),
    ("rv_edv_ml", 1),
    ("rv_esv_ml", 1),
    ("rv_sv_ml", 1),
    ("rv_ef_pct", 1),
    ("lv_edv_ml_m2_index", 1),
    ("lv_esv_ml_m2_index", 1),
    ("lv_sv_ml_m2_index", 1),
    ("lv_mass_g_m2_index", 1),
    ("lv_cardiac_index_l_min_m2", 2),
    ("rv_edv_ml_m2_index", 1),
    ("rv_esv_ml_m2_index", 1),
    ("rv_sv_ml_m2_index", 1),
    ("bsa_m2", 2),
];

#[test]
fn the_report_prints_every_measure_in_embedded_fonts_on_a4_and_letter() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    ok(systole(&["demo-study", "--out", d]));
    let img = dir.path().join("demo_cine.nii.gz");
    let labels = dir.path().join("demo_labels.nii.gz");
    let (img, labels) = (img.to_str().unwrap(), labels.to_str().unwrap());
    let m: serde_json::Value = serde_json::from_slice(
        &ok(systole(&["measure", img, "--labels", labels, "--json"])).stdout,
    )
    .unwrap();
    let pdf = dir.path().join("r.pdf");
    let o = ok(systole(&[
        "report",
        img,
        "--labels",
        labels,
        "-o",
        pdf.to_str().unwrap(),
        "--reviewer",
        "Dr Ada Reader",
        "--conclusion",
        "Normal biventricular size and function.",
    ]));
    assert!(String::from_utf8_lossy(&o.stdout).contains("wrote"));
    let text = poppler("pdftotext", &["-layout", pdf.to_str().unwrap(), "-"]);
    let mut printed = 0;
    for (key, digits) in PRINTED {
        if let Some(v) = m[key].as_f64() {
            let want = format!("{v:.digits$}");
            assert!(
                text.contains(&want),
                "{key} = {v} should be printed as {want}:\n{text}"
            );
            printed += 1;
        }
    }
    assert!(printed >= 9, "only {printed} measures known");
    for want in [
        "Dr Ada Reader",
        "Normal biventricular size and function.",
        "page 1 of 2",
        "page 2 of 2",
        "systole-sax-fcn",
        "2026-11-30 00:53 UTC",
        "Contours edited by hand",
    ] {
        assert!(text.contains(want), "missing {want:?}");
    }
    // Fonts: every one embedded (pdffonts' "emb" column).
    let fonts = poppler("pdffonts", &[pdf.to_str().unwrap()]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(rows.len() >= 2, "{fonts}");
    for r in rows {
        let cols: Vec<&str> = r.split_whitespace().collect();
        assert_eq!(cols[cols.len() - 5], "yes", "not embedded: {r}");
    }
    let info = poppler("pdfinfo", &[pdf.to_str().unwrap()]);
    assert!(
        info.contains("595.28 x 841.89 pts (A4)") && info.contains("Pages:           2"),
        "{info}"
    );
    // PDF/A-2b is declared in the XMP metadata.
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(
        find(&bytes, b"pdfaid:part>2<") || find(&bytes, b"pdfaid:part=\"2\""),
        "no PDF/A-2 identification"
    );
    let letter = dir.path().join("letter.pdf");
    ok(systole(&[
        "report",
        img,
        "--labels",
        labels,
        "-o",
        letter.to_str().unwrap(),
        "--paper",
        "letter",
    ]));
    assert!(poppler("pdfinfo", &[letter.to_str().unwrap()]).contains("612 x 792 pts (letter)"));
    // A small snapshot of page 1 (reproducible: fixed generation time, same phantom).
    let prefix = dir.path().join("page");
    poppler(
        "pdftoppm",
        &[
            "-r",
            "30",
            "-f",
            "1",
            "-l",
            "1",
            "-gray",
            "-png",
            pdf.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    let got = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("page"))
        .unwrap();
    compare_snapshot(
        &got,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/report_page1.png"),
    );
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn gray_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    let ch = info.color_type.samples();
    let gray = buf[..info.buffer_size()].chunks(ch).map(|p| p[0]).collect();
    (info.width, info.height, gray)
}

/// Mean absolute difference <= 3 grey levels and the same size; UPDATE_SNAPSHOTS=1 writes it.
fn compare_snapshot(got: &Path, want: &Path) {
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::copy(got, want).unwrap();
    }
    assert!(
        want.exists(),
        "no snapshot at {}; run with UPDATE_SNAPSHOTS=1 and look at it",
        want.display()
    );
    let (gw, gh, g) = gray_png(got);
    let (ww, wh, w) = gray_png(want);
    assert_eq!((gw, gh), (ww, wh), "page size in pixels");
    let diff = g
        .iter()
        .zip(&w)
        .map(|(a, b)| (*a as f64 - *b as f64).abs())
        .sum::<f64>()
        / g.len() as f64;
    if diff > 3.0 {
        let keep = want.with_extension("new.png");
        std::fs::copy(got, &keep).unwrap();
        panic!(
            "page 1 differs from the snapshot by {diff:.2} grey levels on average; the new one is {}",
            keep.display()
        );
    }
}

/// Every stream of a PDF, inflated where it is Flate-compressed.
fn streams(pdf: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(s) = pdf[i..]
        .windows(6)
        .position(|w| w == b"stream")
        .map(|p| p + i)
    {
        let mut start = s + 6;
        if pdf.get(start) == Some(&b'\r') {
            start += 1;
        }
        if pdf.get(start) == Some(&b'\n') {
            start += 1;
        }
        let Some(end) = pdf[start..]
            .windows(9)
            .position(|w| w == b"endstream")
            .map(|p| p + start)
        else {
            break;
        };
        let raw = &pdf[start..end];
        let mut inflated = Vec::new();
        if flate2::read::ZlibDecoder::new(raw)
            .read_to_end(&mut inflated)
            .is_ok()
        {
            out.push(inflated);
        } else {
            out.push(raw.to_vec());
        }
        i = end + 9;
    }
    out
}

#[test]
fn an_anonymised_report_of_a_real_study_holds_no_name_id_or_date() {
    // Sunnybrook SCD0000201: PatientName and PatientID "SCD0000201", StudyDate 20120000 (month and day unknown).
    let study = common::shared_data().join("sunnybrook/SCD0000201");
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.pdf");
    let anon = dir.path().join("anon.pdf");
    let s = study.to_str().unwrap();
    // Segment once into a session file outside the (read-only) data, report twice from it.
    let session = dir.path().join("session.json");
    let ses = session.to_str().unwrap();
    ok(systole(&[
        "segment",
        s,
        "-o",
        dir.path().join("seg").to_str().unwrap(),
        "--save-session",
        "--session",
        ses,
    ]));
    ok(systole(&[
        "report",
        s,
        "-o",
        plain.to_str().unwrap(),
        "--session",
        ses,
    ]));
    ok(systole(&[
        "report",
        s,
        "-o",
        anon.to_str().unwrap(),
        "--anonymize",
        "--session",
        ses,
    ]));
    // The date's unknown month and day are not shown: the year is.
    let identifiers = ["SCD0000201", "20120000", "2012"];
    // The plain report shows them (so the check below can fail)...
    let text = poppler("pdftotext", &[plain.to_str().unwrap(), "-"]);
    assert!(
        text.contains("SCD0000201") && text.contains("2012") && !text.contains("2012-00"),
        "{text}"
    );
    // ...the anonymised one nowhere: text, raw bytes, inflated streams, metadata.
    let text = poppler("pdftotext", &[anon.to_str().unwrap(), "-"]);
    let bytes = std::fs::read(&anon).unwrap();
    let info = poppler("pdfinfo", &["-meta", anon.to_str().unwrap()]);
    for id in identifiers {
        assert!(!text.contains(id), "{id} in the text");
        assert!(!info.contains(id), "{id} in the metadata");
        assert!(!find(&bytes, id.as_bytes()), "{id} in the file's bytes");
        for st in streams(&bytes) {
            assert!(!find(&st, id.as_bytes()), "{id} in a stream");
        }
    }
    assert!(text.contains("Anonymised"));
    // The measures are the same either way.
    let plain_text = poppler("pdftotext", &["-layout", plain.to_str().unwrap(), "-"]);
    let ef = |t: &str| {
        t.lines()
            .find(|l| l.contains("LV ejection fraction"))
            .map(|l| l.split_whitespace().nth(3).unwrap_or("").to_string())
    };
    assert_eq!(
        ef(&plain_text),
        ef(&poppler(
            "pdftotext",
            &["-layout", anon.to_str().unwrap(), "-"]
        ))
    );
}

#[test]
fn anonymising_leaves_out_a_stated_name_id_and_birth_date_everywhere() {
    use systole::measure::{BsaFormula, Context, Engine};
    use systole::report::{self, ReportOptions};
    let mut study = systole::phantom::phantom(&systole::phantom::PhantomConfig::default()).study;
    study.patient.name = Some("Doe^Jane".into());
    study.patient.id = Some("MRN-4711-X".into());
    study.patient.birth_date = Some("19510302".into());
    study.info.study_date = Some("20241107".into());
    let labels = study.reference_labels.clone().unwrap();
    let m = Engine::new(&labels, study.cine.geometry.voxel_volume_ml().unwrap())
        .measures(&Context::of(&study, BsaFormula::Mosteller));
    let render = |anonymize| {
        let o = ReportOptions {
            anonymize,
            model: report::builtin_model_name(),
            generated_secs: 1_796_000_000,
            ..ReportOptions::default()
        };
        report::pdf::render(&report::build(&study, &labels, None, &m, &o).unwrap()).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let (plain, anon) = (dir.path().join("plain.pdf"), dir.path().join("anon.pdf"));
    std::fs::write(&plain, render(false)).unwrap();
    std::fs::write(&anon, render(true)).unwrap();
    let text = poppler("pdftotext", &[plain.to_str().unwrap(), "-"]);
    assert!(
        text.contains("Doe Jane") && text.contains("MRN-4711-X") && text.contains("2024-11-07"),
        "{text}"
    );
    let bytes = std::fs::read(&anon).unwrap();
    let text = poppler("pdftotext", &[anon.to_str().unwrap(), "-"]);
    let meta = poppler("pdfinfo", &["-meta", anon.to_str().unwrap()]);
    for id in [
        "Doe",
        "Jane",
        "MRN-4711-X",
        "19510302",
        "1951-03-02",
        "20241107",
        "2024-11-07",
    ] {
        assert!(
            !text.contains(id) && !meta.contains(id),
            "{id} in the text or metadata"
        );
        assert!(!find(&bytes, id.as_bytes()), "{id} in the file's bytes");
        assert!(
            streams(&bytes).iter().all(|s| !find(s, id.as_bytes())),
            "{id} in a stream"
        );
    }
}

#[test]
fn names_and_text_in_any_script_print_in_embedded_fallback_fonts() {
    // The issue's cases: a Japanese PatientName, Arabic and Devanagari text, an arrow,
    // and Korean; krilla refused each of them (ContainsNotDefGlyph) with one font.
    use systole::measure::{BsaFormula, Context, Engine};
    use systole::report::{self, ReportOptions};
    let mut study = systole::phantom::phantom(&systole::phantom::PhantomConfig::default()).study;
    study.patient.name = Some("山田^太郎".into());
    let labels = study.reference_labels.clone().unwrap();
    let m = Engine::new(&labels, study.cine.geometry.voxel_volume_ml().unwrap())
        .measures(&Context::of(&study, BsaFormula::Mosteller));
    let o = ReportOptions {
        model: report::builtin_model_name(),
        generated_secs: 1_796_000_000,
        reviewer: Some("د. محمد علي".into()),
        conclusion: Some("LVEF 35 % → गंभीर रूप से कम; 김민수 선생님 확인".into()),
        ..ReportOptions::default()
    };
    let pdf = report::pdf::render(&report::build(&study, &labels, None, &m, &o).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scripts.pdf");
    std::fs::write(&path, pdf).unwrap();
    if let Some(keep) = std::env::var_os("SYSTOLE_KEEP_PDF") {
        std::fs::copy(&path, keep).unwrap();
    }
    let text = poppler("pdftotext", &[path.to_str().unwrap(), "-"]);
    for want in ["山田", "太郎", "→", "김민수", "गंभीर"] {
        assert!(text.contains(want), "{want} missing from:\n{text}");
    }
    // Arabic is stored in visual order by some extractors: check its letters are there.
    for letter in ['م', 'ح', 'د', 'ع', 'ل', 'ي'] {
        assert!(text.contains(letter), "{letter} missing from:\n{text}");
    }
    let fonts = poppler("pdffonts", &[path.to_str().unwrap()]);
    for face in ["Ubuntu", "DejaVuSans", "NotoSansDevanagari", "WenQuanYi"] {
        assert!(fonts.contains(face), "{face} not in:\n{fonts}");
    }
    // Every font embedded ("emb" column yes).
    for line in fonts.lines().skip(2) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let n = cols.len();
        assert!(n >= 5 && cols[n - 5] == "yes", "not embedded: {line}");
    }
}

#[test]
fn a_real_studys_japanese_patient_name_prints() {
    // SCD0000101 with PatientName 山田^太郎 in UTF-8 (SpecificCharacterSet ISO_IR 192),
    // written into every file by dicom-object; the report of its expert contours.
    use dicom_core::{DataElement, PrimitiveValue, VR};
    use dicom_dictionary_std::tags;
    use systole::measure::{BsaFormula, Context, Engine};
    use systole::report::{self, ReportOptions};
    let src = common::shared_data().join("sunnybrook/SCD0000101");
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("SCD0000101");
    for sub in ["dicom", "contours"] {
        let from = src.join(sub);
        let to = dst.join(sub);
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(&from).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
            }
        }
    }
    for e in std::fs::read_dir(dst.join("dicom")).unwrap() {
        let p = e.unwrap().path();
        let mut obj = dicom_object::OpenFileOptions::new().open_file(&p).unwrap();
        obj.put(DataElement::new(
            tags::SPECIFIC_CHARACTER_SET,
            VR::CS,
            PrimitiveValue::from("ISO_IR 192"),
        ));
        obj.put(DataElement::new(
            tags::PATIENT_NAME,
            VR::PN,
            PrimitiveValue::from("山田^太郎"),
        ));
        obj.write_to_file(&p).unwrap();
    }
    let study = systole::io::load_study(&dst, &systole::io::LoadOptions::default())
        .unwrap()
        .study;
    // The loader shows the name components with spaces.
    assert_eq!(study.patient.name.as_deref(), Some("山田 太郎"));
    // Labels for the report: a beating disc in every image (the name is what is tested).
    let d = study.cine.dims();
    let mut data = vec![0u8; d.len()];
    for p in 0..d.phases {
        let r = 18.0 + 6.0 * (std::f64::consts::TAU * p as f64 / d.phases as f64).cos();
        for s in 0..d.slices {
            let img = &mut data[d.image_offset(p, s)..][..d.pixels_per_image()];
            for (i, v) in img.iter_mut().enumerate() {
                let (y, x) = ((i / d.columns) as f64, (i % d.columns) as f64);
                let dist = ((y - d.rows as f64 / 2.0).powi(2)
                    + (x - d.columns as f64 / 2.0).powi(2))
                .sqrt();
                *v = if dist < r {
                    1
                } else if dist < r + 5.0 {
                    2
                } else {
                    0
                };
            }
        }
    }
    let labels =
        systole::study::LabelStack::from_stored(d, data, systole::study::LabelOrder::Systole)
            .unwrap();
    let m = Engine::new(&labels, study.cine.geometry.voxel_volume_ml().unwrap())
        .measures(&Context::of(&study, BsaFormula::Mosteller));
    let o = ReportOptions {
        model: report::builtin_model_name(),
        generated_secs: 1_796_000_000,
        ..ReportOptions::default()
    };
    let pdf = report::pdf::render(&report::build(&study, &labels, None, &m, &o).unwrap()).unwrap();
    let path = tmp.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let text = poppler("pdftotext", &[path.to_str().unwrap(), "-"]);
    assert!(text.contains("山田 太郎"), "{text}");
}
