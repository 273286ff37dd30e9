//! Reading config JSON v6 (and the simple `{"flags": {...}}` override format).
//!
//! One pass over the text with [`crate::json::Reader`]: every object is read
//! member by member straight into the validated model of [`crate::config`],
//! decoding and parsing every comparison value once. Members may come in any
//! order; the few whose meaning depends on another member (a value on its
//! setting's type, a comparison value on its comparator) wait in small
//! borrowed buffers until their object ends.

mod condition;
mod document;
mod wire;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::config::{Config, Origin, Preferences, Served, Setting, StoredValue};
use crate::json::{ErrorClass, JsonError};
use crate::user::AttributeKey;
use crate::value::{OwnedValue, SettingType};
use document::{Document, read_document, read_text_document};

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

    /// [`Config::parse`] of text its caller already checked as UTF-8 (a
    /// response body kept as the config's text is checked once, not twice).
    pub(crate) fn parse_text(json: &str) -> Result<Self, ParseError> {
        read_text_document(json, false).map(Document::into_config)
    }

    /// Why `json`, which is not UTF-8, is no config: the problem the parser
    /// meets first, the bad bytes or something before them.
    pub(crate) fn parse_error_of(json: &[u8]) -> ParseError {
        match read_document(json, false) {
            Err(error) => error,
            Ok(_) => ParseError {
                kind: ParseErrorKind::Syntax,
                line: 0,
                column: 0,
                detail: "invalid unicode code point".into(),
            },
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comparator::SegmentComparator;
    use crate::config::{Condition, ConditionDefect, SegmentCondition, TargetingRule};

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

    #[test]
    fn long_lists_read_as_short_ones_do() {
        use crate::NoLog;
        use alloc::format;
        // Rule i: 1 to 3 copies of `Identifier EQUALS u{i}`, serving `r{i}`.
        let rules: Vec<String> = (0..40)
            .map(|i| {
                let condition = format!(r#"{{"u":{{"a":"Identifier","c":28,"s":"u{i}"}}}}"#);
                let conditions = alloc::vec![condition; 1 + i % 3].join(",");
                format!(r#"{{"c":[{conditions}],"s":{{"v":{{"s":"r{i}"}},"i":"v{i}"}}}}"#)
            })
            .collect();
        let options: Vec<String> = (0..20)
            .map(|i| format!(r#"{{"p":5,"v":{{"s":"o{i}"}}}}"#))
            .collect();
        let segment_conditions: Vec<String> = (0..20)
            .map(|i| format!(r#"{{"a":"Email","c":28,"s":"e{i}"}}"#))
            .collect();
        let body = format!(
            r#""r":[{}],"p":[{}],"v":{{"s":"x"}}"#,
            rules.join(","),
            options.join(",")
        );
        let segments = format!(
            r#""s":[{{"n":"big","r":[{}]}}]"#,
            segment_conditions.join(",")
        );
        for setting in [
            format!(r#"{{"t":1,{body}}}"#),
            format!(r#"{{{body},"t":1}}"#),
        ] {
            let json = format!(r#"{{{segments},"f":{{"a":{setting}}}}}"#);
            let config = Config::parse(json.as_bytes()).unwrap();
            let setting = &config.settings[0];
            let counts: Vec<usize> = setting
                .targeting_rules()
                .iter()
                .map(TargetingRule::condition_count)
                .collect();
            assert_eq!(counts, (0..40).map(|i| 1 + i % 3).collect::<Vec<_>>());
            assert_eq!(setting.conditions.len(), counts.iter().sum::<usize>());
            assert_eq!(setting.percentage_options().len(), 20);
            assert_eq!(config.origins[0].segments[0].conditions.len(), 20);
            for i in [0, 15, 16, 17, 39] {
                let user = crate::User::new(format!("u{i}"));
                let details = config.get_value_details("a", "", Some(&user), &NoLog);
                assert_eq!(details.value, format!("r{i}"));
                assert_eq!(details.variation_id.as_deref(), Some(&*format!("v{i}")));
            }
        }
        // Cut short after the list is counted: refused, as any truncated text.
        let json = format!(r#"{{"f":{{"a":{{"t":1,"r":[{}"#, rules.join(","));
        for end in [json.len() - 200, json.len() - 1, json.len()] {
            let error = Config::parse(&json.as_bytes()[..end]).unwrap_err();
            assert_eq!(error.kind(), ParseErrorKind::Truncated);
        }
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
