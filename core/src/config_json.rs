//! Reading config JSON v6 (and the simple `{"flags": {...}}` override format).
//!
//! Two steps: serde reads the one-letter-key JSON into private wire structs
//! (shape and types only), then [`prepare`] turns them into the validated
//! model of [`crate::config`], decoding and parsing every comparison value once.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::comparator::{
    ComparatorKind, PrerequisiteComparator, SegmentComparator, UserComparator,
};
use crate::config::{
    ComparisonValue, Condition, ConditionDefect, Config, Origin, PercentageOption, Preferences,
    PrerequisiteCondition, RedirectMode, RuleOutcome, Segment, SegmentCondition, Served, Setting,
    StoredValue, TargetingRule, UserCondition,
};
use crate::hashing::decode_hex_digest;
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

    fn from_json(error: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        let kind = match error.classify() {
            Category::Eof => ParseErrorKind::Truncated,
            Category::Data => ParseErrorKind::Shape,
            Category::Syntax | Category::Io => ParseErrorKind::Syntax,
        };
        Self {
            kind,
            line: error.line(),
            column: error.column(),
            detail: alloc::format!("{error}").into(),
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
        let document: WireConfig = from_json(json)?;
        Ok(prepare(document))
    }

    /// Parses a flag-override document: either the simple format
    /// `{"flags": {"key": value, ...}}` (the type follows the JSON value: `true`
    /// is a bool, `5` an int, `3.14` a float, `"x"` text) or a full config JSON v6.
    ///
    /// # Errors
    /// As [`Config::parse`]; also a simple-format value that is not a bool, number or text.
    pub fn parse_overrides(json: &[u8]) -> Result<Self, ParseError> {
        let document: WireOverrideDocument = from_json(json)?;
        match document.flags {
            Some(flags) => {
                let mut values = Vec::with_capacity(flags.0.len());
                for (key, OverrideValue(value)) in flags.0 {
                    match value {
                        Some(value) => values.push((key, value)),
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
            None => Ok(prepare(WireConfig {
                preferences: document.preferences,
                segments: document.segments,
                settings: document.settings,
            })),
        }
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

/// Reads a JSON document. (Reading valid UTF-8 text as `str` would spare
/// the parser a UTF-8 check per string, 8 % of a parse, but the second
/// monomorphization of the parser costs 28 KiB of code on the embedded target.)
fn from_json<'de, T: Deserialize<'de>>(json: &'de [u8]) -> Result<T, ParseError> {
    serde_json::from_slice(json).map_err(|e| ParseError::from_json(&e))
}

// ---- wire structs: the JSON shape, nothing more ----

#[derive(Deserialize)]
#[serde(remote = "Self")]
struct WireConfig {
    #[serde(rename = "p", default)]
    preferences: Option<WirePreferences>,
    #[serde(rename = "s", default)]
    segments: Option<Vec<WireSegment>>,
    #[serde(rename = "f", default)]
    settings: Option<PreparedSettings>,
}

#[derive(Deserialize)]
#[serde(remote = "Self")]
struct WireOverrideDocument {
    #[serde(default)]
    flags: Option<KeyedList<OverrideValue>>,
    #[serde(rename = "p", default)]
    preferences: Option<WirePreferences>,
    #[serde(rename = "s", default)]
    segments: Option<Vec<WireSegment>>,
    #[serde(rename = "f", default)]
    settings: Option<PreparedSettings>,
}

#[derive(Deserialize)]
#[serde(remote = "Self")]
struct WirePreferences {
    #[serde(rename = "u", default)]
    base_url: Option<String>,
    #[serde(rename = "r", default, deserialize_with = "optional_integer")]
    redirect: Option<i64>,
    #[serde(rename = "s", default)]
    salt: Option<String>,
}

#[derive(Deserialize)]
#[serde(remote = "Self")]
struct WireSegment {
    #[serde(rename = "n", default)]
    name: Option<String>,
    #[serde(rename = "r", default)]
    conditions: Option<Vec<WireUserCondition>>,
}

#[derive(Deserialize)]
#[serde(remote = "Self")]
struct WireSetting {
    #[serde(rename = "t", default, deserialize_with = "optional_integer")]
    setting_type: Option<i64>,
    #[serde(rename = "a", default)]
    percentage_attribute: Option<String>,
    #[serde(rename = "r", default)]
    rules: Option<Vec<WireRule>>,
    #[serde(rename = "p", default)]
    percentage_options: Option<Vec<WirePercentageOption>>,
    #[serde(rename = "v", default)]
    value: Option<WireValue>,
    #[serde(rename = "i", default)]
    variation_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(remote = "Self")]
struct WireRule {
    #[serde(rename = "c", default)]
    conditions: Option<PreparedConditions>,
    #[serde(rename = "s", default)]
    served: Option<WireServed>,
    #[serde(rename = "p", default)]
    percentage_options: Option<Vec<WirePercentageOption>>,
}

#[derive(Deserialize)]
#[serde(remote = "Self")]
struct WireCondition {
    #[serde(rename = "u", default)]
    user: Option<WireUserCondition>,
    #[serde(rename = "s", default)]
    segment: Option<WireSegmentCondition>,
    #[serde(rename = "p", default)]
    prerequisite: Option<WirePrerequisite>,
}

#[derive(Deserialize)]
#[serde(remote = "Self")]
struct WireUserCondition {
    #[serde(rename = "a", default)]
    attribute: Option<String>,
    #[serde(rename = "c", default, deserialize_with = "optional_integer")]
    comparator: Option<i64>,
    #[serde(rename = "s", default)]
    text: Option<String>,
    #[serde(rename = "d", default)]
    number: Option<f64>,
    #[serde(rename = "l", default)]
    list: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(remote = "Self")]
struct WireSegmentCondition {
    #[serde(rename = "s", default, deserialize_with = "optional_integer")]
    segment: Option<i64>,
    #[serde(rename = "c", default, deserialize_with = "optional_integer")]
    comparator: Option<i64>,
}

#[derive(Deserialize)]
#[serde(remote = "Self")]
struct WirePrerequisite {
    #[serde(rename = "f", default)]
    key: Option<String>,
    #[serde(rename = "c", default, deserialize_with = "optional_integer")]
    comparator: Option<i64>,
    #[serde(rename = "v", default)]
    value: Option<WireValue>,
}

#[derive(Deserialize, Default)]
#[serde(remote = "Self")]
struct WireValue {
    #[serde(rename = "b", default)]
    boolean: Option<bool>,
    #[serde(rename = "s", default)]
    text: Option<String>,
    #[serde(rename = "i", default, deserialize_with = "optional_integer")]
    int: Option<i64>,
    #[serde(rename = "d", default)]
    float: Option<f64>,
}

#[derive(Deserialize)]
#[serde(remote = "Self")]
struct WireServed {
    #[serde(rename = "v", default)]
    value: Option<WireValue>,
    #[serde(rename = "i", default)]
    variation_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(remote = "Self")]
struct WirePercentageOption {
    #[serde(rename = "p", default, deserialize_with = "optional_integer")]
    percentage: Option<i64>,
    #[serde(rename = "v", default)]
    value: Option<WireValue>,
    #[serde(rename = "i", default)]
    variation_id: Option<String>,
}

/// Every wire struct is read from a JSON object only: serde's derive would
/// also read a struct from an array, positionally, which no config contains.
trait FromObject<'de>: Sized {
    fn from_object<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;
}

struct ObjectVisitor<T>(core::marker::PhantomData<T>);

impl<'de, T: FromObject<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::from_object(map)
    }
}

/// Implements `Deserialize` for wire structs through their derived
/// (`remote = "Self"`) field reader, accepting JSON objects only.
macro_rules! object_only {
    ($($wire:ident),* $(,)?) => {$(
        impl<'de> FromObject<'de> for $wire {
            fn from_object<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
                $wire::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }
        impl<'de> Deserialize<'de> for $wire {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_map(ObjectVisitor::<Self>(core::marker::PhantomData))
            }
        }
    )*};
}

object_only!(
    WireConfig,
    WireOverrideDocument,
    WirePreferences,
    WireSegment,
    WireSetting,
    WireRule,
    WireCondition,
    WireUserCondition,
    WireSegmentCondition,
    WirePrerequisite,
    WireValue,
    WireServed,
    WirePercentageOption,
);

/// Reads an optional whole number. JSON has one number type: `-0` and `5.0`
/// are whole numbers too (other SDKs read them so), fractions are not.
fn optional_integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    struct IntegerVisitor;
    impl<'de> Visitor<'de> for IntegerVisitor {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a whole number")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            i64::try_from(v)
                .map(Some)
                .map_err(|_| E::custom("whole number out of range"))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
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
                Err(E::custom("expected a whole number"))
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(
            self,
            deserializer: D,
        ) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_any(self)
        }
    }
    deserializer.deserialize_option(IntegerVisitor)
}

