//! Flag evaluation: targeting rules, segments, prerequisite flags and % options.
//!
//! The algorithm, its warnings and its log text follow ConfigCat's official
//! SDKs. With a sink that wants neither warnings nor the evaluation log, an
//! evaluation reads the prepared config and the user in place and does not
//! touch the heap (text results are borrowed from the config).

mod evaluator;
mod text_search;
mod user_condition;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::compact_str::CompactStr;
use crate::config::{Config, PercentageOption, RuleOutcome, Served, Setting, TargetingRule};
use crate::log_event::{EventId, LogLevel, LogSink, emit};
use crate::user::User;
use crate::value::{FlagValue, OwnedValue, SettingType, Value};
use evaluator::Evaluator;

/// How deep prerequisite flags may nest. Bounded so that a hostile config
/// cannot exhaust the stack (small on microcontrollers); real configs use a few levels.
pub const MAX_PREREQUISITE_DEPTH: usize = 16;

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
                // Rebuilt by variant: moved whole, it is a wide load of narrow stores (a stall).
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
            // Returned as it comes: held and moved, it is a wide copy of narrow stores.
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
