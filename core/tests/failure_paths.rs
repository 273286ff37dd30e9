//! Malformed and hostile configs, broken settings and misuse of the typed
//! API: configcat-core must reject or contain every one of them, return the
//! caller's default, say why in the details and log exactly what ConfigCat's
//! SDKs log.

// Marks the whole crate as test code, so that the workspace clippy.toml
// allowances for tests (unwrap, expect, panic, indexing) cover the helpers too.
#![cfg(test)]

mod common;

use common::{Capture, parse};
use configcat_core::{
    Config, EventId, FlagError, LogLevel, NoLog, ParseErrorKind, SettingType, User, Value,
};

// ---- documents that do not parse ----

fn parse_error(json: &[u8]) -> ParseErrorKind {
    match Config::parse(json) {
        Ok(config) => panic!(
            "{:?} parsed into {} settings",
            String::from_utf8_lossy(&json[..json.len().min(80)]),
            config.settings().len()
        ),
        Err(error) => {
            // The error renders without panicking and says what went wrong.
            assert!(!error.to_string().is_empty());
            error.kind()
        }
    }
}

#[test]
fn text_that_is_not_json_is_a_syntax_error() {
    for json in [
        &b"{\"f\":}"[..],
        b"{\"f\":{\"a\":{\"t\":0,}}}",
        b"{'f':{}}",
        b"{\"f\":{}}}",
        b"{\"f\":{}} x",
        b"{\"f\":{\"a\":{\"t\":0,\"v\":{\"s\":\"\xc3\x28\"}}}}",
        b"{\"f\":{\"a\":{\"t\":0,\"v\":{\"s\":\"\\u12\"}}}}",
        b"{\"f\":{\"a\":{\"t\":01}}}",
    ] {
        assert_eq!(
            parse_error(json),
            ParseErrorKind::Syntax,
            "{}",
            String::from_utf8_lossy(json)
        );
    }
    let error = Config::parse(b"{\n  \"f\": nope\n}").unwrap_err();
    assert_eq!(error.kind(), ParseErrorKind::Syntax);
    assert_eq!(error.line(), 2);
    assert!(error.column() > 0);
    assert!(
        error
            .to_string()
            .starts_with("config JSON is not valid JSON: ")
    );
}

#[test]
fn text_that_does_not_start_like_json_is_a_syntax_error() {
    for json in [&b"hello"[..], b"\xff\xfe{}", b"<html></html>", b"'f'"] {
        assert_eq!(
            parse_error(json),
            ParseErrorKind::Syntax,
            "{}",
            String::from_utf8_lossy(json)
        );
    }
}

