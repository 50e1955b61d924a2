//! The review session file (docs/session-format.md): the clinician's contours, key phases
//! and overrides for one study, as JSON, written atomically. It is the clinician's truth:
//! a file of another study is refused, a broken file is an error and is never overwritten.

use crate::contour::Structure;
use crate::contour::set::{Contour, ContourSet, Source};
use crate::study::{Dims, Study};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "systole-session";
pub const VERSION: u32 = 1;
/// File name beside (inside) a study folder.
pub const FILE_NAME: &str = "systole-session.json";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    #[error("the session file is broken ({reason}); fix or remove it: {path}")]
    Broken { path: PathBuf, reason: String },
    #[error("the session file belongs to another study ({reason}): {path}")]
    Foreign { path: PathBuf, reason: String },
    #[error("cannot read the session file ({source}): {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot save the session ({reason}): {path}")]
    Write { path: PathBuf, reason: String },
}

/// Which study a session belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyIdentity {
    pub study_instance_uid: Option<String>,
    pub series_instance_uid: Option<String>,
    /// FNV-1a 64 of the cine's dimensions and intensities (hex): identifies NIfTI inputs,
    /// which carry no UIDs.
    pub fingerprint: String,
    /// [phases, slices, rows, columns] of the cine.
    pub dims: [usize; 4],
}

impl StudyIdentity {
    pub fn of(study: &Study) -> StudyIdentity {
        let d = study.cine.dims();
        StudyIdentity {
            study_instance_uid: study.info.study_instance_uid.clone(),
            series_instance_uid: study.info.series_instance_uid.clone(),
            fingerprint: fingerprint(study),
            dims: [d.phases, d.slices, d.rows, d.columns],
        }
    }

    /// Why `self` (from a file) is not `current`'s session, if it is not. DICOM studies
    /// match on their UIDs, others on the fingerprint; the grid must always match.
    pub fn mismatch(&self, current: &StudyIdentity) -> Option<String> {
        if self.dims != current.dims {
            return Some(format!(
                "its images are {:?} (phases, slices, rows, columns), the study's {:?}",
                self.dims, current.dims
            ));
        }
        match (&self.series_instance_uid, &current.series_instance_uid) {
            (Some(a), Some(b)) if a != b => {
                return Some(format!("SeriesInstanceUID {a}, the study's {b}"));
            }
            (Some(_), Some(_)) => {
                return match (&self.study_instance_uid, &current.study_instance_uid) {
                    (Some(a), Some(b)) if a != b => {
                        Some(format!("StudyInstanceUID {a}, the study's {b}"))
                    }
                    _ => None,
                };
            }
            _ => {}
        }
        (self.fingerprint != current.fingerprint)
            .then(|| "its image fingerprint differs from the study's".to_string())
    }
}

/// FNV-1a 64 over the dimensions and the f32 bit patterns of every intensity.
pub fn fingerprint(study: &Study) -> String {
    let d = study.cine.dims();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |w: u64| {
        h ^= w;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    for v in [d.phases, d.slices, d.rows, d.columns] {
        eat(v as u64);
    }
    for v in study.cine.data() {
        eat(v.to_bits() as u64);
    }
    format!("{h:016x}")
}

/// What the user set by hand; each `None` means "as the study states / as computed".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    #[serde(default)]
    pub ed_phase: Option<usize>,
    #[serde(default)]
    pub es_phase: Option<usize>,
    #[serde(default)]
    pub height_cm: Option<f64>,
    #[serde(default)]
    pub weight_kg: Option<f64>,
    #[serde(default)]
    pub reviewer: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    /// Sex where the study does not state it or states it wrongly (reference ranges differ).
    #[serde(default)]
    pub sex: Option<crate::study::Sex>,
    #[serde(default)]
    pub age_years: Option<f64>,
}

/// One contour as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContourRecord {
    pub slice: usize,
    pub phase: usize,
    pub structure: Structure,
    pub points: Vec<[f64; 2]>,
    pub source: Source,
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionFile {
    pub format: String,
    pub version: u32,
    /// The program that wrote it.
    #[serde(default)]
    pub software: Option<String>,
    pub study: StudyIdentity,
    /// The key phases the measures use (overrides applied), 0-based.
    pub ed_phase: Option<usize>,
    pub es_phase: Option<usize>,
    #[serde(default)]
    pub overrides: Overrides,
    /// The network's confidence in each image it segmented (0..1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub confidence: Vec<ConfidenceRecord>,
    /// The images a clinician marked reviewed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reviewed: Vec<ReviewRecord>,
    /// Last, so that `to_text` can write one contour per line.
    pub contours: Vec<ContourRecord>,
}

