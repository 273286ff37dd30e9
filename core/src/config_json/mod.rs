//! Reading config JSON v6 (and the simple `{"flags": {...}}` override format).
//!
//! One pass over the text with [`crate::json::Reader`]: every object is read
//! member by member straight into the validated model of [`crate::config`],
//! decoding and parsing every comparison value once. Members may come in any
//! order; the few whose meaning depends on another member (a value on its
//! setting's type, a comparison value on its comparator) wait in small
//! borrowed buffers until their object ends.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;
use core::fmt;

use crate::compact_str::CompactStr;
use crate::comparator::{
    ComparatorKind, PrerequisiteComparator, SegmentComparator, UserComparator,
};
use crate::config::{
    ComparisonValue, Condition, ConditionDefect, Config, Origin, PercentageOption, Preferences,
    PrerequisiteCondition, RedirectMode, RuleOutcome, Segment, SegmentCondition, Served, Setting,
    StoredValue, TargetingRule, UserCondition,
};
use crate::hashing::decode_hex_digest;
use crate::json::{self, ErrorClass, JsonError, Kind, Number, Problem, Reader, SeenMembers};
use crate::semver::PreparedVersion;
use crate::user::AttributeKey;
use crate::value::{OwnedValue, SettingType};

/// Why a config JSON (or override file) was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    kind: ParseErrorKind,
    line: usize,
    column: usize,
    detail: Box<str>,
}

/// Classification of a [`ParseError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The text is not JSON (or nests deeper than the parser allows).
    Syntax,
    /// The text ends in the middle of a value (truncated download or cache entry).
    Truncated,
    /// Valid JSON, but a member has the wrong type for a config.
    Shape,
    /// A flag-override value of a type a setting cannot hold (null, list, object).
    UnsupportedOverrideValue,
}

impl ParseError {
    /// The classification of the error.
    #[must_use]
    pub const fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// 1-based line of the error in the input, 0 if unknown.
    #[must_use]
    pub const fn line(&self) -> usize {
        self.line
    }

    /// 1-based column of the error in the input, 0 if unknown.
    #[must_use]
    pub const fn column(&self) -> usize {
        self.column
    }

    fn from_json(error: &JsonError, input: &[u8]) -> Self {
        let kind = match error.class {
            ErrorClass::Eof => ParseErrorKind::Truncated,
            ErrorClass::Shape => ParseErrorKind::Shape,
            ErrorClass::Syntax => ParseErrorKind::Syntax,
        };
        let (line, column) = error.line_and_column(input);
        Self {
            kind,
            line,
            column,
            detail: alloc::format!("{} at line {line} column {column}", error.problem).into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ParseErrorKind::Syntax => f.write_str("config JSON is not valid JSON: ")?,
            ParseErrorKind::Truncated => f.write_str("config JSON is truncated: ")?,
            ParseErrorKind::Shape => {
                f.write_str("config JSON does not have the config v6 shape: ")?
            }
            ParseErrorKind::UnsupportedOverrideValue => {
                f.write_str("flag override is not supported: ")?
            }
        }
        f.write_str(&self.detail)
    }
}

impl core::error::Error for ParseError {}

impl Config {
    /// Parses a config JSON v6 document as the CDN serves it.
    ///
    /// # Errors
    /// The text is not JSON or does not have the shape of a config. Problems
    /// inside one setting (an unknown comparator, a missing segment, ...) do not
    /// fail the parse: that setting reports them when it is evaluated.
    pub fn parse(json: &[u8]) -> Result<Self, ParseError> {
        read_document(json, false).map(Document::into_config)
    }

    /// Parses a flag-override document: either the simple format
    /// `{"flags": {"key": value, ...}}` (the type follows the JSON value: `true`
    /// is a bool, `5` an int, `3.14` a float, `"x"` text) or a full config JSON v6.
    ///
    /// # Errors
    /// As [`Config::parse`]; also a simple-format value that is not a bool, number or text.
    pub fn parse_overrides(json: &[u8]) -> Result<Self, ParseError> {
        let mut document = read_document(json, true)?;
        let Some(flags) = document.flags.take() else {
            return Ok(document.into_config());
        };
        let mut values = Vec::with_capacity(flags.len());
        for (key, value) in flags {
            match value {
                Some(value) => values.push((String::from(key), value)),
                None => {
                    return Err(ParseError {
                        kind: ParseErrorKind::UnsupportedOverrideValue,
                        line: 0,
                        column: 0,
                        detail: alloc::format!(
                            "the value of flags.{key} is not a bool, number or text"
                        )
                        .into(),
                    });
                }
            }
        }
        Ok(Self::from_values(values))
    }

    /// A config of settings without rules, one per `(key, value)`, as a flag
    /// override map provides them.
    ///
    /// ```
    /// use configcat_core::{Config, NoLog, OwnedValue};
    ///
    /// let config = Config::from_values([("enabled".to_owned(), OwnedValue::Bool(true))]);
    /// assert!(config.get_value("enabled", false, None, &NoLog));
    /// ```
    pub fn from_values(values: impl IntoIterator<Item = (String, OwnedValue)>) -> Self {
        let settings = values
            .into_iter()
            .map(|(key, value)| {
                let (setting_type, value) = match value {
                    OwnedValue::Bool(v) => (SettingType::Bool, StoredValue::Bool(v)),
                    OwnedValue::Text(v) => (SettingType::Text, StoredValue::Text(v)),
                    OwnedValue::Int(v) => (SettingType::Int, StoredValue::Int(v)),
                    OwnedValue::Float(v) => (SettingType::Float, StoredValue::Float(v)),
                };
                Setting {
                    key: key.into_boxed_str(),
                    setting_type: Ok(setting_type),
                    served: Served {
                        value,
                        variation_id: None,
                    },
                    percentage_attribute: None,
                    percentage_key: AttributeKey::Identifier,
                    rules: Box::default(),
                    conditions: Box::default(),
                    percentage_options: Box::default(),
                    origin: 0,
                }
            })
            .collect();
        Self::from_parts(
            Preferences::default(),
            alloc::vec![Origin::default()],
            settings,
        )
    }
}

