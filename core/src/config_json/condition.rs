//! Conditions of targeting rules and segments, and the comparison values
//! prepared for their comparators.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::vec::Vec;

use super::wire::{
    Read, WireValue, optional, optional_float, optional_integer, optional_string, optional_value,
    read_object, self_typed_value,
};
use crate::compact_str::CompactStr;
use crate::comparator::{
    ComparatorKind, PrerequisiteComparator, SegmentComparator, UserComparator,
};
use crate::config::{
    ComparisonValue, Condition, ConditionDefect, PrerequisiteCondition, SegmentCondition,
    StoredValue, UserCondition,
};
use crate::hashing::decode_hex_digest;
use crate::json::{KnownMembers, Reader};
use crate::semver::PreparedVersion;
use crate::user::AttributeKey;

/// A condition of a targeting rule: exactly one of `u`, `s`, `p`. Segment
/// references are checked for range by [`SegmentReferences::settle`].
#[inline]
pub(super) fn read_condition<'a>(
    reader: &mut Reader<'a>,
    items: &mut Vec<Cow<'a, str>>,
) -> Read<Condition> {
    let mut user = None;
    let mut segment = None;
    let mut prerequisite = None;
    read_object(
        reader,
        "a condition",
        KnownMembers::new(&["u", "s", "p"]),
        |reader, member| {
            match member {
                "u" => user = optional(reader, |reader| read_user_condition(reader, items))?,
                "s" => segment = optional(reader, |reader| read_segment_condition(reader))?,
                "p" => prerequisite = optional(reader, |reader| read_prerequisite(reader))?,
                _ => {}
            }
            Ok(())
        },
    )?;
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
        KnownMembers::new(&["s", "c"]),
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
        KnownMembers::new(&["f", "c", "v"]),
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

pub(super) fn read_user_condition<'a>(
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
        KnownMembers::new(&["a", "c", "s", "d", "l"]),
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