/// A JSON object read as a list of entries in document order.
struct KeyedList<T>(Vec<(String, T)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for KeyedList<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<T>(core::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for EntriesVisitor<T> {
            type Value = KeyedList<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                // Cap the pre-allocation: the hint comes from the input.
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1024));
                while let Some(entry) = map.next_entry::<String, T>()? {
                    entries.push(entry);
                }
                Ok(KeyedList(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor(core::marker::PhantomData))
    }
}

/// The settings object (`f`), each setting turned into the model as soon as
/// it is read: its wire structs live only while it is parsed, which keeps the
/// parse's working set (and peak heap) small. Segment references are
/// checked once the segments are known (they may come later in the document).
struct PreparedSettings(Vec<Setting>);

impl<'de> Deserialize<'de> for PreparedSettings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SettingsVisitor;
        impl<'de> Visitor<'de> for SettingsVisitor {
            type Value = PreparedSettings;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                // Cap the pre-allocation: the hint comes from the input.
                let mut settings = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1024));
                while let Some((key, setting)) = map.next_entry::<String, WireSetting>()? {
                    settings.push(prepare_setting(key, setting));
                }
                Ok(PreparedSettings(settings))
            }
        }
        deserializer.deserialize_map(SettingsVisitor)
    }
}

/// The conditions of a targeting rule (`c`), each turned into the model as
/// soon as it is read (no list of wire conditions).
struct PreparedConditions(Box<[Condition]>);

