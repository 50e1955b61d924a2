//! Contour correction in the viewer: the editable contour set, the tools, undo/redo, live
//! measures through the incremental engine, and the session file saved after every change.

use super::{App, LabelSource};
use crate::contour::Structure;
use crate::contour::edit;
use crate::contour::history::{Change, History};
use crate::contour::set::{Contour, ContourSet, Key, Source};
use crate::io::session::{self, Overrides, Session, SessionFile};
use crate::measure::Engine;
use crate::study::KeyPhases;
use std::path::PathBuf;

/// What a left click or drag in the viewport does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// Navigation only (left button does nothing to contours).
    Navigate,
    /// Drag the contour: nearby points move with a smooth falloff (radius: [ and ]).
    Nudge,
    /// Click points; Enter or a double click closes the contour.
    Draw,
    /// Hold the button and trace; releasing closes the contour.
    Freehand,
    /// Paint pixels into the structure.
    BrushAdd,
    /// Erase pixels from the structure.
    BrushErase,
}

impl Tool {
    pub const ALL: [Tool; 6] = [
        Tool::Navigate,
        Tool::Nudge,
        Tool::Draw,
        Tool::Freehand,
        Tool::BrushAdd,
        Tool::BrushErase,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tool::Navigate => "Navigate",
            Tool::Nudge => "Nudge",
            Tool::Draw => "Draw",
            Tool::Freehand => "Freehand",
            Tool::BrushAdd => "Brush +",
            Tool::BrushErase => "Brush -",
        }
    }
}

/// What File -> Export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    /// The label maps (4-D NIfTI, Systole label order, the study's grid and affine).
    LabelsNifti,
    ContoursCsv,
    ContoursJson,
    /// The PDF report of what is on screen (contours, measures, reviewer, conclusion).
    ReportPdf,
}

impl Export {
    /// What the export holds, for menus and confirmations.
    pub fn title(self) -> &'static str {
        match self {
            Export::LabelsNifti => "labels (NIfTI)",
            Export::ContoursCsv => "contours (CSV)",
            Export::ContoursJson => "contours (JSON)",
            Export::ReportPdf => "report (PDF)",
        }
    }

    /// Suggested file name and its extension.
    pub fn default_name(self) -> (&'static str, &'static str) {
        match self {
            Export::LabelsNifti => ("labels.nii.gz", "gz"),
            Export::ContoursCsv => ("contours.csv", "csv"),
            Export::ContoursJson => ("contours.json", "json"),
            Export::ReportPdf => ("report.pdf", "pdf"),
        }
    }
}

/// Editing state of the open study.
#[derive(Debug, Clone)]
pub struct EditState {
    pub tool: Tool,
    pub structure: Structure,
    /// Nudge and brush radius in image pixels.
    pub radius_px: f64,
    /// Points of a contour being drawn (Draw, Freehand).
    pub draft: Vec<[f64; 2]>,
    pub history: History,
    /// The contours a drag in progress started from (one undo step per drag).
    drag: Option<Vec<Change>>,
    /// A brush stroke's pixels so far (the contour is traced from them, never from itself).
    brush_mask: Option<Vec<bool>>,
    /// Where the button went down for the drag in progress (image pixels).
    pub drag_origin: Option<[f64; 2]>,
}

impl Default for EditState {
    fn default() -> EditState {
        EditState {
            tool: Tool::Navigate,
            structure: Structure::LvEndo,
            radius_px: 6.0,
            draft: Vec::new(),
            history: History::default(),
            drag: None,
            brush_mask: None,
            drag_origin: None,
        }
    }
}

/// Where the session is kept and whether it may be written.
#[derive(Debug, Clone, Default)]
pub struct SessionState {
    /// The study as opened (folder or file); `None` for the built-in phantom.
    pub study_path: Option<PathBuf>,
    /// `--session FILE`, when given.
    pub explicit: Option<PathBuf>,
    /// Where the last save went.
    pub saved_to: Option<PathBuf>,
    /// Why saving is off: a broken session file or another study's, which must not be
    /// overwritten. Edits still work; they are not saved until the file is dealt with.
    pub blocked: Option<String>,
    /// The open study's identity, computed at the first save (it hashes every intensity).
    pub identity: Option<session::StudyIdentity>,
    pub reviewer: String,
    pub conclusion: String,
}

