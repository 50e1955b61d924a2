//! Runs the training code's Python tests (training/tests) so that the one test command
//! covers them. The interpreter is $SYSTOLE_PYTHON or the repository's .venv (see README).

use std::path::PathBuf;
use std::process::Command;

#[test]
fn training_python_tests_pass() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var_os("SYSTOLE_PYTHON").map(PathBuf::from).unwrap_or_else(|| root.join(".venv/bin/python"));
    assert!(
        python.exists(),
        "Python for the training tests not found at {} (create it: python3 -m venv .venv && .venv/bin/pip install -r training/requirements.txt, or set SYSTOLE_PYTHON)",
        python.display()
    );
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
