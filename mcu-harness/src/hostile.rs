//! Hostile input on the device: every input under `fuzz/regressions/`, the
//! kinds of broken document the core's tests use (`core/tests/failure_paths.rs`:
//! not JSON, truncated, wrong member types, non-objects, deep nesting,
//! broken conditions) and prefixes of the largest conformance config. Each
//! must end in an error message or in evaluations that report errors; the
//! firmware must not panic or fault (either exits non-zero).

use std::path::{Path, PathBuf};

use crate::qemu::{self, Machine};
use crate::wire::{Hostile, Requests, Responses, Stats};

/// What an input must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Must {
    /// Be rejected by `Config::parse` with a message.
    BeRejected,
    /// Parse, and its evaluations log errors.
    FailInEvaluation,
    /// Be rejected by `Config::parse_overrides` with a message.
    BeRejectedAsOverride,
    /// Anything but a panic.
    NotPanic,
}

struct Input {
    name: String,
    bytes: Vec<u8>,
    must: Must,
}

fn files_under(dir: &Path, into: &mut Vec<PathBuf>) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                files_under(&path, into);
            } else {
                into.push(path);
            }
        }
    }
}

fn documents(repo: &Path, data: &Path) -> Result<Vec<Input>, String> {
    let mut inputs = Vec::new();
    let mut regressions = Vec::new();
    files_under(&repo.join("fuzz/regressions"), &mut regressions);
    regressions.sort();
    if regressions.is_empty() {
        return Err("no inputs under fuzz/regressions".to_owned());
    }
    for path in regressions {
        inputs.push(Input {
            name: path
                .strip_prefix(repo)
                .unwrap_or(&path)
                .display()
                .to_string(),
            bytes: std::fs::read(&path).map_err(|e| e.to_string())?,
            must: Must::NotPanic,
        });
    }
    let mut add = |name: &str, bytes: Vec<u8>, must: Must| {
        inputs.push(Input {
            name: name.to_owned(),
            bytes,
            must,
        });
    };
    for (i, doc) in [
        &b"{\"f\":}"[..],
        b"{\"f\":{\"a\":{\"t\":0,}}}",
        b"{'f':{}}",
        b"{\"f\":{}}}",
        b"{\"f\":{}} x",
        b"{\"f\":{\"a\":{\"t\":0,\"v\":{\"s\":\"\xc3\x28\"}}}}",
        b"{\"f\":{\"a\":{\"t\":0,\"v\":{\"s\":\"\\u12\"}}}}",
        b"{\"f\":{\"a\":{\"t\":01}}}",
        b"hello",
        b"\xff\xfe{}",
        b"<html></html>",
        b"",
        br#"{"f":[]}"#,
        br#"{"f":{"a":{"t":"0"}}}"#,
        br#"{"f":{"a":{"t":2,"v":{"i":99999999999999999999}}}}"#,
        br#"{"f":{"a":{"t":0,"r":[{"c":[{"u":{"a":"x","c":0,"l":[1,2]}}]}]}}}"#,
        br#"{"f":{"a":{"t":0,"p":[{"p":"50"}]}}}"#,
        br#"{"s":[{"n":1}]}"#,
        b"[]",
        b"\"config\"",
        b"null",
        br#"{"p":[]}"#,
        br#"{"f":{"a":[1,[],[]]}}"#,
        br#"{"f":{"a":{"t":0,"t":1}}}"#,
    ]
    .into_iter()
    .enumerate()
    {
        add(
            &format!("malformed document {i}"),
            doc.to_vec(),
            Must::BeRejected,
        );
    }
    let depth = 100_000;
    let open = "[".repeat(depth);
    let closed = format!("{open}{}", "]".repeat(depth));
    let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    for (name, doc) in [
        ("nested arrays, unclosed", open.clone()),
        ("nested arrays", closed.clone()),
        ("nested arrays as f", format!(r#"{{"f":{closed}}}"#)),
        (
            "nested objects as a setting",
            format!(r#"{{"f":{{"a":{objects}}}}}"#),
        ),
        (
            "nested arrays in a value",
            format!(r#"{{"f":{{"a":{{"t":0,"v":{closed}}}}}}}"#),
        ),
    ] {
        add(
            &format!("{name}, depth {depth}"),
            doc.into_bytes(),
            Must::BeRejected,
        );
    }
    // `Config::parse` skips the unknown `flags` member; the override reader must not.
    add(
        &format!("nested arrays as override, depth {depth}"),
        format!(r#"{{"flags":{{"a":{closed}}}}}"#).into_bytes(),
        Must::BeRejectedAsOverride,
    );
    for (i, condition) in [
        r#"{"u":{"a":"Attr","c":36,"s":"x"}}"#,
        r#"{"u":{"a":"Attr","c":99,"l":["x"]}}"#,
        r#"{"u":{"c":28,"s":"x"}}"#,
        r#"{"u":{"a":"Attr","c":10,"s":"5"}}"#,
        r#"{"u":{"a":"Attr","c":22,"l":["no-underscore"]}}"#,
        "{}",
        r#"{"s":{"s":7,"c":0}}"#,
        r#"{"p":{"f":"missing","c":0,"v":{"s":"x"}}}"#,
        r#"{"p":{"f":"flag","c":0,"v":{"s":"x"}}}"#,
    ]
    .into_iter()
    .enumerate()
    {
        let doc = r#"{"p":{"s":"salt"},"s":[{"n":"seg","r":[]}],"f":{"flag":{"t":1,"v":{"s":"default"},"r":[{"c":[COND],"s":{"v":{"s":"matched"}}}]}}}"#
            .replace("COND", condition);
        add(
            &format!("broken condition {i}"),
            doc.into_bytes(),
            Must::FailInEvaluation,
        );
    }
    let largest = data.join("configs/matrix_comparators_v6.json");
    let full = std::fs::read(&largest).map_err(|e| format!("{}: {e}", largest.display()))?;
    for end in (1..full.len()).step_by(509) {
        add(
            &format!("matrix_comparators_v6.json cut at {end}"),
            full.get(..end).unwrap_or_default().to_vec(),
            Must::BeRejected,
        );
    }
    Ok(inputs)
}

/// The outcome of the hostile run.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Inputs, and entry points each was handed to.
    pub(crate) inputs: usize,
    /// Answers checked.
    pub(crate) answers: usize,
    /// Answers that were a rejection with a message.
    pub(crate) rejected: usize,
    /// Evaluations run on accepted inputs.
    pub(crate) evaluations: u64,
    /// What makes the run fail.
    pub(crate) problems: Vec<String>,
    /// Heap and stack figures of the whole run.
    pub(crate) stats: Option<Stats>,
    /// QEMU's wall-clock time, in seconds.
    pub(crate) seconds: f64,
}

/// Entry points: `Config::parse`, `Config::parse_overrides`, a cache
/// payload, and the body of a 200 response.
const ENTRIES: [(u8, &str); 4] = [
    (0, "parse"),
    (1, "parse_overrides"),
    (2, "cache payload"),
    (3, "fetched body"),
];

/// Runs every hostile input through every entry point on `machine`.
///
/// # Errors
/// When the inputs cannot be read or QEMU cannot be run.
pub(crate) fn run(
    machine: Machine,
    elf: &Path,
    heap_bytes: u32,
    repo: &Path,
    data: &Path,
    work: &Path,
) -> Result<Outcome, String> {
    let inputs = documents(repo, data)?;
    let mut requests = Requests::new(heap_bytes);
    requests.reset();
    for input in &inputs {
        for (entry, _) in ENTRIES {
            requests.hostile(entry, &input.bytes);
        }
    }
    requests.stats();
    let result = qemu::run(machine, elf, &requests.into_bytes(), work, false)?;
    let mut outcome = Outcome {
        inputs: inputs.len(),
        seconds: result.elapsed.as_secs_f64(),
        ..Outcome::default()
    };
    if result.status != Some(0) {
        outcome.problems.push(format!(
            "the firmware stopped with status {:?}:\n{}",
            result.status,
            result.output.trim_end()
        ));
    }
    let mut answers = Responses::new(result.responses);
    for input in &inputs {
        for (entry, entry_name) in ENTRIES {
            let Ok((answer, log_bytes)) = answers.hostile() else {
                outcome.problems.push(format!(
                    "no answer for {} through {entry_name} (the firmware stopped here)",
                    input.name
                ));
                return Ok(outcome);
            };
            outcome.answers += 1;
            match answer {
                Hostile::Rejected(_) => outcome.rejected += 1,
                Hostile::Accepted(n) => outcome.evaluations += u64::from(n),
            }
            let problem = match (&answer, input.must, entry) {
                (Hostile::Rejected(message), _, _) if message.trim().is_empty() => {
                    Some("rejected without a message".to_owned())
                }
                (Hostile::Accepted(_), Must::BeRejected, 0) => {
                    Some("accepted by Config::parse".to_owned())
                }
                (Hostile::Accepted(_), Must::BeRejectedAsOverride, 1) => {
                    Some("accepted by Config::parse_overrides".to_owned())
                }
                (Hostile::Accepted(_), Must::FailInEvaluation, 0) if log_bytes == 0 => {
                    Some("evaluations logged no error".to_owned())
                }
                (Hostile::Rejected(message), Must::FailInEvaluation, 0) => {
                    Some(format!("rejected by Config::parse: {message}"))
                }
                _ => None,
            };
            if let Some(problem) = problem {
                outcome
                    .problems
                    .push(format!("{} through {entry_name}: {problem}", input.name));
            }
        }
    }
    outcome.stats = answers.stats().ok();
    Ok(outcome)
}