impl App {
    /// Reads the study's session (if any) after a study is installed.
    pub(super) fn restore_session(&mut self) {
        let (Some(cur), Some(path)) = (
            &self.doc.current,
            self.doc.review.session.study_path.clone(),
        ) else {
            return;
        };
        let Some(file) = session::find(
            &path,
            &cur.study,
            self.doc.review.session.explicit.as_deref(),
        ) else {
            return;
        };
        match session::read(&file, &cur.study) {
            Ok(s) => {
                let o = s.overrides.clone();
                self.doc.review.height_cm = o.height_cm.or(self.doc.review.height_cm);
                self.doc.review.weight_kg = o.weight_kg.or(self.doc.review.weight_kg);
                self.doc.review.sex = o.sex.or(self.doc.review.sex);
                self.doc.review.age_years = o.age_years.or(self.doc.review.age_years);
                self.doc.review.key_override = KeyPhases {
                    ed: o.ed_phase,
                    es: o.es_phase,
                };
                self.doc.review.session.reviewer = o.reviewer.unwrap_or_default();
                self.doc.review.session.conclusion = o.conclusion.unwrap_or_default();
                self.doc.review.session.saved_to = Some(file);
                self.doc.review.status = s.review;
                self.set_contours(s.contours);
            }
            Err(e) => {
                self.doc.review.session.blocked = Some(e.to_string());
                self.error = Some(format!(
                    "{e}\nEdits in this window are not saved until the file is fixed or removed."
                ));
            }
        }
    }

    /// Installs a whole contour set: labels, engine and measures rebuilt.
    pub fn set_contours(&mut self, set: ContourSet) {
        self.doc.review.labels = Some(set.to_labels());
        self.doc.review.label_source = Some(LabelSource::Automatic);
        self.doc.review.contours = Some(set);
        self.doc.review.labels_version += 1;
        self.recompute_measures();
    }

    /// The contour set, created empty for the open study on first use.
    fn contours_mut(&mut self) -> Option<&mut ContourSet> {
        let d = self.doc.current.as_ref()?.cine.dims();
        if self.doc.review.contours.is_none() {
            self.set_contours(ContourSet::new(d));
        }
        self.doc.review.contours.as_mut()
    }

    /// Applies one user action (undoable), updates labels and measures, saves. Drawn and
    /// brushed contours obey the anatomy (see `constrained`).
    pub fn edit_contours(&mut self, changes: Vec<(Key, Option<Contour>)>) {
        let changes: Vec<(Key, Option<Contour>)> = changes
            .into_iter()
            .map(|(k, c)| {
                let fixed = self.constrained(k, c.as_ref());
                (k, fixed.unwrap_or(c))
            })
            .collect();
        let mut history = std::mem::take(&mut self.doc.review.edit.history);
        let keys = match self.contours_mut() {
            Some(set) => history.apply(set, changes),
            None => Vec::new(),
        };
        self.doc.review.edit.history = history;
        self.after_change(&keys, true);
    }

    pub fn undo(&mut self) {
        let Some(set) = self.doc.review.contours.as_mut() else {
            return;
        };
        let keys = self.doc.review.edit.history.undo(set);
        self.after_change(&keys, true);
    }

    pub fn redo(&mut self) {
        let Some(set) = self.doc.review.contours.as_mut() else {
            return;
        };
        let keys = self.doc.review.edit.history.redo(set);
        self.after_change(&keys, true);
    }

    /// Re-rasterises the changed images, updates the measures incrementally and saves.
    fn after_change(&mut self, keys: &[Key], save: bool) {
        if keys.is_empty() {
            return;
        }
        let (Some(set), Some(labels)) = (&self.doc.review.contours, &mut self.doc.review.labels)
        else {
            return;
        };
        let mut images: Vec<(usize, usize)> = keys.iter().map(|k| (k.0, k.1)).collect();
        images.sort_unstable();
        images.dedup();
        for &(p, s) in &images {
            set.write_image(labels, p, s);
            if let Some(engine) = &mut self.doc.review.engine {
                engine.update_slice(p, s, labels.image(p, s), labels.annotated(p, s));
            }
            if let Some(checker) = &mut self.doc.review.checker {
                checker.update(labels, p, s);
            }
        }
        self.doc.review.labels_version += 1;
        if save {
            self.mark_edited(&images);
        }
        self.measures_from_engine();
        if save {
            self.autosave();
        }
    }

