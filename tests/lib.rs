//! Shared machinery of the conformance tests: where ConfigCat's suites live,
//! how their users and defaults are encoded, a capturing log sink, and the
//! ratchet of cases still known to fail.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use configcat_core::{
    Config, EvaluationDetails, EventId, LogLevel, LogSink, OverrideBehaviour, OwnedValue, User,
    Value,
};
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
pub fn read_json(path: &Path) -> Json {
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
            variation_id: details.variation_id.map(std::borrow::Cow::into_owned),
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
        Self::load_from(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("known_failures.txt"))
    }

    /// Loads another list in the same format (a missing file is an empty list).
    #[must_use]
    pub fn load_from(path: &Path) -> Self {
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

// ---- the suites as data: read once, run on the host or on a device ----

/// The `##null##` cell of the matrices: no user, or an absent attribute.
pub const NULL_MARKER: &str = "##null##";

/// Reads a config of the data set with `Config::parse_overrides` (the suites
/// load every config as a LocalOnly flag-override file).
///
/// # Panics
/// When it is missing or does not parse: the data set is broken.
#[must_use]
#[expect(
    clippy::panic,
    reason = "test support: a config of the data set that fails to load must stop the suite"
)]
pub fn load_config(path: &Path) -> Config {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Config::parse_overrides(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One test-matrix run: a CSV against one config.
#[derive(Debug)]
pub struct MatrixRun {
    /// The run's name in the manifest (`basic`, `basic_v1`, ...).
    pub name: String,
    /// The config file.
    pub config: PathBuf,
    /// Whether the cells are variation ids rather than values.
    pub variation_ids: bool,
    /// The CSV's rows.
    pub rows: Vec<MatrixRow>,
}

/// One CSV row: a user and a case per flag column.
#[derive(Debug)]
pub struct MatrixRow {
    /// The row's user (`None` for `##null##`).
    pub user: Option<User>,
    /// The cases of the row.
    pub cases: Vec<MatrixCase>,
}

/// One cell of a matrix.
#[derive(Debug)]
pub struct MatrixCase {
    /// `matrix/<run>/row<line>/<key>`, as listed in `known_failures.txt`.
    pub id: String,
    /// The flag key.
    pub key: String,
    /// The cell: a value in the setting's type, or a variation id.
    pub expected: String,
}

/// Reads the 19 matrix runs of the manifest, as the conformance README says.
///
/// # Panics
/// When the manifest or a CSV is broken.
#[must_use]
#[expect(
    clippy::panic,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test support: a broken data set must stop the suite loudly"
)]
pub fn matrix_runs(dir: &Path) -> Vec<MatrixRun> {
    let manifest = read_json(&dir.join("manifest.json"));
    let matrices = manifest["matrices"]
        .as_array()
        .expect("manifest lists matrices");
    matrices
        .iter()
        .map(|matrix| {
            let name = matrix["name"].as_str().expect("matrix name");
            let csv_path = dir.join(matrix["csv"].as_str().expect("matrix csv"));
            let csv = std::fs::read_to_string(&csv_path)
                .unwrap_or_else(|e| panic!("{}: {e}", csv_path.display()));
            let mut lines = csv
                .split(['\n', '\r'])
                .filter(|line| !line.trim().is_empty());
            let header: Vec<&str> = lines.next().expect("header").split(';').collect();
            let custom_name = header[3];
            let rows = lines
                .enumerate()
                .map(|(row_number, line)| {
                    let cells: Vec<&str> = line.split(';').collect();
                    let user = (cells[0] != NULL_MARKER).then(|| {
                        let present = |cell: &&&str| !cell.is_empty() && **cell != NULL_MARKER;
                        let mut user = User::new(cells[0]);
                        if let Some(email) = cells.get(1).filter(present) {
                            user = user.with_email(*email);
                        }
                        if let Some(country) = cells.get(2).filter(present) {
                            user = user.with_country(*country);
                        }
                        if let Some(custom) = cells.get(3).filter(present) {
                            user = user.with_custom(custom_name, *custom);
                        }
                        user
                    });
                    let cases = header
                        .iter()
                        .enumerate()
                        .skip(4)
                        .map(|(column, key)| MatrixCase {
                            id: format!("matrix/{name}/row{}/{key}", row_number + 2),
                            key: (*key).to_owned(),
                            expected: cells.get(column).copied().unwrap_or_default().to_owned(),
                        })
                        .collect();
                    MatrixRow { user, cases }
                })
                .collect();
            MatrixRun {
                name: name.to_owned(),
                config: dir.join(matrix["config"].as_str().expect("matrix config")),
                variation_ids: matrix["kind"] == "variation_id",
                rows,
            }
        })
        .collect()
}

