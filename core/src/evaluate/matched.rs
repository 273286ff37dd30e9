//! What evaluation details report as matched: the targeting rule and the %
//! option, with their text as the evaluation log shows it.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::ToString;
use core::fmt;
use core::ops::Deref;

use crate::config::{Condition, Origin, PercentageOption, TargetingRule};
use crate::evaluation_log::{PercentageOptionText, RuleText};

/// The targeting rule that chose a flag's value, as
/// [`EvaluationDetails::matched_targeting_rule`](crate::EvaluationDetails::matched_targeting_rule)
/// reports it. It dereferences to the [`TargetingRule`].
///
/// `Display` writes the rule as the evaluation log (event 5000) does, in one
/// line and without the results: its conditions, joined by `AND`, in the
/// log's exact text, then what it serves. The log's own code writes both.
///
/// ```
/// use configcat_core::{Config, NoLog, User};
///
/// let config = Config::parse(br#"{"p":{"s":"s"},"f":{"beta":{"t":0,"v":{"b":false},
///     "r":[{"c":[{"u":{"a":"Email","c":2,"l":["@example.com"]}},{"u":{"a":"Country","c":0,"l":["HU","AT"]}}],
///           "s":{"v":{"b":true},"i":"on"}}]}}}"#)?;
/// let user = User::new("42").with_email("jane@example.com").with_country("HU");
/// let details = config.get_value_details("beta", false, Some(&user), &NoLog);
/// let rule = details.matched_targeting_rule.as_ref().expect("a rule matched");
/// assert_eq!(
///     rule.to_string(),
///     "IF User.Email CONTAINS ANY OF ['@example.com'] AND User.Country IS ONE OF ['HU', 'AT'] THEN 'true'"
/// );
/// assert_eq!(rule.variation_id(), Some("on")); // the `TargetingRule`'s own methods
/// let owned = details.into_owned(); // outlives the config, and still shows the rule
/// assert!(owned.matched_targeting_rule.expect("a rule").to_string().starts_with("IF User.Email"));
/// # Ok::<(), configcat_core::ParseError>(())
/// ```
#[derive(Clone)]
pub struct MatchedTargetingRule<'a>(RuleAndText<'a>);

#[derive(Clone)]
enum RuleAndText<'a> {
    /// Borrowed from the config: the text is written when displayed.
    InConfig {
        rule: &'a TargetingRule,
        conditions: &'a [Condition],
        origin: Option<&'a Origin>,
    },
    /// Outlives the config: the text was written when the details were
    /// made owned (the conditions live in the config, not in the rule).
    Owned { rule: TargetingRule, text: Box<str> },
}

impl<'a> MatchedTargetingRule<'a> {
    pub(crate) const fn in_config(
        rule: &'a TargetingRule,
        conditions: &'a [Condition],
        origin: Option<&'a Origin>,
    ) -> Self {
        Self(RuleAndText::InConfig {
            rule,
            conditions,
            origin,
        })
    }

    /// The rule and its text, owned: what the details' `into_owned` keeps.
    #[must_use]
    pub fn into_owned(self) -> MatchedTargetingRule<'static> {
        MatchedTargetingRule(match self.0 {
            RuleAndText::InConfig { rule, .. } => RuleAndText::Owned {
                text: self.to_string().into_boxed_str(),
                rule: rule.clone(),
            },
            RuleAndText::Owned { rule, text } => RuleAndText::Owned { rule, text },
        })
    }

    /// The rule itself (also reached through `Deref`).
    #[must_use]
    pub const fn rule(&self) -> &TargetingRule {
        match &self.0 {
            RuleAndText::InConfig { rule, .. } => rule,
            RuleAndText::Owned { rule, .. } => rule,
        }
    }
}

impl Deref for MatchedTargetingRule<'_> {
    type Target = TargetingRule;

    fn deref(&self) -> &TargetingRule {
        self.rule()
    }
}

impl fmt::Display for MatchedTargetingRule<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            RuleAndText::InConfig {
                rule,
                conditions,
                origin,
            } => RuleText {
                conditions,
                origin: *origin,
                then: &rule.then,
            }
            .fmt(f),
            RuleAndText::Owned { text, .. } => f.write_str(text),
        }
    }
}

/// The rule's text: what a person reading the details wants to see.
impl fmt::Debug for MatchedTargetingRule<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MatchedTargetingRule")
            .field(&format_args!("{self}"))
            .finish()
    }
}

/// The same rule with the same text, borrowed or owned.
impl PartialEq for MatchedTargetingRule<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.rule() == other.rule() && self.to_string() == other.to_string()
    }
}

/// The % option that chose a flag's value, as
/// [`EvaluationDetails::matched_percentage_option`](crate::EvaluationDetails::matched_percentage_option)
/// reports it. It dereferences to the [`PercentageOption`].
///
/// `Display` writes the option as the evaluation log does when it selects
/// it, numbered from 1 like ConfigCat's logs: `% option 2 (25%), 'Falcon'`
/// is the option at index 1 of its list
/// ([`EvaluationDetails::matched_percentage_option_index`](crate::EvaluationDetails::matched_percentage_option_index)
/// is 0-based).
///
/// ```
/// use configcat_core::{Config, NoLog, User};
///
/// let config = Config::parse(br#"{"f":{"animal":{"t":1,"v":{"s":"Cat"},
///     "p":[{"p":0,"v":{"s":"Dog"}},{"p":100,"v":{"s":"Falcon"},"i":"f"}]}}}"#)?;
/// let details = config.get_value_details("animal", "", Some(&User::new("42")), &NoLog);
/// let option = details.matched_percentage_option.as_ref().expect("a % option");
/// assert_eq!(option.to_string(), "% option 2 (100%), 'Falcon'");
/// assert_eq!(details.matched_percentage_option_index, Some(1));
/// assert_eq!(option.percentage(), 100); // the `PercentageOption`'s own methods
/// # Ok::<(), configcat_core::ParseError>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct MatchedPercentageOption<'a> {
    option: Cow<'a, PercentageOption>,
    /// Its index in its list (0-based).
    index: usize,
}

impl<'a> MatchedPercentageOption<'a> {
    pub(crate) const fn in_config(option: &'a PercentageOption, index: usize) -> Self {
        Self {
            option: Cow::Borrowed(option),
            index,
        }
    }

    /// The option, owned.
    #[must_use]
    pub fn into_owned(self) -> MatchedPercentageOption<'static> {
        MatchedPercentageOption {
            option: Cow::Owned(self.option.into_owned()),
            index: self.index,
        }
    }

    /// The option itself (also reached through `Deref`).
    #[must_use]
    pub fn option(&self) -> &PercentageOption {
        &self.option
    }
}

impl Deref for MatchedPercentageOption<'_> {
    type Target = PercentageOption;

    fn deref(&self) -> &PercentageOption {
        &self.option
    }
}

impl fmt::Display for MatchedPercentageOption<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        PercentageOptionText {
            index: self.index,
            option: &self.option,
        }
        .fmt(f)
    }
}

/// The option's text, as `Display` writes it.
impl fmt::Debug for MatchedPercentageOption<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MatchedPercentageOption")
            .field(&format_args!("{self}"))
            .finish()
    }
}