// ---- the document, read member by member ----

type Read<T> = Result<T, JsonError>;

/// A document's top-level members, the settings already in the model.
struct Document<'a> {
    /// The simple override format's `flags`, when reading overrides.
    flags: Option<Vec<(Cow<'a, str>, Option<OwnedValue>)>>,
    preferences: Option<WirePreferences<'a>>,
    segments: Vec<Segment>,
    settings: Vec<Setting>,
}

struct WirePreferences<'a> {
    base_url: Option<Cow<'a, str>>,
    redirect: Option<i64>,
    salt: Option<Cow<'a, str>>,
}

/// A value object (`v`): any of its members, typed by whoever reads it.
#[derive(Default)]
struct WireValue<'a> {
    boolean: Option<bool>,
    text: Option<Cow<'a, str>>,
    int: Option<i64>,
    float: Option<f64>,
}

impl WireValue<'_> {
    /// How many of its members the value object has.
    fn member_count(&self) -> usize {
        usize::from(self.boolean.is_some())
            + usize::from(self.text.is_some())
            + usize::from(self.int.is_some())
            + usize::from(self.float.is_some())
    }
}

/// Reusable buffers of the parse. Lists are collected here and moved out
/// into exactly sized slices once complete (no growth, no shrinking of
/// each list's own vector); each buffer is used as a stack, so a list may
/// be read while an outer one of the same kind is still open.
#[derive(Default)]
struct Scratch<'a> {
    /// Comparison-value list items of the user condition being read: kept
    /// borrowed until the condition's comparator is known.
    items: Vec<Cow<'a, str>>,
    conditions: Vec<Condition>,
    rules: Vec<TargetingRule>,
    options: Vec<PercentageOption>,
    segment_references: SegmentReferences,
}

/// Segment references are checked as they are read when the segments come
/// before the settings in the document, else in one pass at the end
/// (members in alphabetical order put them after).
#[derive(Default)]
struct SegmentReferences {
    /// The number of segments, once they have been read.
    segment_count: Option<usize>,
    /// A reference was read before that.
    unchecked: bool,
}

impl SegmentReferences {
    fn settle(&mut self, condition: &mut Condition) {
        match self.segment_count {
            Some(count) => settle_segment_reference(condition, count),
            None => {
                self.unchecked |= matches!(
                    condition,
                    Condition::Segment(_)
                        | Condition::Invalid(ConditionDefect::SegmentComparatorUnknown { .. })
                );
            }
        }
    }
}

fn read_document(json: &[u8], overrides: bool) -> Result<Document<'_>, ParseError> {
    let mut scratch = Scratch::default();
    let document = json::read_document(json, |reader| {
        read_top_level(reader, &mut scratch, overrides)
    });
    document.map_err(|error| ParseError::from_json(&error, json))
}

fn read_top_level<'a>(
    reader: &mut Reader<'a>,
    scratch: &mut Scratch<'a>,
    overrides: bool,
) -> Read<Document<'a>> {
    let mut document = Document {
        flags: None,
        preferences: None,
        segments: Vec::new(),
        settings: Vec::new(),
    };
    let known: &[&'static str] = if overrides {
        &["p", "s", "f", "flags"]
    } else {
        &["p", "s", "f"]
    };
    read_object(reader, "a config object", known, |reader, member| {
        match member {
            "p" => document.preferences = optional(reader, |reader| read_preferences(reader))?,
            "s" => {
                document.segments =
                    optional(reader, |reader| read_segments(reader, scratch))?.unwrap_or_default();
                scratch.segment_references.segment_count = Some(document.segments.len());
            }
            "f" => {
                document.settings =
                    optional(reader, |reader| read_settings(reader, scratch))?.unwrap_or_default();
            }
            "flags" => document.flags = optional(reader, |reader| read_override_flags(reader))?,
            _ => {}
        }
        Ok(())
    })?;
    if scratch.segment_references.unchecked {
        settle_segment_references(&mut document.settings, document.segments.len());
    }
    Ok(document)
}

impl Document<'_> {
    fn into_config(self) -> Config {
        let (preferences, salt) = match self.preferences {
            None => (Preferences::default(), None),
            Some(wire) => (
                Preferences {
                    base_url: wire.base_url.map(Box::from),
                    redirect: wire.redirect.and_then(|code| match code {
                        0 => Some(RedirectMode::NoRedirect),
                        1 => Some(RedirectMode::ShouldRedirect),
                        2 => Some(RedirectMode::ForceRedirect),
                        _ => None,
                    }),
                },
                wire.salt.map(Box::from),
            ),
        };
        Config::from_parts(
            preferences,
            alloc::vec![Origin {
                salt,
                segments: self.segments.into_boxed_slice(),
            }],
            self.settings,
        )
    }
}

fn read_preferences<'a>(reader: &mut Reader<'a>) -> Read<WirePreferences<'a>> {
    let mut preferences = WirePreferences {
        base_url: None,
        redirect: None,
        salt: None,
    };
    read_object(reader, "preferences", &["u", "r", "s"], |reader, member| {
        match member {
            "u" => preferences.base_url = optional_string(reader)?,
            "r" => preferences.redirect = optional_integer(reader)?,
            "s" => preferences.salt = optional_string(reader)?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(preferences)
}

fn read_segments<'a>(reader: &mut Reader<'a>, scratch: &mut Scratch<'a>) -> Read<Vec<Segment>> {
    let mut segments = Vec::new();
    reader.begin_array("a list of segments")?;
    let mut first = true;
    while reader.next_element(&mut first)? {
        let mut name = None;
        let mut conditions: Box<[Condition]> = Box::default();
        read_object(reader, "a segment", &["n", "r"], |reader, member| {
            match member {
                "n" => name = optional_string(reader)?,
                "r" => {
                    conditions = optional(reader, |reader| {
                        read_list(
                            reader,
                            "a list of conditions",
                            &mut scratch.conditions,
                            |reader| read_user_condition(reader, &mut scratch.items),
                        )
                    })?
                    .unwrap_or_default();
                }
                _ => {}
            }
            Ok(())
        })?;
        segments.push(Segment {
            name: name.map(Box::from).unwrap_or_default(),
            conditions,
        });
    }
    Ok(segments)
}

/// The settings object (`f`).
fn read_settings<'a>(reader: &mut Reader<'a>, scratch: &mut Scratch<'a>) -> Read<Vec<Setting>> {
    let mut settings = Vec::new();
    reader.begin_object("a map of settings")?;
    let mut first = true;
    while let Some(key) = reader.next_key(&mut first)? {
        settings.push(read_setting(reader, key, scratch, None)?);
    }
    Ok(settings)
}