    /// Measures from the engine's counts (the incremental path).
    pub(super) fn measures_from_engine(&mut self) {
        let (Some(engine), Some(ctx)) = (&self.doc.review.engine, self.context()) else {
            return;
        };
        let m = engine.measures(&ctx);
        self.doc.review.qc_flags = match (
            &self.doc.review.labels,
            &self.doc.current,
            &self.doc.review.checker,
        ) {
            (Some(labels), Some(cur), Some(checker)) => {
                checker.checks(labels, &cur.cine.geometry, &m)
            }
            _ => Vec::new(),
        };
        self.doc.review.measures = Some(m);
    }

    /// Builds the engine from scratch (a new study or contour set).
    pub(super) fn rebuild_engine(&mut self) {
        self.doc.review.engine = None;
        self.doc.review.checker = self.doc.review.labels.as_ref().map(crate::qc::Checker::new);
        let (Some(cur), Some(labels)) = (&self.doc.current, &self.doc.review.labels) else {
            return;
        };
        let Some(voxel_ml) = cur
            .cine
            .geometry
            .voxel_volume_ml()
            .filter(|v| v.is_finite() && *v > 0.0)
        else {
            return;
        };
        self.doc.review.engine = Some(Engine::new(labels, voxel_ml));
    }

    /// Automatic contours of one finished phase (manual contours stay unless
    /// `replace_manual`).
    pub(super) fn merge_phase(
        &mut self,
        phase: &crate::pipeline::PhaseLabels,
        replace_manual: bool,
    ) {
        let Some(d) = self.doc.current.as_ref().map(|c| c.cine.dims()) else {
            return;
        };
        if phase.phase >= d.phases || phase.images.len() != d.slices {
            return;
        }
        if self.doc.review.contours.is_none() {
            // The first automatic result replaces the reference labels on screen.
            self.set_contours(ContourSet::new(d));
        }
        let mut changed = Vec::new();
        if let Some(set) = &mut self.doc.review.contours {
            for (s, img) in phase.images.iter().enumerate() {
                if set.merge_image(phase.phase, s, img, replace_manual) {
                    changed.push((phase.phase, s, Structure::LvEndo));
                    // New automatic contours: not yet reviewed.
                    self.doc.review.status.clear_reviewed(phase.phase, s);
                }
            }
        }
        if let Some(cur) = &self.doc.current {
            let labelled: Vec<bool> = phase
                .images
                .iter()
                .map(|img| img.iter().any(|&v| v != 0))
                .collect();
            let slice_mm = cur.cine.geometry.slice_spacing_mm();
            let c = crate::qc::phase_confidences(&phase.uncertainty_mm2, &labelled, slice_mm);
            for (s, c) in c.into_iter().enumerate() {
                self.doc.review.status.set_confidence(phase.phase, s, c);
            }
        }
        if let Some(done) = self
            .doc
            .review
            .seg_run
            .as_mut()
            .and_then(|r| r.phases_done.get_mut(phase.phase))
        {
            *done = true;
        }
        self.after_change(&changed, false);
    }

    /// Records how the segmentation run ended.
    pub(super) fn end_seg_run(&mut self, end: super::SegEnd) {
        if let Some(r) = &mut self.doc.review.seg_run {
            r.ended = Some(end);
        }
    }

    /// Starts a drag (nudge or brush stroke) on the active structure of an image; the
    /// whole drag becomes one undo step.
    pub fn begin_drag(&mut self, phase: usize, slice: usize) {
        let key = (phase, slice, self.doc.review.edit.structure);
        let before = self.doc.review.contour(key).cloned();
        self.doc.review.edit.brush_mask = None;
        self.doc.review.edit.drag = Some(vec![Change {
            key,
            before: before.clone(),
            after: before,
        }]);
    }