/// The network's confidence in one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfidenceRecord {
    pub slice: usize,
    pub phase: usize,
    pub confidence: f64,
}

/// One image marked reviewed: by whom (the session's reviewer then) and when (seconds
/// since 1970, UTC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRecord {
    pub slice: usize,
    pub phase: usize,
    #[serde(default)]
    pub by: Option<String>,
    pub at_secs: u64,
}

/// A session ready to use: the contours on the study's grid, the overrides and the
/// review status.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub contours: ContourSet,
    pub overrides: Overrides,
    pub review: crate::qc::Review,
}

impl SessionFile {
    pub fn new(
        study: &Study,
        session: &Session,
        key_phases: (Option<usize>, Option<usize>),
    ) -> SessionFile {
        SessionFile::with_identity(StudyIdentity::of(study), session, key_phases)
    }

    /// Like [`SessionFile::new`] with the study's identity already computed (the
    /// fingerprint reads every intensity; the viewer computes it once, not per save).
    pub fn with_identity(
        identity: StudyIdentity,
        session: &Session,
        key_phases: (Option<usize>, Option<usize>),
    ) -> SessionFile {
        let contours = session
            .contours
            .iter()
            .map(|(&(phase, slice, structure), c)| ContourRecord {
                slice,
                phase,
                structure,
                points: c.points.clone(),
                source: c.source,
            })
            .collect();
        SessionFile {
            format: FORMAT.into(),
            version: VERSION,
            software: Some(format!("systole {}", env!("CARGO_PKG_VERSION"))),
            study: identity,
            ed_phase: key_phases.0,
            es_phase: key_phases.1,
            overrides: session.overrides.clone(),
            confidence: session
                .review
                .confidences()
                .map(|(&(phase, slice), &confidence)| ConfidenceRecord {
                    slice,
                    phase,
                    confidence,
                })
                .collect(),
            reviewed: session
                .review
                .marks()
                .map(|(&(phase, slice), m)| ReviewRecord {
                    slice,
                    phase,
                    by: m.by.clone(),
                    at_secs: m.at_secs,
                })
                .collect(),
            contours,
        }
    }

