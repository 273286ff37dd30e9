//! Flag evaluation: targeting rules, segments, prerequisite flags and % options.
//!
//! The algorithm, its warnings and its log text follow ConfigCat's official
//! SDKs. With a sink that wants neither warnings nor the evaluation log, an
//! evaluation reads the prepared config and the user in place and does not
//! touch the heap (text results are borrowed from the config).

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;
use core::fmt::{self, Write};

use crate::compact_str::CompactStr;
use crate::comparator::{
    ComparatorKind, PrerequisiteComparator, SegmentComparator, UserComparator,
};
use crate::config::{
    ComparisonValue, Condition, ConditionDefect, Config, Origin, PercentageOption, RuleOutcome,
    SegmentCondition, Served, Setting, TargetingRule, UserCondition, same_key,
};
use crate::evaluation_log::{ConditionText, EvaluationLog, SegmentConditionText};
use crate::hashing::{Sha256Digest, confidential_hash, percentage_bucket};
use crate::json::{self, Reader};
use crate::log_event::{EventId, LogLevel, LogSink, emit};
use crate::number::{js_number_text, parse_number};
use crate::semver::Version;
use crate::user::{Attribute, User};
use crate::value::{FlagValue, OwnedValue, SettingType, Value};

/// How deep prerequisite flags may nest. Bounded so that a hostile config
/// cannot exhaust the stack (small on microcontrollers); real configs use a few levels.
pub const MAX_PREREQUISITE_DEPTH: usize = 16;

const RULE_IGNORED: &str =
    "The current targeting rule is ignored and the evaluation continues with the next rule.";
const READ_MORE: &str = "Read more: https://configcat.com/docs/advanced/user-object/";

/// Why a flag could not be evaluated (the default value was returned instead).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EvaluationError {
    /// No setting has this key.
    SettingNotFound {
        /// The key asked for.
        key: Box<str>,
    },
    /// The setting cannot be read as the requested Rust type.
    TypeMismatch {
        /// The setting's type.
        setting_type: SettingType,
        /// The type asked for.
        requested: &'static str,
    },
    /// The config uses a setting type this SDK does not know.
    InvalidSettingType(i64),
    /// The value to serve is missing or not of the setting's type.
    InvalidServedValue,
    /// A matching targeting rule has neither a value nor % options.
    TargetingRuleThenMissing,
    /// The % options add up to less than the user's bucket.
    PercentageSumBelow100,
    /// A condition the SDK cannot evaluate (unknown comparator, malformed value, ...).
    InvalidCondition(&'static str),
    /// A confidential comparator needs the config's salt, and it is missing.
    SaltMissing,
    /// A prerequisite flag condition names a key the config does not have.
    PrerequisiteMissing {
        /// The missing key.
        key: Box<str>,
    },
    /// A prerequisite flag's comparison value has another type than the flag.
    PrerequisiteTypeMismatch {
        /// The comparison value.
        comparison_value: OwnedValue,
        /// The prerequisite flag.
        key: Box<str>,
    },
    /// Prerequisite flags depend on each other in a cycle.
    CircularDependency {
        /// The chain, e.g. `'key2' -> 'key3' -> 'key2'`.
        chain: String,
    },
    /// Prerequisite flags nest deeper than [`MAX_PREREQUISITE_DEPTH`].
    PrerequisiteDepthExceeded,
}

impl fmt::Display for EvaluationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SettingNotFound { key } => {
                write!(f, "the key '{key}' was not found in config JSON")
            }
            Self::TypeMismatch {
                setting_type,
                requested,
            } => write!(
                f,
                "the setting is of type {setting_type}, which cannot be read as {requested}"
            ),
            Self::InvalidSettingType(code) => write!(f, "Setting type {code} is invalid"),
            Self::InvalidServedValue => f.write_str("Setting value is missing or invalid"),
            Self::TargetingRuleThenMissing => {
                f.write_str("Targeting rule THEN part is missing or invalid")
            }
            Self::PercentageSumBelow100 => {
                f.write_str("Sum of percentage option percentages is less than 100")
            }
            Self::InvalidCondition(reason) => f.write_str(reason),
            Self::SaltMissing => f.write_str("Config JSON salt is missing"),
            Self::PrerequisiteMissing { key } => write!(f, "Prerequisite flag '{key}' is missing"),
            Self::PrerequisiteTypeMismatch {
                comparison_value,
                key,
            } => write!(
                f,
                "Type mismatch between comparison value '{}' and prerequisite flag '{key}'",
                comparison_value.as_value()
            ),
            Self::CircularDependency { chain } => write!(
                f,
                "Circular dependency detected between the following depending flags: {chain}."
            ),
            Self::PrerequisiteDepthExceeded => write!(
                f,
                "Prerequisite flags are nested deeper than {MAX_PREREQUISITE_DEPTH} levels"
            ),
        }
    }
}

impl core::error::Error for EvaluationError {}

/// The result of evaluating a flag, with how it was reached.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EvaluationDetails<'a, T> {
    /// The value: the setting's, or the default when `error` is set.
    pub value: T,
    /// The variation id of the served value, if the config has one.
    pub variation_id: Option<&'a str>,
    /// Whether `value` is the caller's default (because evaluation failed).
    pub is_default_value: bool,
    /// Why evaluation failed, if it did.
    pub error: Option<EvaluationError>,
    /// The targeting rule that matched, if any.
    pub matched_targeting_rule: Option<&'a TargetingRule>,
    /// Index of the matched rule in the setting's rules.
    pub matched_targeting_rule_index: Option<usize>,
    /// The % option that was chosen, if any (inside the matched rule or the setting's).
    pub matched_percentage_option: Option<&'a PercentageOption>,
    /// Index of the chosen % option in its list.
    pub matched_percentage_option_index: Option<usize>,
}

impl<'a, T> EvaluationDetails<'a, T> {
    fn defaulted(value: T, error: EvaluationError) -> Self {
        Self {
            value,
            variation_id: None,
            is_default_value: true,
            error: Some(error),
            matched_targeting_rule: None,
            matched_targeting_rule_index: None,
            matched_percentage_option: None,
            matched_percentage_option_index: None,
        }
    }
}