/// How the values served by a setting's rules and % options are typed.
#[derive(Clone, Copy)]
enum ValueTyping<'s> {
    /// By the setting's type (`None`: missing, or unknown to this SDK, so
    /// no value is valid).
    Known(Option<SettingType>),
    /// The type comes later in the setting object. Each value is typed by
    /// itself until the type is known, then kept only if it has that type.
    /// A value object with more than one member (one of which the type
    /// would have chosen) is noted here: the setting is then read again,
    /// its type known.
    Later(&'s Cell<bool>),
}

/// Reads a setting object; `type_code`, when a first read of the same
/// object has found it, is its `t`.
fn read_setting<'a>(
    reader: &mut Reader<'a>,
    key: Cow<'a, str>,
    scratch: &mut Scratch<'a>,
    mut type_code: Option<Option<i64>>,
) -> Read<Setting> {
    // The values served by rules and % options are read as the setting's
    // type when `t` comes first. When it comes after them (members in
    // alphabetical order, as in ConfigCat's test-suite configs and the
    // benchmark workloads' ones), they are typed by themselves and checked
    // against `t` at the end: one pass over the object, where a look ahead
    // for `t` read the rules twice.
    let object_start = reader.clone();
    let two_membered_value = Cell::new(false);
    let mut typed_later = false;
    let mut typing = |type_code: Option<Option<i64>>| match type_code {
        Some(code) => ValueTyping::Known(setting_type_of(code).ok()),
        None => {
            typed_later = true;
            ValueTyping::Later(&two_membered_value)
        }
    };
    let mut percentage_attribute: Option<Cow<'a, str>> = None;
    let mut rules: Box<[TargetingRule]> = Box::default();
    let mut percentage_options: Box<[PercentageOption]> = Box::default();
    let mut value = WireValue::default();
    let mut variation_id = None;
    // The rules' conditions are collected here, one rule after another.
    let conditions_start = scratch.conditions.len();
    read_object(
        reader,
        "a setting",
        &["t", "a", "r", "p", "v", "i"],
        |reader, member| {
            match member {
                // Known already on a second read: the same code.
                "t" => {
                    let code = optional_integer(reader)?;
                    type_code.get_or_insert(code);
                }
                "a" => percentage_attribute = optional_string(reader)?,
                "r" => {
                    let typing = typing(type_code);
                    rules = optional(reader, |reader| {
                        read_list(
                            reader,
                            "a list of targeting rules",
                            &mut scratch.rules,
                            |reader| {
                                read_rule(
                                    reader,
                                    typing,
                                    (&mut scratch.conditions, conditions_start),
                                    &mut scratch.items,
                                    &mut scratch.options,
                                    &mut scratch.segment_references,
                                )
                            },
                        )
                    })?
                    .unwrap_or_default();
                }
                "p" => {
                    let typing = typing(type_code);
                    if let Some(options) =
                        optional_percentage_options(reader, typing, &mut scratch.options)?
                    {
                        percentage_options = options;
                    }
                }
                "v" => value = optional_value(reader)?.unwrap_or_default(),
                "i" => variation_id = optional_string(reader)?,
                _ => {}
            }
            Ok(())
        },
    )?;
    let setting_type = setting_type_of(type_code.flatten());
    let value_type = setting_type.ok();
    if typed_later {
        if two_membered_value.get() {
            scratch.conditions.truncate(conditions_start);
            *reader = object_start;
            return read_setting_again(reader, key, scratch, type_code.flatten());
        }
        keep_values_of_type(&mut rules, &mut percentage_options, value_type);
    }
    Ok(Setting {
        key: Box::from(key),
        setting_type,
        served: served(value, variation_id, ValueTyping::Known(value_type)),
        percentage_key: percentage_attribute
            .as_deref()
            .map_or(AttributeKey::Identifier, AttributeKey::of),
        percentage_attribute: percentage_attribute.map(Box::from),
        rules,
        conditions: scratch.conditions.drain(conditions_start..).collect(),
        percentage_options,
        origin: 0,
    })
}

/// A setting's type from its code: `Err(code)` for a code this SDK does not
/// know, `Err(-1)` for none.
fn setting_type_of(code: Option<i64>) -> Result<SettingType, i64> {
    match code {
        Some(code) => SettingType::from_wire(code).ok_or(code),
        None => Err(-1),
    }
}

/// Reads a setting object a second time, its type code known (or known to
/// be missing) from the first read. Rare: only a value object with more
/// than one member, before the type, needs it. Out of line: the recursive
/// call written in `read_setting` itself costs every setting's read (the
/// large config's parse, 0.3 % of its instructions).
#[cold]
#[inline(never)]
fn read_setting_again<'a>(
    reader: &mut Reader<'a>,
    key: Cow<'a, str>,
    scratch: &mut Scratch<'a>,
    type_code: Option<i64>,
) -> Read<Setting> {
    read_setting(reader, key, scratch, Some(type_code))
}

