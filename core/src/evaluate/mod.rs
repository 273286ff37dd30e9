//! Flag evaluation: targeting rules, segments, prerequisite flags and % options.
//!
//! The algorithm, its warnings and its log text follow ConfigCat's official
//! SDKs. With a sink that wants neither warnings nor the evaluation log, an
//! evaluation reads the prepared config and the user in place and does not
//! touch the heap (text results are borrowed from the config).

mod evaluator;
mod matched;
mod text_search;
mod user_condition;

use alloc::borrow::Cow;
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
pub use matched::{MatchedPercentageOption, MatchedTargetingRule};

/// How deep prerequisite flags may nest. Bounded so that a hostile config
/// cannot exhaust the stack (small on microcontrollers); real configs use a few levels.
pub const MAX_PREREQUISITE_DEPTH: usize = 16;

/// Why a flag read returned the default value: the one error type of every
/// crate's evaluation details.
///
/// ```
/// use configcat_core::{Config, FlagError, NoLog};
///
/// let config = Config::parse(br#"{"f":{"pageSize":{"t":2,"v":{"i":50}}}}"#)?;
/// let details = config.get_value_details("pageSize", false, None, &NoLog);
/// assert!(details.is_default_value);
/// assert!(matches!(details.error, Some(FlagError::TypeMismatch { .. })));
/// let missing = config.get_value_details("nope", 0_i64, None, &NoLog);
/// assert_eq!(missing.error, Some(FlagError::SettingNotFound { key: "nope".into() }));
/// # Ok::<(), configcat_core::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FlagError {
    /// There is no config yet: nothing fetched, cached or overridden
    /// (reported by the adapters' clients).
    ConfigJsonMissing,
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

impl fmt::Display for FlagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ConfigJsonMissing => f.write_str("Config JSON is not present"),
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

impl core::error::Error for FlagError {}

/// The result of evaluating a flag, with how it was reached: the one details
/// shape of every crate.
///
/// What it refers to (the key, the variation id, the matched rule and %
/// option) is borrowed from the config when it comes from
/// [`Config::get_value_details`], so that building it does not allocate;
/// [`EvaluationDetails::into_owned`] makes the `'static` form a client
/// returns when the config it came from may be replaced.
///
/// ```
/// use configcat_core::{Config, NoLog, User};
///
/// let config = Config::parse(br#"{"p":{"s":"s"},"f":{"beta":{"t":0,"v":{"b":false},"i":"off",
///     "r":[{"c":[{"u":{"a":"Email","c":2,"l":["@example.com"]}}],"s":{"v":{"b":true},"i":"on"}}]}}}"#)?;
/// let user = User::new("42").with_email("jane@example.com");
/// let details = config.get_value_details("beta", false, Some(&user), &NoLog);
/// assert!(details.value);
/// assert_eq!(details.variation_id.as_deref(), Some("on"));
/// assert_eq!(details.matched_targeting_rule_index, Some(0));
/// assert!(!details.is_default_value && details.error.is_none());
/// let owned = details.into_owned(); // outlives `config`
/// assert_eq!(owned.key, "beta");
/// # Ok::<(), configcat_core::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EvaluationDetails<'a, T> {
    /// The setting's key.
    pub key: Cow<'a, str>,
    /// The value: the setting's, or the default when `error` is set.
    pub value: T,
    /// The variation id of the served value, if the config has one.
    pub variation_id: Option<Cow<'a, str>>,
    /// Whether `value` is the caller's default (because evaluation failed).
    pub is_default_value: bool,
    /// Why evaluation failed, if it did.
    pub error: Option<FlagError>,
    /// The user the flag was evaluated for: the std client fills it in (with
    /// its default user when none was passed); the core and the embedded
    /// client leave it empty rather than copy the user.
    pub user: Option<Cow<'a, User>>,
    /// When the evaluated config was fetched (or last confirmed by the CDN),
    /// in Unix milliseconds; set by the clients, which know it.
    pub fetch_time_ms: Option<u64>,
    /// The targeting rule that matched, if any; `Display` writes it as the
    /// evaluation log does (`IF User.Email ... THEN 'true'`).
    pub matched_targeting_rule: Option<MatchedTargetingRule<'a>>,
    /// Index of the matched rule in the setting's rules (0-based, as in
    /// [`Setting::targeting_rules`](crate::Setting::targeting_rules)).
    pub matched_targeting_rule_index: Option<usize>,
    /// The % option that was chosen, if any (inside the matched rule or the
    /// setting's); `Display` writes it as the evaluation log does
    /// (`% option 2 (25%), 'Falcon'`).
    pub matched_percentage_option: Option<MatchedPercentageOption<'a>>,
    /// Index of the chosen % option in its list (0-based, as in
    /// [`Setting::percentage_options`](crate::Setting::percentage_options)
    /// and [`TargetingRule::percentage_options`]). The evaluation log and
    /// the option's `Display` number options from 1 (`% option 2` is index
    /// 1), as ConfigCat's logs do; ConfigCat's SDKs give no index in their
    /// details, only the option itself.
    pub matched_percentage_option_index: Option<usize>,
}

