//! The review queue in the viewer: walk the images the QC ranks most suspect, see why,
//! mark them reviewed. The order and the confidence come from `systole::qc`, as in
//! `systole segment`'s qc.json; the marks are saved in the session.

use super::App;

impl App {
    /// The image on screen as (slice, phase).
    fn here(&self) -> Option<(usize, usize)> {
        self.doc.views.sax.as_ref().map(|v| (v.slice, v.phase))
    }

    /// The next image of the queue (not the one on screen), if any is left.
    pub fn next_to_review(&self) -> Option<(usize, usize)> {
        let labels = self.doc.review.labels.as_ref()?;
        self.doc
            .review
            .status
            .next(&self.doc.review.qc_flags, labels, self.here())
    }

    /// Shows the next image of the queue.
    pub fn go_to_next_review(&mut self) {
        if let (Some((slice, phase)), Some(v)) =
            (self.next_to_review(), self.doc.views.sax.as_mut())
        {
            v.slice = slice;
            v.phase = phase;
            v.playing = false;
        }
    }

    /// Marks the image on screen reviewed (by the session's reviewer, now) or not, and
    /// saves.
    pub fn set_current_reviewed(&mut self, reviewed: bool) {
        let Some((slice, phase)) = self.here() else {
            return;
        };
        if reviewed {
            let by =
                Some(self.doc.review.session.reviewer.trim().to_string()).filter(|s| !s.is_empty());
            let now = crate::report::now_secs().max(0) as u64;
            self.doc.review.status.set_reviewed(phase, slice, by, now);
        } else {
            self.doc.review.status.clear_reviewed(phase, slice);
        }
        self.autosave();
    }

    /// (images reviewed, images in the queue's scope, images left in the queue).
    pub fn review_counts(&self) -> (usize, usize, usize) {
        let Some(labels) = &self.doc.review.labels else {
            return (0, 0, 0);
        };
        let all = self.doc.review.status.images(labels).len();
        let reviewed = self.doc.review.status.reviewed_count(labels);
        (reviewed, all, all - reviewed)
    }
}