/// Invalidates the values served by `rules` and `options` that are not of
/// `value_type` (all of them when it is `None`): what typing them by the
/// setting's type as they were read would have made of them.
///
/// Out of line: settings whose type comes first never call it.
#[inline(never)]
fn keep_values_of_type(
    rules: &mut [TargetingRule],
    options: &mut [PercentageOption],
    value_type: Option<SettingType>,
) {
    let rule_values = rules.iter_mut().flat_map(|rule| {
        let (value, options): (Option<&mut Served>, &mut [PercentageOption]) = match &mut rule.then
        {
            RuleOutcome::Value(served) => (Some(served), &mut []),
            RuleOutcome::PercentageOptions(options) => (None, options),
            RuleOutcome::Missing => (None, &mut []),
        };
        value
            .into_iter()
            .chain(options.iter_mut().map(|option| &mut option.served))
    });
    let option_values = options.iter_mut().map(|option| &mut option.served);
    for served in rule_values.chain(option_values) {
        if served.value.value().map(|value| value.setting_type()) != value_type {
            served.value = StoredValue::Invalid;
        }
    }
}

fn read_rule<'a>(
    reader: &mut Reader<'a>,
    typing: ValueTyping<'_>,
    (setting_conditions, setting_start): (&mut Vec<Condition>, usize),
    items: &mut Vec<Cow<'a, str>>,
    options_scratch: &mut Vec<PercentageOption>,
    segment_references: &mut SegmentReferences,
) -> Read<TargetingRule> {
    // Where this rule's conditions sit among its setting's.
    let rule_start = setting_conditions.len();
    let mut served_value = None;
    let mut options = None;
    read_object(
        reader,
        "a targeting rule",
        &["c", "s", "p"],
        |reader, member| {
            match member {
                "c" => {
                    optional(reader, |reader| {
                        read_onto(
                            reader,
                            "a list of conditions",
                            setting_conditions,
                            |reader| {
                                let mut condition = read_condition(reader, items)?;
                                segment_references.settle(&mut condition);
                                Ok(condition)
                            },
                        )
                    })?;
                }
                "s" => served_value = optional(reader, |reader| read_served(reader, typing))?,
                "p" => options = optional_percentage_options(reader, typing, options_scratch)?,
                _ => {}
            }
            Ok(())
        },
    )?;
    let then = match (served_value, options) {
        (Some(value), _) => RuleOutcome::Value(value),
        (None, Some(options)) => RuleOutcome::PercentageOptions(options),
        (None, None) => RuleOutcome::Missing,
    };
    let too_many = |_| {
        JsonError::new(
            ErrorClass::Shape,
            Problem::Message("too many conditions"),
            reader.position(),
        )
    };
    Ok(TargetingRule {
        first_condition: u32::try_from(rule_start - setting_start).map_err(too_many)?,
        condition_count: u32::try_from(setting_conditions.len() - rule_start).map_err(too_many)?,
        then,
    })
}

