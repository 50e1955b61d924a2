//! Choosing paths: the system's file dialog (rfd) in a thread of its own, and an in-app
//! path field that always works: from File -> Open path / Export to path, and in place of a
//! system dialog that gave up at once (no xdg portal or zenity on the machine). Default
//! export names come from the study.

use super::editing::Export;
use super::{App, Command};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

/// A system dialog that answers "nothing chosen" sooner than this never showed itself.
const DIALOG_GAVE_UP: Duration = Duration::from_millis(700);

/// What a chosen path is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Open,
    Export(Export),
}

/// The in-app path field.
#[derive(Debug, Clone, PartialEq)]
pub struct PathPrompt {
    pub purpose: Purpose,
    pub text: String,
    /// Why the field is shown instead of the system dialog, when it is.
    pub note: Option<String>,
}

/// A system dialog running in its own thread.
pub struct Pending {
    pub purpose: Purpose,
    pub rx: Receiver<Option<PathBuf>>,
    pub started: Instant,
    /// What the in-app field would offer if the dialog gives up.
    pub fallback: String,
}

/// What a pending dialog has to say this frame.
pub enum Answer {
    Waiting,
    Chosen(PathBuf),
    Cancelled,
    /// The dialog answered at once without showing itself: offer the path field.
    Unavailable,
}

impl Pending {
    pub fn poll(&self) -> Answer {
        match self.rx.try_recv() {
            Ok(Some(p)) => Answer::Chosen(p),
            Ok(None) | Err(TryRecvError::Disconnected)
                if self.started.elapsed() < DIALOG_GAVE_UP =>
            {
                Answer::Unavailable
            }
            Ok(None) | Err(TryRecvError::Disconnected) => Answer::Cancelled,
            Err(TryRecvError::Empty) => Answer::Waiting,
        }
    }
}

/// File name stem of a study path: `SCD0000101` for a folder, `patient001_frame01` for
/// `patient001_frame01.nii.gz`.
pub fn study_stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "study".into());
    let lower = name.to_ascii_lowercase();
    for ext in [".nii.gz", ".nii", ".dcm", ".ima"] {
        if lower.ends_with(ext) {
            return name[..name.len() - ext.len()].to_string();
        }
    }
    name
}

/// Where an export goes by default: `STEM_report.pdf` (and so on) in the last export
/// folder, else beside the study (the folder that holds it).
pub fn default_export_path(study: Option<&Path>, last_dir: Option<&Path>, kind: Export) -> PathBuf {
    let stem = study.map_or_else(|| "phantom".to_string(), study_stem);
    let (name, _) = kind.default_name();
    let file = format!("{stem}_{name}");
    let dir = last_dir
        .map(Path::to_path_buf)
        .or_else(|| study.and_then(|s| s.parent()).map(Path::to_path_buf))
        .unwrap_or_default();
    dir.join(file)
}

impl App {
    /// The default path of an export of the open study.
    pub fn export_path(&self, kind: Export) -> PathBuf {
        default_export_path(
            self.doc.review.session.study_path.as_deref(),
            self.last_export_dir.as_deref(),
            kind,
        )
    }

    /// Opens the system dialog for `purpose` in its own thread.
    pub(super) fn start_dialog(&mut self, purpose: Purpose, folder: bool, ctx: &egui::Context) {
        let (tx, rx) = std::sync::mpsc::channel();
        let repaint = ctx.clone();
        let suggested = match purpose {
            Purpose::Open => None,
            Purpose::Export(kind) => Some(self.export_path(kind)),
        };
        let fallback = suggested
            .as_ref()
            .map_or_else(String::new, |p| p.display().to_string());
        // rfd's dialog blocks its own thread, never the UI's.
        let _ = std::thread::Builder::new()
            .name("systole-dialog".into())
            .spawn(move || {
                let picked = match (purpose, suggested) {
                    (Purpose::Export(kind), Some(path)) => {
                        let (_, ext) = kind.default_name();
                        let mut d = rfd::FileDialog::new()
                            .set_title("Export")
                            .add_filter(ext, &[ext]);
                        if let Some(name) = path.file_name() {
                            d = d.set_file_name(name.to_string_lossy());
                        }
                        if let Some(dir) = path.parent().filter(|p| p.is_dir()) {
                            d = d.set_directory(dir);
                        }
                        d.save_file()
                    }
                    _ => {
                        let d = rfd::FileDialog::new().set_title("Open a CMR study");
                        if folder {
                            d.pick_folder()
                        } else {
                            d.add_filter("DICOM or NIfTI", &["dcm", "nii", "gz", "IMA"])
                                .pick_file()
                        }
                    }
                };
                let _ = tx.send(picked);
                repaint.request_repaint();
            });
        self.dialog = Some(Pending {
            purpose,
            rx,
            started: Instant::now(),
            fallback,
        });
    }

