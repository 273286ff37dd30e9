//! Shared machinery of the conformance tests: where ConfigCat's suites live,
//! how their users and defaults are encoded, a capturing log sink, and the
//! ratchet of cases still known to fail.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use configcat_core::{Config, EvaluationDetails, EventId, LogLevel, LogSink, User, Value};
use serde_json::Value as Json;

/// Prints a line of the test report on stderr, past the test harness's
/// output capture, so case counts show in every `cargo test` run.
pub fn report(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Environment variable that points at the conformance data instead of `../shared/conformance`.
pub const DATA_DIR_VARIABLE: &str = "CONFIGCAT_CONFORMANCE_DIR";

/// The conformance data directory, or `None` (after saying so loudly) when it
/// is missing. Under `CI=true` a missing directory fails the test instead.
#[must_use]
pub fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os(DATA_DIR_VARIABLE).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance"),
        PathBuf::from,
    );
    if dir.join("manifest.json").is_file() {
        return Some(dir);
    }
    let message = format!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !!! ConfigCat conformance data NOT FOUND at {}\n\
         !!! Set {DATA_DIR_VARIABLE} or place ../shared/conformance beside the repo.\n\
         !!! The conformance suites were NOT run.\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        dir.display()
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
    eprintln!("{message}");
    None
}

/// Reads a JSON file of the data set.
///
/// # Panics
/// When the file is missing or not JSON: the data set is broken.
#[must_use]
#[expect(
    clippy::panic,
    reason = "test support: a broken data set must stop the test loudly"
)]
pub fn read_json(path: &std::path::Path) -> Json {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One log record: level, event id and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Severity.
    pub level: LogLevel,
    /// ConfigCat event id.
    pub id: EventId,
    /// The formatted message.
    pub message: String,
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}] {}", self.level, self.id.code(), self.message)
    }
}

/// A sink that keeps every record, at every level.
#[derive(Debug, Default)]
pub struct CapturingSink {
    records: RefCell<Vec<Record>>,
}

impl CapturingSink {
    /// Takes the records captured so far.
    pub fn take(&self) -> Vec<Record> {
        self.records.take()
    }
}

impl LogSink for CapturingSink {
    fn enabled(&self, _level: LogLevel) -> bool {
        true
    }
    fn event(&self, level: LogLevel, id: EventId, message: fmt::Arguments<'_>) {
        self.records.borrow_mut().push(Record {
            level,
            id,
            message: message.to_string(),
        });
    }
}

/// Builds a user from the suites' JSON encoding (`null` for no user); the
/// same mapping the `evaluate` tool uses, so both are checked by the suites.
///
/// # Errors
/// A member of an unsupported shape.
pub fn user_from_json(json: &Json) -> Result<Option<User>, String> {
    configcat_examples::optional_user_from_json(Some(json))
}

/// What one evaluation produced, in a comparable form.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluated {
    /// The value as JSON (`null` when there is none); int vs float kept.
    pub value: Json,
    /// The variation id.
    pub variation_id: Option<String>,
    /// The error message, if evaluation failed.
    pub error: Option<String>,
    /// Whether a targeting rule matched.
    pub matched_targeting_rule: bool,
    /// Whether a % option was chosen.
    pub matched_percentage_option: bool,
}

/// Evaluates `key` with a default given as JSON: `null` means no typed
/// default, a bool/int/float/string default selects the typed getter.
///
/// # Panics
/// On a default of another JSON type: the case file is broken.
#[must_use]
#[expect(
    clippy::panic,
    reason = "test support: a broken case file must stop the test loudly"
)]
pub fn evaluate_with_json_default(
    config: &Config,
    key: &str,
    default: &Json,
    user: Option<&User>,
    sink: &dyn LogSink,
) -> Evaluated {
    fn convert<T>(details: EvaluationDetails<'_, T>, value: impl FnOnce(T) -> Json) -> Evaluated {
        Evaluated {
            variation_id: details.variation_id.map(str::to_owned),
            error: details.error.as_ref().map(ToString::to_string),
            matched_targeting_rule: details.matched_targeting_rule.is_some(),
            matched_percentage_option: details.matched_percentage_option.is_some(),
            value: value(details.value),
        }
    }
    match default {
        Json::Null => convert(config.evaluate(key, user, sink), |value| {
            value.map_or(Json::Null, value_to_json)
        }),
        Json::Bool(default) => convert(
            config.get_value_details(key, *default, user, sink),
            Json::Bool,
        ),
        Json::Number(number) if number.is_i64() => convert(
            config.get_value_details(key, number.as_i64().unwrap_or_default(), user, sink),
            Json::from,
        ),
        Json::Number(number) => convert(
            config.get_value_details(key, number.as_f64().unwrap_or_default(), user, sink),
            Json::from,
        ),
        Json::String(default) => convert(
            config.get_value_details(key, default.as_str(), user, sink),
            Json::from,
        ),
        other => panic!("unsupported default {other}"),
    }
}

/// A setting value as JSON, keeping int and float apart.
#[must_use]
pub fn value_to_json(value: Value<'_>) -> Json {
    match value {
        Value::Bool(v) => Json::Bool(v),
        Value::Text(v) => Json::String(v.to_owned()),
        Value::Int(v) => Json::from(v),
        Value::Float(v) => serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number),
    }
}

/// Whether two JSON values are equal with int and float kept apart
/// (`5` is not `5.0`), comparing floats numerically.
#[must_use]
pub fn same_typed_json(expected: &Json, actual: &Json) -> bool {
    match (expected, actual) {
        (Json::Number(e), Json::Number(a)) => {
            e.is_f64() == a.is_f64()
                && e.as_f64()
                    .zip(a.as_f64())
                    .is_some_and(|(e, a)| (e - a).abs() == 0.0)
        }
        _ => expected == actual,
    }
}

/// The ratchet: cases known to fail, each with its reason. A listed case
/// that passes, or an unlisted case that fails, fails the suite; so the list
/// can only shrink.
#[derive(Debug, Default)]
pub struct Ratchet {
    known: BTreeMap<String, String>,
}

impl Ratchet {
    /// Loads `known_failures.txt` (`<case id> <reason>` per line, `#` comments).
    #[must_use]
    pub fn load() -> Self {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("known_failures.txt");
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let known = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(|line| {
                let (id, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
                (id.to_owned(), reason.trim().to_owned())
            })
            .collect();
        Self { known }
    }

    /// Checks a suite's outcome: `failures` maps case id to what went wrong,
    /// `ids` lists every case that ran. Returns the problems (empty when fine).
    #[must_use]
    pub fn check(
        &self,
        suite: &str,
        ids: &[String],
        failures: &BTreeMap<String, String>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        for (id, what) in failures {
            if !self.known.contains_key(id) {
                problems.push(format!("FAILED {id}: {what}"));
            }
        }
        for id in ids {
            if let Some(reason) = self.known.get(id) {
                if !failures.contains_key(id) {
                    problems.push(format!(
                        "NOW PASSES (remove it from known_failures.txt): {id} ({reason})"
                    ));
                }
            }
        }
        let known_here = ids.iter().filter(|id| self.known.contains_key(*id)).count();
        report(&format!(
            "conformance {suite}: {} cases, {} passed, {} failed ({} known and listed)",
            ids.len(),
            ids.len() - failures.len(),
            failures.len(),
            known_here
        ));
        problems
    }
}
