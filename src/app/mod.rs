//! The viewer (eframe + wgpu): the only module that imports egui. `App` holds the state;
//! UI code sends [`Command`]s; loading and segmentation run in background jobs
//! ([`jobs`]); the picture is drawn by our wgpu callback ([`render`]) or, without wgpu, an
//! egui texture with the same look.

pub mod dialogs;
pub mod document;
pub mod editing;
pub mod jobs;
pub mod long_axis;
pub mod recent;
pub mod render;
mod review;
mod saver;
pub mod tools;
pub mod ui;
pub mod view;

use crate::contour::outline::{Structure, outline};
use crate::io::Loaded;
use crate::measure::{BsaFormula, Context};
use crate::phantom::{PhantomConfig, phantom};
use crate::study::{KeyPhases, Study};
use jobs::{Job, LoadMsg, SegMsg};
use render::{ImageData, ImageKey};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::TryRecvError;

/// Contour segments of one image per structure (see [`outline`]).
pub type Outlines = Vec<(Structure, Vec<[[f32; 2]; 2]>)>;

/// How the viewer was started.
#[derive(Debug, Clone, Default)]
pub struct LaunchOptions {
    pub path: Option<PathBuf>,
    /// `--series`: the stack to show instead of the one the loader picks.
    pub series: Option<String>,
    /// Screenshot mode: render, save this PNG and exit.
    pub screenshot: Option<PathBuf>,
    pub segment: bool,
    pub slice: Option<usize>,
    pub phase: Option<usize>,
    /// `--session FILE`: the session to read and save instead of the study's own.
    pub session: Option<PathBuf>,
    /// Screenshot mode: also write the panel's measures (`systole measure --json` keys).
    pub measures_json: Option<PathBuf>,
}

/// Where the labels shown come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelSource {
    Reference,
    Automatic,
}

/// Requests from the UI, applied in the logic step.
#[derive(Debug, Clone)]
pub enum Command {
    Open(PathBuf),
    /// Show another stack of the open exam (a series UID or assembled stack id, as
    /// `--series` takes): the folder is read again with that stack chosen.
    OpenSeries(String),
    OpenDialog {
        folder: bool,
    },
    OpenPhantom,
    Segment,
    /// Segment again and replace manual contours too.
    SegmentReplacingManual,
    CancelSegment,
    Undo,
    Redo,
    /// Height, weight, ED/ES, reviewer or conclusion changed: recompute and save.
    OverridesChanged,
    /// Ask where to save, then export (File -> Export ...).
    ExportDialog(editing::Export),
    /// Type where to save, then export (File -> Export to path).
    ExportPath(editing::Export),
    /// Type the path of a study to open (File -> Open path).
    OpenPath,
    Go {
        phase: usize,
        slice: usize,
    },
    /// Show the next image of the review queue.
    NextToReview,
    /// Mark the image on screen reviewed (or not); with `then_next`, go on to the next.
    MarkReviewed {
        reviewed: bool,
        then_next: bool,
    },
}

/// The loaded study and everything derived from it.
pub struct OpenStudy {
    pub study: Study,
    pub cine: Arc<crate::study::CineStack>,
    pub id: u64,
    pub name: String,
    pub skipped: Vec<String>,
    /// The files the study was read from: exports never replace one.
    pub inputs: Vec<PathBuf>,
}

pub struct App {
    /// The open study, its review and its views (replaced as a whole on opening).
    pub doc: document::Document,
    pub error: Option<String>,
    pub show_help: bool,
    pub loading: Option<(PathBuf, Job<LoadMsg>)>,
    /// Progress of the load in `loading`.
    pub load_progress: Arc<crate::io::LoadProgress>,
    pub segmenting: Option<Job<SegMsg>>,
    pub commands: Vec<Command>,
    pub recent: recent::Recent,
    pub wgpu: bool,
    pub launch: LaunchOptions,
    pub screenshot_state: ScreenshotState,
    /// Set when screenshot mode ends: the exit status for `main`.
    pub exit: Arc<std::sync::Mutex<Option<Result<(), String>>>>,
    /// The autosave's writer thread.
    saver: saver::Saver,
    /// The system file dialog, while it is open (its thread's answer arrives on `rx`).
    pub dialog: Option<dialogs::Pending>,
    /// The in-app path field (File -> Open path, or when no system dialog works).
    pub path_prompt: Option<dialogs::PathPrompt>,
    /// A confirmation to show (e.g. where an export went).
    pub notice: Option<String>,
    /// Where the last export went: the default folder of the next one.
    pub last_export_dir: Option<PathBuf>,
    last_phase_step: f64,
    next_study_id: u64,
}