    /// Picks up the system dialog's answer.
    pub(super) fn poll_dialog(&mut self, ctx: &egui::Context) {
        let Some(pending) = &self.dialog else { return };
        match pending.poll() {
            Answer::Waiting => {}
            Answer::Cancelled => self.dialog = None,
            Answer::Chosen(p) => {
                let purpose = pending.purpose;
                self.dialog = None;
                self.use_path(purpose, p, ctx);
            }
            Answer::Unavailable => {
                let (purpose, text) = (pending.purpose, pending.fallback.clone());
                self.dialog = None;
                let note = "No system file dialog answered (it needs an xdg desktop portal or zenity): type the path instead.".to_string();
                self.path_prompt = Some(PathPrompt {
                    purpose,
                    text,
                    note: Some(note),
                });
            }
        }
    }

    /// Opens or exports to a chosen path; exports are confirmed with their path.
    pub(super) fn use_path(&mut self, purpose: Purpose, path: PathBuf, ctx: &egui::Context) {
        match purpose {
            Purpose::Open => self.apply(Command::Open(path), ctx),
            Purpose::Export(kind) => match self.export(kind, &path) {
                Ok(()) => {
                    self.last_export_dir = path.parent().map(Path::to_path_buf);
                    self.notice = Some(format!("Exported {} to {}", kind.title(), path.display()));
                }
                Err(e) => self.error = Some(format!("export failed: {e}")),
            },
        }
    }

    /// Shows the in-app path field, when open.
    pub fn path_prompt_window(&mut self, ctx: &egui::Context) {
        let Some(prompt) = &mut self.path_prompt else {
            return;
        };
        let title = match prompt.purpose {
            Purpose::Open => "Open a study".to_string(),
            Purpose::Export(kind) => format!("Export {}", kind.title()),
        };
        let mut go = false;
        let mut close = false;
        egui::Window::new(title).collapsible(false).show(ctx, |ui| {
            if let Some(note) = &prompt.note {
                ui.label(note);
            }
            let field = ui.add(
                egui::TextEdit::singleline(&mut prompt.text)
                    .desired_width(420.0)
                    .hint_text("/path/to/study or file"),
            );
            go |= field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            ui.horizontal(|ui| {
                go |= ui
                    .button(if prompt.purpose == Purpose::Open {
                        "Open"
                    } else {
                        "Export"
                    })
                    .clicked();
                close |= ui.button("Cancel").clicked();
            });
        });
        if close {
            self.path_prompt = None;
        } else if go && !prompt.text.trim().is_empty() {
            let (purpose, path) = (prompt.purpose, PathBuf::from(prompt.text.trim()));
            self.path_prompt = None;
            self.use_path(purpose, path, ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_names_come_from_the_study() {
        let study = Path::new("/data/sunnybrook/SCD0000101");
        assert_eq!(
            default_export_path(Some(study), None, Export::ReportPdf),
            PathBuf::from("/data/sunnybrook/SCD0000101_report.pdf")
        );
        let nii = Path::new("/x/patient001_frame01.nii.gz");
        assert_eq!(
            default_export_path(Some(nii), Some(Path::new("/out")), Export::LabelsNifti),
            PathBuf::from("/out/patient001_frame01_labels.nii.gz")
        );
        assert_eq!(
            default_export_path(None, None, Export::ContoursCsv),
            PathBuf::from("phantom_contours.csv")
        );
    }
}
