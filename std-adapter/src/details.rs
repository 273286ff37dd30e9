//! What an evaluation returns besides the value.

use std::fmt;
use std::time::SystemTime;

use configcat_core::{PercentageOption, TargetingRule, User};

/// Why the default value was returned.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FlagError {
    /// There is no config yet (nothing fetched, cached or overridden).
    ConfigJsonMissing,
    /// The config could not evaluate the flag.
    Evaluation(configcat_core::EvaluationError),
}

impl fmt::Display for FlagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ConfigJsonMissing => f.write_str("Config JSON is not present"),
            Self::Evaluation(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for FlagError {}

/// The result of evaluating a flag through the client, owning its data.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EvaluationDetails<T> {
    /// The flag's key.
    pub key: String,
    /// The value (the default when `error` is set).
    pub value: T,
    /// The variation id of the served value.
    pub variation_id: Option<String>,
    /// Whether `value` is the default passed in (because evaluation failed).
    pub is_default_value: bool,
    /// Why evaluation failed, if it did.
    pub error: Option<FlagError>,
    /// The user the flag was evaluated for (the default user when none was passed).
    pub user: Option<User>,
    /// When the evaluated config was fetched (or confirmed by the CDN).
    pub fetch_time: Option<SystemTime>,
    /// Index of the targeting rule that matched.
    pub matched_targeting_rule_index: Option<usize>,
    /// The targeting rule that matched.
    pub matched_targeting_rule: Option<TargetingRule>,
    /// Index of the % option that was chosen.
    pub matched_percentage_option_index: Option<usize>,
    /// The % option that was chosen.
    pub matched_percentage_option: Option<PercentageOption>,
}

impl<T> EvaluationDetails<T> {
    pub(crate) fn defaulted(key: &str, value: T, error: FlagError, user: Option<User>) -> Self {
        Self {
            key: key.to_owned(),
            value,
            variation_id: None,
            is_default_value: true,
            error: Some(error),
            user,
            fetch_time: None,
            matched_targeting_rule_index: None,
            matched_targeting_rule: None,
            matched_percentage_option_index: None,
            matched_percentage_option: None,
        }
    }

    /// The client's details of a core evaluation.
    pub(crate) fn from_core(
        key: &str,
        core: configcat_core::EvaluationDetails<'_, T>,
        user: Option<&User>,
        fetch_time: Option<SystemTime>,
    ) -> Self {
        Self {
            key: key.to_owned(),
            variation_id: core.variation_id.map(str::to_owned),
            is_default_value: core.is_default_value,
            error: core.error.map(FlagError::Evaluation),
            user: user.cloned(),
            fetch_time,
            matched_targeting_rule_index: core.matched_targeting_rule_index,
            matched_targeting_rule: core.matched_targeting_rule.cloned(),
            matched_percentage_option_index: core.matched_percentage_option_index,
            matched_percentage_option: core.matched_percentage_option.cloned(),
            value: core.value,
        }
    }

    /// A copy of the details with the value derived from this one's.
    pub(crate) fn with_value_ref<U>(&self, f: impl FnOnce(&T) -> U) -> EvaluationDetails<U> {
        EvaluationDetails {
            key: self.key.clone(),
            value: f(&self.value),
            variation_id: self.variation_id.clone(),
            is_default_value: self.is_default_value,
            error: self.error.clone(),
            user: self.user.clone(),
            fetch_time: self.fetch_time,
            matched_targeting_rule_index: self.matched_targeting_rule_index,
            matched_targeting_rule: self.matched_targeting_rule.clone(),
            matched_percentage_option_index: self.matched_percentage_option_index,
            matched_percentage_option: self.matched_percentage_option.clone(),
        }
    }

    /// The same details with the value mapped.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> EvaluationDetails<U> {
        EvaluationDetails {
            key: self.key,
            value: f(self.value),
            variation_id: self.variation_id,
            is_default_value: self.is_default_value,
            error: self.error,
            user: self.user,
            fetch_time: self.fetch_time,
            matched_targeting_rule_index: self.matched_targeting_rule_index,
            matched_targeting_rule: self.matched_targeting_rule,
            matched_percentage_option_index: self.matched_percentage_option_index,
            matched_percentage_option: self.matched_percentage_option,
        }
    }
}
