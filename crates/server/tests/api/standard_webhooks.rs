//! Verifying deliveries with the `standardwebhooks` PyPI library, as receivers do: a Python
//! process (the venv `scripts/python-env` keeps) checks captured requests.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::receiver::Hit;

/// The venv's python, or `None` (after saying so loudly) when it cannot be made outside CI.
/// Under `CI=true` a missing Python fails the test.
pub(crate) fn python() -> Option<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/python-env");
    let output = Command::new(&script).stderr(Stdio::inherit()).output();
    match output {
        Ok(out) if out.status.success() => {
            Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        }
        other => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "scripts/python-env failed under CI: {other:?}"
            );
            eprintln!(
                "SKIPPED: the standardwebhooks verification needs python3 and scripts/python-env ({other:?})"
            );
            None
        }
    }
}

/// What the library says of each hit verified with `key`: "ok" or its error.
pub(crate) fn verify(python: &str, cases: &[(&str, &Hit)]) -> Vec<String> {
    let input: Vec<Value> = cases
        .iter()
        .map(|(key, hit)| json!({ "key": key, "headers": hit.headers, "body": hit.body }))
        .collect();
    let mut child = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/verify_standard_webhooks.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting the verifier");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(Value::Array(input).to_string().as_bytes())
        .expect("writing the cases");
    let output = child.wait_with_output().expect("the verifier ends");
    assert!(output.status.success(), "the verifier failed");
    serde_json::from_slice(&output.stdout).expect("the verifier prints a JSON list")
}