impl<'de> Deserialize<'de> for PreparedConditions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ConditionsVisitor;
        impl<'de> Visitor<'de> for ConditionsVisitor {
            type Value = PreparedConditions;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut conditions = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(condition) = seq.next_element::<WireCondition>()? {
                    conditions.push(prepare_condition(condition));
                }
                Ok(PreparedConditions(conditions.into_boxed_slice()))
            }
        }
        deserializer.deserialize_seq(ConditionsVisitor)
    }
}

/// Settles the segment references of `settings` once the number of segments
/// is known: out of range is `SegmentReferenceInvalid`, whatever the comparator.
fn check_segment_references(settings: &mut [Setting], segment_count: usize) {
    let conditions = settings
        .iter_mut()
        .flat_map(|setting| setting.rules.iter_mut())
        .flat_map(|rule| rule.conditions.iter_mut());
    for condition in conditions {
        let (segment, defect) = match condition {
            Condition::Segment(reference) => (reference.segment, None),
            Condition::Invalid(ConditionDefect::SegmentComparatorUnknown { segment }) => {
                (*segment, Some(ConditionDefect::UnknownComparator))
            }
            _ => continue,
        };
        if segment as usize >= segment_count {
            *condition = Condition::Invalid(ConditionDefect::SegmentReferenceInvalid);
        } else if let Some(defect) = defect {
            *condition = Condition::Invalid(defect);
        }
    }
}

/// A simple-format override value: `Some` for bool, number or text, `None` for anything else.
struct OverrideValue(Option<OwnedValue>);

impl<'de> Deserialize<'de> for OverrideValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(OverrideValueVisitor)
            .map(OverrideValue)
    }
}

struct OverrideValueVisitor;