/// The evaluated value of a setting and where it came from.
#[derive(Debug, Clone, Copy)]
struct Outcome<'a> {
    value: Value<'a>,
    /// Turned into `&str` only for details (a check for UTF-8).
    variation_id: Option<&'a CompactStr>,
    rule: Option<(usize, &'a TargetingRule)>,
    option: Option<(usize, &'a PercentageOption)>,
}

impl Config {
    /// The value of a setting for a user, or `default` when it cannot be
    /// evaluated (unknown key, other type, broken config); see
    /// [`Config::get_value_details`] for why.
    ///
    /// ```
    /// use configcat_core::{Config, NoLog, User};
    ///
    /// let json = br#"{"p":{"s":"salt"},"f":{"greeting":{"t":1,"v":{"s":"Hello"},
    ///   "r":[{"c":[{"u":{"a":"Country","c":28,"s":"Hungary"}}],"s":{"v":{"s":"Szia"}}}]}}}"#;
    /// let config = Config::parse(json).unwrap();
    /// let user = User::new("42").with_country("Hungary");
    /// assert_eq!(config.get_value("greeting", "", Some(&user), &NoLog), "Szia");
    /// assert_eq!(config.get_value("greeting", "", None, &NoLog), "Hello");
    /// assert_eq!(config.get_value("missing", "default", None, &NoLog), "default");
    /// ```
    pub fn get_value<'a, T: FlagValue<'a>>(
        &'a self,
        key: &str,
        default: T,
        user: Option<&User>,
        sink: &dyn LogSink,
    ) -> T {
        // `get_value_details(..).value`, without building the details.
        let Some(setting) = self.find_or_report(key, Some(default.as_value()), sink) else {
            return default;
        };
        if let Ok(setting_type) = setting.setting_type {
            if !T::accepts(setting_type) {
                let error = EvaluationError::TypeMismatch {
                    setting_type,
                    requested: T::TYPE_NAME,
                };
                report_failure(sink, key, &error, Some(default.as_value()));
                return default;
            }
            if !setting.has_targeting() && !sink.enabled(LogLevel::Info) {
                // A plain value and no log: nothing to evaluate.
                if let Some(value) = setting
                    .served
                    .value
                    .value()
                    .filter(|value| value.setting_type() == setting_type)
                    .and_then(T::from_value)
                {
                    return value;
                }
            }
        }
        match self.evaluate_root(setting, user, sink, Some(default.as_value())) {
            Ok(outcome) => match T::from_value(outcome.value) {
                Some(value) => value,
                None => {
                    let error = EvaluationError::InvalidServedValue;
                    report_failure(sink, key, &error, Some(default.as_value()));
                    default
                }
            },
            Err(error) => {
                report_failure(sink, &setting.key, &error, Some(default.as_value()));
                default
            }
        }
    }

    /// Evaluates a setting as [`Config::get_value`] does, and tells how the value was reached.
    pub fn get_value_details<'a, T: FlagValue<'a>>(
        &'a self,
        key: &str,
        default: T,
        user: Option<&User>,
        sink: &dyn LogSink,
    ) -> EvaluationDetails<'a, T> {
        let Some(setting) = self.find_or_report(key, Some(default.as_value()), sink) else {
            return EvaluationDetails::defaulted(
                default,
                EvaluationError::SettingNotFound { key: key.into() },
            );
        };
        if let Ok(setting_type) = setting.setting_type {
            if !T::accepts(setting_type) {
                let error = EvaluationError::TypeMismatch {
                    setting_type,
                    requested: T::TYPE_NAME,
                };
                report_failure(sink, key, &error, Some(default.as_value()));
                return EvaluationDetails::defaulted(default, error);
            }
        }
        match self.evaluate_root(setting, user, sink, Some(default.as_value())) {
            Ok(outcome) => match T::from_value(outcome.value) {
                Some(value) => details_of(value, outcome),
                None => {
                    let error = EvaluationError::InvalidServedValue;
                    report_failure(sink, key, &error, Some(default.as_value()));
                    EvaluationDetails::defaulted(default, error)
                }
            },
            Err(error) => {
                report_failure(sink, &setting.key, &error, Some(default.as_value()));
                EvaluationDetails::defaulted(default, error)
            }
        }
    }

    /// Evaluates a setting without a typed default: the value is whatever the
    /// setting holds, `None` when it cannot be evaluated.
    pub fn evaluate<'a>(
        &'a self,
        key: &str,
        user: Option<&User>,
        sink: &dyn LogSink,
    ) -> EvaluationDetails<'a, Option<Value<'a>>> {
        let Some(setting) = self.find_or_report(key, None, sink) else {
            return EvaluationDetails::defaulted(
                None,
                EvaluationError::SettingNotFound { key: key.into() },
            );
        };
        match self.evaluate_root(setting, user, sink, None) {
            Ok(outcome) => details_of(Some(outcome.value), outcome),
            Err(error) => {
                report_failure(sink, &setting.key, &error, None);
                EvaluationDetails::defaulted(None, error)
            }
        }
    }

    /// Evaluates every setting, in document order. Settings that fail to
    /// evaluate are included with `value: None` and their error.
    pub fn evaluate_all<'a>(
        &'a self,
        user: Option<&User>,
        sink: &dyn LogSink,
    ) -> Vec<(&'a str, EvaluationDetails<'a, Option<Value<'a>>>)> {
        self.settings
            .iter()
            .map(|setting| {
                let details = match self.evaluate_root(setting, user, sink, None) {
                    Ok(outcome) => details_of(Some(outcome.value), outcome),
                    Err(error) => {
                        report_failure(sink, &setting.key, &error, None);
                        EvaluationDetails::defaulted(None, error)
                    }
                };
                (&*setting.key, details)
            })
            .collect()
    }

    /// Evaluates every setting, in document order, and hands each key with
    /// its value (or why it could not be evaluated) to `f`. Unlike
    /// [`Config::evaluate_all`] it collects nothing: with logging off it does
    /// not allocate.
    ///
    /// ```
    /// use configcat_core::{Config, NoLog};
    ///
    /// let config = Config::parse(br#"{"f":{"a":{"t":0,"v":{"b":true}},"b":{"t":2,"v":{"i":7}}}}"#)?;
    /// let mut seen = Vec::new();
    /// config.for_each_value(None, &NoLog, |key, value| seen.push((key, value.ok())));
    /// assert_eq!(seen.len(), 2);
    /// # Ok::<(), configcat_core::ParseError>(())
    /// ```
    pub fn for_each_value<'a>(
        &'a self,
        user: Option<&User>,
        sink: &dyn LogSink,
        mut f: impl FnMut(&'a str, Result<Value<'a>, EvaluationError>),
    ) {
        // Without a log, one evaluator for all: its memos (the user's hashes
        // and versions) serve every setting, and it is set up once. With a
        // log, each setting is evaluated (and logged) as a root of its own.
        let log_enabled = sink.enabled(LogLevel::Info);
        let mut evaluator = Evaluator::new(self, user, sink, false);
        for setting in &self.settings {
            let result = if log_enabled {
                self.evaluate_root(setting, user, sink, None)
            } else {
                evaluator.evaluate_quietly(setting)
            };
            let result = match result {
                // Rebuilt variant by variant: the outcome was written with
                // narrow stores, and moving its value out whole read them
                // back with one wide load, a stall per setting (a fifth of
                // W8). Through a helper function, even an always inlined
                // one, the compiler went back to moving it whole.
                Ok(outcome) => Ok(match outcome.value {
                    Value::Bool(value) => Value::Bool(value),
                    Value::Int(value) => Value::Int(value),
                    Value::Float(value) => Value::Float(value),
                    Value::Text(value) => Value::Text(value),
                }),
                Err(error) => {
                    report_failure(sink, &setting.key, &error, None);
                    Err(error)
                }
            };
            f(&setting.key, result);
        }
    }

    /// The key and value that carry this variation id, searching served
    /// values, targeting rules and % options.
    #[must_use]
    pub fn key_and_value_for_variation_id(&self, variation_id: &str) -> Option<(&str, Value<'_>)> {
        let matches = |served: &Served| {
            served.variation_id.as_ref().map(CompactStr::as_bytes) == Some(variation_id.as_bytes())
        };
        self.settings.iter().find_map(|setting| {
            let options = setting
                .percentage_options
                .iter()
                .map(|option| &option.served);
            let rule_served = setting.rules.iter().flat_map(|rule| match &rule.then {
                RuleOutcome::Value(served) => {
                    core::slice::from_ref(served).iter().collect::<Vec<_>>()
                }
                RuleOutcome::PercentageOptions(options) => {
                    options.iter().map(|o| &o.served).collect()
                }
                RuleOutcome::Missing => Vec::new(),
            });
            core::iter::once(&setting.served)
                .chain(rule_served)
                .chain(options)
                // A broken value may carry the id too: skip it, the id can
                // still be found where it has a value.
                .filter(|served| matches(served))
                .find_map(|served| served.value.value())
                .map(|value| (&*setting.key, value))
        })
    }

    #[inline]
    fn find_or_report(
        &self,
        key: &str,
        default: Option<Value<'_>>,
        sink: &dyn LogSink,
    ) -> Option<&Setting> {
        let setting = self.setting(key);
        if setting.is_none() {
            self.report_missing_key(key, default, sink);
        }
        setting
    }

    #[cold]
    fn report_missing_key(&self, key: &str, default: Option<Value<'_>>, sink: &dyn LogSink) {
        emit(
            sink,
            LogLevel::Error,
            EventId::SettingKeyMissing,
            format_args!(
                "Failed to evaluate setting '{key}' (the key was not found in config JSON). Returning the `default_value` parameter that you specified in your application: '{}'. Available keys: [{}].",
                DefaultText(default),
                KeyList(self)
            ),
        );
    }

    /// Evaluates a root setting and builds and emits the evaluation log.
    /// Failures are for the caller to report (after the log, as ConfigCat's
    /// SDKs do), with [`report_failure`].
    fn evaluate_root<'a>(
        &'a self,
        setting: &'a Setting,
        user: Option<&User>,
        sink: &dyn LogSink,
        default: Option<Value<'_>>,
    ) -> Result<Outcome<'a>, EvaluationError> {
        let log_enabled = sink.enabled(LogLevel::Info);
        let mut evaluator = Evaluator::new(self, user, sink, log_enabled);
        if !log_enabled {
            // Handed on as it comes (failures are reported by the caller):
            // a result held here and then moved is a wide copy of narrow
            // stores, a stall on every evaluation.
            return evaluator.evaluate_quietly(setting);
        }
        evaluator
            .log
            .append(format_args!("Evaluating '{}'", setting.key));
        if let Some(user) = user {
            evaluator.log.append(format_args!(" for User '{user}'"));
        }
        evaluator.log.indent();
        let result = evaluator.evaluate_setting(setting, None, 0);
        evaluator.log.set_indent(1);
        match &result {
            Ok(outcome) => evaluator
                .log
                .line(format_args!("Returning '{}'.", outcome.value)),
            Err(_) => evaluator
                .log
                .line(format_args!("Returning '{}'.", DefaultText(default))),
        }
        if evaluator.log.is_enabled() {
            sink.event(
                LogLevel::Info,
                EventId::EvaluationLog,
                format_args!("{}", evaluator.log.text()),
            );
        }
        result
    }
}

