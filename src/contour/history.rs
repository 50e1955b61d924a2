//! Undo and redo for a whole review session: each user action is one step holding the
//! contours it replaced and the ones it put in their place.

use super::set::{Contour, ContourSet, Key};

/// One contour before and after an action.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub key: Key,
    pub before: Option<Contour>,
    pub after: Option<Contour>,
}

/// The steps done and undone.
#[derive(Debug, Clone, Default)]
pub struct History {
    done: Vec<Vec<Change>>,
    undone: Vec<Vec<Change>>,
}

impl History {
    /// Applies one action (several contours at once, e.g. a copy of a whole image) and
    /// records it; changes the set refuses are left out. Returns the keys that changed.
    pub fn apply(
        &mut self,
        set: &mut ContourSet,
        changes: Vec<(Key, Option<Contour>)>,
    ) -> Vec<Key> {
        let mut step = Vec::new();
        for (key, after) in changes {
            if set.get(key) == after.as_ref() {
                continue;
            }
            if let Ok(before) = set.set(key, after.clone()) {
                step.push(Change { key, before, after });
            }
        }
        let keys = step.iter().map(|c| c.key).collect();
        if !step.is_empty() {
            self.done.push(step);
            self.undone.clear();
        }
        keys
    }

    /// Records an action whose changes were already made (a drag applied frame by frame).
    pub fn record(&mut self, step: Vec<Change>) {
        let step: Vec<Change> = step.into_iter().filter(|c| c.before != c.after).collect();
        if !step.is_empty() {
            self.done.push(step);
            self.undone.clear();
        }
    }

    /// Undoes the last action; returns the keys it changed (empty: nothing to undo).
    pub fn undo(&mut self, set: &mut ContourSet) -> Vec<Key> {
        let Some(step) = self.done.pop() else {
            return Vec::new();
        };
        for c in step.iter().rev() {
            let _ = set.set(c.key, c.before.clone());
        }
        let keys = step.iter().map(|c| c.key).collect();
        self.undone.push(step);
        keys
    }

    /// Redoes the last undone action; returns the keys it changed.
    pub fn redo(&mut self, set: &mut ContourSet) -> Vec<Key> {
        let Some(step) = self.undone.pop() else {
            return Vec::new();
        };
        for c in &step {
            let _ = set.set(c.key, c.after.clone());
        }
        let keys = step.iter().map(|c| c.key).collect();
        self.done.push(step);
        keys
    }

    pub fn can_undo(&self) -> bool {
        !self.done.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.undone.is_empty()
    }

    /// Forgets everything (a new study).
    pub fn clear(&mut self) {
        self.done.clear();
        self.undone.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contour::Structure;
    use crate::contour::set::Source;
    use crate::study::Dims;

    fn tri(x: f64) -> Option<Contour> {
        Some(Contour {
            points: vec![[x, 1.0], [x + 4.0, 1.0], [x + 4.0, 5.0]],
            source: Source::Manual,
        })
    }

    #[test]
    fn undo_and_redo_walk_the_whole_session() {
        let mut set = ContourSet::new(Dims {
            phases: 2,
            slices: 2,
            rows: 10,
            columns: 10,
        });
        let mut h = History::default();
        let k = (0, 1, Structure::LvEndo);
        let k2 = (1, 1, Structure::RvEndo);
        assert_eq!(h.apply(&mut set, vec![(k, tri(1.0))]), vec![k]);
        assert_eq!(
            h.apply(&mut set, vec![(k, tri(2.0)), (k2, tri(3.0))]).len(),
            2
        );
        assert!(
            h.apply(&mut set, vec![(k, tri(2.0))]).is_empty(),
            "no-op actions are not recorded"
        );
        assert_eq!(h.undo(&mut set).len(), 2);
        assert_eq!(set.get(k), tri(1.0).as_ref());
        assert!(set.get(k2).is_none());
        assert_eq!(h.undo(&mut set), vec![k]);
        assert!(set.is_empty());
        assert!(h.undo(&mut set).is_empty() && !h.can_undo());
        h.redo(&mut set);
        h.redo(&mut set);
        assert_eq!(set.get(k2), tri(3.0).as_ref());
        assert!(!h.can_redo());
        // A new action after an undo drops the redo branch.
        h.undo(&mut set);
        h.apply(&mut set, vec![(k, None)]);
        assert!(!h.can_redo());
        assert!(set.is_empty());
        // Refused changes (outside the study) are not recorded.
        assert!(
            h.apply(&mut set, vec![((5, 0, Structure::LvEpi), tri(1.0))])
                .is_empty()
        );
    }
}
