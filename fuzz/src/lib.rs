//! Shared parts of the fuzz targets: the invariants every parsed config must
//! keep, a log sink that formats every event (so the evaluation log and every
//! error message are built), and a structured generator of configs and users
//! that reaches rules, comparators, segments and prerequisites rather than
//! JSON syntax errors.
//!
//! The invariants panic: a panic is how a fuzz target reports a finding.

pub mod structured;

use core::cell::Cell;
use core::fmt::{self, Write as _};

use configcat_core::{
    Config, EvaluationDetails, EventId, LogLevel, LogSink, NoLog, Setting, User, Value,
};

/// A sink that wants every level and formats every message into a counter,
/// so the fuzzer runs all the code that builds log text.
#[derive(Debug, Default)]
pub struct FormattingSink {
    events: Cell<usize>,
    bytes: Cell<usize>,
}

impl FormattingSink {
    /// Events received so far.
    pub fn events(&self) -> usize {
        self.events.get()
    }

    /// Whether an event with this id was received (counted by the id's code).
    pub fn bytes(&self) -> usize {
        self.bytes.get()
    }
}

struct ByteCounter<'a>(&'a Cell<usize>);

impl fmt::Write for ByteCounter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.set(self.0.get().wrapping_add(s.len()));
        Ok(())
    }
}

impl LogSink for FormattingSink {
    fn enabled(&self, _level: LogLevel) -> bool {
        true
    }

    fn event(&self, level: LogLevel, id: EventId, message: fmt::Arguments<'_>) {
        self.events.set(self.events.get().wrapping_add(1));
        // A Display impl that returns an error would make `write!` fail: that
        // is a bug in our formatting, so it is a finding.
        write!(
            ByteCounter(&self.bytes),
            "{level} [{}] {message}",
            id.code()
        )
        .unwrap_or_else(|_| panic!("formatting a log event of id {} failed", id.code()));
    }
}

/// Values compared bit for bit, so a float compares equal to itself.
fn same_value(a: Option<Value<'_>>, b: Option<Value<'_>>) -> bool {
    match (a, b) {
        (Some(Value::Float(x)), Some(Value::Float(y))) => x.to_bits() == y.to_bits(),
        (a, b) => a == b,
    }
}

/// Every value the setting could serve: its own, each rule's, each % option's.
fn servable_values(setting: &Setting) -> Vec<Value<'_>> {
    let mut values: Vec<Value<'_>> = setting.default_value().into_iter().collect();
    for rule in setting.targeting_rules() {
        values.extend(rule.served_value());
        values.extend(rule.percentage_options().iter().filter_map(|o| o.value()));
    }
    values.extend(
        setting
            .percentage_options()
            .iter()
            .filter_map(|o| o.value()),
    );
    values
}

fn assert_same_details(
    key: &str,
    a: &EvaluationDetails<'_, Option<Value<'_>>>,
    b: &EvaluationDetails<'_, Option<Value<'_>>>,
    what: &str,
) {
    assert!(
        same_value(a.value, b.value),
        "{key}: {what}: {:?} vs {:?}",
        a.value,
        b.value
    );
    assert_eq!(
        a.variation_id, b.variation_id,
        "{key}: {what}: variation id"
    );
    assert_eq!(a.error, b.error, "{key}: {what}: error");
    assert_eq!(
        a.matched_targeting_rule_index, b.matched_targeting_rule_index,
        "{key}: {what}: matched rule"
    );
    assert_eq!(
        a.matched_percentage_option_index, b.matched_percentage_option_index,
        "{key}: {what}: matched % option"
    );
}

/// Evaluates every setting of `config` (and `extra_key`, usually missing)
/// every way the API offers, and checks what must hold whatever the config:
/// evaluation is deterministic, logging does not change results, a served
/// value is one the setting holds, typed reads agree with untyped ones, and
/// nothing panics.
pub fn exercise(config: &Config, user: Option<&User>, extra_key: &str) {
    let sink = FormattingSink::default();
    let keys: Vec<&str> = config.keys().collect();
    for &key in keys.iter().chain(core::iter::once(&extra_key)) {
        let quiet = config.evaluate(key, user, &NoLog);
        let again = config.evaluate(key, user, &NoLog);
        let logged = config.evaluate(key, user, &sink);
        assert_same_details(key, &quiet, &again, "evaluated twice");
        assert_same_details(key, &quiet, &logged, "with and without the log");

        match (config.setting(key), quiet.value) {
            (Some(setting), Some(value)) => {
                let servable = servable_values(setting);
                assert!(
                    servable.iter().any(|v| same_value(Some(*v), Some(value))),
                    "{key}: served {value:?}, not one of {servable:?}"
                );
                assert!(quiet.error.is_none(), "{key}: a value and an error");
            }
            (None, Some(value)) => panic!("{key}: no such setting, yet served {value:?}"),
            (_, None) => assert!(quiet.error.is_some(), "{key}: no value and no error"),
        }
        if let Some(id) = quiet.variation_id.as_deref() {
            assert!(
                config.key_and_value_for_variation_id(id).is_some(),
                "{key}: variation id {id:?} not found back"
            );
        }

        check_typed(config, key, user, quiet.value);
    }

    let all = config.evaluate_all(user, &NoLog);
    assert_eq!(all.len(), config.settings().len(), "evaluate_all count");
    let mut visited = 0_usize;
    config.for_each_value(user, &sink, |_, _| visited += 1);
    assert_eq!(visited, all.len(), "for_each_value count");
}

/// Typed reads serve the untyped value when the type fits, the default otherwise.
fn check_typed(config: &Config, key: &str, user: Option<&User>, untyped: Option<Value<'_>>) {
    let as_bool = config.get_value_details(key, false, user, &NoLog);
    let as_int = config.get_value_details(key, 0_i64, user, &NoLog);
    let as_float = config.get_value_details(key, 0.5_f64, user, &NoLog);
    let as_text = config.get_value_details(key, "default", user, &NoLog);
    assert_eq!(as_bool.value, config.get_value(key, false, user, &NoLog));
    assert_eq!(as_int.value, config.get_value(key, 0_i64, user, &NoLog));
    assert_eq!(
        as_float.value.to_bits(),
        config.get_value(key, 0.5_f64, user, &NoLog).to_bits()
    );
    assert_eq!(
        as_text.value,
        config.get_value(key, "default", user, &NoLog)
    );
    match untyped {
        Some(Value::Bool(v)) => assert_eq!(as_bool.value, v, "{key}: bool"),
        Some(Value::Int(v)) => {
            assert_eq!(as_int.value, v, "{key}: int");
        }
        Some(Value::Float(v)) => assert_eq!(as_float.value.to_bits(), v.to_bits(), "{key}: float"),
        Some(Value::Text(v)) => assert_eq!(as_text.value, v, "{key}: text"),
        _ => {
            assert!(
                as_bool.is_default_value && !as_bool.value,
                "{key}: bool default"
            );
            assert!(as_text.is_default_value && as_text.value == "default");
        }
    }
}

/// A user with a bit of everything, for targets that take no user from the input.
pub fn sample_user() -> User {
    User::new("user-42")
        .with_email("jane@example.com")
        .with_country("Hungary")
        .with_custom("Version", "1.2.3")
        .with_custom("Age", 42.0)
        .with_custom(
            "Tags",
            configcat_core::UserValue::StringList(vec!["a".into(), "b".into()]),
        )
}