/// Whether an evaluation answers a matrix cell: the value read in the
/// setting's type (bools case-insensitively, doubles numerically), or the
/// variation id exactly.
#[must_use]
pub fn matrix_answer_ok(
    variation_ids: bool,
    expected: &str,
    value: Option<Value<'_>>,
    variation_id: Option<&str>,
) -> bool {
    if variation_ids {
        return variation_id == Some(expected);
    }
    match value {
        Some(Value::Bool(v)) => expected.eq_ignore_ascii_case(if v { "true" } else { "false" }),
        Some(Value::Text(v)) => v == expected,
        Some(Value::Int(v)) => expected.parse::<i64>() == Ok(v),
        Some(Value::Float(v)) => expected.parse::<f64>() == Ok(v),
        None => false,
    }
}

/// One evaluation-log suite.
#[derive(Debug)]
pub struct LogSuite {
    /// The suite's name.
    pub name: String,
    /// Its config (or LocalOnly override file).
    pub config: PathBuf,
    /// Its tests.
    pub cases: Vec<LogCase>,
}

/// One evaluation-log test.
#[derive(Debug)]
pub struct LogCase {
    /// `log/<suite>/<file>`.
    pub id: String,
    /// The flag key.
    pub key: String,
    /// The typed default as JSON.
    pub default: Json,
    /// The user (`None` when the test has none).
    pub user: Option<User>,
    /// The value the evaluation must return, type included.
    pub return_value: Json,
    /// The expected log text, byte for byte.
    pub expected_log: String,
}

/// Reads the 15 evaluation-log suites (45 tests) of the manifest.
///
/// # Panics
/// When the data set is broken.
#[must_use]
#[expect(
    clippy::panic,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test support: a broken data set must stop the suite loudly"
)]
pub fn log_suites(dir: &Path) -> Vec<LogSuite> {
    let manifest = read_json(&dir.join("manifest.json"));
    let suites = manifest["evaluation_log"]["suites"]
        .as_array()
        .expect("manifest lists log suites");
    suites
        .iter()
        .map(|entry| {
            let name = entry["name"].as_str().expect("suite name");
            let suite = read_json(&dir.join(entry["file"].as_str().expect("suite file")));
            let config = match (suite["config"].as_str(), suite["jsonOverride"].as_str()) {
                (Some(config), _) => dir.join("configs").join(config),
                (None, Some(file)) => dir.join("evaluationlog/_overrides").join(file),
                _ => panic!("{name}: no config"),
            };
            let cases = suite["tests"]
                .as_array()
                .expect("tests")
                .iter()
                .map(|test| {
                    let expected_file = test["expectedLog"].as_str().expect("expectedLog");
                    let expected_path = dir.join("evaluationlog").join(name).join(expected_file);
                    LogCase {
                        id: format!("log/{name}/{expected_file}"),
                        key: test["key"].as_str().expect("key").to_owned(),
                        default: test["defaultValue"].clone(),
                        user: user_from_json(test.get("user").unwrap_or(&Json::Null))
                            .expect("user"),
                        return_value: test["returnValue"].clone(),
                        expected_log: std::fs::read_to_string(&expected_path)
                            .expect("expected log"),
                    }
                })
                .collect();
            LogSuite {
                name: name.to_owned(),
                config,
                cases,
            }
        })
        .collect()
}

/// What is wrong with a log test's outcome (`None` when it passes): the
/// value, type included, then the log text byte for byte.
#[must_use]
pub fn check_log_case(case: &LogCase, value: &Json, log: &str) -> Option<String> {
    if !same_typed_json(&case.return_value, value) {
        Some(format!(
            "value: expected {}, got {value}",
            case.return_value
        ))
    } else if log != case.expected_log {
        Some(format!(
            "log differs:\n--- expected\n{}--- actual\n{log}---",
            case.expected_log
        ))
    } else {
        None
    }
}

