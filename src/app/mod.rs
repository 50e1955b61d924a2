//! The viewer (eframe + wgpu): the only module that imports egui. `App` holds the state;
//! UI code sends [`Command`]s; loading and segmentation run in background jobs
//! ([`jobs`]); the picture is drawn by our wgpu callback ([`render`]) or, without wgpu, an
//! egui texture with the same look.

pub mod dialogs;
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
use crate::contour::set::ContourSet;
use crate::io::Loaded;
use crate::measure::{BsaFormula, Context, Engine, Measures};
use crate::phantom::{PhantomConfig, phantom};
use crate::study::{KeyPhases, LabelStack, Study};
use jobs::{Job, LoadMsg, SegMsg};
use render::{ImageData, ImageKey};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::TryRecvError;
use view::ViewState;

/// Contour segments of one image per structure (see [`outline`]).
pub type Outlines = Vec<(Structure, Vec<[[f32; 2]; 2]>)>;

/// How the viewer was started.
#[derive(Debug, Clone, Default)]
pub struct LaunchOptions {
    pub path: Option<PathBuf>,
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
    pub current: Option<OpenStudy>,
    /// The editable contours (automatic and manual); `None` until segmented, restored or
    /// drawn. When present, the labels shown and measured are rasterised from them.
    pub contours: Option<ContourSet>,
    pub edit: editing::EditState,
    pub session: editing::SessionState,
    engine: Option<Engine>,
    /// The rule checks' per-image part, updated with the engine.
    checker: Option<crate::qc::Checker>,
    /// The last segmentation run: which phases are final.
    pub seg_run: Option<SegRun>,
    seg_replace_manual: bool,
    /// Where the image sits on screen: (top-left corner of the image, points per pixel),
    /// as last drawn. Pixel (column, row) centre = corner + (column + 0.5, row + 0.5) * scale.
    pub viewport_map: Option<(egui::Pos2, f32)>,
    pub labels: Option<LabelStack>,
    pub label_source: Option<LabelSource>,
    pub labels_version: u64,
    pub view: Option<ViewState>,
    pub measures: Option<Measures>,
    /// The rule checks on the labels measured, recomputed with the measures.
    pub qc_flags: Vec<crate::qc::QcFlag>,
    /// The network's confidence in each image and which images were marked reviewed
    /// (kept in the session).
    pub review: crate::qc::Review,
    /// User's values where the study lacks them or the user overrides them.
    pub height_cm: Option<f64>,
    pub weight_kg: Option<f64>,
    pub sex: Option<crate::study::Sex>,
    pub age_years: Option<f64>,
    pub key_override: KeyPhases,
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
    shown: Option<Arc<ImageData>>,
    outlines: Option<(ImageKey, Outlines)>,
    cpu_texture: Option<(ImageKey, render::SliceUniforms, egui::TextureHandle)>,
    /// The thumbnail atlas of the matrix, per study id.
    thumbs: Option<(u64, egui::TextureHandle)>,
    /// The long-axis pane beside the short-axis view.
    pub lax: long_axis::LaxPane,
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
            current: None,
            contours: None,
            edit: editing::EditState::default(),
            session: editing::SessionState {
                explicit: launch.session.clone(),
                ..Default::default()
            },
            engine: None,
            checker: None,
            seg_run: None,
            seg_replace_manual: false,
            viewport_map: None,
            labels: None,
            label_source: None,
            labels_version: 0,
            qc_flags: Vec::new(),
            review: crate::qc::Review::default(),
            view: None,
            measures: None,
            height_cm: None,
            weight_kg: None,
            sex: None,
            age_years: None,
            key_override: KeyPhases::default(),
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
            shown: None,
            outlines: None,
            cpu_texture: None,
            thumbs: None,
            dialog: None,
            lax: long_axis::LaxPane::default(),
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
            Some(p) => app.start_load(p, ctx),
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
        if let Some((_, job)) = &self.loading {
            job.handles
                .cancel
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        self.load_progress = Arc::default();
        self.loading = Some((
            path.clone(),
            jobs::load(path, self.load_progress.clone(), ctx.clone()),
        ));
    }