    /// Sets the dragged contour live (not yet an undo step, not yet saved).
    fn drag_to(&mut self, new: Option<Contour>) {
        let Some(key) = self
            .doc
            .review
            .edit
            .drag
            .as_ref()
            .and_then(|s| s.first())
            .map(|c| c.key)
        else {
            return;
        };
        let Some(set) = self.contours_mut() else {
            return;
        };
        if set.get(key) == new.as_ref() || set.set(key, new.clone()).is_err() {
            return;
        }
        if let Some(change) = self
            .doc
            .review
            .edit
            .drag
            .as_mut()
            .and_then(|s| s.first_mut())
        {
            change.after = new;
        }
        self.after_change(&[key], false);
    }

    /// Nudge: the contour as it was when the drag started, moved by `delta` (the whole
    /// displacement so far) around `at` (where the drag started), image pixels. Computing
    /// from the start every time gives one smooth bulge however many events the drag has.
    pub fn nudge(&mut self, at: [f64; 2], delta: [f64; 2]) {
        let Some(c) = self
            .doc
            .review
            .edit
            .drag
            .as_ref()
            .and_then(|s| s.first())
            .and_then(|c| c.before.clone())
        else {
            return;
        };
        // Back where it started: the contour as it was, not a densified copy of it.
        if delta == [0.0, 0.0] {
            self.drag_to(Some(c));
            return;
        }
        let moved = Contour {
            points: edit::nudge(&c.points, at, delta, self.doc.review.edit.radius_px),
            source: Source::Manual,
        };
        self.drag_to(Some(moved));
    }

    /// Brush stroke: paints (or erases) a disc at `at` into the stroke's pixels and traces
    /// the dragged contour from them.
    pub fn brush_stroke(&mut self, at: [f64; 2], add: bool) {
        let Some(d) = self.doc.current.as_ref().map(|c| c.cine.dims()) else {
            return;
        };
        let Some(start) = self
            .doc
            .review
            .edit
            .drag
            .as_ref()
            .and_then(|s| s.first())
            .map(|c| c.before.as_ref().map(|c| c.points.clone()))
        else {
            return;
        };
        let mask = self
            .doc
            .review
            .edit
            .brush_mask
            .get_or_insert_with(|| match &start {
                Some(p) => crate::contour::fill(p, d.rows, d.columns),
                None => vec![false; d.rows * d.columns],
            });
        edit::paint_disc(mask, d.columns, at, self.doc.review.edit.radius_px, add);
        let new = crate::contour::trace::contour_of(mask, d.columns);
        self.drag_to(new.map(|points| Contour {
            points,
            source: Source::Manual,
        }));
    }

    /// Ends a drag: one undo step (none if nothing moved), the anatomical rule applied,
    /// saved.
    pub fn end_drag(&mut self) {
        self.doc.review.edit.brush_mask = None;
        let Some(mut step) = self.doc.review.edit.drag.take() else {
            return;
        };
        if step.iter().all(|c| c.before == c.after) {
            return;
        }
        if let Some(first) = step.first_mut()
            && let Some(fixed) = self.constrained(first.key, first.after.as_ref())
        {
            if let Some(set) = self.doc.review.contours.as_mut() {
                let _ = set.set(first.key, fixed.clone());
            }
            first.after = fixed;
            let key = first.key;
            self.after_change(&[key], false);
        }
        let images: Vec<(usize, usize)> = step.iter().map(|c| (c.key.0, c.key.1)).collect();
        self.mark_edited(&images);
        self.doc.review.edit.history.record(step);
        self.autosave();
    }

    /// An edited image has been looked at: it leaves the review queue, marked reviewed
    /// by the session's reviewer. `images`: (phase, slice) pairs.
    fn mark_edited(&mut self, images: &[(usize, usize)]) {
        let by = nonempty(&self.doc.review.session.reviewer);
        let now = crate::report::now_secs().max(0) as u64;
        for &(p, s) in images {
            self.doc.review.status.set_reviewed(p, s, by.clone(), now);
        }
    }

    /// The contour `c` at `key` made to obey the anatomy: an LV endocardium inside the
    /// image's epicardium, an RV contour outside it. `None` when it already does.
    fn constrained(&self, key: Key, c: Option<&Contour>) -> Option<Option<Contour>> {
        let c = c?;
        let d = self.doc.current.as_ref()?.cine.dims();
        let inside = match key.2 {
            Structure::LvEndo => true,
            Structure::RvEndo => false,
            Structure::LvEpi => return None,
        };
        let epi = self
            .doc
            .review
            .contours
            .as_ref()?
            .get((key.0, key.1, Structure::LvEpi))?;
        let fixed = edit::constrain(&c.points, &epi.points, inside, d.rows, d.columns)?;
        Some(fixed.map(|points| Contour {
            points,
            source: Source::Manual,
        }))
    }