    /// Checks the file against `study` and builds the session. `path` is for messages.
    pub fn into_session(self, study: &Study, path: &Path) -> Result<Session, SessionError> {
        let broken = |reason: String| SessionError::Broken {
            path: path.to_path_buf(),
            reason,
        };
        if self.format != FORMAT {
            return Err(broken(format!(
                "format is {:?}, not {FORMAT:?}",
                self.format
            )));
        }
        if self.version != VERSION {
            return Err(broken(format!(
                "version {} is not supported (this program reads {VERSION})",
                self.version
            )));
        }
        if let Some(reason) = self.study.mismatch(&StudyIdentity::of(study)) {
            return Err(SessionError::Foreign {
                path: path.to_path_buf(),
                reason,
            });
        }
        let d: Dims = study.cine.dims();
        for (name, p) in [
            ("ed_phase", self.overrides.ed_phase),
            ("es_phase", self.overrides.es_phase),
            ("ed_phase", self.ed_phase),
            ("es_phase", self.es_phase),
        ] {
            if p.is_some_and(|p| p >= d.phases) {
                return Err(broken(format!(
                    "{name} is beyond the study's {} phases",
                    d.phases
                )));
            }
        }
        for (name, v) in [
            ("height_cm", self.overrides.height_cm),
            ("weight_kg", self.overrides.weight_kg),
            ("age_years", self.overrides.age_years),
        ] {
            if v.is_some_and(|v| !v.is_finite() || v <= 0.0) {
                return Err(broken(format!("{name} must be a positive number")));
            }
        }
        let mut set = ContourSet::new(d);
        for (i, c) in self.contours.into_iter().enumerate() {
            let key = (c.phase, c.slice, c.structure);
            if set.get(key).is_some() {
                return Err(broken(format!(
                    "contour {i} repeats slice {} phase {} {}",
                    c.slice,
                    c.phase,
                    c.structure.name()
                )));
            }
            let (slice, phase) = (c.slice, c.phase);
            // A contour lies on its image: pixel centres run 0..columns-1, the image's edge
            // is half a pixel beyond; one more pixel is allowed for drawing at the border.
            let inside = |p: &[f64; 2]| {
                (-1.5..=d.columns as f64 + 0.5).contains(&p[0])
                    && (-1.5..=d.rows as f64 + 0.5).contains(&p[1])
            };
            if let Some(p) = c.points.iter().find(|p| !inside(p)) {
                return Err(broken(format!(
                    "contour {i} (slice {slice}, phase {phase}) has a point ({}, {}) outside the {} x {} image",
                    p[0], p[1], d.columns, d.rows
                )));
            }
            set.set(key, Some(Contour { points: c.points, source: c.source }))
                .map_err(|_| broken(format!("contour {i} (slice {slice}, phase {phase}) is outside the study or has fewer than 3 finite points")))?;
        }
        let mut review = crate::qc::Review::default();
        let on_grid = |slice: usize, phase: usize| slice < d.slices && phase < d.phases;
        for (i, c) in self.confidence.iter().enumerate() {
            if !on_grid(c.slice, c.phase) || !(0.0..=1.0).contains(&c.confidence) {
                return Err(broken(format!(
                    "confidence {i} (slice {}, phase {}, {}) is outside the study or outside 0..1",
                    c.slice, c.phase, c.confidence
                )));
            }
            review.set_confidence(c.phase, c.slice, Some(c.confidence));
        }
        for (i, r) in self.reviewed.into_iter().enumerate() {
            if !on_grid(r.slice, r.phase) {
                return Err(broken(format!(
                    "reviewed image {i} (slice {}, phase {}) is outside the study",
                    r.slice, r.phase
                )));
            }
            review.set_reviewed(r.phase, r.slice, r.by, r.at_secs);
        }
        Ok(Session {
            contours: set,
            overrides: self.overrides,
            review,
        })
    }
}

/// Where a study's session lives by default: inside a study folder, or beside a single
/// file as `FILE.systole-session.json`. A stack other than the one the loader picks by
/// itself (`stack`: its series UID, see `Study::alternative_stack`) keeps its own file,
/// `systole-session.UID.json` (or `FILE.UID.systole-session.json`), so that choosing
/// another stack of an exam never meets the first stack's session.
pub fn default_path(study_path: &Path, stack: Option<&str>) -> PathBuf {
    let stack = stack.map(safe_file_part);
    if study_path.is_dir() {
        match stack {
            None => study_path.join(FILE_NAME),
            Some(uid) => study_path.join(format!("systole-session.{uid}.json")),
        }
    } else {
        let mut name = study_path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        if let Some(uid) = stack {
            name.push(format!(".{uid}"));
        }
        name.push(".systole-session.json");
        study_path.with_file_name(name)
    }
}

/// A UID as part of a file name: digits and dots stay, anything else becomes `_`.
fn safe_file_part(uid: &str) -> String {
    uid.replace(|c: char| !c.is_ascii_alphanumeric() && c != '.', "_")
}

/// Where the session goes when the study's location is read-only: the user data
/// directory ($XDG_DATA_HOME, else ~/.local/share)/systole/sessions/ID.json.
pub fn fallback_path(identity: &StudyIdentity) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    let id = identity
        .series_instance_uid
        .as_deref()
        .map_or_else(|| identity.fingerprint.clone(), safe_file_part);
    Some(
        base.join("systole")
            .join("sessions")
            .join(format!("{id}.json")),
    )
}

/// The session file to read for a study: `explicit` if given, else the default path, else
/// the fallback, whichever exists first. `None`: there is no session yet.
pub fn find(study_path: &Path, study: &Study, explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return p.exists().then(|| p.to_path_buf());
    }
    let default = default_path(study_path, study.alternative_stack());
    if default.exists() {
        return Some(default);
    }
    fallback_path(&StudyIdentity::of(study)).filter(|p| p.exists())
}