#[test]
fn truncated_json_is_reported_as_truncated() {
    let full = br#"{"p":{"s":"salt"},"f":{"a":{"t":0,"v":{"b":true},"r":[{"c":[{"u":{"a":"Email","c":28,"s":"x"}}],"s":{"v":{"b":false}}}]}}}"#;
    assert!(Config::parse(full).is_ok());
    // Every proper prefix (after the first byte) ends in the middle of a value.
    for end in 1..full.len() {
        let kind = parse_error(&full[..end]);
        assert_eq!(
            kind,
            ParseErrorKind::Truncated,
            "prefix {:?}",
            String::from_utf8_lossy(&full[..end])
        );
    }
    let error = Config::parse(br#"{"f":{"a":{"t":0,"#).unwrap_err();
    assert!(error.to_string().starts_with("config JSON is truncated: "));
}

#[test]
fn wrong_member_types_are_shape_errors() {
    for json in [
        &br#"{"f":[]}"#[..],
        br#"{"f":"settings"}"#,
        br#"{"f":{"a":{"t":"0"}}}"#,
        br#"{"f":{"a":{"t":0.5}}}"#,
        br#"{"f":{"a":{"t":0,"v":{"b":"true"}}}}"#,
        br#"{"f":{"a":{"t":2,"v":{"i":1.5}}}}"#,
        br#"{"f":{"a":{"t":2,"v":{"i":99999999999999999999}}}}"#,
        br#"{"f":{"a":{"t":0,"r":{}}}}"#,
        br#"{"f":{"a":{"t":0,"r":[{"c":[{"u":{"a":"x","c":0,"l":"x"}}]}]}}}"#,
        br#"{"f":{"a":{"t":0,"r":[{"c":[{"u":{"a":"x","c":0,"l":[1,2]}}]}]}}}"#,
        br#"{"f":{"a":{"t":0,"r":[{"c":[{"u":{"a":"x","c":10,"d":"5"}}]}]}}}"#,
        br#"{"f":{"a":{"t":0,"p":[{"p":"50"}]}}}"#,
        br#"{"p":{"s":5}}"#,
        br#"{"s":{}}"#,
        br#"{"s":[{"n":1}]}"#,
    ] {
        assert_eq!(
            parse_error(json),
            ParseErrorKind::Shape,
            "{}",
            String::from_utf8_lossy(json)
        );
    }
}

#[test]
fn top_level_non_objects_are_shape_errors() {
    // `[]` is not a config; ConfigCat's SDKs reject it (they look up `f` in an object).
    for json in [
        &b"[]"[..],
        b"[null,null,null]",
        b" [{}]",
        b"\"config\"",
        b"42",
        b"true",
        b"null",
    ] {
        assert_eq!(
            parse_error(json),
            ParseErrorKind::Shape,
            "{}",
            String::from_utf8_lossy(json)
        );
        let error = Config::parse_overrides(json).map(|_| ()).unwrap_err();
        assert_eq!(error.kind(), ParseErrorKind::Shape);
    }
}

#[test]
fn nested_arrays_in_place_of_objects_are_shape_errors() {
    assert_eq!(parse_error(br#"{"p":[]}"#), ParseErrorKind::Shape);
    assert_eq!(parse_error(br#"{"f":{"a":[]}}"#), ParseErrorKind::Shape);
    assert_eq!(
        parse_error(br#"{"f":{"a":[1,[],[]]}}"#),
        ParseErrorKind::Shape
    );
    assert_eq!(
        parse_error(br#"{"f":{"a":{"t":0,"v":[true]}}}"#),
        ParseErrorKind::Shape
    );
}

#[test]
fn deeply_nested_json_is_an_error_not_a_crash() {
    let depth = 100_000;
    let open = "[".repeat(depth);
    let closed = format!("{open}{}", "]".repeat(depth));
    let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    let documents = [
        open.clone(),
        closed.clone(),
        format!(r#"{{"f":{closed}}}"#),
        format!(r#"{{"f":{{"a":{{"t":0,"v":{closed}}}}}}}"#),
        format!(
            r#"{{"f":{{"a":{{"t":0,"r":[{{"c":[{{"u":{{"a":"x","c":0,"l":{closed}}}}}]}}]}}}}}}"#
        ),
        format!(r#"{{"f":{{"a":{objects}}}}}"#),
        format!(r#"{{"p":{{"s":"x"}},"f":{{}},"x":{open}"#),
    ];
    for json in &documents {
        assert!(Config::parse(json.as_bytes()).is_err(), "{}", &json[..40]);
        assert!(Config::parse_overrides(json.as_bytes()).is_err());
    }
    // Also inside the values of the simple override format.
    let flags = format!(r#"{{"flags":{{"a":{open}}}}}"#);
    assert!(Config::parse_overrides(flags.as_bytes()).is_err());
    let flags = format!(r#"{{"flags":{{"a":{closed}}}}}"#);
    assert_eq!(
        Config::parse_overrides(flags.as_bytes())
            .map(|_| ())
            .map_err(|e| e.kind()),
        Err(ParseErrorKind::UnsupportedOverrideValue)
    );
    // Deep but complete JSON in a member the parser skips is just JSON.
    let skipped = format!(r#"{{"x":{objects},"f":{{"a":{{"t":0,"v":{{"b":true}}}}}}}}"#);
    let config = parse(&skipped);
    assert!(config.get_value("a", false, None, &NoLog));
}

#[test]
fn a_large_config_parses_and_evaluates() {
    let count = 20_000;
    let mut json = String::from(r#"{"p":{"s":"salt"},"f":{"#);
    for i in 0..count {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&format!(
            r#""key{i:05}":{{"t":2,"v":{{"i":{i}}},"i":"v{i}","r":[{{"c":[{{"u":{{"a":"Identifier","c":28,"s":"u{i}"}}}}],"s":{{"v":{{"i":-{}}}}}}}]}}"#,
            i + 1
        ));
    }
    json.push_str("}}");
    let config = parse(&json);
    assert_eq!(config.keys().len(), count);
    assert_eq!(config.keys().next(), Some("key00000"));
    assert_eq!(config.keys().last(), Some("key19999"));
    for i in [0, 1, 9_999, 19_998, 19_999] {
        let key = format!("key{i:05}");
        assert_eq!(config.get_value(&key, 0_i64, None, &NoLog), i);
        let user = User::new(format!("u{i}"));
        assert_eq!(config.get_value(&key, 0_i64, Some(&user), &NoLog), -i - 1);
    }
    assert_eq!(
        config.key_and_value_for_variation_id("v12345"),
        Some(("key12345", Value::Int(12_345)))
    );
    assert_eq!(config.get_value("key20000", -1_i64, None, &NoLog), -1);
}

// ---- oddities that parse ----

#[test]
fn duplicate_setting_keys_last_wins() {
    let config = parse(
        r#"{"f":{"a":{"t":1,"v":{"s":"first"}},"b":{"t":0,"v":{"b":true}},"a":{"t":1,"v":{"s":"second"}}}}"#,
    );
    assert_eq!(config.get_value("a", "", None, &NoLog), "second");
    assert_eq!(config.keys().count(), 2);
    assert!(config.get_value("b", false, None, &NoLog));
}

#[test]
fn duplicate_members_are_rejected() {
    // The CDN never sends them; a document with two `v` in one setting is
    // ambiguous, so it is refused rather than guessed at. (Duplicate setting
    // keys in `f` are a different matter: the last one wins, see above.)
    assert_eq!(
        parse_error(br#"{"f":{"a":{"t":1,"v":{"s":"first"},"v":{"s":"second"}}}}"#),
        ParseErrorKind::Shape
    );
    assert_eq!(
        parse_error(br#"{"p":{"s":"one"},"p":{"s":"two"},"f":{}}"#),
        ParseErrorKind::Shape
    );
}

#[test]
fn negative_zero_is_an_int() {
    let config = parse(r#"{"f":{"zero":{"t":2,"v":{"i":-0}},"other":{"t":1,"v":{"s":"ok"}}}}"#);
    assert_eq!(config.get_value("zero", 5_i64, None, &NoLog), 0);
    assert_eq!(config.get_value("other", "", None, &NoLog), "ok");
}

#[test]
fn null_members_count_as_absent() {
    let config = parse(
        r#"{"p":null,"s":null,"f":{"a":{"t":0,"v":{"b":true},"r":null,"p":null,"i":null,"a":null}}}"#,
    );
    let sink = Capture::new();
    let details = config.get_value_details("a", false, Some(&User::new("x")), &sink);
    assert!(details.value);
    assert_eq!(details.variation_id.as_deref(), None);
    assert!(sink.records().is_empty());

    let empty = parse(r#"{"p":{"s":null,"u":null,"r":null},"f":null}"#);
    assert_eq!(empty.keys().len(), 0);
    assert_eq!(empty.preferences().base_url(), None);
    assert_eq!(empty.preferences().redirect(), None);
    assert_eq!(parse("{}").keys().len(), 0);
    // Unknown members are ignored.
    let config = parse(r#"{"x":[1,{"y":null}],"f":{"a":{"t":1,"v":{"s":"v"},"future":{}}}}"#);
    assert_eq!(config.get_value("a", "", None, &NoLog), "v");
}

// ---- evaluation failures: default, error, one ERROR 2001 ----

/// Evaluates `key` as text with default "fallback" and expects `error`, the
/// default and exactly one ERROR 2001 record (plus nothing else at warning level).
fn expect_failure(config: &Config, key: &str, user: Option<&User>, error: &FlagError) {
    let sink = Capture::new();
    let details = config.get_value_details(key, "fallback", user, &sink);
    assert_eq!(details.value, "fallback", "{key}");
    assert!(details.is_default_value);
    assert_eq!(details.error.as_ref(), Some(error), "{key}");
    assert_eq!(details.variation_id.as_deref(), None);
    assert_eq!(details.matched_targeting_rule, None);
    assert_eq!(details.matched_percentage_option, None);
    assert_eq!(
        sink.records(),
        [(
            LogLevel::Error,
            EventId::EvaluationFailed,
            format!(
                "Failed to evaluate setting '{key}' ({error}). Returning the `default_value` parameter that you specified in your application: 'fallback'."
            )
        )]
    );
    // get_value agrees.
    assert_eq!(config.get_value(key, "fallback", user, &NoLog), "fallback");
}

fn rule_config(condition: &str) -> Config {
    parse(
        &r#"{"p":{"s":"salt"},"f":{"flag":{"t":1,"v":{"s":"default"},
            "r":[{"c":[COND],"s":{"v":{"s":"matched"}}}]}}}"#
            .replace("COND", condition),
    )
}

#[test]
fn unknown_comparator_code_is_an_evaluation_error() {
    let user = User::new("id").with_custom("Attr", "x");
    let error = FlagError::InvalidCondition("Comparison operator is missing or invalid");
    for condition in [
        r#"{"u":{"a":"Attr","c":36,"s":"x"}}"#,
        r#"{"u":{"a":"Attr","c":99,"l":["x"]}}"#,
        r#"{"u":{"a":"Attr","c":-1,"s":"x"}}"#,
        r#"{"u":{"a":"Attr","s":"x"}}"#,
        r#"{"s":{"s":0,"c":7}}"#,
        r#"{"p":{"f":"flag","c":2,"v":{"s":"x"}}}"#,
    ] {
        let config = parse(
            &r#"{"p":{"s":"salt"},"s":[{"n":"seg","r":[]}],"f":{"flag":{"t":1,"v":{"s":"default"},
                "r":[{"c":[COND],"s":{"v":{"s":"matched"}}}]}}}"#
                .replace("COND", condition),
        );
        expect_failure(&config, "flag", Some(&user), &error);
    }
}

#[test]
fn malformed_conditions_are_evaluation_errors() {
    let user = User::new("id").with_custom("Attr", "x");
    let cases = [
        (
            r#"{"u":{"c":28,"s":"x"}}"#,
            "Comparison attribute name is missing",
        ),
        (
            r#"{"u":{"a":"Attr","c":28,"l":["x"]}}"#,
            "Comparison value is missing or invalid",
        ),
        (
            r#"{"u":{"a":"Attr","c":10,"s":"5"}}"#,
            "Comparison value is missing or invalid",
        ),
        (
            r#"{"u":{"a":"Attr","c":22,"l":["no-underscore"]}}"#,
            "Comparison value is missing or invalid",
        ),
        (
            "{}",
            "Condition isn't a type of user, segment, or prerequisite flag condition",
        ),
        (
            r#"{"u":{"a":"Attr","c":28,"s":"x"},"s":{"s":0,"c":0}}"#,
            "Condition isn't a type of user, segment, or prerequisite flag condition",
        ),
        (
            r#"{"p":{"f":"flag","c":0}}"#,
            "Prerequisite flag comparison value is missing or invalid",
        ),
        (
            r#"{"p":{"f":"flag","c":0,"v":{"s":"x","b":true}}}"#,
            "Prerequisite flag comparison value is missing or invalid",
        ),
    ];
    for (condition, reason) in cases {
        let config = rule_config(condition);
        expect_failure(
            &config,
            "flag",
            Some(&user),
            &FlagError::InvalidCondition(reason),
        );
    }
}

#[test]
fn unknown_setting_type_is_an_evaluation_error() {
    let config = parse(r#"{"f":{"weird":{"t":9,"v":{"b":true}},"untyped":{"v":{"b":true}}}}"#);
    expect_failure(&config, "weird", None, &FlagError::InvalidSettingType(9));
    assert_eq!(
        FlagError::InvalidSettingType(9).to_string(),
        "Setting type 9 is invalid"
    );
    assert_eq!(config.setting("weird").unwrap().setting_type(), None);
    // A bool default does not help either: the type is unknown.
    let details = config.get_value_details("weird", true, None, &NoLog);
    assert!(details.value);
    assert!(details.is_default_value);
    assert_eq!(details.error, Some(FlagError::InvalidSettingType(9)));
    // A missing type is not a known type.
    let details = config.get_value_details("untyped", false, None, &NoLog);
    assert!(details.is_default_value);
    assert!(matches!(
        details.error,
        Some(FlagError::InvalidSettingType(_))
    ));
}

#[test]
fn segment_index_out_of_range_is_an_evaluation_error() {
    let error = FlagError::InvalidCondition("Segment reference is invalid");
    let user = User::new("id").with_email("a@b.c");
    for json in [
        r#"{"p":{"s":"salt"},"s":[{"n":"only","r":[{"a":"Email","c":28,"s":"a@b.c"}]}],
            "f":{"flag":{"t":1,"v":{"s":"default"},"r":[{"c":[{"s":{"s":1,"c":0}}],"s":{"v":{"s":"matched"}}}]}}}"#,
        r#"{"p":{"s":"salt"},
            "f":{"flag":{"t":1,"v":{"s":"default"},"r":[{"c":[{"s":{"s":0,"c":0}}],"s":{"v":{"s":"matched"}}}]}}}"#,
        r#"{"p":{"s":"salt"},"s":[{"n":"only","r":[]}],
            "f":{"flag":{"t":1,"v":{"s":"default"},"r":[{"c":[{"s":{"s":-1,"c":0}}],"s":{"v":{"s":"matched"}}}]}}}"#,
        r#"{"p":{"s":"salt"},"s":[{"n":"only","r":[]}],
            "f":{"flag":{"t":1,"v":{"s":"default"},"r":[{"c":[{"s":{"c":0}}],"s":{"v":{"s":"matched"}}}]}}}"#,
    ] {
        expect_failure(&parse(json), "flag", Some(&user), &error);
    }
}

#[test]
fn prerequisite_to_a_missing_key_is_an_evaluation_error() {
    let config = rule_config(r#"{"p":{"f":"ghost","c":0,"v":{"b":true}}}"#);
    expect_failure(
        &config,
        "flag",
        None,
        &FlagError::PrerequisiteMissing {
            key: "ghost".into(),
        },
    );
}

#[test]
fn confidential_comparator_without_salt_is_an_evaluation_error() {
    let digest = "0".repeat(64);
    let user = User::new("id")
        .with_custom("Attr", "x")
        .with_custom("List", vec!["x".to_owned()]);
    for condition in [
        format!(r#"{{"u":{{"a":"Attr","c":20,"s":"{digest}"}}}}"#),
        format!(r#"{{"u":{{"a":"Attr","c":16,"l":["{digest}"]}}}}"#),
        format!(r#"{{"u":{{"a":"Attr","c":22,"l":["1_{digest}"]}}}}"#),
        format!(r#"{{"u":{{"a":"List","c":26,"l":["{digest}"]}}}}"#),
    ] {
        let config = parse(
            &r#"{"f":{"flag":{"t":1,"v":{"s":"default"},"r":[{"c":[COND],"s":{"v":{"s":"matched"}}}]}}}"#
                .replace("COND", &condition),
        );
        expect_failure(&config, "flag", Some(&user), &FlagError::SaltMissing);
    }
    assert_eq!(
        FlagError::SaltMissing.to_string(),
        "Config JSON salt is missing"
    );
    // A cleartext comparator needs no salt.
    let config = parse(
        r#"{"f":{"flag":{"t":1,"v":{"s":"default"},"r":[{"c":[{"u":{"a":"Attr","c":28,"s":"x"}}],"s":{"v":{"s":"matched"}}}]}}}"#,
    );
    assert_eq!(config.get_value("flag", "", Some(&user), &NoLog), "matched");
}

#[test]
fn rule_without_value_or_options_fails_only_when_it_matches() {
    let config = rule_config(r#"{"u":{"a":"Email","c":28,"s":"a@b.c"}}"#);
    let config_text = parse(
        r#"{"f":{"flag":{"t":1,"v":{"s":"default"},"r":[{"c":[{"u":{"a":"Email","c":28,"s":"a@b.c"}}]}]}}}"#,
    );
    assert_eq!(
        config.get_value(
            "flag",
            "",
            Some(&User::new("id").with_email("a@b.c")),
            &NoLog
        ),
        "matched"
    );
    let user = User::new("id").with_email("a@b.c");
    expect_failure(
        &config_text,
        "flag",
        Some(&user),
        &FlagError::TargetingRuleThenMissing,
    );
    let other = User::new("id").with_email("x@y.z");
    assert_eq!(
        config_text.get_value("flag", "fallback", Some(&other), &NoLog),
        "default"
    );
}

#[test]
fn served_value_of_the_wrong_type_is_an_evaluation_error() {
    let config = parse(
        r#"{"f":{
          "boolWithText":{"t":0,"v":{"s":"true"}},
          "textWithBool":{"t":1,"v":{"b":true}},
          "intWithFloat":{"t":2,"v":{"d":1.0}},
          "noValue":{"t":1},
          "nullValue":{"t":1,"v":{"s":null}},
          "ruleWrong":{"t":1,"v":{"s":"default"},"r":[{"c":[{"u":{"a":"Email","c":28,"s":"a@b.c"}}],"s":{"v":{"i":1}}}]},
          "optionWrong":{"t":1,"v":{"s":"default"},"p":[{"p":100,"v":{"b":false}}]}}}"#,
    );
    let user = User::new("id").with_email("a@b.c");
    let sink = Capture::new();
    let details = config.get_value_details("boolWithText", false, None, &sink);
    assert!(!details.value);
    assert!(details.is_default_value);
    assert_eq!(details.error, Some(FlagError::InvalidServedValue));
    assert_eq!(
        sink.records(),
        [(
            LogLevel::Error,
            EventId::EvaluationFailed,
            "Failed to evaluate setting 'boolWithText' (Setting value is missing or invalid). Returning the `default_value` parameter that you specified in your application: 'false'.".to_owned()
        )]
    );
    let details = config.get_value_details("intWithFloat", 7_i64, None, &NoLog);
    assert_eq!(details.value, 7);
    assert_eq!(details.error, Some(FlagError::InvalidServedValue));
    let details = config.get_value_details("textWithBool", true, None, &NoLog);
    assert!(details.is_default_value);
    assert!(matches!(
        details.error,
        Some(FlagError::TypeMismatch { .. })
    ));
    for key in ["textWithBool", "noValue", "nullValue"] {
        expect_failure(&config, key, None, &FlagError::InvalidServedValue);
    }
    // Rules and % options fail only when they are reached.
    assert_eq!(config.get_value("ruleWrong", "", None, &NoLog), "default");
    expect_failure(
        &config,
        "ruleWrong",
        Some(&user),
        &FlagError::InvalidServedValue,
    );
    assert_eq!(config.get_value("optionWrong", "", None, &NoLog), "default");
    expect_failure(
        &config,
        "optionWrong",
        Some(&user),
        &FlagError::InvalidServedValue,
    );
}

// ---- typed access ----

fn typed_config() -> Config {
    parse(
        r#"{"f":{"text":{"t":1,"v":{"s":"hello"}},"bool":{"t":0,"v":{"b":true}},
                 "int":{"t":2,"v":{"i":42}},"float":{"t":3,"v":{"d":2.5}}}}"#,
    )
}

#[test]
fn asking_for_another_type_returns_the_default_with_type_mismatch() {
    let config = typed_config();
    let sink = Capture::new();
    let details = config.get_value_details("text", false, None, &sink);
    assert!(!details.value);
    assert!(details.is_default_value);
    assert_eq!(
        details.error,
        Some(FlagError::TypeMismatch {
            setting_type: SettingType::Text,
            requested: "bool",
        })
    );
    assert_eq!(
        sink.records(),
        [(
            LogLevel::Error,
            EventId::EvaluationFailed,
            "Failed to evaluate setting 'text' (the setting is of type text, which cannot be read as bool). Returning the `default_value` parameter that you specified in your application: 'false'.".to_owned()
        )]
    );

    let mismatches: [(&str, FlagError); 3] = [
        (
            "bool",
            FlagError::TypeMismatch {
                setting_type: SettingType::Bool,
                requested: "text",
            },
        ),
        (
            "int",
            FlagError::TypeMismatch {
                setting_type: SettingType::Int,
                requested: "text",
            },
        ),
        (
            "float",
            FlagError::TypeMismatch {
                setting_type: SettingType::Float,
                requested: "text",
            },
        ),
    ];
    for (key, error) in &mismatches {
        expect_failure(&config, key, None, error);
    }
    // Text is never parsed into a number.
    let details = config.get_value_details("text", 1_i64, None, &NoLog);
    assert_eq!(details.value, 1);
    assert!(details.is_default_value);
    let details = config.get_value_details("bool", String::from("x"), None, &NoLog);
    assert_eq!(details.value, "x");
    assert!(details.is_default_value);
}

#[test]
fn int_setting_reads_as_float_but_float_never_as_int() {
    let config = typed_config();
    let sink = Capture::new();
    let details = config.get_value_details("int", 0.5_f64, None, &sink);
    assert!((details.value - 42.0).abs() < f64::EPSILON);
    assert!(!details.is_default_value);
    assert_eq!(details.error, None);
    assert!(sink.records().is_empty());

    let details = config.get_value_details("float", 7_i64, None, &sink);
    assert_eq!(details.value, 7);
    assert!(details.is_default_value);
    assert_eq!(
        details.error,
        Some(FlagError::TypeMismatch {
            setting_type: SettingType::Float,
            requested: "int",
        })
    );
    assert_eq!(sink.ids(), [(LogLevel::Error, 2001)]);
    assert_eq!(
        sink.errors()[0].1,
        "Failed to evaluate setting 'float' (the setting is of type float, which cannot be read as int). Returning the `default_value` parameter that you specified in your application: '7'."
    );

    // Value<'_> reads anything; String copies text.
    assert_eq!(
        config.get_value("float", Value::Bool(false), None, &NoLog),
        Value::Float(2.5)
    );
    assert_eq!(
        config.get_value("text", String::new(), None, &NoLog),
        "hello"
    );
}

#[test]
fn unknown_key_returns_the_default_and_lists_the_available_keys() {
    let config = typed_config();
    let sink = Capture::new();
    let details = config.get_value_details("nope", "dflt", None, &sink);
    assert_eq!(details.value, "dflt");
    assert!(details.is_default_value);
    assert_eq!(
        details.error,
        Some(FlagError::SettingNotFound { key: "nope".into() })
    );
    assert_eq!(
        sink.records(),
        [(
            LogLevel::Error,
            EventId::SettingKeyMissing,
            "Failed to evaluate setting 'nope' (the key was not found in config JSON). Returning the `default_value` parameter that you specified in your application: 'dflt'. Available keys: ['text', 'bool', 'int', 'float'].".to_owned()
        )]
    );
    assert_eq!(EventId::SettingKeyMissing.code(), 1001);

    // Keys are case-sensitive; the untyped API reports a `null` default.
    let sink = Capture::new();
    let details = config.evaluate("TEXT", None, &sink);
    assert_eq!(details.value, None);
    assert!(details.is_default_value);
    assert_eq!(
        sink.errors(),
        [(
            1001,
            "Failed to evaluate setting 'TEXT' (the key was not found in config JSON). Returning the `default_value` parameter that you specified in your application: 'null'. Available keys: ['text', 'bool', 'int', 'float'].".to_owned()
        )]
    );

    let sink = Capture::new();
    assert!(!parse("{}").get_value("x", false, None, &sink));
    assert_eq!(
        sink.errors(),
        [(
            1001,
            "Failed to evaluate setting 'x' (the key was not found in config JSON). Returning the `default_value` parameter that you specified in your application: 'false'. Available keys: [].".to_owned()
        )]
    );
}

#[test]
fn failing_evaluation_still_writes_the_evaluation_log() {
    let config = rule_config(r#"{"p":{"f":"ghost","c":0,"v":{"b":true}}}"#);
    let sink = Capture::with_level(LogLevel::Info);
    let details = config.get_value_details("flag", "fallback", None, &sink);
    assert!(details.is_default_value);
    let ids = sink.ids();
    assert_eq!(ids, [(LogLevel::Info, 5000), (LogLevel::Error, 2001)]);
    let log = &sink.records()[0].2;
    assert!(log.starts_with("Evaluating 'flag'"), "{log}");
    assert!(log.ends_with("Returning 'fallback'."), "{log}");
}