/// The flag override a fixture puts over its remote config.
#[derive(Debug, Clone)]
pub enum LocalOverride {
    /// An override file.
    File(PathBuf),
    /// A typed map (`override_map`).
    Values(Vec<(String, OwnedValue)>),
}

/// The config a fixture case evaluates.
#[derive(Debug, Clone)]
pub enum FixtureConfig {
    /// One file, used as a LocalOnly config.
    File(PathBuf),
    /// A remote config, with an override merged over it by a behaviour
    /// (`None` for `remote_only`).
    Merged {
        /// The downloaded config.
        remote: PathBuf,
        /// The override and how it merges.
        local: Option<(LocalOverride, OverrideBehaviour)>,
    },
}

impl FixtureConfig {
    /// Builds the config on the host.
    #[must_use]
    pub fn load(&self) -> Config {
        match self {
            Self::File(path) => load_config(path),
            Self::Merged { remote, local } => {
                let remote = load_config(remote);
                match local {
                    None => remote,
                    Some((local, behaviour)) => {
                        let local = match local {
                            LocalOverride::File(path) => load_config(path),
                            LocalOverride::Values(values) => {
                                Config::from_values(values.iter().cloned())
                            }
                        };
                        Config::merge(&remote, &local, *behaviour)
                    }
                }
            }
        }
    }
}

/// One case of the other fixtures.
#[derive(Debug)]
pub struct FixtureCase {
    /// `other/<fixture>/<index>/<key>`.
    pub id: String,
    /// What to evaluate against.
    pub config: FixtureConfig,
    /// The user.
    pub user: Option<User>,
    /// The flag key.
    pub key: String,
    /// The default as JSON (`null`: no typed default).
    pub default: Json,
    /// The case as written, for [`check_fixture_case`].
    pub spec: Json,
}

/// One fixture file's cases.
#[derive(Debug)]
pub struct Fixture {
    /// The fixture's name.
    pub name: String,
    /// Its cases that apply to a typed SDK.
    pub cases: Vec<FixtureCase>,
}

/// A flag override map entry of the fixtures: `{"type": ..., "value": ...}`;
/// `None` for the types a typed map cannot hold (`unsupported`, `null`).
#[must_use]
pub fn override_value(entry: &Json) -> Option<OwnedValue> {
    let value = &entry["value"];
    match entry["type"].as_str()? {
        "bool" => value.as_bool().map(OwnedValue::Bool),
        "int" => value.as_i64().map(OwnedValue::Int),
        "double" => value.as_f64().map(OwnedValue::Float),
        "string" => value.as_str().map(OwnedValue::from),
        _ => None,
    }
}

#[expect(
    clippy::panic,
    reason = "an unknown mode means the case file changed: stop loudly"
)]
fn behaviour(mode: &str) -> Option<OverrideBehaviour> {
    match mode {
        "local_only" => Some(OverrideBehaviour::LocalOnly),
        "local_over_remote" => Some(OverrideBehaviour::LocalOverRemote),
        "remote_over_local" => Some(OverrideBehaviour::RemoteOverLocal),
        "remote_only" => None,
        other => panic!("unknown mode {other}"),
    }
}