fn details_of<'a, T>(value: T, outcome: Outcome<'a>) -> EvaluationDetails<'a, T> {
    EvaluationDetails {
        value,
        variation_id: outcome.variation_id.map(CompactStr::as_str),
        is_default_value: false,
        error: None,
        matched_targeting_rule: outcome.rule.map(|(_, rule)| rule),
        matched_targeting_rule_index: outcome.rule.map(|(index, _)| index),
        matched_percentage_option: outcome.option.map(|(_, option)| option),
        matched_percentage_option_index: outcome.option.map(|(index, _)| index),
    }
}

fn report_failure(
    sink: &dyn LogSink,
    key: &str,
    error: &EvaluationError,
    default: Option<Value<'_>>,
) {
    emit(
        sink,
        LogLevel::Error,
        EventId::EvaluationFailed,
        format_args!(
            "Failed to evaluate setting '{key}' ({error}). Returning the `default_value` parameter that you specified in your application: '{}'.",
            DefaultText(default)
        ),
    );
}

struct DefaultText<'a>(Option<Value<'a>>);

impl fmt::Display for DefaultText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(value) => value.fmt(f),
            None => f.write_str("null"),
        }
    }
}

struct KeyList<'a>(&'a Config);

impl fmt::Display for KeyList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, key) in self.0.keys().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            write!(f, "'{key}'")?;
        }
        Ok(())
    }
}

/// One link of the chain of settings being evaluated (root first), kept on the
/// stack for cycle detection.
struct Visit<'p> {
    key: &'p str,
    parent: Option<&'p Self>,
}

impl Visit<'_> {
    fn contains(&self, key: &str) -> bool {
        self.key == key || self.parent.is_some_and(|parent| parent.contains(key))
    }

    fn write_chain(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.write_chain(out);
            out.push_str(" -> ");
        }
        let _ = write!(out, "'{}'", self.key);
    }
}

/// Result of one condition.
enum ConditionResult<'c, 'u> {
    Matched(bool),
    NoUser,
    AttributeMissing(&'c UserCondition),
    AttributeInvalid(&'c UserCondition, InvalidAttribute<'u>),
    Failed(EvaluationError),
}

impl ConditionResult<'_, '_> {
    const fn is_match(&self) -> bool {
        matches!(self, Self::Matched(true))
    }
    const fn is_success(&self) -> bool {
        matches!(self, Self::Matched(_))
    }
}

impl fmt::Display for ConditionResult<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Matched(_) => Ok(()),
            Self::NoUser => f.write_str("cannot evaluate, User Object is missing"),
            Self::AttributeMissing(condition) => {
                write!(
                    f,
                    "cannot evaluate, the User.{} attribute is missing",
                    condition.attribute
                )
            }
            Self::AttributeInvalid(condition, reason) => write!(
                f,
                "cannot evaluate, the User.{} attribute is invalid ({reason})",
                condition.attribute
            ),
            Self::Failed(error) => write!(f, "cannot evaluate ({error})"),
        }
    }
}

/// A user attribute value a comparator cannot use, and which reading failed.
#[derive(Clone, Copy)]
struct InvalidAttribute<'a> {
    value: Attribute<'a>,
    expected: ExpectedKind,
}

#[derive(Clone, Copy)]
enum ExpectedKind {
    Semver,
    Number,
    Date,
    StringList,
}

impl fmt::Display for InvalidAttribute<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('\'')?;
        self.value.write_canonical(f)?;
        f.write_str(match self.expected {
            ExpectedKind::Semver => "' is not a valid semantic version",
            ExpectedKind::Number => "' is not a valid decimal number",
            ExpectedKind::Date => {
                "' is not a valid Unix timestamp (number of seconds elapsed since Unix epoch)"
            }
            ExpectedKind::StringList => "' is not a valid string array",
        })
    }
}