impl<'a, T> EvaluationDetails<'a, T> {
    /// Details of a read of `key` that returned `value`, the default, because of `error`.
    #[must_use]
    pub fn defaulted(key: impl Into<Cow<'a, str>>, value: T, error: FlagError) -> Self {
        Self {
            key: key.into(),
            value,
            variation_id: None,
            is_default_value: true,
            error: Some(error),
            user: None,
            fetch_time_ms: None,
            matched_targeting_rule: None,
            matched_targeting_rule_index: None,
            matched_percentage_option: None,
            matched_percentage_option_index: None,
        }
    }

    /// The same details with the value mapped.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> EvaluationDetails<'a, U> {
        EvaluationDetails {
            key: self.key,
            value: f(self.value),
            variation_id: self.variation_id,
            is_default_value: self.is_default_value,
            error: self.error,
            user: self.user,
            fetch_time_ms: self.fetch_time_ms,
            matched_targeting_rule: self.matched_targeting_rule,
            matched_targeting_rule_index: self.matched_targeting_rule_index,
            matched_percentage_option: self.matched_percentage_option,
            matched_percentage_option_index: self.matched_percentage_option_index,
        }
    }

    /// A copy of the details whose value is derived from this one's (for a
    /// value that cannot be cloned, or not cheaply).
    pub fn map_ref<U>(&self, f: impl FnOnce(&T) -> U) -> EvaluationDetails<'a, U> {
        EvaluationDetails {
            key: self.key.clone(),
            value: f(&self.value),
            variation_id: self.variation_id.clone(),
            is_default_value: self.is_default_value,
            error: self.error.clone(),
            user: self.user.clone(),
            fetch_time_ms: self.fetch_time_ms,
            matched_targeting_rule: self.matched_targeting_rule.clone(),
            matched_targeting_rule_index: self.matched_targeting_rule_index,
            matched_percentage_option: self.matched_percentage_option.clone(),
            matched_percentage_option_index: self.matched_percentage_option_index,
        }
    }

    /// The details with everything they borrow copied, so that they outlive
    /// the config and the user (the value must be owned already: map a
    /// borrowed one first).
    #[must_use]
    pub fn into_owned(self) -> EvaluationDetails<'static, T> {
        EvaluationDetails {
            key: Cow::Owned(self.key.into_owned()),
            value: self.value,
            variation_id: self.variation_id.map(|id| Cow::Owned(id.into_owned())),
            is_default_value: self.is_default_value,
            error: self.error,
            user: self.user.map(|user| Cow::Owned(user.into_owned())),
            fetch_time_ms: self.fetch_time_ms,
            matched_targeting_rule: self
                .matched_targeting_rule
                .map(MatchedTargetingRule::into_owned),
            matched_targeting_rule_index: self.matched_targeting_rule_index,
            matched_percentage_option: self
                .matched_percentage_option
                .map(MatchedPercentageOption::into_owned),
            matched_percentage_option_index: self.matched_percentage_option_index,
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
                let error = FlagError::TypeMismatch {
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
                    let error = FlagError::InvalidServedValue;
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
            return not_found(key, default);
        };
        if let Ok(setting_type) = setting.setting_type {
            if !T::accepts(setting_type) {
                let error = FlagError::TypeMismatch {
                    setting_type,
                    requested: T::TYPE_NAME,
                };
                report_failure(sink, key, &error, Some(default.as_value()));
                return EvaluationDetails::defaulted(&*setting.key, default, error);
            }
        }
        match self.evaluate_root(setting, user, sink, Some(default.as_value())) {
            Ok(outcome) => match T::from_value(outcome.value) {
                Some(value) => details_of(self, setting, value, outcome),
                None => {
                    let error = FlagError::InvalidServedValue;
                    report_failure(sink, key, &error, Some(default.as_value()));
                    EvaluationDetails::defaulted(&*setting.key, default, error)
                }
            },
            Err(error) => {
                report_failure(sink, &setting.key, &error, Some(default.as_value()));
                EvaluationDetails::defaulted(&*setting.key, default, error)
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
            return not_found(key, None);
        };
        self.evaluate_setting(setting, user, sink)
    }

    fn evaluate_setting<'a>(
        &'a self,
        setting: &'a Setting,
        user: Option<&User>,
        sink: &dyn LogSink,
    ) -> EvaluationDetails<'a, Option<Value<'a>>> {
        match self.evaluate_root(setting, user, sink, None) {
            Ok(outcome) => details_of(self, setting, Some(outcome.value), outcome),
            Err(error) => {
                report_failure(sink, &setting.key, &error, None);
                EvaluationDetails::defaulted(&*setting.key, None, error)
            }
        }
    }

    /// Evaluates every setting, in document order. Settings that fail to
    /// evaluate are included with `value: None` and their error.
    pub fn evaluate_all<'a>(
        &'a self,
        user: Option<&User>,
        sink: &dyn LogSink,
    ) -> Vec<EvaluationDetails<'a, Option<Value<'a>>>> {
        self.settings
            .iter()
            .map(|setting| self.evaluate_setting(setting, user, sink))
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
        mut f: impl FnMut(&'a str, Result<Value<'a>, FlagError>),
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
    ) -> Result<Outcome<'a>, FlagError> {
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

