//! Background work: loading a study and segmenting it. Each job is a named thread that
//! sends messages over a channel and asks egui for a repaint; the UI thread picks them up
//! in the app's logic step. Cancelling sets an `Arc<AtomicBool>`.

use crate::io::{LoadOptions, Loaded, load_study};
use crate::pipeline::{PhaseLabels, segment_phases};
use crate::segment::{SegmentError, SegmentOptions, Segmenter};
use crate::study::CineStack;
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
        if t == 0 {
            0.0
        } else {
            self.handles.done.load(Ordering::Relaxed) as f32 / t as f32
        }
    }
}

fn spawn<M: Send + 'static>(
    name: &str,
    ctx: egui::Context,
    work: impl FnOnce(Sender<M>, &Handles, &egui::Context) + Send + 'static,
) -> Job<M> {
    let (tx, rx) = channel();
    let handles = Handles::default();
    let inner = handles.clone();
    // If the thread cannot be spawned, `tx` is dropped with the closure and the UI sees a
    // closed channel.
    let _ = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
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
pub fn load(
    path: PathBuf,
    series: Option<String>,
    progress: Arc<crate::io::LoadProgress>,
    ctx: egui::Context,
) -> Job<LoadMsg> {
    spawn("systole-load", ctx, move |tx, _job, _| {
        let options = LoadOptions {
            series,
            progress: Some(progress),
            long_axis_images: true,
            ..LoadOptions::default()
        };
        let msg = match load_study(&path, &options) {
            Ok(l) => LoadMsg::Done(Box::new(l)),
            Err(e) => LoadMsg::Failed(e.to_string()),
        };
        let _ = tx.send(msg);
    })
}

pub enum SegMsg {
    /// A phase is final (every slice segmented and cleaned up).
    Phase(PhaseLabels),
    /// Every phase is done.
    Done,
    Failed(String),
    Cancelled,
}

/// The network, loaded once per process.
fn segmenter() -> Result<&'static Segmenter, String> {
    static SEG: OnceLock<Result<Segmenter, String>> = OnceLock::new();
    SEG.get_or_init(|| Segmenter::builtin().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

/// Segments the whole cine through the library's one path ([`segment_phases`], as
/// `systole segment` does), delivering each phase when it is final: the reference phase,
/// then the phase on screen, then the others. The labels do not depend on where the
/// viewer stands.
pub fn segment(cine: Arc<CineStack>, current_phase: usize, ctx: egui::Context) -> Job<SegMsg> {
    spawn("systole-segment", ctx, move |tx, job, ctx| {
        let seg = match segmenter() {
            Ok(s) => s,
            Err(e) => {
                let _ = tx.send(SegMsg::Failed(e));
                return;
            }
        };
        let d = cine.dims();
        job.total.store(d.images(), Ordering::Relaxed);
        let phases: Vec<usize> = (0..d.phases).collect();
        let r = segment_phases(
            seg,
            &cine,
            &phases,
            Some(current_phase),
            &SegmentOptions::default(),
            &mut |phase| {
                let _ = tx.send(SegMsg::Phase(phase));
                ctx.request_repaint();
            },
            &mut |p| {
                job.done.store(p.done, Ordering::Relaxed);
                ctx.request_repaint();
            },
            &job.cancel,
        );
        let _ = tx.send(match r {
            Ok(_) => SegMsg::Done,
            Err(SegmentError::Cancelled { .. }) => SegMsg::Cancelled,
            Err(e) => SegMsg::Failed(e.to_string()),
        });
    })
}
