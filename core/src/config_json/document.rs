//! The document read member by member: top level, preferences, segments,
//! settings, targeting rules, served values and % options.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::Cell;

use super::ParseError;
use super::condition::{read_condition, read_user_condition};
use super::wire::{
    LONG_LIST, Read, WireValue, move_out, optional, optional_integer, optional_string,
    optional_value, read_list, read_object, read_onto, self_typed_value, stored_value,
};
use crate::compact_str::CompactStr;
use crate::config::{
    Condition, ConditionDefect, Config, Origin, PercentageOption, Preferences, RedirectMode,
    RuleOutcome, Segment, Served, Setting, StoredValue, TargetingRule,
};
use crate::json::{self, ErrorClass, JsonError, Kind, KnownMembers, Number, Problem, Reader};
use crate::user::AttributeKey;
use crate::value::{OwnedValue, SettingType};

/// A document's top-level members, the settings already in the model.
pub(super) struct Document<'a> {
    /// The simple override format's `flags`, when reading overrides.
    pub(super) flags: Option<Vec<(Cow<'a, str>, Option<OwnedValue>)>>,
    preferences: Option<WirePreferences<'a>>,
    segments: Vec<Segment>,
    settings: Vec<Setting>,
}

struct WirePreferences<'a> {
    base_url: Option<Cow<'a, str>>,
    redirect: Option<i64>,
    salt: Option<Cow<'a, str>>,
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

pub(super) fn read_document(json: &[u8], overrides: bool) -> Result<Document<'_>, ParseError> {
    let mut scratch = Scratch::default();
    let document = json::read_document(json, |reader| {
        read_top_level(reader, &mut scratch, overrides)
    });
    document.map_err(|error| ParseError::from_json(&error, json))
}

/// [`read_document`] of text already checked as UTF-8.
pub(super) fn read_text_document(json: &str, overrides: bool) -> Result<Document<'_>, ParseError> {
    let mut scratch = Scratch::default();
    let document = json::read_text(json, |reader| {
        read_top_level(reader, &mut scratch, overrides)
    });
    document.map_err(|error| ParseError::from_json(&error, json.as_bytes()))
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
    let known = if overrides {
        KnownMembers::new(&["p", "s", "f", "flags"])
    } else {
        KnownMembers::new(&["p", "s", "f"])
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
    pub(super) fn into_config(self) -> Config {
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
    read_object(
        reader,
        "preferences",
        KnownMembers::new(&["u", "r", "s"]),
        |reader, member| {
            match member {
                "u" => preferences.base_url = optional_string(reader)?,
                "r" => preferences.redirect = optional_integer(reader)?,
                "s" => preferences.salt = optional_string(reader)?,
                _ => {}
            }
            Ok(())
        },
    )?;
    Ok(preferences)
}

fn read_segments<'a>(reader: &mut Reader<'a>, scratch: &mut Scratch<'a>) -> Read<Vec<Segment>> {
    let mut segments = Vec::new();
    reader.begin_array("a list of segments")?;
    let mut first = true;
    while reader.next_element(&mut first)? {
        let mut name = None;
        let mut conditions: Box<[Condition]> = Box::default();
        read_object(
            reader,
            "a segment",
            KnownMembers::new(&["n", "r"]),
            |reader, member| {
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
            },
        )?;
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
    let mut conditions = SettingConditions {
        start: scratch.conditions.len(),
        own: None,
    };
    read_object(
        reader,
        "a setting",
        KnownMembers::new(&["t", "a", "r", "p", "v", "i"]),
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
                        read_rules(reader, typing, scratch, &mut conditions)
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
            scratch.conditions.truncate(conditions.start);
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
        conditions: conditions.finish(&mut scratch.conditions),
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
/// than one member, before the type, needs it.
// Out of line: the recursion written into `read_setting` slows every setting's read.
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

/// Where a setting's conditions are collected: on top of the shared
/// scratch, or, for a long rule list, in a list of their own sized by a
/// count ahead.
struct SettingConditions {
    /// Where the setting's conditions start in the scratch.
    start: usize,
    own: Option<Vec<Condition>>,
}

impl SettingConditions {
    /// The list to push onto, and where the setting's conditions start in it.
    fn target<'s>(
        &'s mut self,
        scratch: &'s mut Vec<Condition>,
    ) -> (&'s mut Vec<Condition>, usize) {
        match &mut self.own {
            Some(own) => (own, 0),
            None => (scratch, self.start),
        }
    }

    fn finish(self, scratch: &mut Vec<Condition>) -> Box<[Condition]> {
        match self.own {
            Some(own) => own.into_boxed_slice(),
            None => scratch.drain(self.start..).collect(),
        }
    }
}

/// A setting's targeting rules (`r`), their conditions collected in
/// `conditions`; a long list is counted ahead, its conditions too (as
/// [`read_list`] does for one list).
fn read_rules<'a>(
    reader: &mut Reader<'a>,
    typing: ValueTyping<'_>,
    scratch: &mut Scratch<'a>,
    conditions: &mut SettingConditions,
) -> Read<Box<[TargetingRule]>> {
    let start = scratch.rules.len();
    let mut own: Option<Vec<TargetingRule>> = None;
    reader.begin_array("a list of targeting rules")?;
    let mut first = true;
    while reader.next_element(&mut first)? {
        if own.is_none() && scratch.rules.len() - start == LONG_LIST {
            let ahead = reader.count_ahead(b'c');
            own = Some(move_out(&mut scratch.rules, start, ahead.elements));
            if conditions.own.is_none() {
                conditions.own = Some(move_out(
                    &mut scratch.conditions,
                    conditions.start,
                    ahead.nested,
                ));
            }
        }
        let rule = read_rule(
            reader,
            typing,
            conditions.target(&mut scratch.conditions),
            &mut scratch.items,
            &mut scratch.options,
            &mut scratch.segment_references,
        )?;
        match &mut own {
            Some(own) => own.push(rule),
            None => scratch.rules.push(rule),
        }
    }
    Ok(match own {
        Some(own) => own.into_boxed_slice(),
        None => scratch.rules.drain(start..).collect(),
    })
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
        KnownMembers::new(&["c", "s", "p"]),
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
    read_object(
        reader,
        "a served value",
        KnownMembers::new(&["v", "i"]),
        |reader, member| {
            match member {
                "v" => value = optional_value(reader)?.unwrap_or_default(),
                "i" => variation_id = optional_string(reader)?,
                _ => {}
            }
            Ok(())
        },
    )?;
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
            KnownMembers::new(&["p", "v", "i"]),
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
