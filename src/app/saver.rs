//! The session's autosave, off the UI thread: every change queues the session as it is
//! now; a writer thread writes the newest one queued (atomically, with fsync, as
//! `io::session::write` does) and skips any older one still waiting, so a burst of edits
//! costs one write per write time and the UI never waits for the disk. The last edit is
//! never lost: [`Saver::flush`] waits until what was queued last is on disk (the viewer
//! calls it when the window closes), and the UI shows when the session was saved.

use crate::io::session::{self, SessionFile};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// One queued save.
struct Job {
    seq: u64,
    file: SessionFile,
    /// The study's default session path (`io::session::default_path`).
    default: PathBuf,
    explicit: Option<PathBuf>,
}

/// What the writer has done.
#[derive(Default)]
struct Done {
    /// The newest save written (or failed).
    seq: u64,
    /// Outcomes not yet collected by the UI, oldest first.
    results: Vec<Result<PathBuf, String>>,
}

/// The writer thread and its queue.
pub struct Saver {
    tx: Sender<Job>,
    queued: u64,
    done: Arc<(Mutex<Done>, Condvar)>,
}

impl Saver {
    /// Starts the writer; `wake` is called after every write (the UI repaints).
    pub fn new(wake: impl Fn() + Send + 'static) -> Saver {
        let (tx, rx) = channel::<Job>();
        let done: Arc<(Mutex<Done>, Condvar)> = Arc::default();
        let shared = done.clone();
        let _ = std::thread::Builder::new()
            .name("systole-autosave".into())
            .spawn(move || writer(rx, shared, wake));
        Saver {
            tx,
            queued: 0,
            done,
        }
    }

    /// Queues `file` to be written to the study's `default` session path (or to
    /// `explicit`).
    pub fn save(&mut self, file: SessionFile, default: PathBuf, explicit: Option<PathBuf>) {
        self.queued += 1;
        let job = Job {
            seq: self.queued,
            file,
            default,
            explicit,
        };
        if let Err(e) = self.tx.send(job) {
            // The writer is gone (it cannot be, short of a panic): write here.
            write(e.0, &self.done);
        }
    }

    /// Whether everything queued is written.
    pub fn idle(&self) -> bool {
        self.done.0.lock().map_or(true, |d| d.seq >= self.queued)
    }

    /// The outcomes of the writes since the last call.
    pub fn results(&self) -> Vec<Result<PathBuf, String>> {
        self.done
            .0
            .lock()
            .map(|mut d| std::mem::take(&mut d.results))
            .unwrap_or_default()
    }

    /// Waits until the save queued last is written (at most `limit`); returns whether it
    /// is.
    pub fn flush(&self, limit: Duration) -> bool {
        let (lock, cv) = &*self.done;
        let Ok(guard) = lock.lock() else {
            return false;
        };
        cv.wait_timeout_while(guard, limit, |d| d.seq < self.queued)
            .map(|(d, _)| d.seq >= self.queued)
            .unwrap_or(false)
    }
}

fn writer(rx: Receiver<Job>, done: Arc<(Mutex<Done>, Condvar)>, wake: impl Fn()) {
    while let Ok(mut job) = rx.recv() {
        // Only the newest queued session matters: it holds every earlier change.
        while let Ok(newer) = rx.try_recv() {
            job = newer;
        }
        write(job, &done);
        wake();
    }
}

/// Writes one queued session and records the outcome for the UI and for `flush`.
fn write(job: Job, done: &(Mutex<Done>, Condvar)) {
    let r =
        session::write(&job.file, &job.default, job.explicit.as_deref()).map_err(|e| e.to_string());
    let (lock, cv) = done;
    if let Ok(mut d) = lock.lock() {
        d.seq = job.seq;
        d.results.push(r);
    }
    cv.notify_all();
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::contour::set::ContourSet;
    use crate::io::session::{Session, read};
    use crate::phantom::{PhantomConfig, phantom};

    #[test]
    fn a_burst_of_saves_ends_with_the_last_one_on_disk() {
        let study = phantom(&PhantomConfig::default()).study;
        let dir = tempfile::tempdir().unwrap();
        let writes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = writes.clone();
        let mut saver = Saver::new(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        let phases = study.cine.dims().phases;
        for i in 0..40 {
            let mut s = Session {
                contours: ContourSet::new(study.cine.dims()),
                overrides: Default::default(),
                review: Default::default(),
            };
            s.overrides.ed_phase = Some(i % phases);
            let file = SessionFile::new(&study, &s, (None, None));
            saver.save(file, session::default_path(dir.path(), None), None);
        }
        assert!(saver.flush(Duration::from_secs(30)));
        assert!(saver.idle());
        let written = saver.results();
        assert!(written.iter().all(Result::is_ok), "{written:?}");
        // At most one write per save (older sessions still waiting are skipped).
        let n = writes.load(std::sync::atomic::Ordering::Relaxed);
        assert!((1..=40).contains(&n), "{n} writes");
        let back = read(&dir.path().join("systole-session.json"), &study).unwrap();
        assert_eq!(back.overrides.ed_phase, Some(39 % phases));
    }
}