/// A served value object (`{"v": ..., "i": ...}`).
fn read_served(reader: &mut Reader<'_>, typing: ValueTyping<'_>) -> Read<Served> {
    let mut value = WireValue::default();
    let mut variation_id = None;
    read_object(reader, "a served value", &["v", "i"], |reader, member| {
        match member {
            "v" => value = optional_value(reader)?.unwrap_or_default(),
            "i" => variation_id = optional_string(reader)?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(served(value, variation_id, typing))
}

fn optional_percentage_options(
    reader: &mut Reader<'_>,
    typing: ValueTyping<'_>,
    scratch: &mut Vec<PercentageOption>,
) -> Read<Option<Box<[PercentageOption]>>> {
    if reader.null()? {
        return Ok(None);
    }
    read_list(reader, "a list of percentage options", scratch, |reader| {
        let mut percentage = None;
        let mut value = WireValue::default();
        let mut variation_id = None;
        read_object(
            reader,
            "a percentage option",
            &["p", "v", "i"],
            |reader, member| {
                match member {
                    "p" => percentage = optional_integer(reader)?,
                    "v" => value = optional_value(reader)?.unwrap_or_default(),
                    "i" => variation_id = optional_string(reader)?,
                    _ => {}
                }
                Ok(())
            },
        )?;
        Ok(PercentageOption {
            percentage: percentage.unwrap_or(0),
            served: served(value, variation_id, typing),
        })
    })
    .map(Some)
}

fn served(
    value: WireValue<'_>,
    variation_id: Option<Cow<'_, str>>,
    typing: ValueTyping<'_>,
) -> Served {
    let value = match typing {
        ValueTyping::Known(value_type) => stored_value(value, value_type),
        ValueTyping::Later(two_membered) => {
            if value.member_count() > 1 {
                two_membered.set(true);
            }
            self_typed_value(value)
        }
    };
    Served {
        value,
        variation_id: variation_id.map(CompactStr::from),
    }
}

/// A condition of a targeting rule: exactly one of `u`, `s`, `p`. Segment
/// references are checked for range by [`SegmentReferences::settle`].
fn read_condition<'a>(reader: &mut Reader<'a>, items: &mut Vec<Cow<'a, str>>) -> Read<Condition> {
    let mut user = None;
    let mut segment = None;
    let mut prerequisite = None;
    read_object(reader, "a condition", &["u", "s", "p"], |reader, member| {
        match member {
            "u" => user = optional(reader, |reader| read_user_condition(reader, items))?,
            "s" => segment = optional(reader, |reader| read_segment_condition(reader))?,
            "p" => prerequisite = optional(reader, |reader| read_prerequisite(reader))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(match (user, segment, prerequisite) {
        (Some(condition), None, None)
        | (None, Some(condition), None)
        | (None, None, Some(condition)) => condition,
        _ => Condition::Invalid(ConditionDefect::Empty),
    })
}

fn read_segment_condition(reader: &mut Reader<'_>) -> Read<Condition> {
    let mut index = None;
    let mut comparator = None;
    read_object(
        reader,
        "a segment condition",
        &["s", "c"],
        |reader, member| {
            match member {
                "s" => index = optional_integer(reader)?,
                "c" => comparator = optional_integer(reader)?,
                _ => {}
            }
            Ok(())
        },
    )?;
    let index = index.and_then(|index| u32::try_from(index).ok());
    let comparator = comparator.and_then(SegmentComparator::from_code);
    Ok(match (index, comparator) {
        (Some(segment), Some(comparator)) => Condition::Segment(SegmentCondition {
            segment,
            comparator,
        }),
        (None, _) => Condition::Invalid(ConditionDefect::SegmentReferenceInvalid),
        (Some(segment), None) => {
            Condition::Invalid(ConditionDefect::SegmentComparatorUnknown { segment })
        }
    })
}

fn read_prerequisite(reader: &mut Reader<'_>) -> Read<Condition> {
    let mut key = None;
    let mut comparator = None;
    let mut value = WireValue::default();
    read_object(
        reader,
        "a prerequisite flag condition",
        &["f", "c", "v"],
        |reader, member| {
            match member {
                "f" => key = optional_string(reader)?,
                "c" => comparator = optional_integer(reader)?,
                "v" => value = optional_value(reader)?.unwrap_or_default(),
                _ => {}
            }
            Ok(())
        },
    )?;
    let comparator = comparator.and_then(PrerequisiteComparator::from_code);
    Ok(match (key, comparator, self_typed_value(value)) {
        (_, None, _) => Condition::Invalid(ConditionDefect::UnknownComparator),
        (None, _, _) | (_, _, StoredValue::Invalid) => {
            Condition::Invalid(ConditionDefect::PrerequisiteValueInvalid)
        }
        (Some(key), Some(comparator), value) => Condition::Prerequisite(PrerequisiteCondition {
            key: CompactStr::from(key),
            comparator,
            value,
            target: None,
        }),
    })
}

fn read_user_condition<'a>(
    reader: &mut Reader<'a>,
    items: &mut Vec<Cow<'a, str>>,
) -> Read<Condition> {
    let mut attribute = None;
    let mut comparator = None;
    let mut text = None;
    let mut number = None;
    // The list items wait in `items[list_start..]`.
    let list_start = items.len();
    let mut has_list = false;
    read_object(
        reader,
        "a user condition",
        &["a", "c", "s", "d", "l"],
        |reader, member| {
            match member {
                "a" => attribute = optional_string(reader)?,
                "c" => comparator = optional_integer(reader)?,
                "s" => text = optional_string(reader)?,
                "d" => number = optional_float(reader)?,
                "l" => {
                    let list = optional(reader, |reader| {
                        reader.begin_array("a list of strings")?;
                        let mut first_item = true;
                        while reader.next_element(&mut first_item)? {
                            items.push(reader.string("a string")?);
                        }
                        Ok(())
                    })?;
                    has_list = list.is_some();
                }
                _ => {}
            }
            Ok(())
        },
    )?;
    let list = has_list.then(|| items.get(list_start..).unwrap_or_default());
    let condition = user_condition(attribute, comparator, text, number, list);
    items.truncate(list_start);
    Ok(condition)
}

fn user_condition(
    attribute: Option<Cow<'_, str>>,
    comparator: Option<i64>,
    text: Option<Cow<'_, str>>,
    number: Option<f64>,
    list: Option<&[Cow<'_, str>]>,
) -> Condition {
    let Some(attribute) = attribute else {
        return Condition::Invalid(ConditionDefect::AttributeNameMissing);
    };
    let Some(comparator) = comparator.and_then(UserComparator::from_code) else {
        return Condition::Invalid(ConditionDefect::UnknownComparator);
    };
    match comparison_value(comparator, text, number, list) {
        Some(value) => Condition::User(UserCondition {
            key: AttributeKey::of(&attribute),
            attribute: CompactStr::from(attribute),
            comparator,
            value,
        }),
        None => Condition::Invalid(ConditionDefect::ComparisonValueInvalid),
    }
}

fn comparison_value(
    comparator: UserComparator,
    text: Option<Cow<'_, str>>,
    number: Option<f64>,
    list: Option<&[Cow<'_, str>]>,
) -> Option<ComparisonValue> {
    let sensitive = comparator.is_sensitive();
    Some(match comparator.kind() {
        ComparatorKind::Text if sensitive => ComparisonValue::Hash(decode_hex_digest(&text?)),
        ComparatorKind::Text => ComparisonValue::Text(CompactStr::from(text?)),
        ComparatorKind::TextList | ComparatorKind::ArrayList if sensitive => {
            let list = list?;
            let digests = list
                .iter()
                .filter_map(|item| decode_hex_digest(item))
                .collect();
            ComparisonValue::HashList {
                digests,
                count: list.len(),
            }
        }
        ComparatorKind::TextList | ComparatorKind::ArrayList => {
            ComparisonValue::TextList(list?.iter().map(|item| CompactStr::from(&**item)).collect())
        }
        ComparatorKind::HashedAffixList => {
            let mut affixes = Vec::with_capacity(list?.len());
            for item in list? {
                let (length, digest) = item.split_once('_')?;
                let length: usize = length.trim().parse().ok()?;
                affixes.push((length, decode_hex_digest(digest)));
            }
            ComparisonValue::HashedAffixes(affixes.into_boxed_slice())
        }
        ComparatorKind::SemverList => ComparisonValue::SemverList(
            list?
                .iter()
                .map(|item| {
                    let parsed = (!item.trim().is_empty()).then(|| PreparedVersion::parse(item));
                    (CompactStr::from(&**item), parsed)
                })
                .collect(),
        ),
        ComparatorKind::Semver => {
            let text = text?;
            let parsed = PreparedVersion::parse(&text).map(Box::new);
            ComparisonValue::Semver(CompactStr::from(text), parsed)
        }
        ComparatorKind::Number => ComparisonValue::Number(number?),
        ComparatorKind::Date => ComparisonValue::Date(number?),
    })
}

/// Reads an object whose known members are `known`: `member` is called with
/// each known name found, the reader at its value; other members are
/// skipped. A known member twice is refused (a document with two `v` in one
/// setting is ambiguous).
fn read_object<'a>(
    reader: &mut Reader<'a>,
    expected: &'static str,
    known: &[&'static str],
    mut member: impl FnMut(&mut Reader<'a>, &'static str) -> Read<()>,
) -> Read<()> {
    reader.begin_object(expected)?;
    let mut seen = SeenMembers::default();
    let mut first = true;
    while let Some(name) = reader.next_member(&mut first)? {
        match known.iter().zip(0_u8..).find(|&(&known, _)| name.is(known)) {
            Some((name, index)) => {
                seen.record(index, name, reader)?;
                member(reader, name)?;
            }
            None => reader.skip_value()?,
        }
    }
    Ok(())
}

/// A JSON array read element by element into an exactly sized slice,
/// collected on top of `scratch` (left as it was found).
fn read_list<'a, T>(
    reader: &mut Reader<'a>,
    expected: &'static str,
    scratch: &mut Vec<T>,
    read: impl FnMut(&mut Reader<'a>) -> Read<T>,
) -> Read<Box<[T]>> {
    let start = scratch.len();
    read_onto(reader, expected, scratch, read)?;
    Ok(scratch.drain(start..).collect())
}

/// A JSON array read element by element onto the end of `items`.
fn read_onto<'a, T>(
    reader: &mut Reader<'a>,
    expected: &'static str,
    items: &mut Vec<T>,
    mut read: impl FnMut(&mut Reader<'a>) -> Read<T>,
) -> Read<()> {
    reader.begin_array(expected)?;
    let mut first = true;
    while reader.next_element(&mut first)? {
        let item = read(reader)?;
        items.push(item);
    }
    Ok(())
}

fn optional_value<'a>(reader: &mut Reader<'a>) -> Read<Option<WireValue<'a>>> {
    if reader.null()? {
        return Ok(None);
    }
    let mut value = WireValue::default();
    read_object(
        reader,
        "a value object",
        &["b", "s", "i", "d"],
        |reader, member| {
            match member {
                "b" => value.boolean = optional(reader, |reader| reader.bool("a boolean"))?,
                "s" => value.text = optional_string(reader)?,
                "i" => value.int = optional_integer(reader)?,
                "d" => value.float = optional_float(reader)?,
                _ => {}
            }
            Ok(())
        },
    )?;
    Ok(Some(value))
}

/// `None` for `null`, else what `read` reads.
fn optional<'a, T>(
    reader: &mut Reader<'a>,
    read: impl FnOnce(&mut Reader<'a>) -> Read<T>,
) -> Read<Option<T>> {
    if reader.null()? {
        return Ok(None);
    }
    read(reader).map(Some)
}

fn optional_string<'a>(reader: &mut Reader<'a>) -> Read<Option<Cow<'a, str>>> {
    optional(reader, |reader| reader.string("a string"))
}

fn optional_float(reader: &mut Reader<'_>) -> Read<Option<f64>> {
    optional(reader, |reader| {
        reader.number("a number").map(Number::as_f64)
    })
}

/// Reads an optional whole number. JSON has one number type: `-0` and `5.0`
/// are whole numbers too (other SDKs read them so), fractions are not.
fn optional_integer(reader: &mut Reader<'_>) -> Read<Option<i64>> {
    if reader.null()? {
        return Ok(None);
    }
    let at = reader.position();
    let shape = |message| JsonError::new(ErrorClass::Shape, Problem::Message(message), at);
    match reader.number("a whole number")? {
        Number::Unsigned(v) => i64::try_from(v)
            .map(Some)
            .map_err(|_| shape("whole number out of range")),
        Number::Negative(v) => Ok(Some(v)),
        Number::Float(v) => {
            // Within ±2^53 every whole f64 is exact, so the conversion below is too.
            const EXACT: f64 = 9_007_199_254_740_992.0;
            #[expect(
                clippy::cast_possible_truncation,
                reason = "whole and within ±2^53, checked first"
            )]
            let whole = v as i64;
            #[expect(
                clippy::cast_precision_loss,
                reason = "round trip check of a value within ±2^53"
            )]
            let is_whole = v.abs() <= EXACT && whole as f64 == v;
            if is_whole {
                Ok(Some(whole))
            } else {
                Err(shape("expected a whole number"))
            }
        }
    }
}