enum PercentageResult<'a> {
    Selected(usize, &'a PercentageOption),
    AttributeMissing(&'a str),
}

struct Evaluator<'c, 'u> {
    config: &'c Config,
    user: Option<&'u User>,
    sink: &'u dyn LogSink,
    /// Whether the sink wants warnings, asked the first time one is due.
    warnings: Cell<Option<bool>>,
    log: EvaluationLog,
    /// The last confidential hash: the conditions of a rule (and the rules
    /// of a flag) often hash the same attribute with the same salts.
    last_hash: Cell<Option<(HashInput, Sha256Digest)>>,
    /// The last user text parsed as a version (by address) and its parse:
    /// the semver conditions of a flag usually read the same attribute.
    last_version: Cell<Option<ParsedText<'u>>>,
}

impl<'c, 'u> Evaluator<'c, 'u> {
    fn new(
        config: &'c Config,
        user: Option<&'u User>,
        sink: &'u dyn LogSink,
        log_enabled: bool,
    ) -> Self {
        Self {
            config,
            user,
            sink,
            warnings: Cell::new(None),
            log: EvaluationLog::new(log_enabled),
            last_hash: Cell::new(None),
            last_version: Cell::new(None),
        }
    }

    /// A root setting, without the log: its own value when it has nothing
    /// to evaluate.
    #[inline]
    fn evaluate_quietly(&mut self, setting: &'c Setting) -> Result<Outcome<'c>, EvaluationError> {
        if !setting.has_targeting() {
            return setting
                .setting_type
                .map_err(EvaluationError::InvalidSettingType)
                .and_then(|setting_type| outcome(&setting.served, setting_type, None, None));
        }
        self.evaluate_setting(setting, None, 0)
    }
}

/// A user text (by address and length) and its parse as a version.
type ParsedText<'u> = ((usize, usize), Option<Version<'u>>);

/// What a confidential hash was computed from, by address: only text that
/// lives as long as the evaluation (the user's attributes, the config's
/// salts) is memoized, never a temporary buffer.
#[derive(Clone, Copy, PartialEq, Eq)]
struct HashInput {
    value: (usize, usize),
    salt: (usize, usize),
    context: (usize, usize),
}

impl HashInput {
    fn new(value: &[u8], salt: &str, context: &str) -> Self {
        let span = |bytes: &[u8]| (bytes.as_ptr() as usize, bytes.len());
        Self {
            value: span(value),
            salt: span(salt.as_bytes()),
            context: span(context.as_bytes()),
        }
    }
}

impl<'c, 'u> Evaluator<'c, 'u> {
    fn warn(&self, id: EventId, args: fmt::Arguments<'_>) {
        let wanted = self.warnings.get().unwrap_or_else(|| {
            let wanted = self.sink.enabled(LogLevel::Warning);
            self.warnings.set(Some(wanted));
            wanted
        });
        if wanted {
            self.sink.event(LogLevel::Warning, id, args);
        }
    }

    /// SHA-256 of `value + salt + context`, reusing the previous result when
    /// the same (long-lived) text is hashed again.
    fn stable_hash(&self, value: &[u8], salt: &str, context: &str) -> Sha256Digest {
        let input = HashInput::new(value, salt, context);
        if let Some((last, digest)) = self.last_hash.get() {
            if last == input {
                return digest;
            }
        }
        let digest = confidential_hash(value, salt, context);
        self.last_hash.set(Some((input, digest)));
        digest
    }

    /// The user's text attribute as a version, parsed once per evaluation.
    fn semver_of(&self, attribute: Attribute<'u>) -> Option<Version<'u>> {
        let Attribute::Text(text) = attribute else {
            return None;
        };
        let span = (text.as_ptr() as usize, text.len());
        if let Some((last, version)) = self.last_version.get() {
            if last == span {
                return version;
            }
        }
        let version = Version::parse(text);
        self.last_version.set(Some((span, version)));
        version
    }

    fn warn_user_missing(&self, key: &str) {
        self.warn(
            EventId::UserObjectMissing,
            format_args!(
                "Cannot evaluate targeting rules and % options for setting '{key}' (User Object is missing). You should pass a User Object to the evaluation methods like `get_value()`/`get_value_details()` in order to make targeting work properly. {READ_MORE}"
            ),
        );
    }

    fn evaluate_setting(
        &mut self,
        setting: &'c Setting,
        parent: Option<&Visit<'_>>,
        depth: usize,
    ) -> Result<Outcome<'c>, EvaluationError> {
        let setting_type = setting
            .setting_type
            .map_err(EvaluationError::InvalidSettingType)?;
        // Once per setting: a key kept in place is checked for UTF-8 on the way out.
        let key: &'c str = &setting.key;
        let visit = Visit { key, parent };
        let origin = self.config.origin(setting);
        let mut user_missing_reported = false;

        if !setting.rules.is_empty() {
            self.log.line(format_args!(
                "Evaluating targeting rules and applying the first match if any:"
            ));
        }
        for (rule_index, rule) in setting.rules.iter().enumerate() {
            let conditions = setting.conditions_of(rule);
            let result = if self.log.is_enabled() {
                self.evaluate_rule_conditions(key, origin, rule, conditions, &visit, depth)
            } else {
                self.rule_conditions_quiet(key, origin, conditions, &visit, depth)
            };
            if !result.is_success() {
                self.log.indent();
                self.log.line(format_args!("{RULE_IGNORED}"));
                self.log.dedent();
            }
            match result {
                ConditionResult::Matched(true) => {
                    let options = match &rule.then {
                        RuleOutcome::Value(served) => {
                            return outcome(served, setting_type, Some((rule_index, rule)), None);
                        }
                        RuleOutcome::PercentageOptions(options) => options,
                        RuleOutcome::Missing => return Err(EvaluationError::TargetingRuleThenMissing),
                    };
                    self.log.indent();
                    if let Some(user) = self.user {
                        match self.evaluate_percentage_options(setting, options, user)? {
                            PercentageResult::Selected(index, option) => {
                                self.log.dedent();
                                return outcome(
                                    &option.served,
                                    setting_type,
                                    Some((rule_index, rule)),
                                    Some((index, option)),
                                );
                            }
                            PercentageResult::AttributeMissing(attribute) => {
                                self.warn_percentage_attribute_missing(&setting.key, attribute);
                            }
                        }
                    } else {
                        if !user_missing_reported {
                            user_missing_reported = true;
                            self.warn_user_missing(&setting.key);
                        }
                        self.log.line(format_args!("Skipping % options because the User Object is missing."));
                    }
                    self.log.line(format_args!("{RULE_IGNORED}"));
                    self.log.dedent();
                }
                ConditionResult::Matched(false) => {}
                ConditionResult::NoUser => {
                    if !user_missing_reported {
                        user_missing_reported = true;
                        self.warn_user_missing(&setting.key);
                    }
                }
                ConditionResult::AttributeMissing(condition) => self.warn(
                    EventId::UserAttributeMissing,
                    format_args!(
                        "Cannot evaluate condition ({condition}) for setting '{}' (the User.{} attribute is missing). You should set the User.{} attribute in order to make targeting work properly. {READ_MORE}",
                        setting.key, condition.attribute, condition.attribute
                    ),
                ),
                ConditionResult::AttributeInvalid(condition, reason) => self.warn(
                    EventId::UserAttributeInvalid,
                    format_args!(
                        "Cannot evaluate condition ({condition}) for setting '{}' ({reason}). Please check the User.{} attribute and make sure that its value corresponds to the comparison operator.",
                        setting.key, condition.attribute
                    ),
                ),
                ConditionResult::Failed(error) => return Err(error),
            }
        }

        if !setting.percentage_options.is_empty() {
            if let Some(user) = self.user {
                match self.evaluate_percentage_options(
                    setting,
                    &setting.percentage_options,
                    user,
                )? {
                    PercentageResult::Selected(index, option) => {
                        return outcome(&option.served, setting_type, None, Some((index, option)));
                    }
                    PercentageResult::AttributeMissing(attribute) => {
                        self.warn_percentage_attribute_missing(&setting.key, attribute);
                    }
                }
            } else {
                if !user_missing_reported {
                    self.warn_user_missing(&setting.key);
                }
                self.log.line(format_args!(
                    "Skipping % options because the User Object is missing."
                ));
            }
        }
        outcome(&setting.served, setting_type, None, None)
    }

    fn warn_percentage_attribute_missing(&self, key: &str, attribute: &str) {
        self.warn(
            EventId::UserAttributeMissing,
            format_args!(
                "Cannot evaluate % options for setting '{key}' (the User.{attribute} attribute is missing). You should set the User.{attribute} attribute in order to make targeting work properly. {READ_MORE}"
            ),
        );
    }

    fn evaluate_percentage_options(
        &mut self,
        setting: &'c Setting,
        options: &'c [PercentageOption],
        user: &User,
    ) -> Result<PercentageResult<'c>, EvaluationError> {
        let attribute_name = setting
            .percentage_attribute
            .as_deref()
            .unwrap_or(crate::user::IDENTIFIER);
        let Some(attribute) = user.attribute_at(setting.percentage_key, attribute_name.as_bytes())
        else {
            self.log.line(format_args!(
                "Skipping % options because the User.{attribute_name} attribute is missing."
            ));
            return Ok(PercentageResult::AttributeMissing(attribute_name));
        };
        self.log.line(format_args!(
            "Evaluating % options based on the User.{attribute_name} attribute:"
        ));
        let bucket = with_canonical_text(attribute, |text| percentage_bucket(&setting.key, text));
        self.log.line(format_args!(
            "- Computing hash in the [0..99] range from User.{attribute_name} => {bucket} (this value is sticky and consistent across all SDKs)"
        ));
        let mut cumulative: i64 = 0;
        for (index, option) in options.iter().enumerate() {
            cumulative = cumulative.saturating_add(option.percentage);
            if i64::from(bucket) < cumulative {
                self.log.line(format_args!(
                    "- Hash value {bucket} selects % option {} ({}%), '{}'.",
                    index + 1,
                    option.percentage,
                    option.served.value
                ));
                return Ok(PercentageResult::Selected(index, option));
            }
        }
        Err(EvaluationError::PercentageSumBelow100)
    }

    /// [`Self::evaluate_rule_conditions`] without the log: the same results,
    /// in a loop that only evaluates.
    fn rule_conditions_quiet(
        &mut self,
        key: &'c str,
        origin: Option<&'c Origin>,
        conditions: &'c [Condition],
        visit: &Visit<'_>,
        depth: usize,
    ) -> ConditionResult<'c, 'u> {
        for condition in conditions {
            let result = match (condition, self.user) {
                (Condition::User(condition), Some(user)) => {
                    self.evaluate_user_condition(condition, user, key, key, origin)
                }
                (Condition::Segment(condition), Some(user)) => {
                    self.evaluate_segment_condition(condition, user, key, origin)
                }
                (Condition::User(_) | Condition::Segment(_), None) => ConditionResult::NoUser,
                (Condition::Prerequisite(prerequisite), _) => {
                    self.evaluate_prerequisite(prerequisite, visit, depth)
                }
                (Condition::Invalid(defect), _) => {
                    ConditionResult::Failed(EvaluationError::InvalidCondition(defect.message()))
                }
            };
            // Matched(true) holds nothing to drop: no drop glue on the way on.
            // A mismatch is returned as a new value, not copied from the
            // callee's: a wide copy of what it wrote byte by byte stalls.
            match result {
                ConditionResult::Matched(true) => {}
                ConditionResult::Matched(false) => return ConditionResult::Matched(false),
                other => return other,
            }
        }
        ConditionResult::Matched(true)
    }

    fn evaluate_rule_conditions(
        &mut self,
        key: &'c str,
        origin: Option<&'c Origin>,
        rule: &'c TargetingRule,
        conditions: &'c [Condition],
        visit: &Visit<'_>,
        depth: usize,
    ) -> ConditionResult<'c, 'u> {
        let several = conditions.len() > 1;
        self.log.line(format_args!("- "));
        let mut new_line_before_then = false;
        let mut result = ConditionResult::Matched(true);
        for (index, condition) in conditions.iter().enumerate() {
            if index == 0 {
                self.log.append(format_args!("IF "));
                self.log.indent();
            } else {
                self.log.indent();
                self.log.line(format_args!("AND "));
            }
            result = match condition {
                Condition::User(user_condition) => {
                    self.log.append(format_args!("{user_condition}"));
                    new_line_before_then = several;
                    match self.user {
                        Some(user) => {
                            self.evaluate_user_condition(user_condition, user, key, key, origin)
                        }
                        None => ConditionResult::NoUser,
                    }
                }
                Condition::Segment(segment_condition) => {
                    self.log.append(format_args!(
                        "{}",
                        SegmentConditionText {
                            condition: segment_condition,
                            origin
                        }
                    ));
                    match self.user {
                        Some(user) => {
                            new_line_before_then = true;
                            self.evaluate_segment_condition(segment_condition, user, key, origin)
                        }
                        None => {
                            new_line_before_then = several;
                            ConditionResult::NoUser
                        }
                    }
                }
                Condition::Prerequisite(prerequisite) => {
                    new_line_before_then = true;
                    self.evaluate_prerequisite(prerequisite, visit, depth)
                }
                Condition::Invalid(defect) => {
                    self.log
                        .append(format_args!("{}", ConditionText { condition, origin }));
                    ConditionResult::Failed(EvaluationError::InvalidCondition(defect.message()))
                }
            };
            if several {
                let matched = result.is_match();
                self.log.append(format_args!(" => {matched}"));
                if !matched {
                    self.log
                        .append(format_args!(", skipping the remaining AND conditions"));
                }
            }
            self.log.dedent();
            if !result.is_match() {
                break;
            }
        }
        if self.log.is_enabled() {
            self.log.indent();
            if new_line_before_then {
                self.log.new_line();
            } else {
                self.log.append(format_args!(" "));
            }
            match &rule.then {
                RuleOutcome::Value(served) => {
                    self.log.append(format_args!("THEN '{}' => ", served.value))
                }
                _ => self.log.append(format_args!("THEN % options => ")),
            }
            match &result {
                ConditionResult::Matched(true) => {
                    self.log.append(format_args!("MATCH, applying rule"))
                }
                ConditionResult::Matched(false) => self.log.append(format_args!("no match")),
                other => self.log.append(format_args!("{other}")),
            }
            self.log.dedent();
        }
        result
    }

    fn evaluate_segment_condition(
        &mut self,
        condition: &'c SegmentCondition,
        user: &'u User,
        key: &str,
        origin: Option<&'c Origin>,
    ) -> ConditionResult<'c, 'u> {
        let Some(segment) =
            origin.and_then(|origin| origin.segments.get(condition.segment as usize))
        else {
            return ConditionResult::Failed(EvaluationError::InvalidCondition(
                ConditionDefect::SegmentReferenceInvalid.message(),
            ));
        };
        let is_in = condition.comparator == SegmentComparator::IsIn;
        if !self.log.is_enabled() {
            // The same results as below, without the log's bookkeeping.
            for segment_condition in &segment.conditions {
                let result = match segment_condition {
                    Condition::User(user_condition) => self.evaluate_user_condition(
                        user_condition,
                        user,
                        key,
                        &segment.name,
                        origin,
                    ),
                    Condition::Invalid(defect) => {
                        ConditionResult::Failed(EvaluationError::InvalidCondition(defect.message()))
                    }
                    _ => ConditionResult::Failed(EvaluationError::InvalidCondition(
                        ConditionDefect::Empty.message(),
                    )),
                };
                match result {
                    ConditionResult::Matched(true) => {}
                    ConditionResult::Matched(false) => return ConditionResult::Matched(!is_in),
                    other => return other,
                }
            }
            return ConditionResult::Matched(is_in);
        }
        self.log.line(format_args!("("));
        self.log.indent();
        self.log
            .line(format_args!("Evaluating segment '{}':", segment.name));
        let mut result = ConditionResult::Matched(true);
        for (index, segment_condition) in segment.conditions.iter().enumerate() {
            if index == 0 {
                self.log.line(format_args!("- IF "));
                self.log.indent();
            } else {
                self.log.line(format_args!("AND "));
            }
            result = match segment_condition {
                Condition::User(user_condition) => {
                    self.log.append(format_args!("{user_condition}"));
                    self.evaluate_user_condition(user_condition, user, key, &segment.name, origin)
                }
                other => {
                    self.log.append(format_args!(
                        "{}",
                        ConditionText {
                            condition: other,
                            origin
                        }
                    ));
                    let reason = match other {
                        Condition::Invalid(defect) => defect.message(),
                        _ => ConditionDefect::Empty.message(),
                    };
                    ConditionResult::Failed(EvaluationError::InvalidCondition(reason))
                }
            };
            let matched = result.is_match();
            self.log.append(format_args!(" => {matched}"));
            if !matched {
                self.log
                    .append(format_args!(", skipping the remaining AND conditions"));
                break;
            }
        }
        if !segment.conditions.is_empty() {
            self.log.dedent();
        }
        let condition_text = SegmentConditionText { condition, origin };
        match &result {
            ConditionResult::Matched(matched) => {
                let verdict = if *matched {
                    "IS IN SEGMENT"
                } else {
                    "IS NOT IN SEGMENT"
                };
                self.log
                    .line(format_args!("Segment evaluation result: User {verdict}."));
                self.log.line(format_args!(
                    "Condition ({condition_text}) evaluates to {}.",
                    *matched == is_in
                ));
            }
            other => {
                self.log
                    .line(format_args!("Segment evaluation result: {other}."));
                self.log.line(format_args!(
                    "Condition ({condition_text}) failed to evaluate."
                ));
            }
        }
        self.log.dedent();
        self.log.line(format_args!(")"));
        match result {
            ConditionResult::Matched(matched) => ConditionResult::Matched(matched == is_in),
            other => other,
        }
    }

    fn evaluate_prerequisite(
        &mut self,
        condition: &'c crate::config::PrerequisiteCondition,
        visit: &Visit<'_>,
        depth: usize,
    ) -> ConditionResult<'c, 'u> {
        self.log.append(format_args!("{condition}"));
        let Some(prerequisite) = condition
            .target
            .and_then(|index| self.config.settings.get(index as usize))
        else {
            return ConditionResult::Failed(EvaluationError::PrerequisiteMissing {
                key: Box::from(condition.key.as_str()),
            });
        };
        let expected = condition.value.value();
        let type_matches = match (expected, prerequisite.setting_type) {
            (Some(value), Ok(setting_type)) => value.setting_type() == setting_type,
            _ => false,
        };
        let Some(expected) = expected.filter(|_| type_matches) else {
            return ConditionResult::Failed(EvaluationError::PrerequisiteTypeMismatch {
                comparison_value: expected
                    .map_or(OwnedValue::Text("".into()), |v| v.to_owned_value()),
                key: Box::from(condition.key.as_str()),
            });
        };
        if visit.contains(&prerequisite.key) {
            let mut chain = String::new();
            visit.write_chain(&mut chain);
            let _ = write!(chain, " -> '{}'", prerequisite.key);
            return ConditionResult::Failed(EvaluationError::CircularDependency { chain });
        }
        if depth >= MAX_PREREQUISITE_DEPTH {
            return ConditionResult::Failed(EvaluationError::PrerequisiteDepthExceeded);
        }
        self.log.line(format_args!("("));
        self.log.indent();
        self.log.line(format_args!(
            "Evaluating prerequisite flag '{}':",
            prerequisite.key
        ));
        let result = self.evaluate_setting(prerequisite, Some(visit), depth + 1);
        // The outcome is read in place: moving it out of the callee's
        // result is a wide copy of narrow stores (a stall).
        let outcome = match result {
            Ok(ref outcome) => outcome,
            Err(error) => return ConditionResult::Failed(error),
        };
        let equal = outcome.value == expected;
        let matched = equal == (condition.comparator == PrerequisiteComparator::Equals);
        self.log.line(format_args!(
            "Prerequisite flag evaluation result: '{}'.",
            outcome.value
        ));
        self.log.line(format_args!(
            "Condition ({condition}) evaluates to {matched}."
        ));
        self.log.dedent();
        self.log.line(format_args!(")"));
        ConditionResult::Matched(matched)
    }

    /// Runs a text comparator on `text`; `stable` when the text is the
    /// user's own (borrowed for the whole evaluation, so its hash may be reused).
    #[inline(always)]
    fn compare_user_text(
        &self,
        comparator: UserComparator,
        value: &ComparisonValue,
        text: &str,
        stable: bool,
        origin: Option<&Origin>,
        context_salt: &str,
    ) -> Result<bool, EvaluationError> {
        let hash = |bytes: &[u8]| -> Result<Sha256Digest, EvaluationError> {
            let salt = salt_of(origin)?;
            Ok(if stable {
                self.stable_hash(bytes, salt, context_salt)
            } else {
                confidential_hash(bytes, salt, context_salt)
            })
        };
        compare_text(comparator, value, text, hash)
    }

    fn evaluate_user_condition(
        &self,
        condition: &'c UserCondition,
        user: &'u User,
        key: &str,
        context_salt: &str,
        origin: Option<&'c Origin>,
    ) -> ConditionResult<'c, 'u> {
        let attribute = match user.attribute_at(condition.key, condition.attribute.as_bytes()) {
            None | Some(Attribute::Text("")) => {
                return ConditionResult::AttributeMissing(condition);
            }
            Some(attribute) => attribute,
        };
        let comparator = condition.comparator;
        let negated = comparator.is_negated();
        match (&condition.value, comparator.kind()) {
            (ComparisonValue::Number(expected), _) => {
                let Some(actual) = (match attribute {
                    Attribute::Number(number) => Some(number),
                    Attribute::Text(text) => parse_number(text),
                    _ => None,
                }) else {
                    return invalid_attribute(condition, attribute, ExpectedKind::Number);
                };
                ConditionResult::Matched(compare_numbers(comparator, actual, *expected))
            }
            (ComparisonValue::Date(expected), _) => {
                let Some(actual) = (match attribute {
                    Attribute::Number(number) | Attribute::DateTime(number) => Some(number),
                    Attribute::Text(text) => parse_number(text),
                    Attribute::StringList(_) => None,
                }) else {
                    return invalid_attribute(condition, attribute, ExpectedKind::Date);
                };
                let matched = if comparator == UserComparator::DateBefore {
                    actual < *expected
                } else {
                    actual > *expected
                };
                ConditionResult::Matched(matched)
            }
            (ComparisonValue::Semver(_, expected), _) => {
                let Some(actual) = self.semver_of(attribute) else {
                    return invalid_attribute(condition, attribute, ExpectedKind::Semver);
                };
                let Some(expected) = expected else {
                    // Invalid comparison values never match (kept for backward compatibility).
                    return ConditionResult::Matched(false);
                };
                let order = actual.precedence(&expected.version());
                let matched = match comparator {
                    UserComparator::SemverLess => order.is_lt(),
                    UserComparator::SemverLessOrEqual => order.is_le(),
                    UserComparator::SemverGreater => order.is_gt(),
                    _ => order.is_ge(),
                };
                ConditionResult::Matched(matched)
            }
            (ComparisonValue::SemverList(items), _) => {
                let Some(actual) = self.semver_of(attribute) else {
                    return invalid_attribute(condition, attribute, ExpectedKind::Semver);
                };
                let mut found = false;
                for (_, parsed) in items {
                    match parsed {
                        None => {}
                        Some(None) => return ConditionResult::Matched(false),
                        Some(Some(version)) => {
                            found |= actual.precedence(&version.version()).is_eq()
                        }
                    }
                }
                ConditionResult::Matched(found != negated)
            }
            (value, ComparatorKind::ArrayList) => {
                // Which kind of comparison value, and the salt if it hashes:
                // reported only once the attribute proves to be a list.
                let check = match value {
                    ComparisonValue::TextList(_) => Ok(None),
                    ComparisonValue::HashList { .. } => salt_of(origin).map(Some),
                    _ => Err(EvaluationError::InvalidCondition(
                        ConditionDefect::ComparisonValueInvalid.message(),
                    )),
                };
                let mut found = false;
                let mut item_matches = |item: &str, stable: bool| {
                    if found {
                        return;
                    }
                    found = match (value, &check) {
                        (ComparisonValue::TextList(expected), _) => expected
                            .iter()
                            .any(|e| same_key(e.as_bytes(), item.as_bytes())),
                        (ComparisonValue::HashList { digests, .. }, Ok(Some(salt))) => {
                            let digest = if stable {
                                self.stable_hash(item.as_bytes(), salt, context_salt)
                            } else {
                                confidential_hash(item.as_bytes(), salt, context_salt)
                            };
                            digests.contains(&digest)
                        }
                        _ => false,
                    };
                };
                match attribute {
                    Attribute::StringList(list) => {
                        for item in list {
                            item_matches(item, true);
                        }
                    }
                    // Text holding a JSON array of strings, read in place.
                    Attribute::Text(text) => {
                        if for_each_json_string(text, &mut item_matches).is_err() {
                            return invalid_attribute(
                                condition,
                                attribute,
                                ExpectedKind::StringList,
                            );
                        }
                    }
                    _ => return invalid_attribute(condition, attribute, ExpectedKind::StringList),
                }
                match check {
                    Ok(_) => ConditionResult::Matched(found != negated),
                    Err(error) => ConditionResult::Failed(error),
                }
            }
            (value, _) => {
                if !matches!(attribute, Attribute::Text(_)) {
                    // Text comparators convert other kinds, and say so.
                    with_canonical_text(attribute, |text| {
                        self.warn(
                            EventId::UserAttributeConverted,
                            format_args!(
                                "Evaluation of condition ({condition}) for setting '{key}' may not produce the expected result (the User.{} attribute is not a string value, thus it was automatically converted to the string value '{text}'). Please make sure that using a non-string value was intended.",
                                condition.attribute
                            ),
                        );
                    });
                }
                // Text borrowed from the user outlives the evaluation: its
                // hashes may be reused; converted text lives in a buffer.
                // (Text is compared without a closure around it: the common
                // case then keeps its arguments in registers.)
                let result = match attribute {
                    Attribute::Text(text) => {
                        self.compare_user_text(comparator, value, text, true, origin, context_salt)
                    }
                    other => with_canonical_text(other, |text| {
                        self.compare_user_text(comparator, value, text, false, origin, context_salt)
                    }),
                };
                match result {
                    Ok(found) => ConditionResult::Matched(found != negated),
                    Err(error) => ConditionResult::Failed(error),
                }
            }
        }
    }
}

