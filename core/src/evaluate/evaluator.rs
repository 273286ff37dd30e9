//! The evaluator: a setting's targeting rules, segments, prerequisite flags
//! and % options, in the order and with the log text of ConfigCat's SDKs.

use alloc::boxed::Box;
use alloc::string::String;
use core::cell::Cell;
use core::fmt::{self, Write};

use super::user_condition::{InvalidAttribute, with_canonical_text};
use super::{FlagError, MAX_PREREQUISITE_DEPTH, Outcome};
use crate::comparator::{PrerequisiteComparator, SegmentComparator};
use crate::config::{
    Condition, ConditionDefect, Config, Origin, PercentageOption, RuleOutcome, SegmentCondition,
    Served, Setting, TargetingRule, UserCondition,
};
use crate::evaluation_log::{
    ConditionText, EvaluationLog, PercentageOptionText, SegmentConditionText,
};
use crate::hashing::{Sha256Digest, confidential_hash, percentage_bucket};
use crate::log_event::{EventId, LogLevel, LogSink};
use crate::semver::Version;
use crate::user::{Attribute, User};
use crate::value::{OwnedValue, SettingType};

const RULE_IGNORED: &str =
    "The current targeting rule is ignored and the evaluation continues with the next rule.";
const READ_MORE: &str = "Read more: https://configcat.com/docs/advanced/user-object/";

/// One link of the chain of settings being evaluated (root first), kept on the
/// stack for cycle detection.
pub(super) struct Visit<'p> {
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
pub(super) enum ConditionResult<'c, 'u> {
    Matched(bool),
    NoUser,
    AttributeMissing(&'c UserCondition),
    AttributeInvalid(&'c UserCondition, InvalidAttribute<'u>),
    Failed(FlagError),
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

enum PercentageResult<'a> {
    Selected(usize, &'a PercentageOption),
    AttributeMissing(&'a str),
}

pub(super) struct Evaluator<'c, 'u> {
    config: &'c Config,
    user: Option<&'u User>,
    sink: &'u dyn LogSink,
    /// Whether the sink wants warnings, asked the first time one is due.
    warnings: Cell<Option<bool>>,
    pub(super) log: EvaluationLog,
    /// The last confidential hash: the conditions of a rule (and the rules
    /// of a flag) often hash the same attribute with the same salts.
    last_hash: Cell<Option<(HashInput, Sha256Digest)>>,
    /// The last user text parsed as a version (by address) and its parse:
    /// the semver conditions of a flag usually read the same attribute.
    last_version: Cell<Option<ParsedText<'u>>>,
}

impl<'c, 'u> Evaluator<'c, 'u> {
    pub(super) fn new(
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
    pub(super) fn evaluate_quietly(
        &mut self,
        setting: &'c Setting,
    ) -> Result<Outcome<'c>, FlagError> {
        if !setting.has_targeting() {
            return setting
                .setting_type
                .map_err(FlagError::InvalidSettingType)
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
    pub(super) fn warn(&self, id: EventId, args: fmt::Arguments<'_>) {
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
    pub(super) fn stable_hash(&self, value: &[u8], salt: &str, context: &str) -> Sha256Digest {
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
    pub(super) fn semver_of(&self, attribute: Attribute<'u>) -> Option<Version<'u>> {
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

    pub(super) fn evaluate_setting(
        &mut self,
        setting: &'c Setting,
        parent: Option<&Visit<'_>>,
        depth: usize,
    ) -> Result<Outcome<'c>, FlagError> {
        let setting_type = setting
            .setting_type
            .map_err(FlagError::InvalidSettingType)?;
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
                        RuleOutcome::Missing => return Err(FlagError::TargetingRuleThenMissing),
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
    ) -> Result<PercentageResult<'c>, FlagError> {
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
                    "- Hash value {bucket} selects {}.",
                    PercentageOptionText { index, option }
                ));
                return Ok(PercentageResult::Selected(index, option));
            }
        }
        Err(FlagError::PercentageSumBelow100)
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
                    ConditionResult::Failed(FlagError::InvalidCondition(defect.message()))
                }
            };
            // A mismatch is rebuilt, not moved: a wide copy of the callee's narrow stores stalls.
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
                    ConditionResult::Failed(FlagError::InvalidCondition(defect.message()))
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
            self.log.append(format_args!("{} => ", rule.then));
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
            return ConditionResult::Failed(FlagError::InvalidCondition(
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
                        ConditionResult::Failed(FlagError::InvalidCondition(defect.message()))
                    }
                    _ => ConditionResult::Failed(FlagError::InvalidCondition(
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
                    ConditionResult::Failed(FlagError::InvalidCondition(reason))
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
            return ConditionResult::Failed(FlagError::PrerequisiteMissing {
                key: Box::from(condition.key.as_str()),
            });
        };
        let expected = condition.value.value();
        let type_matches = match (expected, prerequisite.setting_type) {
            (Some(value), Ok(setting_type)) => value.setting_type() == setting_type,
            _ => false,
        };
        let Some(expected) = expected.filter(|_| type_matches) else {
            return ConditionResult::Failed(FlagError::PrerequisiteTypeMismatch {
                comparison_value: expected
                    .map_or(OwnedValue::Text("".into()), |v| v.to_owned_value()),
                key: Box::from(condition.key.as_str()),
            });
        };
        if visit.contains(&prerequisite.key) {
            let mut chain = String::new();
            visit.write_chain(&mut chain);
            let _ = write!(chain, " -> '{}'", prerequisite.key);
            return ConditionResult::Failed(FlagError::CircularDependency { chain });
        }
        if depth >= MAX_PREREQUISITE_DEPTH {
            return ConditionResult::Failed(FlagError::PrerequisiteDepthExceeded);
        }
        self.log.line(format_args!("("));
        self.log.indent();
        self.log.line(format_args!(
            "Evaluating prerequisite flag '{}':",
            prerequisite.key
        ));
        let result = self.evaluate_setting(prerequisite, Some(visit), depth + 1);
        // Read in place: moving the outcome out is a wide copy of narrow stores (a stall).
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
}

fn outcome<'a>(
    served: &'a Served,
    setting_type: SettingType,
    rule: Option<(usize, &'a TargetingRule)>,
    option: Option<(usize, &'a PercentageOption)>,
) -> Result<Outcome<'a>, FlagError> {
    match served.value.value() {
        Some(value) if value.setting_type() == setting_type => Ok(Outcome {
            value,
            variation_id: served.variation_id.as_ref(),
            rule,
            option,
        }),
        _ => Err(FlagError::InvalidServedValue),
    }
}