/// The simple override format's `flags` object, in document order: `Some`
/// for a bool, number or text value, `None` for anything else.
fn read_override_flags<'a>(
    reader: &mut Reader<'a>,
) -> Read<Vec<(Cow<'a, str>, Option<OwnedValue>)>> {
    let mut flags = Vec::new();
    reader.begin_object("a map of flag values")?;
    let mut first = true;
    while let Some(key) = reader.next_key(&mut first)? {
        let value = match reader.peek_kind()? {
            Kind::Bool => Some(OwnedValue::Bool(reader.bool("a boolean")?)),
            Kind::Number => Some(match reader.number("a number")? {
                Number::Unsigned(v) => i64::try_from(v).map_or_else(
                    |_| OwnedValue::Float(Number::Unsigned(v).as_f64()),
                    OwnedValue::Int,
                ),
                Number::Negative(v) => OwnedValue::Int(v),
                Number::Float(v) => OwnedValue::Float(v),
            }),
            Kind::String => Some(OwnedValue::Text(Box::from(reader.string("a string")?))),
            Kind::Other => {
                reader.skip_value()?;
                None
            }
        };
        flags.push((key, value));
    }
    Ok(flags)
}

/// Settles the segment references of `settings` once the number of segments
/// is known (when they came after the settings).
fn settle_segment_references(settings: &mut [Setting], segment_count: usize) {
    let conditions = settings
        .iter_mut()
        .flat_map(|setting| setting.conditions.iter_mut());
    for condition in conditions {
        settle_segment_reference(condition, segment_count);
    }
}

/// A segment reference out of range is `SegmentReferenceInvalid`, whatever
/// the comparator; in range, an unknown comparator is `UnknownComparator`.
fn settle_segment_reference(condition: &mut Condition, segment_count: usize) {
    let (segment, defect) = match condition {
        Condition::Segment(reference) => (reference.segment, None),
        Condition::Invalid(ConditionDefect::SegmentComparatorUnknown { segment }) => {
            (*segment, Some(ConditionDefect::UnknownComparator))
        }
        _ => return,
    };
    if segment as usize >= segment_count {
        *condition = Condition::Invalid(ConditionDefect::SegmentReferenceInvalid);
    } else if let Some(defect) = defect {
        *condition = Condition::Invalid(defect);
    }
}