/// Reads and checks a session file.
pub fn read(path: &Path, study: &Study) -> Result<Session, SessionError> {
    let bytes = std::fs::read(path).map_err(|source| SessionError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file: SessionFile = serde_json::from_slice(&bytes).map_err(|e| SessionError::Broken {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    file.into_session(study, path)
}

/// Pretty JSON with one contour per line (diff-friendly and about 4x smaller than fully
/// pretty output).
pub fn to_text(file: &SessionFile) -> serde_json::Result<String> {
    let head = SessionFile {
        contours: Vec::new(),
        ..file.clone()
    };
    let head = serde_json::to_string_pretty(&head)?;
    let lines = file
        .contours
        .iter()
        .map(serde_json::to_string)
        .collect::<serde_json::Result<Vec<_>>>()?;
    let body = if lines.is_empty() {
        "[]".to_string()
    } else {
        format!("[\n    {}\n  ]", lines.join(",\n    "))
    };
    Ok(match head.trim_end().strip_suffix("\"contours\": []\n}") {
        Some(start) => format!("{start}\"contours\": {body}\n}}\n"),
        None => serde_json::to_string_pretty(file)?,
    })
}

/// Writes the session atomically (temporary file, fsync, rename) to `target`, or when
/// that is not given, to `default` (the study's [`default_path`]), falling back to the
/// user data directory when the study's location cannot be written. Returns where it went.
pub fn write(
    file: &SessionFile,
    default: &Path,
    target: Option<&Path>,
) -> Result<PathBuf, SessionError> {
    let bytes = to_text(file)
        .map_err(|e| SessionError::Write {
            path: default.to_path_buf(),
            reason: e.to_string(),
        })?
        .into_bytes();
    let write_to = |p: &Path| -> Result<PathBuf, SessionError> {
        if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| SessionError::Write {
                path: p.to_path_buf(),
                reason: e.to_string(),
            })?;
        }
        super::write_atomic(p, &bytes).map_err(|e| SessionError::Write {
            path: p.to_path_buf(),
            reason: e.to_string(),
        })?;
        Ok(p.to_path_buf())
    };
    if let Some(t) = target {
        return write_to(t);
    }
    // A folder without write permission (e.g. a shared, read-only data set) is left alone
    // even when the process could write it anyway (root).
    let read_only = default
        .parent()
        .and_then(|d| std::fs::metadata(d).ok())
        .is_some_and(|m| m.permissions().readonly());
    if read_only && let Some(fb) = fallback_path(&file.study) {
        return write_to(&fb);
    }
    match write_to(default) {
        Ok(p) => Ok(p),
        Err(first) => match fallback_path(&file.study) {
            Some(fb) => write_to(&fb).map_err(|_| first),
            None => Err(first),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phantom::{PhantomConfig, phantom};

    fn session_of(study: &Study) -> Session {
        let labels = study
            .reference_labels
            .clone()
            .unwrap_or_else(|| crate::study::LabelStack::empty(study.cine.dims()));
        let mut review = crate::qc::Review::default();
        review.set_confidence(1, 2, Some(0.25));
        review.set_reviewed(0, 3, Some("Dr Test".into()), 1_800_000_000);
        Session {
            contours: ContourSet::from_labels(&labels, Source::Auto),
            overrides: Overrides {
                reviewer: Some("Dr Test".into()),
                height_cm: Some(171.0),
                ..Overrides::default()
            },
            review,
        }
    }

    #[test]
    fn a_session_survives_the_round_trip_through_json() {
        let study = phantom(&PhantomConfig::default()).study;
        let s = session_of(&study);
        assert!(!s.contours.is_empty());
        let file = SessionFile::new(&study, &s, (Some(0), Some(3)));
        let text = to_text(&file).unwrap_or_default();
        assert!(
            text.lines().count() > file.contours.len(),
            "one line per contour"
        );
        let back: SessionFile = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        let restored = back
            .into_session(&study, Path::new("x.json"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(restored, s);
    }

    #[test]
    fn other_studies_and_bad_content_are_refused() {
        let study = phantom(&PhantomConfig::default()).study;
        let other = phantom(&PhantomConfig {
            phases: PhantomConfig::default().phases + 2,
            ..PhantomConfig::default()
        })
        .study;
        let file = SessionFile::new(&study, &session_of(&study), (None, None));
        assert!(matches!(
            file.clone().into_session(&other, Path::new("x")),
            Err(SessionError::Foreign { .. })
        ));
        let mut f = file.clone();
        f.study.series_instance_uid = Some("1.2.3".into());
        let mut shifted = study.clone();
        shifted.info.series_instance_uid = Some("1.2.4".into());
        assert!(matches!(
            f.into_session(&shifted, Path::new("x")),
            Err(SessionError::Foreign { .. })
        ));
        let mut f = file.clone();
        f.contours.push(f.contours[0].clone());
        assert!(matches!(
            f.into_session(&study, Path::new("x")),
            Err(SessionError::Broken { .. })
        ));
        let mut f = file.clone();
        f.contours[0].phase = 999;
        assert!(matches!(
            f.into_session(&study, Path::new("x")),
            Err(SessionError::Broken { .. })
        ));
        // A point far off the image (1e300 gave an LVEDV of 1396 mL) is refused.
        let mut f = file.clone();
        f.contours[0].points[0] = [1e300, 3.0];
        let e = f.into_session(&study, Path::new("x"));
        assert!(
            matches!(&e, Err(SessionError::Broken { reason, .. }) if reason.contains("outside the")),
            "{e:?}"
        );
        let mut f = file.clone();
        let cols = study.cine.dims().columns as f64;
        f.contours[0].points[0] = [cols + 0.4, 3.0];
        assert!(
            f.into_session(&study, Path::new("x")).is_ok(),
            "on the image's edge is fine"
        );
        let mut f = file.clone();
        f.version = 99;
        assert!(matches!(
            f.into_session(&study, Path::new("x")),
            Err(SessionError::Broken { .. })
        ));
        let mut f = file.clone();
        f.overrides.weight_kg = Some(-3.0);
        assert!(matches!(
            f.into_session(&study, Path::new("x")),
            Err(SessionError::Broken { .. })
        ));
        // Review data off the study's grid or a confidence outside 0..1.
        let d = study.cine.dims();
        let mut f = file.clone();
        f.confidence[0].confidence = 1.5;
        assert!(matches!(
            f.into_session(&study, Path::new("x")),
            Err(SessionError::Broken { .. })
        ));
        let mut f = file;
        f.reviewed[0].slice = d.slices;
        assert!(matches!(
            f.into_session(&study, Path::new("x")),
            Err(SessionError::Broken { .. })
        ));
    }

    #[test]
    fn a_read_only_study_folder_is_never_written() {
        let study = phantom(&PhantomConfig::default()).study;
        let file = SessionFile::new(&study, &session_of(&study), (None, None));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let folder = dir.path().join("study");
        std::fs::create_dir(&folder).unwrap_or_else(|e| panic!("{e}"));
        let mut perm = std::fs::metadata(&folder)
            .unwrap_or_else(|e| panic!("{e}"))
            .permissions();
        perm.set_readonly(true);
        std::fs::set_permissions(&folder, perm).unwrap_or_else(|e| panic!("{e}"));
        // The fallback is under XDG_DATA_HOME; the test names it through the identity only.
        let written =
            write(&file, &default_path(&folder, None), None).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !written.starts_with(&folder),
            "{} is inside the read-only folder",
            written.display()
        );
        assert_eq!(Some(written.clone()), fallback_path(&file.study));
        let _ = std::fs::remove_file(written);
    }

    #[test]
    fn paths_sit_in_the_folder_or_beside_the_file() {
        let dir = std::env::temp_dir();
        assert_eq!(default_path(&dir, None), dir.join(FILE_NAME));
        assert_eq!(
            default_path(Path::new("/data/p1/scan.nii.gz"), None),
            PathBuf::from("/data/p1/scan.nii.gz.systole-session.json")
        );
        // Another stack of the exam keeps a file of its own, named by its UID.
        assert_eq!(
            default_path(&dir, Some("stack:1.2.840.5")),
            dir.join("systole-session.stack_1.2.840.5.json")
        );
        assert_eq!(
            default_path(Path::new("/data/p1/im.dcm"), Some("1.2/3")),
            PathBuf::from("/data/p1/im.dcm.1.2_3.systole-session.json")
        );
    }
}
