//! What an evaluation through the client returns besides the value.

use core::fmt;

use configcat_core::{EvaluationError, PercentageOption, TargetingRule};

/// Why the default value was returned.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FlagError {
    /// There is no config yet (nothing fetched or cached).
    ConfigJsonMissing,
    /// The config could not evaluate the flag.
    Evaluation(EvaluationError),
}

impl fmt::Display for FlagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ConfigJsonMissing => f.write_str("Config JSON is not present"),
            Self::Evaluation(error) => error.fmt(f),
        }
    }
}

impl core::error::Error for FlagError {}

#[cfg(feature = "defmt")]
impl defmt::Format for FlagError {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{}", defmt::Display2Format(self));
    }
}

/// The result of evaluating a flag, borrowing from the client's config (a
/// text value is not copied).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EvaluationDetails<'a, T> {
    /// The value (the default when `error` is set).
    pub value: T,
    /// The variation id of the served value.
    pub variation_id: Option<&'a str>,
    /// Whether `value` is the default passed in (because evaluation failed).
    pub is_default_value: bool,
    /// Why evaluation failed, if it did.
    pub error: Option<FlagError>,
    /// When the evaluated config was fetched (or last confirmed by the CDN),
    /// in Unix milliseconds.
    pub fetch_time_ms: Option<u64>,
    /// Index of the targeting rule that matched.
    pub matched_targeting_rule_index: Option<usize>,
    /// The targeting rule that matched.
    pub matched_targeting_rule: Option<&'a TargetingRule>,
    /// Index of the % option that was chosen.
    pub matched_percentage_option_index: Option<usize>,
    /// The % option that was chosen.
    pub matched_percentage_option: Option<&'a PercentageOption>,
}

impl<'a, T> EvaluationDetails<'a, T> {
    pub(crate) const fn defaulted(value: T, error: FlagError) -> Self {
        Self {
            value,
            variation_id: None,
            is_default_value: true,
            error: Some(error),
            fetch_time_ms: None,
            matched_targeting_rule_index: None,
            matched_targeting_rule: None,
            matched_percentage_option_index: None,
            matched_percentage_option: None,
        }
    }

    pub(crate) fn from_core(
        core: configcat_core::EvaluationDetails<'a, T>,
        fetch_time_ms: Option<u64>,
    ) -> Self {
        Self {
            value: core.value,
            variation_id: core.variation_id,
            is_default_value: core.is_default_value,
            error: core.error.map(FlagError::Evaluation),
            fetch_time_ms,
            matched_targeting_rule_index: core.matched_targeting_rule_index,
            matched_targeting_rule: core.matched_targeting_rule,
            matched_percentage_option_index: core.matched_percentage_option_index,
            matched_percentage_option: core.matched_percentage_option,
        }
    }
}

#[cfg(feature = "defmt")]
impl<T: defmt::Format> defmt::Format for EvaluationDetails<'_, T> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "EvaluationDetails {{ value: {}, variation_id: {}, is_default_value: {}, error: {}, fetch_time_ms: {}, matched_targeting_rule_index: {}, matched_percentage_option_index: {} }}",
            self.value,
            self.variation_id,
            self.is_default_value,
            self.error,
            self.fetch_time_ms,
            self.matched_targeting_rule_index,
            self.matched_percentage_option_index,
        );
    }
}