fn stored_value(value: WireValue<'_>, setting_type: Option<SettingType>) -> StoredValue {
    let stored = match setting_type {
        Some(SettingType::Bool) => value.boolean.map(StoredValue::Bool),
        Some(SettingType::Text) => value.text.map(|v| StoredValue::Text(Box::from(v))),
        Some(SettingType::Int) => value.int.map(StoredValue::Int),
        Some(SettingType::Float) => value.float.map(StoredValue::Float),
        None => None,
    };
    stored.unwrap_or(StoredValue::Invalid)
}

/// The prerequisite comparison value carries its own type: exactly one member.
fn self_typed_value(value: WireValue<'_>) -> StoredValue {
    match value {
        WireValue {
            boolean: Some(v),
            text: None,
            int: None,
            float: None,
        } => StoredValue::Bool(v),
        WireValue {
            boolean: None,
            text: Some(v),
            int: None,
            float: None,
        } => StoredValue::Text(Box::from(v)),
        WireValue {
            boolean: None,
            text: None,
            int: Some(v),
            float: None,
        } => StoredValue::Int(v),
        WireValue {
            boolean: None,
            text: None,
            int: None,
            float: Some(v),
        } => StoredValue::Float(v),
        _ => StoredValue::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_typed_by_a_type_that_comes_after_them() {
        use crate::NoLog;
        let user = crate::User::new("someone");
        for json in [
            r#"{"f":{"a":{"r":[{"c":[],"s":{"v":{"b":true}}}],"v":{"b":false},"t":0}}}"#,
            r#"{"f":{"a":{"v":{"b":false},"r":[{"c":[],"s":{"v":{"b":true}}}],"t":0}}}"#,
            r#"{"f":{"a":{"p":[{"p":100,"v":{"b":true}}],"t":0,"v":{"b":false}}}}"#,
            r#"{"f":{"a":{"t":0,"p":[{"p":100,"v":{"b":true}}],"v":{"b":false}}}}"#,
        ] {
            let config = Config::parse(json.as_bytes()).unwrap();
            assert!(config.get_value("a", false, Some(&user), &NoLog), "{json}");
        }
        // A rule before a `t` given twice: the document is refused as before.
        assert!(Config::parse(br#"{"f":{"a":{"r":[],"t":0,"t":1}}}"#).is_err());
    }

    #[test]
    fn member_names_match_however_they_are_written() {
        use crate::NoLog;
        // The one-letter fast path, a name spelt with escapes, and an
        // unknown member whose name starts with a known letter.
        let plain = r#"{"f":{"a":{"t":1,"v":{"s":"x"}}}}"#;
        let escaped = r#"{"f":{"a":{"\u0074":1,"\u0076":{"\u0073":"x"}}}}"#;
        let longer = r#"{"f":{"a":{"t":1,"tt":2,"v":{"s":"x","ss":3}}}}"#;
        for json in [plain, escaped, longer] {
            let config = Config::parse(json.as_bytes()).unwrap();
            assert_eq!(config.get_value("a", "", None, &NoLog), "x", "{json}");
        }
        // A name given twice is refused however it is spelt.
        assert!(Config::parse(br#"{"f":{"a":{"t":1,"\u0074":1,"v":{"s":"x"}}}}"#).is_err());
        // One-letter setting keys are keys, not members.
        let config = Config::parse(br#"{"f":{"t":{"t":0,"v":{"b":true}}}}"#).unwrap();
        assert!(config.get_value("t", false, None, &NoLog));
    }

    #[test]
    fn prerequisites_resolve_whatever_the_document_holds() {
        use crate::NoLog;
        let depends_on = |key: &str| {
            alloc::format!(
                r#"{{"t":0,"v":{{"b":false}},"r":[{{"c":[{{"p":{{"f":"{key}","c":0,"v":{{"b":true}}}}}}],"s":{{"v":{{"b":true}}}}}}]}}"#
            )
        };
        let on = r#"{"t":0,"v":{"b":true}}"#;
        let off = r#"{"t":0,"v":{"b":false}}"#;
        // Holders before and after their targets, a key given twice (the
        // later one wins, and every index after it moves), a chain.
        let json = alloc::format!(
            r#"{{"f":{{"c":{},"a":{on},"b":{off},"b":{on},"d":{},"e":{}}}}}"#,
            depends_on("a"),
            depends_on("b"),
            depends_on("d"),
        );
        let config = Config::parse(json.as_bytes()).unwrap();
        for key in ["c", "d", "e"] {
            assert!(config.get_value(key, false, None, &NoLog), "{key}");
        }
        // Without the duplicate, and with a target that is missing.
        let json = alloc::format!(
            r#"{{"f":{{"c":{},"a":{on},"x":{}}}}}"#,
            depends_on("a"),
            depends_on("missing"),
        );
        let config = Config::parse(json.as_bytes()).unwrap();
        assert!(config.get_value("c", false, None, &NoLog));
        let details = config.get_value_details("x", false, None, &NoLog);
        assert!(details.error.is_some(), "{details:?}");
    }

    /// Everything logged, as text.
    #[derive(Default)]
    struct Log(core::cell::RefCell<String>);

    impl crate::LogSink for Log {
        fn enabled(&self, _level: crate::LogLevel) -> bool {
            true
        }
        fn event(&self, _level: crate::LogLevel, _id: crate::EventId, message: fmt::Arguments<'_>) {
            let _ = fmt::Write::write_fmt(&mut *self.0.borrow_mut(), message);
        }
    }

    #[test]
    fn a_type_after_the_values_types_them_as_a_type_before_them() {
        use crate::NoLog;
        use alloc::format;
        let user = crate::User::new("someone");
        let values = [
            r#"{"b":true}"#,
            r#"{"s":"x"}"#,
            r#"{"i":3}"#,
            r#"{"d":1.5}"#,
            r#"{"b":true,"s":"x"}"#,
            r#"{"i":2,"d":2.5}"#,
            "{}",
            "null",
        ];
        let type_members = [
            r#""t":0"#, r#""t":1"#, r#""t":2"#, r#""t":3"#, r#""t":9"#, "",
        ];
        for value in values {
            // A rule's value (after a condition, or none), a rule's %
            // option, the setting's % option.
            let condition = r#"{"u":{"a":"Identifier","c":28,"s":"someone"}}"#;
            let bodies = [
                format!(r#""r":[{{"c":[],"s":{{"v":{value},"i":"r"}}}}]"#),
                format!(r#""r":[{{"c":[{condition}],"s":{{"v":{value},"i":"r"}}}}]"#),
                format!(r#""r":[{{"c":[],"p":[{{"p":100,"v":{value},"i":"o"}}]}}]"#),
                format!(r#""p":[{{"p":100,"v":{value},"i":"o"}}]"#),
            ];
            for body in &bodies {
                for t in type_members {
                    let document = |members: [&str; 2]| {
                        let members: Vec<&str> =
                            members.into_iter().filter(|m| !m.is_empty()).collect();
                        format!(r#"{{"f":{{"a":{{{}}}}}}}"#, members.join(","))
                    };
                    let first = Config::parse(document([t, body]).as_bytes()).unwrap();
                    let last = Config::parse(document([body, t]).as_bytes()).unwrap();
                    // The details, and the log (which shows each rule's value).
                    let details = |config: &Config| {
                        let log = Log::default();
                        let details = format!(
                            "{:?} {:?} {:?} {:?}",
                            config.get_value_details("a", false, Some(&user), &NoLog),
                            config.get_value_details("a", String::new(), Some(&user), &NoLog),
                            config.get_value_details("a", 0_i64, Some(&user), &NoLog),
                            config.get_value_details("a", 0.0_f64, Some(&user), &log),
                        );
                        details + &log.0.into_inner()
                    };
                    assert_eq!(details(&first), details(&last), "{body} with {t:?}");
                }
            }
        }
    }

    #[test]
    fn each_rule_evaluates_its_own_conditions() {
        use crate::{NoLog, User};
        let equals = |attribute: &str, value: &str| {
            alloc::format!(r#"{{"u":{{"a":"{attribute}","c":28,"s":"{value}"}}}}"#)
        };
        let json = alloc::format!(
            r#"{{"f":{{"a":{{"t":1,"v":{{"s":"default"}},"r":[
                {{"c":[{},{}],"s":{{"v":{{"s":"both"}}}}}},
                {{"c":[{}],"s":{{"v":{{"s":"y"}}}}}},
                {{"c":null,"s":{{"v":{{"s":"none"}}}}}}]}},
              "b":{{"t":1,"v":{{"s":"default"}},"r":[{{"c":[{}],"s":{{"v":{{"s":"b"}}}}}}]}}}}}}"#,
            equals("Email", "e"),
            equals("Identifier", "x"),
            equals("Identifier", "y"),
            equals("Identifier", "w"),
        );
        let config = Config::parse(json.as_bytes()).unwrap();
        let counts: Vec<usize> = config.settings[0]
            .targeting_rules()
            .iter()
            .map(TargetingRule::condition_count)
            .collect();
        assert_eq!(counts, [2, 1, 0]);
        let value = |key: &str, user: &User| config.get_value(key, "", Some(user), &NoLog);
        assert_eq!(value("a", &User::new("x").with_email("e")), "both");
        assert_eq!(value("a", &User::new("x")), "none");
        assert_eq!(value("a", &User::new("y")), "y");
        assert_eq!(value("b", &User::new("w")), "b");
        assert_eq!(value("b", &User::new("y")), "default");
    }

    fn condition(json: &str) -> Condition {
        let config = Config::parse(json.as_bytes()).unwrap();
        let setting = &config.settings[0];
        setting.conditions_of(&setting.rules[0])[0].clone()
    }

    #[test]
    fn segment_references_are_checked_once_the_segments_are_known() {
        // Settings before segments (checked at the end) and after them
        // (checked as they are read): the same outcomes.
        let settings = |reference: &str| {
            alloc::format!(
                r#""f":{{"x":{{"t":0,"v":{{"b":false}},"r":[{{"c":[{{"s":{reference}}}],"s":{{"v":{{"b":true}}}}}}]}}}}"#
            )
        };
        let segments = r#""s":[{"n":"a","r":[]},{"n":"b","r":[]}]"#;
        let orders = [
            |settings: &str, segments: &str| alloc::format!("{{{settings},{segments}}}"),
            |settings: &str, segments: &str| alloc::format!("{{{segments},{settings}}}"),
        ];
        for order in orders {
            let with = |reference: &str| condition(&order(&settings(reference), segments));
            assert_eq!(
                with(r#"{"s":1,"c":1}"#),
                Condition::Segment(SegmentCondition {
                    segment: 1,
                    comparator: SegmentComparator::IsNotIn
                })
            );
            for (reference, defect) in [
                (r#"{"s":2,"c":0}"#, ConditionDefect::SegmentReferenceInvalid),
                // An unknown comparator: the reference is judged first.
                (r#"{"s":2,"c":9}"#, ConditionDefect::SegmentReferenceInvalid),
                (r#"{"s":1,"c":9}"#, ConditionDefect::UnknownComparator),
                (
                    r#"{"s":4294967296,"c":0}"#,
                    ConditionDefect::SegmentReferenceInvalid,
                ),
                (
                    r#"{"s":-1,"c":9}"#,
                    ConditionDefect::SegmentReferenceInvalid,
                ),
            ] {
                assert_eq!(with(reference), Condition::Invalid(defect), "{reference}");
            }
        }
        // No segments at all: every reference is out of range.
        assert_eq!(
            condition(&alloc::format!("{{{}}}", settings(r#"{"s":0,"c":0}"#))),
            Condition::Invalid(ConditionDefect::SegmentReferenceInvalid)
        );
    }
}