    pub fn dragging(&self) -> bool {
        self.doc.review.edit.drag.is_some()
    }

    /// Brush at `at` on the active structure of an image.
    pub fn brush(&mut self, phase: usize, slice: usize, at: [f64; 2], add: bool) {
        let Some(d) = self.doc.current.as_ref().map(|c| c.cine.dims()) else {
            return;
        };
        let key = (phase, slice, self.doc.review.edit.structure);
        let old = self.doc.review.contour(key).map(|c| c.points.clone());
        let new = edit::brush(
            old.as_deref(),
            at,
            self.doc.review.edit.radius_px,
            add,
            d.rows,
            d.columns,
        );
        self.edit_contours(vec![(
            key,
            new.map(|points| Contour {
                points,
                source: Source::Manual,
            }),
        )]);
    }

    /// Closes the drawn points into the active structure's contour on an image.
    pub fn finish_draft(&mut self, phase: usize, slice: usize) {
        let pts = std::mem::take(&mut self.doc.review.edit.draft);
        if let Some(points) = edit::from_points(&pts) {
            self.edit_contours(vec![(
                (phase, slice, self.doc.review.edit.structure),
                Some(Contour {
                    points,
                    source: Source::Manual,
                }),
            )]);
        }
    }

    /// Removes the active structure's contour from an image (e.g. to exclude a basal slice).
    pub fn delete_contour(&mut self, phase: usize, slice: usize) {
        self.edit_contours(vec![((phase, slice, self.doc.review.edit.structure), None)]);
    }

    /// Copies every contour of image `from` onto image `to` (as manual contours).
    pub fn copy_image(&mut self, from: (usize, usize), to: (usize, usize)) {
        let Some(set) = &self.doc.review.contours else {
            return;
        };
        let changes = Structure::ALL
            .into_iter()
            .map(|st| {
                (
                    (to.0, to.1, st),
                    set.get((from.0, from.1, st)).map(|c| Contour {
                        points: c.points.clone(),
                        source: Source::Manual,
                    }),
                )
            })
            .collect();
        self.edit_contours(changes);
    }

    /// Writes the labels or contours shown to `path` (atomically).
    pub fn export(&self, kind: Export, path: &std::path::Path) -> Result<(), String> {
        let cur = self.doc.current.as_ref().ok_or("no study is open")?;
        let mut inputs = cur.inputs.clone();
        inputs.extend(self.doc.review.session.saved_to.iter().cloned());
        crate::io::check_output(path, &inputs).map_err(|e| e.to_string())?;
        let empty;
        let set = match &self.doc.review.contours {
            Some(s) => s,
            None => {
                empty = ContourSet::new(cur.cine.dims());
                &empty
            }
        };
        match kind {
            Export::LabelsNifti => {
                let labels = self
                    .doc
                    .review
                    .labels
                    .as_ref()
                    .ok_or("there are no labels to export yet: segment or draw first")?;
                crate::io::write_labels(path, &cur.cine, labels, crate::study::LabelOrder::Systole)
                    .map_err(|e| e.to_string())
            }
            Export::ContoursCsv => {
                crate::io::write_atomic(path, crate::io::export::contours_csv(set).as_bytes())
                    .map_err(|e| e.to_string())
            }
            Export::ContoursJson => {
                let text = crate::io::export::contours_json(set).map_err(|e| e.to_string())?;
                crate::io::write_atomic(path, text.as_bytes()).map_err(|e| e.to_string())
            }
            Export::ReportPdf => {
                let bytes = self.report_pdf(crate::report::Paper::A4, false)?;
                crate::io::write_atomic(path, &bytes).map_err(|e| e.to_string())
            }
        }
    }