/// Reads the 12 fixture files; returns them and how many optional cases
/// (or cases with overrides a typed map cannot hold) were left out.
///
/// # Panics
/// When the data set is broken.
#[must_use]
#[expect(
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test support: a broken data set must stop the suite loudly"
)]
pub fn fixtures(dir: &Path) -> (Vec<Fixture>, usize) {
    let manifest = read_json(&dir.join("manifest.json"));
    let mut optional_skipped = 0;
    let fixtures = manifest["other"]
        .as_array()
        .expect("manifest lists fixtures")
        .iter()
        .map(|entry| {
            let name = entry["name"].as_str().expect("fixture name");
            let fixture = read_json(&dir.join(entry["file"].as_str().expect("fixture file")));
            let mut cases = Vec::new();
            for (index, case) in fixture["cases"]
                .as_array()
                .expect("cases")
                .iter()
                .enumerate()
            {
                let field = |member: &str| {
                    case.get(member)
                        .or_else(|| fixture.get(member))
                        .unwrap_or(&Json::Null)
                };
                let override_map = case.get("override_map");
                if case["optional"] == true
                    || override_map
                        .and_then(Json::as_object)
                        .is_some_and(|map| map.values().any(|e| override_value(e).is_none()))
                {
                    optional_skipped += 1;
                    continue;
                }
                let config = if let Some(path) = field("config").as_str() {
                    FixtureConfig::File(dir.join(path))
                } else {
                    let remote = dir.join(field("remote_config").as_str().expect("remote_config"));
                    let local = match (override_map, field("local_override_file").as_str()) {
                        (Some(map), _) => Some(LocalOverride::Values(
                            map.as_object()
                                .expect("override map")
                                .iter()
                                .map(|(key, entry)| {
                                    (key.clone(), override_value(entry).expect("typed override"))
                                })
                                .collect(),
                        )),
                        (None, Some(path)) => Some(LocalOverride::File(dir.join(path))),
                        (None, None) => None,
                    };
                    let behaviour = behaviour(field("mode").as_str().expect("mode"));
                    FixtureConfig::Merged {
                        remote,
                        local: local.zip(behaviour),
                    }
                };
                cases.push(FixtureCase {
                    id: format!(
                        "other/{name}/{index}/{}",
                        case["key"].as_str().unwrap_or_default()
                    ),
                    config,
                    user: user_from_json(field("user")).expect("user"),
                    key: case["key"].as_str().expect("key").to_owned(),
                    default: field("default").clone(),
                    spec: case.clone(),
                });
            }
            Fixture {
                name: name.to_owned(),
                cases,
            }
        })
        .collect();
    (fixtures, optional_skipped)
}

/// A log record as the fixture checks read it.
#[derive(Debug, Clone, Copy)]
pub struct Logged<'a> {
    /// Severity.
    pub level: LogLevel,
    /// The numeric event id.
    pub id: u16,
    /// The message.
    pub message: &'a str,
}

/// What is wrong with a fixture case's outcome (empty when it passes).
#[must_use]
pub fn check_fixture_case(spec: &Json, result: &Evaluated, records: &[Logged<'_>]) -> Vec<String> {
    let mut wrong = Vec::new();
    if let Some(expected) = spec.get("expected_value") {
        if !same_typed_json(expected, &result.value) {
            wrong.push(format!("value: expected {expected}, got {}", result.value));
        }
    }
    let errors = records
        .iter()
        .filter(|r| r.level == LogLevel::Error)
        .count();
    if spec["expected_error"] == true {
        if result.error.is_none() {
            wrong.push("expected an error in the details".to_owned());
        }
        if errors != 1 {
            wrong.push(format!("expected exactly one ERROR record, got {errors}"));
        }
    } else if let Some(error) = &result.error {
        wrong.push(format!("unexpected error {error}"));
    }
    for member in ["expected_error_contains", "cycle"] {
        if let Some(text) = spec.get(member).and_then(Json::as_str) {
            if !result.error.as_deref().unwrap_or_default().contains(text) {
                wrong.push(format!("error {:?} lacks {text:?}", result.error));
            }
        }
    }
    for (member, actual) in [
        (
            "expected_matched_targeting_rule",
            result.matched_targeting_rule,
        ),
        (
            "expected_matched_percentage_option",
            result.matched_percentage_option,
        ),
    ] {
        if let Some(expected) = spec.get(member).and_then(Json::as_bool) {
            if expected != actual {
                wrong.push(format!("{member}: expected {expected}, got {actual}"));
            }
        }
    }
    if let Some(expected) = spec.get("expected_warnings").and_then(Json::as_array) {
        let warnings: Vec<(u64, &str)> = records
            .iter()
            .filter(|r| r.level == LogLevel::Warning)
            .map(|r| (u64::from(r.id), r.message))
            .collect();
        let expected: Vec<(u64, &str)> = expected
            .iter()
            .map(|w| {
                (
                    w["event_id"].as_u64().unwrap_or_default(),
                    w["message"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        if warnings != expected {
            wrong.push(format!("warnings: expected {expected:?}, got {warnings:?}"));
        }
    }
    wrong
}