    fn install(&mut self, loaded: OpenStudy, path: Option<PathBuf>) {
        if let Some(job) = &self.segmenting {
            job.handles
                .cancel
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        self.segmenting = None;
        self.seg_run = None;
        // Two long-axis panes where the exam has two views (4ch and 2ch, say).
        self.lax = long_axis::LaxPane::default();
        self.lax.two = loaded.study.long_axis.len() > 1;
        let mut view = ViewState::for_cine(&loaded.cine);
        // Only DICOM states where the patient lies; NIfTI and the phantom keep stack order.
        if loaded.study.info.series_instance_uid.is_some() {
            view.list_base_to_apex(loaded.cine.geometry.index_runs_base_to_apex());
        }
        let d = loaded.cine.dims();
        if let Some(s) = self.launch.slice.take() {
            view.slice = s.min(d.slices.saturating_sub(1));
        }
        if let Some(p) = self.launch.phase.take() {
            view.phase = p.min(d.phases.saturating_sub(1));
        }
        self.view = Some(view);
        self.labels = loaded
            .study
            .reference_labels
            .clone()
            .filter(LabelStack::any_annotated);
        self.label_source = self.labels.as_ref().map(|_| LabelSource::Reference);
        self.height_cm = loaded.study.patient.height_cm;
        self.weight_kg = loaded.study.patient.weight_kg;
        self.sex = loaded.study.patient.sex;
        self.age_years = loaded.study.patient.age_years;
        self.key_override = KeyPhases::default();
        self.current = Some(loaded);
        self.contours = None;
        self.review = crate::qc::Review::default();
        self.session = editing::SessionState {
            study_path: path,
            explicit: self.launch.session.clone(),
            ..Default::default()
        };
        self.labels_version += 1;
        self.shown = None;
        self.outlines = None;
        self.recompute_measures();
        self.restore_session();
    }

    /// The measurement context: the study's, with the user's height, weight and ED/ES.
    pub fn context(&self) -> Option<Context> {
        let cur = self.current.as_ref()?;
        let mut ctx = Context::of(&cur.study, BsaFormula::Mosteller);
        ctx.height_cm = self.height_cm;
        ctx.weight_kg = self.weight_kg;
        ctx.sex = self.sex;
        ctx.stated = KeyPhases {
            ed: self.key_override.ed.or(ctx.stated.ed),
            es: self.key_override.es.or(ctx.stated.es),
        };
        Some(ctx)
    }

    /// Recounts every image and recomputes the measures (edits use the incremental path).
    pub fn recompute_measures(&mut self) {
        self.measures = None;
        self.qc_flags.clear();
        self.rebuild_engine();
        self.measures_from_engine();
    }

    /// The image on screen, rebuilt only when the study, position or labels change.
    pub fn shown_image(&mut self) -> Option<Arc<ImageData>> {
        let cur = self.current.as_ref()?;
        let view = self.view.as_ref()?;
        let key = ImageKey {
            study: cur.id,
            phase: view.phase,
            slice: view.slice,
            labels_version: self.labels_version,
        };
        if self.shown.as_ref().is_none_or(|s| s.key != key) {
            let d = cur.cine.dims();
            let labels = match &self.labels {
                Some(l) if !l.annotated(view.phase, view.slice).is_empty() => {
                    l.image(view.phase, view.slice).to_vec()
                }
                _ => vec![0; d.pixels_per_image()],
            };
            self.shown = Some(Arc::new(ImageData {
                key,
                columns: d.columns as u32,
                rows: d.rows as u32,
                intensity: Arc::new(cur.cine.image(view.phase, view.slice).to_vec()),
                labels: Arc::new(labels),
            }));
        }
        self.shown.clone()
    }

    /// Contour segments of the shown image, cached per image.
    pub fn outlines(&mut self) -> &[(Structure, Vec<[[f32; 2]; 2]>)] {
        let Some(img) = self.shown_image() else {
            return &[];
        };
        if self.outlines.as_ref().is_none_or(|(k, _)| *k != img.key) {
            let v = Structure::ALL
                .iter()
                .map(|&s| (s, outline(&img.labels, img.columns as usize, s)))
                .collect();
            self.outlines = Some((img.key, v));
        }
        self.outlines.as_ref().map_or(&[], |(_, v)| v.as_slice())
    }

    /// Outline segments of the study's expert contours on the image on screen (every
    /// structure), empty where there are none.
    pub fn reference_outlines(&self) -> Vec<Vec<[[f32; 2]; 2]>> {
        let (Some(cur), Some(v)) = (&self.current, &self.view) else {
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
                    && let (Some(cur), Some(v)) = (&self.current, &self.view)
                {
                    self.seg_replace_manual = matches!(cmd, Command::SegmentReplacingManual);
                    self.seg_run = Some(SegRun {
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
                if let (Some(cur), Some(v)) = (&self.current, &mut self.view) {
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
                SegMsg::Phase(phase) => self.merge_phase(&phase, self.seg_replace_manual),
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
            if self.seg_run.as_ref().is_some_and(|r| r.ended.is_none()) {
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
        let (Some(cur), Some(v)) = (&self.current, &mut self.view) else {
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
        let ready = self.current.is_some()
            && self.loading.is_none()
            && self.segmenting.is_none()
            && !(self.launch.segment
                && self.commands.iter().any(|c| matches!(c, Command::Segment)));
        let ready =
            ready && (!self.launch.segment || self.label_source == Some(LabelSource::Automatic));
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
            .measures
            .as_ref()
            .ok_or("there are no measures to write: the study has no contours")?;
        let warnings = self
            .current
            .as_ref()
            .map_or(&[][..], |c| c.study.warnings.as_slice());
        let doc = crate::qc::measures_document(m, warnings, &self.qc_flags);
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