/// The salt hashed comparisons need. (Not `ok_or`: its error value would
/// be built and dropped on every success.)
#[inline]
fn salt_of(origin: Option<&Origin>) -> Result<&str, EvaluationError> {
    match origin.and_then(|origin| origin.salt.as_deref()) {
        Some(salt) => Ok(salt),
        None => Err(EvaluationError::SaltMissing),
    }
}

/// Reads `text` as a JSON array of strings (exactly what
/// `serde_json::from_str::<Vec<String>>` accepts) and hands every item to
/// `f`, with whether it is borrowed from `text` (no escapes) rather than
/// decoded into a buffer of its own. Allocates only for items with escapes.
/// Items before a syntax error are handed over too; the caller then
/// discards what it found.
fn for_each_json_string(text: &str, f: &mut impl FnMut(&str, bool)) -> Result<(), ()> {
    let mut reader = Reader::new(text);
    reader.begin_array("a list of strings").map_err(drop)?;
    let mut first = true;
    while reader.next_element(&mut first).map_err(drop)? {
        match reader.string("a string").map_err(drop)? {
            Cow::Borrowed(item) => f(item, true),
            Cow::Owned(item) => f(&item, false),
        }
    }
    reader.end().map_err(drop)
}

const fn invalid_attribute<'c, 'u>(
    condition: &'c UserCondition,
    attribute: Attribute<'u>,
    expected: ExpectedKind,
) -> ConditionResult<'c, 'u> {
    ConditionResult::AttributeInvalid(
        condition,
        InvalidAttribute {
            value: attribute,
            expected,
        },
    )
}