impl<'de> Visitor<'de> for OverrideValueVisitor {
    type Value = Option<OwnedValue>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a bool, number or text")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(OwnedValue::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(OwnedValue::Int(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(i64::try_from(v).map_or_else(
            |_| {
                #[expect(
                    clippy::cast_precision_loss,
                    reason = "too large for an int setting: becomes a float, as JSON numbers do"
                )]
                let float = v as f64;
                OwnedValue::Float(float)
            },
            OwnedValue::Int,
        )))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(OwnedValue::Float(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(OwnedValue::Text(v.into())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(OwnedValue::Text(v.into_boxed_str())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(None)
    }
}

// ---- preparation: wire structs to the validated model ----

fn prepare(document: WireConfig) -> Config {
    let preferences = document.preferences;
    let salt = preferences
        .as_ref()
        .and_then(|p| p.salt.clone())
        .map(String::into_boxed_str);
    let segments: Box<[Segment]> = document
        .segments
        .unwrap_or_default()
        .into_iter()
        .map(|segment| Segment {
            name: segment.name.unwrap_or_default().into_boxed_str(),
            conditions: segment
                .conditions
                .unwrap_or_default()
                .into_iter()
                .map(prepare_user_condition)
                .collect(),
        })
        .collect();
    let mut settings = document
        .settings
        .map(|prepared| prepared.0)
        .unwrap_or_default();
    check_segment_references(&mut settings, segments.len());
    let preferences = preferences.map_or_else(Preferences::default, |p| Preferences {
        base_url: p.base_url.map(String::into_boxed_str),
        redirect: p.redirect.and_then(|code| match code {
            0 => Some(RedirectMode::NoRedirect),
            1 => Some(RedirectMode::ShouldRedirect),
            2 => Some(RedirectMode::ForceRedirect),
            _ => None,
        }),
    });
    Config::from_parts(
        preferences,
        alloc::vec![Origin { salt, segments }],
        settings,
    )
}

fn prepare_setting(key: String, setting: WireSetting) -> Setting {
    let setting_type = match setting.setting_type {
        Some(code) => SettingType::from_wire(code).ok_or(code),
        None => Err(-1),
    };
    let served = |value: Option<WireValue>, variation_id: Option<String>| Served {
        value: stored_value(value.unwrap_or_default(), setting_type.ok()),
        variation_id: variation_id.map(String::into_boxed_str),
    };
    let options = |options: Vec<WirePercentageOption>| -> Box<[PercentageOption]> {
        options
            .into_iter()
            .map(|option| PercentageOption {
                percentage: option.percentage.unwrap_or(0),
                served: served(option.value, option.variation_id),
            })
            .collect()
    };
    let rules = setting
        .rules
        .unwrap_or_default()
        .into_iter()
        .map(|rule| TargetingRule {
            conditions: rule
                .conditions
                .map(|prepared| prepared.0)
                .unwrap_or_default(),
            then: match (rule.served, rule.percentage_options) {
                (Some(value), _) => RuleOutcome::Value(served(value.value, value.variation_id)),
                (None, Some(list)) => RuleOutcome::PercentageOptions(options(list)),
                (None, None) => RuleOutcome::Missing,
            },
        })
        .collect();
    Setting {
        key: key.into_boxed_str(),
        setting_type,
        served: served(setting.value, setting.variation_id),
        percentage_key: setting
            .percentage_attribute
            .as_deref()
            .map_or(AttributeKey::Identifier, AttributeKey::of),
        percentage_attribute: setting.percentage_attribute.map(String::into_boxed_str),
        rules,
        percentage_options: options(setting.percentage_options.unwrap_or_default()),
        origin: 0,
    }
}

fn stored_value(value: WireValue, setting_type: Option<SettingType>) -> StoredValue {
    let stored = match setting_type {
        Some(SettingType::Bool) => value.boolean.map(StoredValue::Bool),
        Some(SettingType::Text) => value.text.map(|v| StoredValue::Text(v.into_boxed_str())),
        Some(SettingType::Int) => value.int.map(StoredValue::Int),
        Some(SettingType::Float) => value.float.map(StoredValue::Float),
        None => None,
    };
    stored.unwrap_or(StoredValue::Invalid)
}

/// The prerequisite comparison value carries its own type: exactly one member.
fn self_typed_value(value: WireValue) -> StoredValue {
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
        } => StoredValue::Text(v.into_boxed_str()),
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

/// A condition of a setting; segment references are only checked for range
/// later, by [`check_segment_references`].
fn prepare_condition(condition: WireCondition) -> Condition {
    match condition {
        WireCondition {
            user: Some(user),
            segment: None,
            prerequisite: None,
        } => prepare_user_condition(user),
        WireCondition {
            user: None,
            segment: Some(segment),
            prerequisite: None,
        } => {
            let index = segment.segment.and_then(|index| u32::try_from(index).ok());
            let comparator = segment.comparator.and_then(SegmentComparator::from_code);
            match (index, comparator) {
                (Some(segment), Some(comparator)) => Condition::Segment(SegmentCondition {
                    segment,
                    comparator,
                }),
                (None, _) => Condition::Invalid(ConditionDefect::SegmentReferenceInvalid),
                (Some(segment), None) => {
                    Condition::Invalid(ConditionDefect::SegmentComparatorUnknown { segment })
                }
            }
        }
        WireCondition {
            user: None,
            segment: None,
            prerequisite: Some(prerequisite),
        } => {
            let comparator = prerequisite
                .comparator
                .and_then(PrerequisiteComparator::from_code);
            let value = self_typed_value(prerequisite.value.unwrap_or_default());
            match (prerequisite.key, comparator, value) {
                (_, None, _) => Condition::Invalid(ConditionDefect::UnknownComparator),
                (None, _, _) | (_, _, StoredValue::Invalid) => {
                    Condition::Invalid(ConditionDefect::PrerequisiteValueInvalid)
                }
                (Some(key), Some(comparator), value) => {
                    Condition::Prerequisite(PrerequisiteCondition {
                        key: key.into_boxed_str(),
                        comparator,
                        value,
                        target: None,
                    })
                }
            }
        }
        _ => Condition::Invalid(ConditionDefect::Empty),
    }
}

fn prepare_user_condition(condition: WireUserCondition) -> Condition {
    let Some(attribute) = condition.attribute else {
        return Condition::Invalid(ConditionDefect::AttributeNameMissing);
    };
    let Some(comparator) = condition.comparator.and_then(UserComparator::from_code) else {
        return Condition::Invalid(ConditionDefect::UnknownComparator);
    };
    match prepare_comparison_value(comparator, condition.text, condition.number, condition.list) {
        Some(value) => Condition::User(UserCondition {
            key: AttributeKey::of(&attribute),
            attribute: attribute.into_boxed_str(),
            comparator,
            value,
        }),
        None => Condition::Invalid(ConditionDefect::ComparisonValueInvalid),
    }
}

fn prepare_comparison_value(
    comparator: UserComparator,
    text: Option<String>,
    number: Option<f64>,
    list: Option<Vec<String>>,
) -> Option<ComparisonValue> {
    let boxed_list = |list: Vec<String>| list.into_iter().map(String::into_boxed_str).collect();
    let sensitive = comparator.is_sensitive();
    Some(match comparator.kind() {
        ComparatorKind::Text if sensitive => ComparisonValue::Hash(decode_hex_digest(&text?)),
        ComparatorKind::Text => ComparisonValue::Text(text?.into_boxed_str()),
        ComparatorKind::TextList | ComparatorKind::ArrayList if sensitive => {
            let list = list?;
            let count = list.len();
            let digests = list
                .iter()
                .filter_map(|item| decode_hex_digest(item))
                .collect();
            ComparisonValue::HashList { digests, count }
        }
        ComparatorKind::TextList | ComparatorKind::ArrayList => {
            ComparisonValue::TextList(boxed_list(list?))
        }
        ComparatorKind::HashedAffixList => {
            let mut affixes = Vec::new();
            for item in list? {
                let (length, digest) = item.split_once('_')?;
                let length: usize = length.trim().parse().ok()?;
                affixes.push((length, decode_hex_digest(digest)));
            }
            ComparisonValue::HashedAffixes(affixes.into_boxed_slice())
        }
        ComparatorKind::SemverList => ComparisonValue::SemverList(
            list?
                .into_iter()
                .map(|item| {
                    let parsed = (!item.trim().is_empty()).then(|| PreparedVersion::parse(&item));
                    (item.into_boxed_str(), parsed)
                })
                .collect(),
        ),
        ComparatorKind::Semver => {
            let text = text?;
            let parsed = PreparedVersion::parse(&text);
            ComparisonValue::Semver(text.into_boxed_str(), parsed)
        }
        ComparatorKind::Number => ComparisonValue::Number(number?),
        ComparatorKind::Date => ComparisonValue::Date(number?),
    })
}

#[cfg(test)]
mod segment_reference_tests {
    use super::*;

    fn condition(json: &str) -> Condition {
        let config = Config::parse(json.as_bytes()).unwrap();
        let rules = &config.settings[0].rules;
        rules[0].conditions[0].clone()
    }

    #[test]
    fn segment_references_are_checked_once_the_segments_are_known() {
        // Settings before segments, as the document order allows.
        let with = |reference: &str| {
            condition(&alloc::format!(
                r#"{{"f":{{"x":{{"t":0,"v":{{"b":false}},"r":[{{"c":[{{"s":{reference}}}],"s":{{"v":{{"b":true}}}}}}]}}}},
                    "s":[{{"n":"a","r":[]}},{{"n":"b","r":[]}}]}}"#
            ))
        };
        assert_eq!(
            with(r#"{"s":1,"c":1}"#),
            Condition::Segment(SegmentCondition {
                segment: 1,
                comparator: SegmentComparator::IsNotIn
            })
        );
        let invalid = |defect| Condition::Invalid(defect);
        assert_eq!(
            with(r#"{"s":2,"c":0}"#),
            invalid(ConditionDefect::SegmentReferenceInvalid)
        );
        // An unknown comparator: the reference is judged first.
        assert_eq!(
            with(r#"{"s":2,"c":9}"#),
            invalid(ConditionDefect::SegmentReferenceInvalid)
        );
        assert_eq!(
            with(r#"{"s":1,"c":9}"#),
            invalid(ConditionDefect::UnknownComparator)
        );
        assert_eq!(
            with(r#"{"s":4294967296,"c":0}"#),
            invalid(ConditionDefect::SegmentReferenceInvalid)
        );
        assert_eq!(
            with(r#"{"s":-1,"c":9}"#),
            invalid(ConditionDefect::SegmentReferenceInvalid)
        );
    }
}
