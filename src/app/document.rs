//! The viewer's state per open study, split by concern: the study itself
//! ([`super::OpenStudy`]), its review (contours, labels, measures, rule checks, the user's
//! values, undo history, session) and the views on it (short-axis position, long-axis
//! panes, image caches). Opening a study replaces the whole [`Document`] in one assignment,
//! so nothing of the previous study can survive into the next.

use super::{LabelSource, OpenStudy, Outlines, SegRun, editing, long_axis, render, view};
use crate::contour::set::{Contour, ContourSet, Key};
use crate::measure::{Engine, Measures};
use crate::study::{KeyPhases, LabelStack};
use std::path::PathBuf;
use std::sync::Arc;

/// Everything about the open study; `Default` is "no study".
#[derive(Default)]
pub struct Document {
    pub current: Option<OpenStudy>,
    pub review: StudyReview,
    pub views: Views,
}

/// The review of the open study: what is drawn, measured, checked and saved.
#[derive(Default)]
pub struct StudyReview {
    /// The editable contours (automatic and manual); `None` until segmented, restored or
    /// drawn. When present, the labels shown and measured are rasterised from them.
    pub contours: Option<ContourSet>,
    pub edit: editing::EditState,
    pub session: editing::SessionState,
    pub(super) engine: Option<Engine>,
    /// The rule checks' per-image part, updated with the engine.
    pub(super) checker: Option<crate::qc::Checker>,
    /// The last segmentation run: which phases are final.
    pub seg_run: Option<SegRun>,
    pub(super) seg_replace_manual: bool,
    pub labels: Option<LabelStack>,
    pub label_source: Option<LabelSource>,
    /// Bumped whenever `labels` change (image caches key on it).
    pub labels_version: u64,
    pub measures: Option<Measures>,
    /// The rule checks on the labels measured, recomputed with the measures.
    pub qc_flags: Vec<crate::qc::QcFlag>,
    /// The network's confidence in each image and which images were marked reviewed
    /// (kept in the session).
    pub status: crate::qc::Review,
    /// User's values where the study lacks them or the user overrides them.
    pub height_cm: Option<f64>,
    pub weight_kg: Option<f64>,
    pub sex: Option<crate::study::Sex>,
    pub age_years: Option<f64>,
    pub key_override: KeyPhases,
}

/// How the open study is shown.
#[derive(Default)]
pub struct Views {
    /// The short-axis view: position, window/level, zoom, playback.
    pub sax: Option<view::ViewState>,
    /// Where the image sits on screen: (top-left corner of the image, points per pixel),
    /// as last drawn. Pixel (column, row) centre = corner + (column + 0.5, row + 0.5) * scale.
    pub viewport_map: Option<(egui::Pos2, f32)>,
    /// The long-axis panes beside the short-axis view.
    pub lax: long_axis::LaxPane,
    pub(super) shown: Option<Arc<render::ImageData>>,
    pub(super) outlines: Option<(render::ImageKey, Outlines)>,
    pub(super) cpu_texture: Option<(render::ImageKey, render::SliceUniforms, egui::TextureHandle)>,
    /// The thumbnail atlas of the matrix, per study id.
    pub(super) thumbs: Option<(u64, egui::TextureHandle)>,
}

impl StudyReview {
    /// The contour of one structure on one image, if there is one.
    pub fn contour(&self, key: Key) -> Option<&Contour> {
        self.contours.as_ref().and_then(|s| s.get(key))
    }

    /// Whether the image's contours were edited by hand.
    pub fn edited(&self, phase: usize, slice: usize) -> bool {
        self.contours
            .as_ref()
            .is_some_and(|c| c.edited(phase, slice))
    }
}

impl Document {
    /// A freshly opened study: the view at `slice`/`phase` when given (clamped), the
    /// study's expert labels shown, the patient's stated values, nothing measured yet and
    /// no session read (see `App::install`).
    pub fn open(
        loaded: OpenStudy,
        study_path: Option<PathBuf>,
        explicit_session: Option<PathBuf>,
        slice: Option<usize>,
        phase: Option<usize>,
    ) -> Document {
        let mut sax = view::ViewState::for_cine(&loaded.cine);
        // Only DICOM states where the patient lies; NIfTI and the phantom keep stack order.
        if loaded.study.info.series_instance_uid.is_some() {
            sax.list_base_to_apex(loaded.cine.geometry.index_runs_base_to_apex());
        }
        let d = loaded.cine.dims();
        if let Some(s) = slice {
            sax.slice = s.min(d.slices.saturating_sub(1));
        }
        if let Some(p) = phase {
            sax.phase = p.min(d.phases.saturating_sub(1));
        }
        let labels = loaded
            .study
            .reference_labels
            .clone()
            .filter(LabelStack::any_annotated);
        let patient = &loaded.study.patient;
        let review = StudyReview {
            label_source: labels.as_ref().map(|_| LabelSource::Reference),
            labels,
            height_cm: patient.height_cm,
            weight_kg: patient.weight_kg,
            sex: patient.sex,
            age_years: patient.age_years,
            session: editing::SessionState {
                study_path,
                explicit: explicit_session,
                ..Default::default()
            },
            ..Default::default()
        };
        let mut views = Views {
            sax: Some(sax),
            ..Default::default()
        };
        // Two long-axis panes where the exam has two views (4ch and 2ch, say).
        views.lax.two = loaded.study.long_axis.len() > 1;
        Document {
            current: Some(loaded),
            review,
            views,
        }
    }
}
