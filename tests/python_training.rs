//! Runs the training code's Python tests (training/tests) so that the one test command
//! covers them. The interpreter is $SYSTOLE_PYTHON or the repository's .venv (see README).

mod common;

use std::path::PathBuf;
use std::process::Command;

#[test]
fn training_python_tests_pass() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = common::python();
    let out = Command::new(&python)
        .args(["-m", "unittest", "discover", "-s", "tests", "-t", "."])
        .current_dir(root.join("training"))
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => panic!("cannot run {}: {e}", python.display()),
    };
    assert!(
        out.status.success(),
        "training tests failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