/// How a segmentation run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegEnd {
    Done,
    Cancelled,
    Failed,
}

/// Progress of the last segmentation run, phase by phase.
#[derive(Debug, Clone, PartialEq)]
pub struct SegRun {
    pub phases_done: Vec<bool>,
    pub ended: Option<SegEnd>,
}

impl SegRun {
    pub fn done(&self) -> usize {
        self.phases_done.iter().filter(|d| **d).count()
    }

    /// Whether some phases were never segmented (still running, cancelled or failed).
    pub fn incomplete(&self) -> bool {
        self.done() < self.phases_done.len()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ScreenshotState {
    Off,
    Waiting { frames: u32 },
    Requested,
    Done,
}

impl App {
    pub fn new(launch: LaunchOptions, wgpu: bool, ctx: &egui::Context) -> App {
        let mut app = App {
            doc: document::Document::default(),
            error: None,
            show_help: false,
            loading: None,
            load_progress: Arc::default(),
            segmenting: None,
            commands: Vec::new(),
            recent: recent::Recent::load(),
            wgpu,
            screenshot_state: if launch.screenshot.is_some() {
                ScreenshotState::Waiting { frames: 0 }
            } else {
                ScreenshotState::Off
            },
            launch: launch.clone(),
            exit: Arc::default(),
            dialog: None,
            saver: {
                let ctx = ctx.clone();
                saver::Saver::new(move || ctx.request_repaint())
            },
            path_prompt: None,
            notice: None,
            last_export_dir: None,
            last_phase_step: 0.0,
            next_study_id: 1,
        };
        match launch.path {
            Some(p) => app.start_load_series(p, launch.series, ctx),
            None => app.open_phantom(),
        }
        app
    }

    /// Shows a study that is already loaded (tests, benchmarks, the phantom).
    pub fn open_study(&mut self, study: Study, name: &str) {
        let id = self.next_study_id;
        self.next_study_id += 1;
        self.install(
            OpenStudy {
                cine: Arc::new(study.cine.clone()),
                study,
                id,
                name: name.to_string(),
                skipped: Vec::new(),
                inputs: Vec::new(),
            },
            None,
        );
    }

    /// Like [`App::open_study`] for a study read from `path`: its session file is restored
    /// and every change is saved there.
    pub fn open_study_at(&mut self, study: Study, path: PathBuf) {
        let inputs = vec![path.clone()];
        self.install_at(study, path, Vec::new(), inputs);
    }

    /// Installs a study read from `path`, named after it.
    fn install_at(
        &mut self,
        study: Study,
        path: PathBuf,
        skipped: Vec<String>,
        inputs: Vec<PathBuf>,
    ) {
        let id = self.next_study_id;
        self.next_study_id += 1;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        self.install(
            OpenStudy {
                cine: Arc::new(study.cine.clone()),
                study,
                id,
                name,
                skipped,
                inputs,
            },
            Some(path),
        );
    }

    fn open_phantom(&mut self) {
        let p = phantom(&PhantomConfig::default());
        self.install(
            OpenStudy {
                cine: Arc::new(p.study.cine.clone()),
                study: p.study,
                id: 0,
                name: "Phantom (synthetic)".into(),
                skipped: Vec::new(),
                inputs: Vec::new(),
            },
            None,
        );
    }

    fn start_load(&mut self, path: PathBuf, ctx: &egui::Context) {
        self.start_load_series(path, None, ctx);
    }

    /// Loads `path` in the background, with `series` as the stack when given.
    fn start_load_series(&mut self, path: PathBuf, series: Option<String>, ctx: &egui::Context) {
        if let Some((_, job)) = &self.loading {
            job.handles
                .cancel
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        self.load_progress = Arc::default();
        self.loading = Some((
            path.clone(),
            jobs::load(path, series, self.load_progress.clone(), ctx.clone()),
        ));
    }

    fn install(&mut self, loaded: OpenStudy, path: Option<PathBuf>) {
        // The previous study's last change reaches the disk (and its outcome is shown for
        // that study) before anything is read for the next one, which may be the same
        // study opened again.
        self.flush_saves();
        if let Some(job) = &self.segmenting {
            job.handles
                .cancel
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        self.segmenting = None;
        self.doc = document::Document::open(
            loaded,
            path,
            self.launch.session.clone(),
            self.launch.slice.take(),
            self.launch.phase.take(),
        );
        self.recompute_measures();
        self.restore_session();
    }

    /// The measurement context: the study's, with the user's height, weight and ED/ES.
    pub fn context(&self) -> Option<Context> {
        let cur = self.doc.current.as_ref()?;
        let mut ctx = Context::of(&cur.study, BsaFormula::Mosteller);
        ctx.height_cm = self.doc.review.height_cm;
        ctx.weight_kg = self.doc.review.weight_kg;
        ctx.sex = self.doc.review.sex;
        ctx.stated = KeyPhases {
            ed: self.doc.review.key_override.ed.or(ctx.stated.ed),
            es: self.doc.review.key_override.es.or(ctx.stated.es),
        };
        Some(ctx)
    }

    /// Recounts every image and recomputes the measures (edits use the incremental path).
    pub fn recompute_measures(&mut self) {
        self.doc.review.measures = None;
        self.doc.review.qc_flags.clear();
        self.rebuild_engine();
        self.measures_from_engine();
    }

    /// The image on screen, rebuilt only when the study, position or labels change.
    pub fn shown_image(&mut self) -> Option<Arc<ImageData>> {
        let cur = self.doc.current.as_ref()?;
        let view = self.doc.views.sax.as_ref()?;
        let key = ImageKey {
            study: cur.id,
            phase: view.phase,
            slice: view.slice,
            labels_version: self.doc.review.labels_version,
        };
        if self.doc.views.shown.as_ref().is_none_or(|s| s.key != key) {
            let d = cur.cine.dims();
            let labels = match &self.doc.review.labels {
                Some(l) if !l.annotated(view.phase, view.slice).is_empty() => {
                    l.image(view.phase, view.slice).to_vec()
                }
                _ => vec![0; d.pixels_per_image()],
            };
            self.doc.views.shown = Some(Arc::new(ImageData {
                key,
                columns: d.columns as u32,
                rows: d.rows as u32,
                intensity: Arc::new(cur.cine.image(view.phase, view.slice).to_vec()),
                labels: Arc::new(labels),
            }));
        }
        self.doc.views.shown.clone()
    }

    /// Contour segments of the shown image, cached per image.
    pub fn outlines(&mut self) -> &[(Structure, Vec<[[f32; 2]; 2]>)] {
        let Some(img) = self.shown_image() else {
            return &[];
        };
        if self
            .doc
            .views
            .outlines
            .as_ref()
            .is_none_or(|(k, _)| *k != img.key)
        {
            let v = Structure::ALL
                .iter()
                .map(|&s| (s, outline(&img.labels, img.columns as usize, s)))
                .collect();
            self.doc.views.outlines = Some((img.key, v));
        }
        self.doc
            .views
            .outlines
            .as_ref()
            .map_or(&[], |(_, v)| v.as_slice())
    }

    /// Outline segments of the study's expert contours on the image on screen (every
    /// structure), empty where there are none.
    pub fn reference_outlines(&self) -> Vec<Vec<[[f32; 2]; 2]>> {
        let (Some(cur), Some(v)) = (&self.doc.current, &self.doc.views.sax) else {
            return Vec::new();
        };
        let Some(reference) = &cur.study.reference_labels else {
            return Vec::new();
        };
        if reference.annotated(v.phase, v.slice).is_empty() {
            return Vec::new();
        }
        let img = reference.image(v.phase, v.slice);
        Structure::ALL
            .iter()
            .map(|&s| outline(img, cur.cine.dims().columns, s))
            .collect()
    }

    /// Applies queued commands and finished background work (the logic step).
    pub fn logic(&mut self, ctx: &egui::Context) {
        for cmd in std::mem::take(&mut self.commands) {
            self.apply(cmd, ctx);
        }
        self.poll_jobs(ctx);
        self.poll_saves();
        self.advance_playback(ctx);
        self.screenshot_logic(ctx);
    }

    fn apply(&mut self, cmd: Command, ctx: &egui::Context) {
        match cmd {
            Command::Open(p) => self.start_load(p, ctx),
            Command::OpenSeries(uid) => match self.doc.review.session.study_path.clone() {
                Some(p) => self.start_load_series(p, Some(uid), ctx),
                None => self.error = Some("this study was not read from disk".into()),
            },
            Command::OpenPhantom => self.open_phantom(),
            Command::OpenDialog { folder } => {
                self.start_dialog(dialogs::Purpose::Open, folder, ctx)
            }
            Command::OpenPath => {
                self.path_prompt = Some(dialogs::PathPrompt {
                    purpose: dialogs::Purpose::Open,
                    text: String::new(),
                    note: None,
                })
            }
            Command::Segment | Command::SegmentReplacingManual => {
                if self.segmenting.is_none()
                    && let (Some(cur), Some(v)) = (&self.doc.current, &self.doc.views.sax)
                {
                    self.doc.review.seg_replace_manual =
                        matches!(cmd, Command::SegmentReplacingManual);
                    self.doc.review.seg_run = Some(SegRun {
                        phases_done: vec![false; cur.cine.dims().phases],
                        ended: None,
                    });
                    self.segmenting = Some(jobs::segment(cur.cine.clone(), v.phase, ctx.clone()));
                }
            }
            Command::ExportDialog(kind) => {
                self.start_dialog(dialogs::Purpose::Export(kind), false, ctx)
            }
            Command::ExportPath(kind) => {
                let text = self.export_path(kind).display().to_string();
                self.path_prompt = Some(dialogs::PathPrompt {
                    purpose: dialogs::Purpose::Export(kind),
                    text,
                    note: None,
                });
            }
            Command::Undo => self.undo(),
            Command::Redo => self.redo(),
            Command::OverridesChanged => {
                self.measures_from_engine();
                self.autosave();
            }
            Command::CancelSegment => {
                if let Some(job) = &self.segmenting {
                    job.handles
                        .cancel
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
            Command::NextToReview => self.go_to_next_review(),
            Command::MarkReviewed {
                reviewed,
                then_next,
            } => {
                self.set_current_reviewed(reviewed);
                if then_next {
                    self.go_to_next_review();
                }
            }
            Command::Go { phase, slice } => {
                if let (Some(cur), Some(v)) = (&self.doc.current, &mut self.doc.views.sax) {
                    let d = cur.cine.dims();
                    v.phase = phase.min(d.phases.saturating_sub(1));
                    v.slice = slice.min(d.slices.saturating_sub(1));
                }
            }
        }
    }

    fn poll_jobs(&mut self, ctx: &egui::Context) {
        self.poll_dialog(ctx);
        if let Some((path, job)) = &self.loading {
            match job.rx.try_recv() {
                Ok(LoadMsg::Done(loaded)) => {
                    let path = path.clone();
                    self.loading = None;
                    self.finish_load(path, *loaded);
                }
                Ok(LoadMsg::Failed(e)) => {
                    self.error = Some(e);
                    self.loading = None;
                }
                Err(TryRecvError::Disconnected) => {
                    self.error = Some("loading stopped unexpectedly".into());
                    self.loading = None;
                }
                Err(TryRecvError::Empty) => {}
            }
        }
        let mut finished = false;
        let mut msgs = Vec::new();
        if let Some(job) = &self.segmenting {
            loop {
                match job.rx.try_recv() {
                    Ok(m) => msgs.push(m),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        finished = true;
                        break;
                    }
                }
            }
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
        for m in msgs {
            match m {
                SegMsg::Phase(phase) => {
                    self.merge_phase(&phase, self.doc.review.seg_replace_manual)
                }
                SegMsg::Done => {
                    self.end_seg_run(SegEnd::Done);
                    self.autosave();
                }
                SegMsg::Failed(e) => {
                    self.error = Some(format!("segmentation failed: {e}"));
                    self.end_seg_run(SegEnd::Failed);
                }
                SegMsg::Cancelled => {
                    self.end_seg_run(SegEnd::Cancelled);
                    self.autosave();
                }
            }
        }
        if finished {
            self.segmenting = None;
            // A job that vanished without a final word did not finish.
            if self
                .doc
                .review
                .seg_run
                .as_ref()
                .is_some_and(|r| r.ended.is_none())
            {
                self.end_seg_run(SegEnd::Failed);
            }
        }
    }

    fn finish_load(&mut self, path: PathBuf, loaded: Loaded) {
        // Screenshot mode renders and exits: it leaves the user's Recent list alone.
        if self.launch.screenshot.is_none() {
            self.recent.add(&path);
        }
        let skipped = loaded
            .report
            .skipped
            .iter()
            .map(|s| format!("{}: {}", s.path.display(), s.reason))
            .collect();
        self.install_at(loaded.study, path, skipped, loaded.report.inputs);
        if self.launch.segment {
            self.commands.push(Command::Segment);
        }
    }

    fn advance_playback(&mut self, ctx: &egui::Context) {
        let (Some(cur), Some(v)) = (&self.doc.current, &mut self.doc.views.sax) else {
            return;
        };
        if !v.playing {
            return;
        }
        let now = ctx.input(|i| i.time);
        let dt = view::phase_interval_s(&cur.cine, v.speed);
        let phases = cur.cine.dims().phases;
        let (steps, next) = view::playback_steps(now, self.last_phase_step, dt, phases);
        v.step_phase(steps as isize, phases);
        self.last_phase_step = next;
        ctx.request_repaint_after(std::time::Duration::from_secs_f64(dt.max(0.001)));
    }

    fn screenshot_logic(&mut self, ctx: &egui::Context) {
        let ScreenshotState::Waiting { frames } = self.screenshot_state else {
            return;
        };
        if let Some(e) = &self.error {
            *self.exit.lock().unwrap_or_else(|p| p.into_inner()) = Some(Err(e.clone()));
            self.screenshot_state = ScreenshotState::Done;
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        let ready = self.doc.current.is_some()
            && self.loading.is_none()
            && self.segmenting.is_none()
            && !(self.launch.segment
                && self.commands.iter().any(|c| matches!(c, Command::Segment)));
        let ready = ready
            && (!self.launch.segment
                || self.doc.review.label_source == Some(LabelSource::Automatic));
        if !ready {
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
            return;
        }
        // Let a few frames settle (layout, texture upload) before taking the picture.
        if frames < 3 {
            self.screenshot_state = ScreenshotState::Waiting { frames: frames + 1 };
            ctx.request_repaint();
            return;
        }
        let Some(path) = self.launch.screenshot.clone() else {
            return;
        };
        if let Some(out) = self.launch.measures_json.clone()
            && let Err(e) = self.write_measures_json(&out)
        {
            *self.exit.lock().unwrap_or_else(|p| p.into_inner()) = Some(Err(e));
            self.screenshot_state = ScreenshotState::Done;
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        let exit = self.exit.clone();
        let repaint = ctx.clone();
        ctx.request_screenshot(move |image| {
            let r = save_png(&path, &image);
            *exit.lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
            repaint.send_viewport_cmd(egui::ViewportCommand::Close);
            repaint.request_repaint();
        });
        self.screenshot_state = ScreenshotState::Requested;
    }
}

impl App {
    /// Writes the measures the panel shows now, as `systole measure --json` does.
    pub fn write_measures_json(&self, path: &std::path::Path) -> Result<(), String> {
        let m = self
            .doc
            .review
            .measures
            .as_ref()
            .ok_or("there are no measures to write: the study has no contours")?;
        let warnings = self
            .doc
            .current
            .as_ref()
            .map_or(&[][..], |c| c.study.warnings.as_slice());
        let doc = crate::qc::measures_document(m, warnings, &self.doc.review.qc_flags);
        let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
        crate::io::write_atomic(path, text.as_bytes()).map_err(|e| format!("{e}"))
    }
}

/// Writes an RGBA image as PNG, atomically.
pub fn save_png(path: &std::path::Path, image: &egui::ColorImage) -> Result<(), String> {
    let [w, h] = image.size;
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, w as u32, h as u32);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(|e| e.to_string())?;
        let data: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
        writer.write_image_data(&data).map_err(|e| e.to_string())?;
    }
    crate::io::write_atomic(path, &bytes).map_err(|e| e.to_string())
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        App::logic(self, ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        ui::show(self, ui);
    }

    /// The last change reaches the disk before the window goes.
    fn on_exit(&mut self) {
        self.flush_saves();
    }
}

/// Opens the window; returns when it closes. In screenshot mode, the result says whether
/// the picture was saved.
pub fn run(launch: LaunchOptions) -> Result<(), String> {
    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Wgpu,
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1400.0, 900.0])
            .with_title("Systole"),
        ..Default::default()
    };
    let exit: Arc<std::sync::Mutex<Option<Result<(), String>>>> = Arc::default();
    let exit2 = exit.clone();
    let screenshot = launch.screenshot.is_some();
    eframe::run_native(
        "Systole",
        options,
        Box::new(move |cc| {
            let wgpu = match &cc.wgpu_render_state {
                Some(rs) => {
                    render::install(rs);
                    true
                }
                None => false,
            };
            let mut app = App::new(launch, wgpu, &cc.egui_ctx);
            app.exit = exit2;
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| format!("cannot open the window: {e}"))?;
    let result = exit.lock().unwrap_or_else(|p| p.into_inner()).take();
    match (screenshot, result) {
        (true, None) => Err("the window closed before the screenshot was taken".into()),
        (_, Some(r)) => r,
        (false, None) => Ok(()),
    }
}
