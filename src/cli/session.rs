//! Finding and reading a study's review session for the headless commands.

use super::{CliError, SessionArgs};
use crate::io::session::{self, Session};
use crate::measure::{BsaFormula, Context};
use crate::study::{KeyPhases, LabelStack, Study};
use std::path::{Path, PathBuf};

/// The study's session, unless `--no-session`. A named `--session` file must exist; a
/// broken file or one of another study is an error (exit 2), never silently ignored.
pub fn load(
    study_path: &Path,
    study: &Study,
    args: &SessionArgs,
) -> Result<Option<(PathBuf, Session)>, CliError> {
    if args.no_session {
        return Ok(None);
    }
    if let Some(p) = &args.session
        && !p.exists()
    {
        return Err(CliError::input(format!(
            "no such session file: {}",
            p.display()
        )));
    }
    let Some(path) = session::find(study_path, study, args.session.as_deref()) else {
        return Ok(None);
    };
    let s = session::read(&path, study).map_err(CliError::input)?;
    Ok(Some((path, s)))
}

/// The labels and the measurement context a session gives: labels rasterised from its
/// contours, the user's height, weight and key phases over the study's.
pub fn labels_and_context(study: &Study, s: &Session, bsa: BsaFormula) -> (LabelStack, Context) {
    (s.contours.to_labels(), context_of(study, &s.overrides, bsa))
}

/// The study's measurement context with a session's overrides: height, weight, key
/// phases and sex where the user gave them.
pub fn context_of(study: &Study, o: &crate::io::session::Overrides, bsa: BsaFormula) -> Context {
    Context::of(study, bsa)
        .with_overrides(
            o.height_cm,
            o.weight_kg,
            KeyPhases {
                ed: o.ed_phase,
                es: o.es_phase,
            },
        )
        .with_sex(o.sex)
}