/// Details of a key the config does not have; the key is copied (on this
/// error path only), so the details do not borrow the caller's key.
fn not_found<'a, T>(key: &str, value: T) -> EvaluationDetails<'a, T> {
    let error = FlagError::SettingNotFound { key: key.into() };
    EvaluationDetails::defaulted(String::from(key), value, error)
}

fn details_of<'a, T>(
    config: &'a Config,
    setting: &'a Setting,
    value: T,
    outcome: Outcome<'a>,
) -> EvaluationDetails<'a, T> {
    EvaluationDetails {
        key: Cow::Borrowed(&setting.key),
        value,
        variation_id: outcome
            .variation_id
            .map(|id| Cow::Borrowed(CompactStr::as_str(id))),
        is_default_value: false,
        error: None,
        user: None,
        fetch_time_ms: None,
        matched_targeting_rule: outcome.rule.map(|(_, rule)| {
            MatchedTargetingRule::in_config(
                rule,
                setting.conditions_of(rule),
                config.origin(setting),
            )
        }),
        matched_targeting_rule_index: outcome.rule.map(|(index, _)| index),
        matched_percentage_option: outcome
            .option
            .map(|(index, option)| MatchedPercentageOption::in_config(option, index)),
        matched_percentage_option_index: outcome.option.map(|(index, _)| index),
    }
}

fn report_failure(sink: &dyn LogSink, key: &str, error: &FlagError, default: Option<Value<'_>>) {
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
