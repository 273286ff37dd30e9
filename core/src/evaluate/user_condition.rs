//! User conditions: the 36 comparators applied to a user's attribute.

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt::{self, Write};

use super::FlagError;
use super::evaluator::{ConditionResult, Evaluator};
use super::text_search::contains_text;
use crate::comparator::{ComparatorKind, UserComparator};
use crate::config::{ComparisonValue, ConditionDefect, Origin, UserCondition};
use crate::hashing::{Sha256Digest, confidential_hash};
use crate::json::Reader;
use crate::json::swar::same_key;
use crate::log_event::EventId;
use crate::number::{js_number_text, parse_number};
use crate::user::{Attribute, User};

/// A user attribute value a comparator cannot use, and which reading failed.
#[derive(Clone, Copy)]
pub(super) struct InvalidAttribute<'a> {
    value: Attribute<'a>,
    expected: ExpectedKind,
}

#[derive(Clone, Copy)]
pub(super) enum ExpectedKind {
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

impl<'c, 'u> Evaluator<'c, 'u> {
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
    ) -> Result<bool, FlagError> {
        let hash = |bytes: &[u8]| -> Result<Sha256Digest, FlagError> {
            let salt = salt_of(origin)?;
            Ok(if stable {
                self.stable_hash(bytes, salt, context_salt)
            } else {
                confidential_hash(bytes, salt, context_salt)
            })
        };
        compare_text(comparator, value, text, hash)
    }

    pub(super) fn evaluate_user_condition(
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
                    _ => Err(FlagError::InvalidCondition(
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
                // No closure around the common case: its arguments stay in registers.
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
fn salt_of(origin: Option<&Origin>) -> Result<&str, FlagError> {
    match origin.and_then(|origin| origin.salt.as_deref()) {
        Some(salt) => Ok(salt),
        None => Err(FlagError::SaltMissing),
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
    hash: impl Fn(&[u8]) -> Result<Sha256Digest, FlagError>,
) -> Result<bool, FlagError> {
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
            return Err(FlagError::InvalidCondition(
                ConditionDefect::ComparisonValueInvalid.message(),
            ));
        }
    })
}

/// Runs `f` on the canonical text of an attribute; text is borrowed, numbers
/// are written on the stack, only lists need the heap.
#[inline(always)]
pub(super) fn with_canonical_text<R>(attribute: Attribute<'_>, f: impl FnOnce(&str) -> R) -> R {
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

#[cfg(test)]
mod json_list_tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec::Vec;

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
