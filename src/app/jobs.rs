//! Background work: loading a study and segmenting it. Each job is a named thread that
//! sends messages over a channel and asks egui for a repaint; the UI thread picks them up
//! in the app's logic step. Cancelling sets an `Arc<AtomicBool>`.

use crate::io::{LoadOptions, Loaded, load_study};
use crate::segment::{DEFAULT_HEART_MARGIN_PX, SegmentError, SegmentOptions, Segmenter, heart_window};
use crate::study::{CineStack, LabelStack};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, OnceLock};

/// Progress counters and the cancel flag, shared between the UI and the job's thread.
#[derive(Clone, Default)]
pub struct Handles {
    pub cancel: Arc<AtomicBool>,
    pub done: Arc<AtomicUsize>,
    pub total: Arc<AtomicUsize>,
}

/// A running job: its messages and handles. A closed channel without a final message
/// means the job's thread could not start or died.
pub struct Job<M> {
    pub rx: Receiver<M>,
    pub handles: Handles,
}

impl<M> Job<M> {
    pub fn fraction(&self) -> f32 {
        let t = self.handles.total.load(Ordering::Relaxed);
        if t == 0 { 0.0 } else { self.handles.done.load(Ordering::Relaxed) as f32 / t as f32 }
    }
}

fn spawn<M: Send + 'static>(name: &str, ctx: egui::Context, work: impl FnOnce(Sender<M>, &Handles, &egui::Context) + Send + 'static) -> Job<M> {
    let (tx, rx) = channel();
    let handles = Handles::default();
    let inner = handles.clone();
    // If the thread cannot be spawned, `tx` is dropped with the closure and the UI sees a
    // closed channel.
    let _ = std::thread::Builder::new().name(name.to_string()).spawn(move || {
        work(tx, &inner, &ctx);
        ctx.request_repaint();
    });
    Job { rx, handles }
}

pub enum LoadMsg {
    Done(Box<Loaded>),
    Failed(String),
}

/// Loads a study; `progress` counts files scanned and images decoded.
pub fn load(path: PathBuf, progress: Arc<crate::io::LoadProgress>, ctx: egui::Context) -> Job<LoadMsg> {
    spawn("systole-load", ctx, move |tx, _job, _| {
        let options = LoadOptions { progress: Some(progress), ..LoadOptions::default() };
        let msg = match load_study(&path, &options) {
            Ok(l) => LoadMsg::Done(Box::new(l)),
            Err(e) => LoadMsg::Failed(e.to_string()),
        };
        let _ = tx.send(msg);
    })
}

pub enum SegMsg {
    /// Labels so far (the images segmented are marked annotated).
    Partial(LabelStack),
    Done(LabelStack),
    Failed(String),
    Cancelled,
}

/// The network, loaded once per process.
fn segmenter() -> Result<&'static Segmenter, String> {
    static SEG: OnceLock<Result<Segmenter, String>> = OnceLock::new();
    SEG.get_or_init(|| Segmenter::builtin().map_err(|e| e.to_string())).as_ref().map_err(Clone::clone)
}

/// Segments the whole cine: the current image first (contours within a second), then the
/// rest of its phase on whole images, then every other phase inside the heart's window,
/// sending the labels after each step.
pub fn segment(cine: Arc<CineStack>, current: (usize, usize), ctx: egui::Context) -> Job<SegMsg> {
    spawn("systole-segment", ctx, move |tx, job, ctx| {
        let seg = match segmenter() {
            Ok(s) => s,
            Err(e) => {
                let _ = tx.send(SegMsg::Failed(e));
                return;
            }
        };
        let d = cine.dims();
        let (cp, cs) = (current.0.min(d.phases.saturating_sub(1)), current.1.min(d.slices.saturating_sub(1)));
        job.total.store(d.images(), Ordering::Relaxed);
        let mut labels = LabelStack::empty(d);
        let whole = SegmentOptions { heart_margin_px: None, ..SegmentOptions::default() };
        let mut steps: Vec<(Vec<(usize, usize)>, bool)> = vec![(vec![(cp, cs)], false)];
        steps.push(((0..d.slices).filter(|&s| s != cs).map(|s| (cp, s)).collect(), false));
        for p in (0..d.phases).filter(|&p| p != cp) {
            steps.push(((0..d.slices).map(|s| (p, s)).collect(), true));
        }
        let mut window = None;
        let mut finished = 0;
        for (i, (order, windowed)) in steps.iter().enumerate() {
            if order.is_empty() {
                continue;
            }
            if i == 2 {
                // The current phase is complete: clean it up as one volume, find the heart.
                let all: Vec<usize> = (0..d.slices).collect();
                crate::segment::postprocess::keep_largest_components(&mut labels, cp, &all);
                window = heart_window(&labels, cp, DEFAULT_HEART_MARGIN_PX);
            }
            let opts = SegmentOptions { window: if *windowed { window } else { None }, ..whole.clone() };
            let base = finished;
            let r = seg.segment_into(
                &cine,
                order,
                &opts,
                &mut labels,
                &mut |p| {
                    job.done.store(base + p.done, Ordering::Relaxed);
                    ctx.request_repaint();
                },
                &job.cancel,
            );
            match r {
                Ok(()) => finished += order.len(),
                Err(SegmentError::Cancelled { .. }) => {
                    let _ = tx.send(SegMsg::Partial(labels));
                    let _ = tx.send(SegMsg::Cancelled);
                    return;
                }
                Err(e) => {
                    let _ = tx.send(SegMsg::Failed(e.to_string()));
                    return;
                }
            }
            if tx.send(SegMsg::Partial(labels.clone())).is_err() {
                return; // the app is gone
            }
            ctx.request_repaint();
        }
        let _ = tx.send(SegMsg::Done(labels));
    })
}