#[expect(
    clippy::float_cmp,
    reason = "number comparators compare exactly, as in every ConfigCat SDK"
)]
fn compare_numbers(comparator: UserComparator, actual: f64, expected: f64) -> bool {
    match comparator {
        UserComparator::NumberEquals => actual == expected,
        UserComparator::NumberNotEquals => actual != expected,
        UserComparator::NumberLess => actual < expected,
        UserComparator::NumberLessOrEqual => actual <= expected,
        UserComparator::NumberGreater => actual > expected,
        _ => actual >= expected,
    }
}

/// Whether the (positive form of the) text comparator finds `text`; negation is applied by the caller.
fn compare_text(
    comparator: UserComparator,
    value: &ComparisonValue,
    text: &str,
    hash: impl Fn(&[u8]) -> Result<Sha256Digest, EvaluationError>,
) -> Result<bool, EvaluationError> {
    Ok(match value {
        ComparisonValue::Text(expected) => same_key(text.as_bytes(), expected.as_bytes()),
        ComparisonValue::Hash(expected) => {
            let actual = hash(text.as_bytes())?;
            expected.as_ref() == Some(&actual)
        }
        ComparisonValue::HashList { digests, .. } => {
            let actual = hash(text.as_bytes())?;
            digests.contains(&actual)
        }
        ComparisonValue::TextList(items) => {
            use UserComparator as C;
            match comparator {
                C::ContainsAnyOf | C::NotContainsAnyOf => items
                    .iter()
                    .any(|item| contains_text(text, item.as_bytes())),
                C::StartsWithAnyOf | C::NotStartsWithAnyOf => items.iter().any(|item| {
                    let text = text.as_bytes();
                    text.get(..item.len())
                        .is_some_and(|head| same_key(head, item.as_bytes()))
                }),
                C::EndsWithAnyOf | C::NotEndsWithAnyOf => items.iter().any(|item| {
                    let text = text.as_bytes();
                    text.len()
                        .checked_sub(item.len())
                        .and_then(|start| text.get(start..))
                        .is_some_and(|tail| same_key(tail, item.as_bytes()))
                }),
                _ => items
                    .iter()
                    .any(|item| same_key(text.as_bytes(), item.as_bytes())),
            }
        }
        ComparisonValue::HashedAffixes(affixes) => {
            let bytes = text.as_bytes();
            let starts = matches!(
                comparator,
                UserComparator::SensitiveStartsWithAnyOf
                    | UserComparator::SensitiveNotStartsWithAnyOf
            );
            for (length, expected) in affixes {
                let Some(part) = (if starts {
                    bytes.get(..*length)
                } else {
                    bytes
                        .len()
                        .checked_sub(*length)
                        .and_then(|start| bytes.get(start..))
                }) else {
                    continue;
                };
                if expected.as_ref() == Some(&hash(part)?) {
                    return Ok(true);
                }
            }
            false
        }
        _ => {
            return Err(EvaluationError::InvalidCondition(
                ConditionDefect::ComparisonValueInvalid.message(),
            ));
        }
    })
}