    /// The PDF report of the study as reviewed here (about 10 ms for a 20-phase study).
    pub fn report_pdf(
        &self,
        paper: crate::report::Paper,
        anonymize: bool,
    ) -> Result<Vec<u8>, String> {
        let cur = self.doc.current.as_ref().ok_or("no study is open")?;
        let labels = self
            .doc
            .review
            .labels
            .as_ref()
            .ok_or("there are no contours to report yet: segment first")?;
        let m = self
            .doc
            .review
            .measures
            .as_ref()
            .ok_or("there are no measures to report yet")?;
        let options = crate::report::ReportOptions {
            paper,
            anonymize,
            reviewer: nonempty(&self.doc.review.session.reviewer),
            conclusion: nonempty(&self.doc.review.session.conclusion),
            model: crate::report::builtin_model_name(),
            generated_secs: crate::report::now_secs(),
            height_cm: self.doc.review.height_cm,
            weight_kg: self.doc.review.weight_kg,
            sex: self.doc.review.sex,
            age_years: self.doc.review.age_years,
            review: Some(self.doc.review.status.clone()),
        };
        let model = crate::report::build(
            &cur.study,
            labels,
            self.doc.review.contours.as_ref(),
            m,
            &options,
        )
        .map_err(|e| e.to_string())?;
        crate::report::pdf::render(&model).map_err(|e| e.to_string())
    }

    /// The user's overrides as the session stores them.
    pub fn overrides(&self) -> Overrides {
        let study = self.doc.current.as_ref().map(|c| &c.study.patient);
        Overrides {
            ed_phase: self.doc.review.key_override.ed,
            es_phase: self.doc.review.key_override.es,
            // Only what differs from the study is an override.
            height_cm: self
                .doc
                .review
                .height_cm
                .filter(|h| study.is_none_or(|p| p.height_cm != Some(*h))),
            weight_kg: self
                .doc
                .review
                .weight_kg
                .filter(|w| study.is_none_or(|p| p.weight_kg != Some(*w))),
            sex: self
                .doc
                .review
                .sex
                .filter(|s| study.is_none_or(|p| p.sex != Some(*s))),
            age_years: self
                .doc
                .review
                .age_years
                .filter(|a| study.is_none_or(|p| p.age_years != Some(*a))),
            reviewer: nonempty(&self.doc.review.session.reviewer),
            conclusion: nonempty(&self.doc.review.session.conclusion),
        }
    }

    /// Saves the session now (atomic write), unless saving is blocked or there is no
    /// study file to keep it with. Errors go to the window.
    pub fn autosave(&mut self) {
        // Screenshot mode renders and exits: it leaves no trace on disk besides the picture.
        if self.doc.review.session.blocked.is_some() || self.launch.screenshot.is_some() {
            return;
        }
        let (Some(cur), Some(path)) = (&self.doc.current, &self.doc.review.session.study_path)
        else {
            return;
        };
        let contours = self
            .doc
            .review
            .contours
            .clone()
            .unwrap_or_else(|| ContourSet::new(cur.cine.dims()));
        let key = self
            .doc
            .review
            .measures
            .as_ref()
            .map_or((None, None), |m| (m.ed_phase, m.es_phase));
        let identity = self
            .doc
            .review
            .session
            .identity
            .get_or_insert_with(|| session::StudyIdentity::of(&cur.study))
            .clone();
        let file = SessionFile::with_identity(
            identity,
            &Session {
                contours,
                overrides: self.overrides(),
                review: self.doc.review.status.clone(),
            },
            key,
        );
        let default = session::default_path(path, cur.study.alternative_stack());
        self.saver
            .save(file, default, self.doc.review.session.explicit.clone());
    }

    /// Collects the autosave writer's outcomes: where the session went, or why not.
    pub(super) fn poll_saves(&mut self) {
        for r in self.saver.results() {
            match r {
                Ok(p) => self.doc.review.session.saved_to = Some(p),
                Err(e) => self.error = Some(e),
            }
        }
    }

    /// Waits until the last change is on disk (at most 30 s), then collects the outcome;
    /// returns whether it is written. The window calls it when it closes.
    pub fn flush_saves(&mut self) -> bool {
        let written = self.saver.flush(std::time::Duration::from_secs(30));
        self.poll_saves();
        written
    }

    /// Whether every change is on disk.
    pub fn saves_idle(&self) -> bool {
        self.saver.idle()
    }
}

/// `s` unless it is blank.
fn nonempty(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.to_string())
}