/// Whether `needle` occurs in `haystack`. Attribute texts are short, where
/// a scan for the first byte beats the standard searcher (which compares
/// every window with `memcmp` below its SIMD size); long texts use the latter.
fn contains_text(haystack_text: &str, needle: &[u8]) -> bool {
    if haystack_text.len() > 64 {
        return core::str::from_utf8(needle).is_ok_and(|needle| haystack_text.contains(needle));
    }
    let haystack = haystack_text.as_bytes();
    let Some(&first) = needle.first() else {
        return true;
    };
    let Some(last_start) = haystack.len().checked_sub(needle.len()) else {
        return false;
    };
    // Where the needle's first byte occurs, eight start positions at a time.
    let mut chunk_start = 0;
    while chunk_start <= last_start {
        let mut marks = json::byte_marks(word_at(haystack, chunk_start), first);
        while marks != 0 {
            let start = chunk_start + (marks.trailing_zeros() / 8) as usize;
            marks &= marks - 1;
            // A borrow's false mark fails the comparison of the whole window,
            // and a mark past `last_start` has no whole window.
            if haystack
                .get(start..start + needle.len())
                .is_some_and(|window| same_key(window, needle))
            {
                return true;
            }
        }
        chunk_start += 8;
    }
    false
}

/// The eight bytes of `bytes` from `start` as a little-endian word, read in
/// place: the bytes past the end are zeros (a copy of a short tail into a
/// buffer is a call to `memcpy`).
#[inline]
fn word_at(bytes: &[u8], start: usize) -> u64 {
    if let Some((word, _)) = bytes.get(start..).and_then(<[u8]>::split_first_chunk::<8>) {
        return u64::from_le_bytes(*word);
    }
    let missing = (start + 8).saturating_sub(bytes.len());
    match bytes.split_last_chunk::<8>() {
        // The last eight bytes, shifted down past those before `start`.
        Some((_, last)) if missing < 8 => u64::from_le_bytes(*last) >> (8 * missing),
        _ => bytes
            .get(start..)
            .unwrap_or_default()
            .iter()
            .rev()
            .fold(0, |word, &byte| (word << 8) | u64::from(byte)),
    }
}

/// Runs `f` on the canonical text of an attribute; text is borrowed, numbers
/// are written on the stack, only lists need the heap.
#[inline(always)]
fn with_canonical_text<R>(attribute: Attribute<'_>, f: impl FnOnce(&str) -> R) -> R {
    match attribute {
        Attribute::Text(text) => f(text),
        Attribute::Number(number) | Attribute::DateTime(number) => {
            f(js_number_text(number).as_str())
        }
        Attribute::StringList(_) => {
            let mut text = String::new();
            let _ = attribute.write_canonical(&mut text);
            f(&text)
        }
    }
}

fn outcome<'a>(
    served: &'a Served,
    setting_type: SettingType,
    rule: Option<(usize, &'a TargetingRule)>,
    option: Option<(usize, &'a PercentageOption)>,
) -> Result<Outcome<'a>, EvaluationError> {
    match served.value.value() {
        Some(value) if value.setting_type() == setting_type => Ok(Outcome {
            value,
            variation_id: served.variation_id.as_ref(),
            rule,
            option,
        }),
        _ => Err(EvaluationError::InvalidServedValue),
    }
}

#[cfg(test)]
mod json_list_tests {
    use super::*;
    use alloc::string::ToString;

    fn read(text: &str) -> Option<Vec<String>> {
        let mut items = Vec::new();
        for_each_json_string(text, &mut |item, _| items.push(item.to_string()))
            .ok()
            .map(|()| items)
    }

    #[test]
    fn reads_exactly_what_serde_json_reads() {
        for text in [
            r#"["USA"]"#,
            r#" [ "a" , "b" ] "#,
            "[]",
            " [ ] ",
            "[\"a\",]",
            "[\"a\" \"b\"]",
            "[\"a\\\"b\", \"c\"]",
            "[\"\\u00e9\"]",
            "[\"tab\there\"]",
            "[1]",
            "[\"a\"] x",
            "",
            "[",
            "[\"é\", \"日本\"]",
            "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\"]",
            "\u{a0}[\"a\"]",
            "null",
        ] {
            let expected = serde_json::from_str::<Vec<String>>(text).ok();
            assert_eq!(read(text), expected, "{text:?}");
        }
    }
}

#[cfg(test)]
mod text_tests {
    use super::contains_text;

    #[test]
    fn contains_like_the_standard_library() {
        let long = "x".repeat(70) + "@configcat.com";
        for haystack in [
            "",
            "a",
            "ab",
            "user0000@configcat.com",
            "é@configcat.coé",
            &long,
        ] {
            for needle in [
                "",
                "a",
                "b",
                "@configcat.com",
                "com",
                "é",
                "user0000@configcat.com!",
            ] {
                assert_eq!(
                    contains_text(haystack, needle.as_bytes()),
                    haystack.contains(needle),
                    "{haystack:?} {needle:?}"
                );
            }
        }
    }

    #[test]
    fn contains_like_the_standard_library_at_every_position() {
        // Texts of a small alphabet (zero and one bytes included: they are
        // where a word-at-a-time scan can be wrong) up to the 64 bytes the
        // scan serves, and needles taken from them or not.
        let alphabet = ['\0', '\u{1}', 'a', 'b', '@'];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |bound: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % bound as u64).unwrap()
        };
        for length in 0..=64 {
            for _ in 0..40 {
                let text: alloc::string::String = (0..length)
                    .map(|_| alphabet[next(alphabet.len())])
                    .collect();
                let start = next(length + 1);
                let end = start + next(length - start + 1);
                let taken = &text[start..end];
                let other: alloc::string::String = (0..next(6))
                    .map(|_| alphabet[next(alphabet.len())])
                    .collect();
                for needle in [taken, other.as_str()] {
                    assert_eq!(
                        contains_text(&text, needle.as_bytes()),
                        text.contains(needle),
                        "{text:?} {needle:?}"
                    );
                }
            }
        }
    }
}
