//! Evaluation tests of configcat-core on small inline config JSON v6 documents:
//! every user comparator (codes 0 to 35), attribute conversions, AND
//! conditions, segments, prerequisite flags, % options and variation ids.
//!
//! Expected values follow ConfigCat's reference evaluation; the hashes the
//! dashboard would store are computed here with `sha1`/`sha2`, independently
//! of the core.

// Marks the whole crate as test code, so that the workspace clippy.toml
// allowances for tests (unwrap, expect, panic, indexing) cover the helpers too.
#![cfg(test)]

mod common;

use common::{Capture, READ_MORE, bucket, hashed_affix, js, js_list, parse, sha256_hex};
use configcat_core::{
    Config, FlagError, LogLevel, MAX_PREREQUISITE_DEPTH, NoLog, OwnedValue, SettingType, User,
    UserValue, Value,
};

const SALT: &str = "test-salt";
const KEY: &str = "flag";

// ---- building configs ----

/// `flag`: a text setting serving "matched" when the one user condition holds, "default" otherwise.
fn single_condition_config(condition: &str) -> Config {
    parse(
        &r#"{"p":{"s":"test-salt"},"f":{"flag":{"t":1,"v":{"s":"default"},
            "r":[{"c":[{"u":COND}],"s":{"v":{"s":"matched"}}}]}}}"#
            .replace("COND", condition),
    )
}

/// Like [`single_condition_config`], plus a second rule that serves "second"
/// to the user with identifier `id`: shows that a skipped rule does not stop evaluation.
fn two_rule_config(condition: &str) -> Config {
    parse(
        &r#"{"p":{"s":"test-salt"},"f":{"flag":{"t":1,"v":{"s":"default"},
            "r":[{"c":[{"u":COND}],"s":{"v":{"s":"matched"}}},
                 {"c":[{"u":{"a":"Identifier","c":28,"s":"id"}}],"s":{"v":{"s":"second"}}}]}}}"#
            .replace("COND", condition),
    )
}

/// A condition on `User.Attr` with a text comparison value (`s`).
fn cond_s(code: u8, text: &str) -> String {
    format!(r#"{{"a":"Attr","c":{code},"s":{}}}"#, js(text))
}

/// A condition on `User.Attr` with a list comparison value (`l`).
fn cond_l(code: u8, items: &[&str]) -> String {
    format!(r#"{{"a":"Attr","c":{code},"l":{}}}"#, js_list(items))
}

/// A condition on `User.Attr` with a number comparison value (`d`).
fn cond_d(code: u8, number: f64) -> String {
    format!(r#"{{"a":"Attr","c":{code},"d":{number}}}"#)
}

/// SHA-256 comparison value for the setting `flag`.
fn h(value: &str) -> String {
    sha256_hex(value.as_bytes(), SALT, KEY)
}

/// Hashed STARTS/ENDS WITH item for the setting `flag`.
fn affix(value: &str) -> String {
    hashed_affix(value, SALT, KEY)
}

fn list(items: &[&str]) -> UserValue {
    UserValue::StringList(items.iter().map(|item| (*item).to_owned()).collect())
}

fn user_with(value: UserValue) -> User {
    User::new("id").with_custom("Attr", value)
}

// ---- table-driven comparator cases ----

struct Case {
    code: u8,
    condition: String,
    value: UserValue,
    matches: bool,
}

fn case(code: u8, condition: &str, value: impl Into<UserValue>, matches: bool) -> Case {
    Case {
        code,
        condition: condition.to_owned(),
        value: value.into(),
        matches,
    }
}

/// Evaluates each case and checks the value, the matched rule, and that
/// nothing was logged; reports every failing case at once.
fn check(cases: &[Case]) {
    let mut failures = Vec::new();
    for case in cases {
        let config = single_condition_config(&case.condition);
        let user = user_with(case.value.clone());
        let sink = Capture::new();
        let details = config.get_value_details(KEY, "fallback", Some(&user), &sink);
        let expected = if case.matches { "matched" } else { "default" };
        let ok = details.value == expected
            && details.error.is_none()
            && !details.is_default_value
            && details.matched_targeting_rule_index == case.matches.then_some(0)
            && sink.records().is_empty();
        if !ok {
            failures.push(format!(
                "  {} with User.Attr = {:?}: expected {expected:?}, got {:?} (error {:?}, rule {:?}, log {:?})",
                case.condition,
                case.value,
                details.value,
                details.error,
                details.matched_targeting_rule_index,
                sink.records()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn text_cases() -> Vec<Case> {
    let one_of = cond_l(0, &["a", "b"]);
    let not_one_of = cond_l(1, &["a", "b"]);
    let contains = cond_l(2, &["ell", "xyz"]);
    let not_contains = cond_l(3, &["ell", "xyz"]);
    let equals = cond_s(28, "x");
    let equals_padded = cond_s(28, " x");
    let not_equals = cond_s(29, "x");
    let starts = cond_l(30, &["ab", "cd"]);
    let not_starts = cond_l(31, &["ab", "cd"]);
    let ends = cond_l(32, &["@a.com"]);
    let not_ends = cond_l(33, &["@a.com"]);
    let unicode = cond_l(0, &["äöü😀"]);
    vec![
        case(0, &one_of, "a", true),
        case(0, &one_of, "b", true),
        case(0, &one_of, "c", false),
        case(0, &one_of, "A", false),
        case(0, &one_of, " a", false),
        case(0, &unicode, "äöü😀", true),
        case(0, &unicode, "aou", false),
        case(1, &not_one_of, "c", true),
        case(1, &not_one_of, "a", false),
        case(2, &contains, "hello", true),
        case(2, &contains, "xyz!", true),
        case(2, &contains, "help", false),
        case(3, &not_contains, "help", true),
        case(3, &not_contains, "hello", false),
        case(28, &equals, "x", true),
        case(28, &equals, "X", false),
        // Neither the attribute nor the comparison value is trimmed.
        case(28, &equals, " x", false),
        case(28, &equals_padded, " x", true),
        case(28, &equals_padded, "x", false),
        case(29, &not_equals, "y", true),
        case(29, &not_equals, "x", false),
        case(30, &starts, "cdx", true),
        case(30, &starts, "xab", false),
        case(31, &not_starts, "xab", true),
        case(31, &not_starts, "abx", false),
        case(32, &ends, "j@a.com", true),
        case(32, &ends, "j@a.co", false),
        case(33, &not_ends, "j@a.co", true),
        case(33, &not_ends, "j@a.com", false),
    ]
}

fn semver_cases() -> Vec<Case> {
    let one_of = cond_l(4, &["1.0.0", " 2.0.0 ", ""]);
    let not_one_of = cond_l(5, &["1.0.0", " 2.0.0 ", ""]);
    let one_of_invalid = cond_l(4, &["1.0.0", "x.y"]);
    let not_one_of_invalid = cond_l(5, &["1.0.0", "x.y"]);
    let less = cond_s(6, "1.0.0");
    let less_invalid = cond_s(6, "1.0");
    let less_or_equal = cond_s(7, "1.0.0");
    let greater = cond_s(8, " 1.0.0-beta.2 ");
    let greater_or_equal = cond_s(9, "2.0.0");
    let greater_or_equal_invalid = cond_s(9, "wrong");
    vec![
        case(4, &one_of, "2.0.0", true),
        case(4, &one_of, " 1.0.0 ", true),
        case(4, &one_of, "1.0.0+build.7", true),
        case(4, &one_of, "1.0.1", false),
        case(4, &one_of, "1.0.0-rc.1", false),
        // An invalid comparison value makes the condition false, negated or not.
        case(4, &one_of_invalid, "1.0.0", false),
        case(5, &not_one_of, "1.0.1", true),
        case(5, &not_one_of, "2.0.0", false),
        case(5, &not_one_of, "2.0.0+meta", false),
        case(5, &not_one_of_invalid, "3.0.0", false),
        case(6, &less, "1.0.0-alpha", true),
        case(6, &less, "0.9.99", true),
        case(6, &less, "1.0.0", false),
        case(6, &less, "1.0.0+build", false),
        case(6, &less, "1.0.1-alpha", false),
        case(6, &less_invalid, "0.1.0", false),
        case(7, &less_or_equal, "1.0.0+build.5", true),
        case(7, &less_or_equal, "1.0.0-rc.1", true),
        case(7, &less_or_equal, "1.0.1", false),
        case(8, &greater, "1.0.0-beta.11", true),
        case(8, &greater, "1.0.0", true),
        case(8, &greater, "1.0.0-beta", false),
        case(8, &greater, "1.0.0-alpha.99", false),
        case(8, &greater, "1.0.0-beta.2", false),
        case(9, &greater_or_equal, "2.0.0", true),
        case(9, &greater_or_equal, "10.0.0", true),
        case(9, &greater_or_equal, "  2.0.0+x  ", true),
        case(9, &greater_or_equal, "1.99.99", false),
        case(9, &greater_or_equal, "2.0.0-rc", false),
        case(9, &greater_or_equal_invalid, "3.0.0", false),
    ]
}

fn number_cases() -> Vec<Case> {
    let eq = cond_d(10, 5.0);
    let ne = cond_d(11, 5.0);
    let lt = cond_d(12, 2.5);
    let le = cond_d(13, 3.0);
    let gt = cond_d(14, 100.0);
    let ge = cond_d(15, 0.0);
    vec![
        case(10, &eq, 5.0, true),
        case(10, &eq, "5", true),
        case(10, &eq, " 5 ", true),
        case(10, &eq, "5,0", true),
        case(10, &eq, "5.0", true),
        case(10, &eq, 5.1, false),
        case(10, &eq, "6", false),
        case(11, &ne, 4.0, true),
        case(11, &ne, "NaN", true),
        case(11, &ne, f64::NAN, true),
        case(11, &ne, 5.0, false),
        case(11, &ne, " 5 ", false),
        case(12, &lt, "2,1", true),
        case(12, &lt, f64::NEG_INFINITY, true),
        case(12, &lt, "-Infinity", true),
        case(12, &lt, 2.5, false),
        case(12, &lt, f64::NAN, false),
        case(12, &lt, "2,6", false),
        case(13, &le, " 3 ", true),
        case(13, &le, 3.0, true),
        case(13, &le, "3.0001", false),
        case(14, &gt, "Infinity", true),
        case(14, &gt, "+Infinity", true),
        case(14, &gt, 100.5, true),
        case(14, &gt, 100.0, false),
        case(14, &gt, " NaN ", false),
        case(15, &ge, 0.0, true),
        case(15, &ge, -0.0, true),
        case(15, &ge, "1e3", true),
        case(15, &ge, "-1e-9", false),
        case(15, &ge, f64::NEG_INFINITY, false),
    ]
}

fn date_cases() -> Vec<Case> {
    // 2023-04-01T00:00:00Z
    let before = cond_d(18, 1_680_307_200.0);
    let after = cond_d(19, 1_680_307_200.0);
    vec![
        case(18, &before, UserValue::DateTime(1_680_307_199.999), true),
        case(18, &before, 1_680_307_199.0, true),
        case(18, &before, "1680307199", true),
        case(18, &before, " 1680307199,5 ", true),
        case(18, &before, UserValue::DateTime(1_680_307_200.0), false),
        case(18, &before, "1680307200", false),
        case(
            18,
            &before,
            UserValue::from_unix_millis(1_680_307_200_001),
            false,
        ),
        case(19, &after, UserValue::DateTime(1_680_307_200.001), true),
        case(19, &after, " 1680307201 ", true),
        case(
            19,
            &after,
            UserValue::from_unix_millis(1_680_307_200_001),
            true,
        ),
        case(19, &after, 1e10, true),
        case(19, &after, UserValue::DateTime(1_680_307_200.0), false),
        case(19, &after, 0.0, false),
    ]
}

fn sensitive_cases() -> Vec<Case> {
    let one_of = cond_l(16, &[&h("a"), &h("b")]);
    let not_one_of = cond_l(17, &[&h("a"), &h("b")]);
    let equals = cond_s(20, &h("secret"));
    let equals_other_salt = cond_s(20, &sha256_hex(b"secret", "other-salt", KEY));
    let equals_other_context = cond_s(20, &sha256_hex(b"secret", SALT, "other-key"));
    let equals_upper_case = cond_s(20, &h("secret").to_uppercase());
    let not_equals = cond_s(21, &h("secret"));
    let starts = cond_l(22, &[&affix("abc"), &affix("äb")]);
    let not_starts = cond_l(23, &[&affix("abc"), &affix("äb")]);
    let ends = cond_l(24, &[&affix(".com")]);
    let not_ends = cond_l(25, &[&affix(".com")]);
    let array = cond_l(26, &[&h("admin"), &h("owner")]);
    let not_array = cond_l(27, &[&h("admin"), &h("owner")]);
    vec![
        case(16, &one_of, "a", true),
        case(16, &one_of, "b", true),
        case(16, &one_of, "c", false),
        case(16, &one_of, "A", false),
        case(17, &not_one_of, "c", true),
        case(17, &not_one_of, "a", false),
        case(20, &equals, "secret", true),
        case(20, &equals, "Secret", false),
        case(20, &equals, " secret", false),
        case(20, &equals_other_salt, "secret", false),
        case(20, &equals_other_context, "secret", false),
        case(20, &equals_upper_case, "secret", false),
        case(21, &not_equals, "other", true),
        case(21, &not_equals, "secret", false),
        case(22, &starts, "abcdef", true),
        case(22, &starts, "abc", true),
        // "äb" is 3 bytes of UTF-8: the prefix is cut by bytes.
        case(22, &starts, "äbc", true),
        case(22, &starts, "xabc", false),
        case(22, &starts, "ab", false),
        case(22, &starts, "ä", false),
        case(23, &not_starts, "xabc", true),
        case(23, &not_starts, "abcdef", false),
        case(24, &ends, "x@y.com", true),
        case(24, &ends, "x@y.org", false),
        case(24, &ends, "com", false),
        case(25, &not_ends, "x@y.org", true),
        case(25, &not_ends, "x@y.com", false),
        case(26, &array, list(&["user", "admin"]), true),
        case(26, &array, r#"["owner"]"#, true),
        case(26, &array, list(&["user"]), false),
        case(26, &array, list(&[]), false),
        case(26, &array, list(&["Admin"]), false),
        case(27, &not_array, list(&["user"]), true),
        case(27, &not_array, list(&[]), true),
        case(27, &not_array, list(&["admin"]), false),
    ]
}

fn array_cases() -> Vec<Case> {
    let contains = cond_l(34, &["read", "write"]);
    let not_contains = cond_l(35, &["read", "write"]);
    vec![
        case(34, &contains, list(&["exec", "write"]), true),
        case(34, &contains, r#"["read"]"#, true),
        case(34, &contains, r#" ["x", "write"] "#, true),
        case(34, &contains, list(&["Read"]), false),
        case(34, &contains, list(&[" read"]), false),
        case(34, &contains, list(&[]), false),
        case(34, &contains, "[]", false),
        case(35, &not_contains, list(&["exec"]), true),
        case(35, &not_contains, list(&[]), true),
        case(35, &not_contains, list(&["read"]), false),
        case(35, &not_contains, r#"["write","x"]"#, false),
    ]
}

#[test]
fn every_comparator_code_has_matching_and_non_matching_cases() {
    let all: Vec<Case> = [
        text_cases(),
        semver_cases(),
        number_cases(),
        date_cases(),
        sensitive_cases(),
        array_cases(),
    ]
    .into_iter()
    .flatten()
    .collect();
    // Codes 0-35 are the comparators of config JSON v6 (36 and beyond are
    // unknown: failure_paths.rs); `check` holds each case to evaluate without error.
    for code in 0..=35_u8 {
        for outcome in [true, false] {
            assert!(
                all.iter().any(|c| c.code == code && c.matches == outcome),
                "comparator {code} has no case with match = {outcome}"
            );
        }
        // Every case's condition really uses the code it is filed under.
        for c in all.iter().filter(|c| c.code == code) {
            assert!(c.condition.contains(&format!(r#""c":{code},"#)));
        }
    }
}

#[test]
fn text_comparators() {
    check(&text_cases());
}

#[test]
fn semver_comparators() {
    check(&semver_cases());
}

#[test]
fn semver_pre_release_precedence_chain() {
    let chain = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.10.0",
        "10.0.0",
    ];
    let mut cases = Vec::new();
    let conditions: Vec<String> = chain.iter().map(|v| cond_s(6, v)).collect();
    for (index, pair) in chain.windows(2).enumerate() {
        // lower < higher, and not the other way round.
        cases.push(case(6, &conditions[index + 1], pair[0], true));
        cases.push(case(6, &conditions[index], pair[1], false));
        cases.push(case(6, &conditions[index], pair[0], false));
    }
    check(&cases);
}

#[test]
fn number_comparators() {
    check(&number_cases());
}

#[test]
fn date_comparators() {
    check(&date_cases());
}

#[test]
fn confidential_comparators() {
    check(&sensitive_cases());
}

#[test]
fn array_comparators() {
    check(&array_cases());
}

// ---- invalid attributes: warning 3004, rule skipped ----

/// Evaluates `two_rule_config(condition)` for a user with identifier "id":
/// an invalid attribute must skip rule 1 and reach rule 2 ("second").
fn expect_invalid_attribute(condition: &str, value: UserValue, expected_reason: &str) {
    let config = two_rule_config(condition);
    let user = user_with(value.clone());
    let sink = Capture::new();
    let details = config.get_value_details(KEY, "fallback", Some(&user), &sink);
    assert_eq!(details.value, "second", "{condition} with {value:?}");
    assert_eq!(details.matched_targeting_rule_index, Some(1));
    assert_eq!(details.error, None);
    let warnings = sink.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].0, 3004);
    assert!(
        warnings[0].1.contains(expected_reason),
        "{:?} lacks {expected_reason:?}",
        warnings[0].1
    );
    assert!(sink.errors().is_empty());
}

#[test]
fn invalid_semver_attribute_skips_the_rule_with_warning_3004() {
    let config = two_rule_config(&cond_s(6, "1.0.0"));
    let user = user_with("wrong_semver".into());
    let sink = Capture::new();
    assert_eq!(config.get_value(KEY, "", Some(&user), &sink), "second");
    assert_eq!(
        sink.records(),
        [(
            LogLevel::Warning,
            configcat_core::EventId::UserAttributeInvalid,
            "Cannot evaluate condition (User.Attr < '1.0.0') for setting 'flag' ('wrong_semver' is not a valid semantic version). Please check the User.Attr attribute and make sure that its value corresponds to the comparison operator.".to_owned()
        )]
    );

    expect_invalid_attribute(
        &cond_l(4, &["1.0.0"]),
        "1.0".into(),
        "(User.Attr IS ONE OF ['1.0.0']) for setting 'flag' ('1.0' is not a valid semantic version)",
    );
    expect_invalid_attribute(
        &cond_l(5, &["1.0.0"]),
        "v1.0.0".into(),
        "'v1.0.0' is not a valid semantic version",
    );
    // Semver comparators only take text.
    expect_invalid_attribute(
        &cond_s(9, "1.0.0"),
        2.0.into(),
        "'2' is not a valid semantic version",
    );
    expect_invalid_attribute(
        &cond_s(7, "1.0.0"),
        list(&["1.0.0"]),
        r#"'["1.0.0"]' is not a valid semantic version"#,
    );
}

#[test]
fn invalid_number_attribute_skips_the_rule_with_warning_3004() {
    let config = two_rule_config(&cond_d(11, 5.0));
    let user = user_with("not_a_number".into());
    let sink = Capture::new();
    assert_eq!(config.get_value(KEY, "", Some(&user), &sink), "second");
    assert_eq!(
        sink.warnings(),
        [(
            3004,
            "Cannot evaluate condition (User.Attr != '5') for setting 'flag' ('not_a_number' is not a valid decimal number). Please check the User.Attr attribute and make sure that its value corresponds to the comparison operator.".to_owned()
        )]
    );
    for text in ["abc", "1.2.3", "2,1,0", "inf", "0x10"] {
        expect_invalid_attribute(
            &cond_d(10, 5.0),
            text.into(),
            &format!("'{text}' is not a valid decimal number"),
        );
    }
    expect_invalid_attribute(
        &cond_d(12, 2.5),
        list(&["1"]),
        r#"'["1"]' is not a valid decimal number"#,
    );
}

#[test]
fn invalid_date_attribute_skips_the_rule_with_warning_3004() {
    let config = two_rule_config(&cond_d(19, 1_680_307_200.0));
    let user = user_with("2023.04.10".into());
    let sink = Capture::new();
    assert_eq!(config.get_value(KEY, "", Some(&user), &sink), "second");
    assert_eq!(
        sink.warnings(),
        [(
            3004,
            "Cannot evaluate condition (User.Attr AFTER '1680307200' (2023-04-01T00:00:00.000 UTC)) for setting 'flag' ('2023.04.10' is not a valid Unix timestamp (number of seconds elapsed since Unix epoch)). Please check the User.Attr attribute and make sure that its value corresponds to the comparison operator.".to_owned()
        )]
    );
    expect_invalid_attribute(
        &cond_d(18, 1_680_307_200.0),
        list(&["1"]),
        r#"'["1"]' is not a valid Unix timestamp"#,
    );
}

#[test]
fn invalid_array_attribute_skips_the_rule_with_warning_3004() {
    let config = two_rule_config(&cond_l(34, &["read"]));
    let user = user_with("read".into());
    let sink = Capture::new();
    assert_eq!(config.get_value(KEY, "", Some(&user), &sink), "second");
    assert_eq!(
        sink.warnings(),
        [(
            3004,
            "Cannot evaluate condition (User.Attr ARRAY CONTAINS ANY OF ['read']) for setting 'flag' ('read' is not a valid string array). Please check the User.Attr attribute and make sure that its value corresponds to the comparison operator.".to_owned()
        )]
    );
    expect_invalid_attribute(
        &cond_l(35, &["read"]),
        "[1,2]".into(),
        "'[1,2]' is not a valid string array",
    );
    expect_invalid_attribute(
        &cond_l(35, &["read"]),
        r#"{"a":"read"}"#.into(),
        "is not a valid string array",
    );
    expect_invalid_attribute(
        &cond_l(34, &["5"]),
        5.into(),
        "'5' is not a valid string array",
    );
    expect_invalid_attribute(
        &cond_l(26, &[&h("read")]),
        "[read]".into(),
        "'[read]' is not a valid string array",
    );
}

// ---- text comparators with other attribute types: warning 3005 ----

/// Evaluates a text comparator against a non-text attribute: expects the
/// outcome and exactly one warning 3005 naming the converted text.
fn expect_converted(condition: &str, value: UserValue, matches: bool, converted: &str) {
    let config = single_condition_config(condition);
    let user = user_with(value.clone());
    let sink = Capture::new();
    let result = config.get_value(KEY, "fallback", Some(&user), &sink);
    let expected = if matches { "matched" } else { "default" };
    assert_eq!(result, expected, "{condition} with {value:?}");
    let warnings = sink.warnings();
    assert_eq!(
        warnings.len(),
        1,
        "{condition} with {value:?}: {warnings:?}"
    );
    assert_eq!(warnings[0].0, 3005);
    let needle = format!(
        "(the User.Attr attribute is not a string value, thus it was automatically converted to the string value '{converted}')"
    );
    assert!(warnings[0].1.contains(&needle), "{:?}", warnings[0].1);
    assert!(sink.errors().is_empty());
}

#[test]
fn text_comparators_convert_other_attribute_types_with_warning_3005() {
    let config = single_condition_config(&cond_s(28, "125"));
    let user = user_with(125.0.into());
    let sink = Capture::new();
    assert_eq!(config.get_value(KEY, "", Some(&user), &sink), "matched");
    assert_eq!(
        sink.warnings(),
        [(
            3005,
            "Evaluation of condition (User.Attr EQUALS '125') for setting 'flag' may not produce the expected result (the User.Attr attribute is not a string value, thus it was automatically converted to the string value '125'). Please make sure that using a non-string value was intended.".to_owned()
        )]
    );

    expect_converted(&cond_s(28, "1e+21"), 1e21.into(), true, "1e+21");
    expect_converted(&cond_s(28, "0.000001"), 1e-6.into(), true, "0.000001");
    expect_converted(&cond_s(28, "1.5e-7"), 1.5e-7.into(), true, "1.5e-7");
    expect_converted(
        &cond_s(28, "-1.23456789e+96"),
        (-1.234_567_89e96).into(),
        true,
        "-1.23456789e+96",
    );
    expect_converted(&cond_s(28, "NaN"), f64::NAN.into(), true, "NaN");
    expect_converted(
        &cond_s(28, "-Infinity"),
        f64::NEG_INFINITY.into(),
        true,
        "-Infinity",
    );
    expect_converted(&cond_s(29, "125"), 125.0.into(), false, "125");
    expect_converted(&cond_l(2, &["1.5"]), (-1.5).into(), true, "-1.5");
    expect_converted(&cond_l(30, &["-1."]), (-1.5).into(), true, "-1.5");
    expect_converted(
        &cond_l(0, &["1680307199.999"]),
        UserValue::DateTime(1_680_307_199.999),
        true,
        "1680307199.999",
    );
    expect_converted(
        &cond_s(28, r#"["a","b\"c","é\n"]"#),
        list(&["a", "b\"c", "é\n"]),
        true,
        r#"["a","b\"c","é\n"]"#,
    );
    expect_converted(
        &cond_l(32, &[r#"b"]"#]),
        list(&["a", "b"]),
        true,
        r#"["a","b"]"#,
    );
    // Confidential comparators hash the converted text.
    expect_converted(&cond_s(20, &h("125")), 125.0.into(), true, "125");
    expect_converted(&cond_l(16, &[&h("42")]), 42.into(), true, "42");
    expect_converted(
        &cond_l(22, &[&affix("16803")]),
        UserValue::DateTime(1_680_307_200.0),
        true,
        "1680307200",
    );
}

// ---- missing user, missing attribute ----

#[test]
fn missing_user_object_warns_3001_once_and_serves_the_default() {
    let config = parse(
        r#"{"p":{"s":"test-salt"},"f":{"flag":{"t":1,"v":{"s":"default"},
            "r":[{"c":[{"u":{"a":"Email","c":28,"s":"a@b.c"}}],"s":{"v":{"s":"r1"}}},
                 {"c":[{"u":{"a":"Country","c":28,"s":"HU"}}],"s":{"v":{"s":"r2"}}}],
            "p":[{"p":50,"v":{"s":"A"}},{"p":50,"v":{"s":"B"}}]}}}"#,
    );
    let sink = Capture::new();
    let details = config.get_value_details(KEY, "fallback", None, &sink);
    assert_eq!(details.value, "default");
    assert!(!details.is_default_value);
    assert_eq!(details.error, None);
    assert_eq!(details.matched_targeting_rule.as_deref(), None);
    assert_eq!(details.matched_percentage_option.as_deref(), None);
    assert_eq!(
        sink.records(),
        [(
            LogLevel::Warning,
            configcat_core::EventId::UserObjectMissing,
            format!(
                "Cannot evaluate targeting rules and % options for setting 'flag' (User Object is missing). You should pass a User Object to the evaluation methods like `get_value()`/`get_value_details()` in order to make targeting work properly. {READ_MORE}"
            )
        )]
    );
}

#[test]
fn missing_attribute_skips_the_rule_with_warning_3003() {
    let config = two_rule_config(&cond_l(1, &["x"]));
    let sink = Capture::new();
    let user = User::new("id");
    assert_eq!(config.get_value(KEY, "", Some(&user), &sink), "second");
    assert_eq!(
        sink.warnings(),
        [(
            3003,
            format!(
                "Cannot evaluate condition (User.Attr IS NOT ONE OF ['x']) for setting 'flag' (the User.Attr attribute is missing). You should set the User.Attr attribute in order to make targeting work properly. {READ_MORE}"
            )
        )]
    );
}

#[test]
fn empty_text_attribute_is_missing_for_conditions() {
    // Even a negated comparator does not match: the rule cannot be evaluated.
    for condition in [
        cond_l(1, &["x"]),
        cond_s(29, "x"),
        cond_l(3, &["x"]),
        cond_d(11, 5.0),
        cond_l(35, &["x"]),
        cond_s(21, &h("x")),
    ] {
        let config = two_rule_config(&condition);
        let sink = Capture::new();
        let user = user_with("".into());
        assert_eq!(
            config.get_value(KEY, "", Some(&user), &sink),
            "second",
            "{condition}"
        );
        let warnings = sink.warnings();
        assert_eq!(warnings.len(), 1, "{condition}: {warnings:?}");
        assert_eq!(warnings[0].0, 3003);
        assert!(
            warnings[0]
                .1
                .contains("(the User.Attr attribute is missing)")
        );
    }
    // The identifier too.
    let config = parse(
        r#"{"p":{"s":"test-salt"},"f":{"flag":{"t":1,"v":{"s":"default"},
            "r":[{"c":[{"u":{"a":"Identifier","c":29,"s":"x"}}],"s":{"v":{"s":"matched"}}}]}}}"#,
    );
    let sink = Capture::new();
    assert_eq!(
        config.get_value(KEY, "", Some(&User::new("")), &sink),
        "default"
    );
    assert_eq!(sink.ids(), [(LogLevel::Warning, 3003)]);
}

#[test]
fn empty_text_attribute_is_hashed_for_percentage_options() {
    let config = parse(
        r#"{"p":{"s":"test-salt"},"f":{"flag":{"t":1,"a":"Attr","v":{"s":"default"},
            "p":[{"p":50,"v":{"s":"low"}},{"p":50,"v":{"s":"high"}}]}}}"#,
    );
    let expected = if bucket(KEY, "") < 50 { "low" } else { "high" };
    let sink = Capture::new();
    let details = config.get_value_details(KEY, "", Some(&user_with("".into())), &sink);
    assert_eq!(details.value, expected);
    assert!(details.matched_percentage_option_index.is_some());
    assert!(sink.records().is_empty(), "{:?}", sink.records());

    // And an empty identifier is the default basis of % options.
    let config = parse(
        r#"{"p":{"s":"test-salt"},"f":{"flag":{"t":1,"v":{"s":"default"},
            "p":[{"p":50,"v":{"s":"low"}},{"p":50,"v":{"s":"high"}}]}}}"#,
    );
    assert_eq!(
        config.get_value(KEY, "", Some(&User::new("")), &sink),
        expected
    );
    assert!(sink.records().is_empty());
}

// ---- AND conditions ----

fn and_config() -> Config {
    parse(
        r#"{"p":{"s":"test-salt"},"f":{"flag":{"t":1,"v":{"s":"default"},
            "r":[{"c":[{"u":{"a":"Email","c":32,"l":["@example.com"]}},
                       {"u":{"a":"Country","c":0,"l":["HU","AT"]}},
                       {"u":{"a":"Tier","c":14,"d":2}}],
                  "s":{"v":{"s":"matched"}}}]}}}"#,
    )
}

#[test]
fn and_conditions_all_must_hold() {
    let config = and_config();
    let rule = &config.setting(KEY).unwrap().targeting_rules()[0];
    assert_eq!(rule.condition_count(), 3);
    let full = User::new("id")
        .with_email("jane@example.com")
        .with_country("AT")
        .with_custom("Tier", 3);
    let sink = Capture::new();
    let details = config.get_value_details(KEY, "", Some(&full), &sink);
    assert_eq!(details.value, "matched");
    assert_eq!(details.matched_targeting_rule.as_deref(), Some(rule));
    assert!(sink.records().is_empty());

    for user in [
        full.clone().with_email("jane@other.com"),
        full.clone().with_country("DE"),
        full.clone().with_custom("Tier", 2),
    ] {
        assert_eq!(config.get_value(KEY, "", Some(&user), &sink), "default");
    }
    assert!(sink.records().is_empty());
}

#[test]
fn and_conditions_stop_at_the_first_failing_one() {
    let config = and_config();
    // The first condition fails, so the missing Country is never looked at.
    let sink = Capture::new();
    let user = User::new("id").with_email("jane@other.com");
    assert_eq!(config.get_value(KEY, "", Some(&user), &sink), "default");
    assert!(sink.records().is_empty(), "{:?}", sink.records());

    // The first holds, the second cannot be evaluated: warning for Country only.
    let user = User::new("id").with_email("jane@example.com");
    assert_eq!(config.get_value(KEY, "", Some(&user), &sink), "default");
    let warnings = sink.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].0, 3003);
    assert!(
        warnings[0]
            .1
            .starts_with("Cannot evaluate condition (User.Country IS ONE OF ['HU', 'AT']) for setting 'flag' (the User.Country attribute is missing).")
    );
}

// ---- segments ----

const SEGMENT_CONFIG: &str = r#"{"p":{"s":"test-salt"},
  "s":[{"n":"Beta users","r":[{"a":"Email","c":32,"l":["@example.com"]}]},
       {"n":"Secret club","r":[{"a":"Email","c":16,"l":[HASHED_BY_SEGMENT]}]},
       {"n":"Two conditions","r":[{"a":"Email","c":32,"l":["@example.com"]},
                                  {"a":"Country","c":0,"l":["HU"]}]},
       {"n":"Keyed club","r":[{"a":"Email","c":16,"l":[HASHED_BY_KEY]}]}],
  "f":{
    "inBeta":{"t":1,"v":{"s":"default"},"r":[{"c":[{"s":{"s":0,"c":0}}],"s":{"v":{"s":"matched"}}}]},
    "notInBeta":{"t":1,"v":{"s":"default"},"r":[{"c":[{"s":{"s":0,"c":1}}],"s":{"v":{"s":"matched"}}}]},
    "inSecret":{"t":1,"v":{"s":"default"},"r":[{"c":[{"s":{"s":1,"c":0}}],"s":{"v":{"s":"matched"}}}]},
    "inTwo":{"t":1,"v":{"s":"default"},"r":[{"c":[{"s":{"s":2,"c":0}}],"s":{"v":{"s":"matched"}}}]},
    "notInTwo":{"t":1,"v":{"s":"default"},"r":[{"c":[{"s":{"s":2,"c":1}}],"s":{"v":{"s":"matched"}}}]},
    "inKeyed":{"t":1,"v":{"s":"default"},"r":[{"c":[{"s":{"s":3,"c":0}}],"s":{"v":{"s":"matched"}}}]}
  }}"#;

fn segment_config() -> Config {
    parse(
        &SEGMENT_CONFIG
            .replace(
                "HASHED_BY_SEGMENT",
                &js(&sha256_hex(b"jane@example.com", SALT, "Secret club")),
            )
            .replace(
                "HASHED_BY_KEY",
                &js(&sha256_hex(b"jane@example.com", SALT, "inKeyed")),
            ),
    )
}

#[test]
fn segment_is_in_and_is_not_in() {
    let config = segment_config();
    let inside = User::new("id").with_email("jane@example.com");
    let outside = User::new("id").with_email("jane@other.com");
    let sink = Capture::new();
    assert_eq!(
        config.get_value("inBeta", "", Some(&inside), &sink),
        "matched"
    );
    assert_eq!(
        config.get_value("inBeta", "", Some(&outside), &sink),
        "default"
    );
    assert_eq!(
        config.get_value("notInBeta", "", Some(&inside), &sink),
        "default"
    );
    assert_eq!(
        config.get_value("notInBeta", "", Some(&outside), &sink),
        "matched"
    );
    assert!(sink.records().is_empty(), "{:?}", sink.records());
    let details = config.get_value_details("inBeta", "", Some(&inside), &sink);
    assert_eq!(details.matched_targeting_rule_index, Some(0));
}

#[test]
fn segment_conditions_are_hashed_with_the_segment_name() {
    let config = segment_config();
    let jane = User::new("id").with_email("jane@example.com");
    let joe = User::new("id").with_email("joe@example.com");
    let sink = Capture::new();
    assert_eq!(
        config.get_value("inSecret", "", Some(&jane), &sink),
        "matched"
    );
    assert_eq!(
        config.get_value("inSecret", "", Some(&joe), &sink),
        "default"
    );
    // Hashed with the setting key as context salt: never matches inside a segment.
    assert_eq!(
        config.get_value("inKeyed", "", Some(&jane), &sink),
        "default"
    );
    assert!(sink.records().is_empty(), "{:?}", sink.records());
}

#[test]
fn segment_with_several_conditions() {
    let config = segment_config();
    let sink = Capture::new();
    let both = User::new("id")
        .with_email("jane@example.com")
        .with_country("HU");
    let one = User::new("id")
        .with_email("jane@example.com")
        .with_country("AT");
    assert_eq!(config.get_value("inTwo", "", Some(&both), &sink), "matched");
    assert_eq!(config.get_value("inTwo", "", Some(&one), &sink), "default");
    assert_eq!(
        config.get_value("notInTwo", "", Some(&both), &sink),
        "default"
    );
    assert_eq!(
        config.get_value("notInTwo", "", Some(&one), &sink),
        "matched"
    );
    assert!(sink.records().is_empty());

    // A missing attribute inside the segment: the segment cannot be evaluated,
    // so neither IS IN nor IS NOT IN matches.
    let no_country = User::new("id").with_email("jane@example.com");
    for key in ["inTwo", "notInTwo"] {
        let sink = Capture::new();
        assert_eq!(
            config.get_value(key, "", Some(&no_country), &sink),
            "default"
        );
        assert_eq!(
            sink.warnings(),
            [(
                3003,
                format!(
                    "Cannot evaluate condition (User.Country IS ONE OF ['HU']) for setting '{key}' (the User.Country attribute is missing). You should set the User.Country attribute in order to make targeting work properly. {READ_MORE}"
                )
            )]
        );
    }
}

#[test]
fn segment_condition_without_user_warns_3001() {
    let config = segment_config();
    let sink = Capture::new();
    assert_eq!(config.get_value("notInBeta", "", None, &sink), "default");
    assert_eq!(sink.ids(), [(LogLevel::Warning, 3001)]);
    assert!(sink.warnings()[0].1.contains("setting 'notInBeta'"));
}

// ---- prerequisite flags ----

/// A text flag `key` serving "matched" when its prerequisite condition holds.
fn dependent(key: &str, prerequisite: &str, comparator: u8, value: &str) -> String {
    format!(
        r#"{}:{{"t":1,"v":{{"s":"default"}},"r":[{{"c":[{{"p":{{"f":{},"c":{comparator},"v":{value}}}}}],"s":{{"v":{{"s":"matched"}}}}}}]}}"#,
        js(key),
        js(prerequisite)
    )
}

const PREREQUISITES: &str = r#"
  "boolMain":{"t":0,"v":{"b":true}},
  "textMain":{"t":1,"v":{"s":"Cat"}},
  "intMain":{"t":2,"v":{"i":42}},
  "floatMain":{"t":3,"v":{"d":3.5}},
  "userMain":{"t":0,"v":{"b":false},"r":[{"c":[{"u":{"a":"Email","c":28,"s":"vip@example.com"}}],"s":{"v":{"b":true}}}]}"#;

fn prerequisite_config(dependents: &[String]) -> Config {
    parse(&format!(
        r#"{{"p":{{"s":"test-salt"}},"f":{{{PREREQUISITES},{}}}}}"#,
        dependents.join(",")
    ))
}

#[test]
fn prerequisite_flags_of_all_four_types() {
    let cases: [(&str, u8, &str, bool); 16] = [
        ("boolMain", 0, r#"{"b":true}"#, true),
        ("boolMain", 0, r#"{"b":false}"#, false),
        ("boolMain", 1, r#"{"b":false}"#, true),
        ("boolMain", 1, r#"{"b":true}"#, false),
        ("textMain", 0, r#"{"s":"Cat"}"#, true),
        ("textMain", 0, r#"{"s":"cat"}"#, false),
        ("textMain", 1, r#"{"s":"Dog"}"#, true),
        ("textMain", 1, r#"{"s":"Cat"}"#, false),
        ("intMain", 0, r#"{"i":42}"#, true),
        ("intMain", 0, r#"{"i":43}"#, false),
        ("intMain", 1, r#"{"i":43}"#, true),
        ("intMain", 1, r#"{"i":42}"#, false),
        ("floatMain", 0, r#"{"d":3.5}"#, true),
        ("floatMain", 0, r#"{"d":3.25}"#, false),
        ("floatMain", 1, r#"{"d":3.25}"#, true),
        ("floatMain", 1, r#"{"d":3.5}"#, false),
    ];
    let dependents: Vec<String> = cases
        .iter()
        .enumerate()
        .map(|(index, (main, comparator, value, _))| {
            dependent(&format!("dep{index}"), main, *comparator, value)
        })
        .collect();
    let config = prerequisite_config(&dependents);
    for (index, (main, comparator, value, matches)) in cases.iter().enumerate() {
        let sink = Capture::new();
        // Prerequisite conditions need no User Object.
        let details = config.get_value_details(&format!("dep{index}"), "", None, &sink);
        let expected = if *matches { "matched" } else { "default" };
        assert_eq!(
            details.value, expected,
            "{main} comparator {comparator} {value}"
        );
        assert_eq!(details.error, None);
        assert_eq!(details.matched_targeting_rule_index, matches.then_some(0));
        assert!(sink.records().is_empty(), "{:?}", sink.records());
    }
}

#[test]
fn prerequisite_flag_evaluated_for_the_same_user() {
    let config = prerequisite_config(&[dependent("dep", "userMain", 0, r#"{"b":true}"#)]);
    let sink = Capture::new();
    let vip = User::new("1").with_email("vip@example.com");
    let other = User::new("2").with_email("joe@example.com");
    assert_eq!(config.get_value("dep", "", Some(&vip), &sink), "matched");
    assert_eq!(config.get_value("dep", "", Some(&other), &sink), "default");
    assert!(sink.records().is_empty());
    // Without a user the prerequisite warns, under its own key.
    assert_eq!(config.get_value("dep", "", None, &sink), "default");
    assert_eq!(sink.ids(), [(LogLevel::Warning, 3001)]);
    assert!(sink.warnings()[0].1.contains("for setting 'userMain'"));
}

/// Expects `key` to fail with `error`: default returned, one ERROR 2001 record.
fn expect_failure(config: &Config, key: &str, error: &FlagError) {
    let sink = Capture::new();
    let details = config.get_value_details(key, "fallback", Some(&User::new("id")), &sink);
    assert_eq!(details.value, "fallback");
    assert!(details.is_default_value);
    assert_eq!(details.error.as_ref(), Some(error));
    assert_eq!(details.variation_id.as_deref(), None);
    assert_eq!(
        sink.errors(),
        [(
            2001,
            format!(
                "Failed to evaluate setting '{key}' ({error}). Returning the `default_value` parameter that you specified in your application: 'fallback'."
            )
        )]
    );
    assert!(sink.warnings().is_empty(), "{:?}", sink.warnings());
}

#[test]
fn prerequisite_type_mismatch_is_an_error() {
    let config = prerequisite_config(&[
        dependent("intAsFloat", "intMain", 0, r#"{"d":42}"#),
        dependent("floatAsInt", "floatMain", 0, r#"{"i":3}"#),
        dependent("boolAsText", "boolMain", 1, r#"{"s":"true"}"#),
        dependent("textAsBool", "textMain", 0, r#"{"b":true}"#),
    ]);
    let mismatch = |value: OwnedValue, key: &str| FlagError::PrerequisiteTypeMismatch {
        comparison_value: value,
        key: key.into(),
    };
    expect_failure(
        &config,
        "intAsFloat",
        &mismatch(OwnedValue::Float(42.0), "intMain"),
    );
    expect_failure(
        &config,
        "floatAsInt",
        &mismatch(OwnedValue::Int(3), "floatMain"),
    );
    expect_failure(
        &config,
        "boolAsText",
        &mismatch(OwnedValue::Text("true".into()), "boolMain"),
    );
    expect_failure(
        &config,
        "textAsBool",
        &mismatch(OwnedValue::Bool(true), "textMain"),
    );
    assert_eq!(
        mismatch(OwnedValue::Float(42.0), "intMain").to_string(),
        "Type mismatch between comparison value '42' and prerequisite flag 'intMain'"
    );
}

#[test]
fn missing_prerequisite_is_an_error() {
    let config = prerequisite_config(&[dependent("dep", "nope", 0, r#"{"b":true}"#)]);
    let error = FlagError::PrerequisiteMissing { key: "nope".into() };
    assert_eq!(error.to_string(), "Prerequisite flag 'nope' is missing");
    expect_failure(&config, "dep", &error);
}

#[test]
fn prerequisite_cycles_are_errors_with_the_chain() {
    let config = parse(&format!(
        r#"{{"f":{{{},{},{},{}}}}}"#,
        dependent("a", "b", 0, r#"{"s":"matched"}"#),
        dependent("b", "a", 0, r#"{"s":"matched"}"#),
        dependent("self", "self", 1, r#"{"s":"x"}"#),
        dependent("x", "a", 0, r#"{"s":"matched"}"#),
    ));
    let cycle = |chain: &str| FlagError::CircularDependency {
        chain: chain.to_owned(),
    };
    expect_failure(&config, "a", &cycle("'a' -> 'b' -> 'a'"));
    expect_failure(&config, "b", &cycle("'b' -> 'a' -> 'b'"));
    expect_failure(&config, "self", &cycle("'self' -> 'self'"));
    expect_failure(&config, "x", &cycle("'x' -> 'a' -> 'b' -> 'a'"));
    assert_eq!(
        cycle("'a' -> 'b' -> 'a'").to_string(),
        "Circular dependency detected between the following depending flags: 'a' -> 'b' -> 'a'."
    );
}

/// Flags `f0` .. `f{edges}`, each depending on the next; the last is plain.
fn prerequisite_chain(edges: usize) -> Config {
    let mut flags: Vec<String> = (0..edges)
        .map(|i| {
            dependent(
                &format!("f{i}"),
                &format!("f{}", i + 1),
                0,
                r#"{"s":"matched"}"#,
            )
        })
        .collect();
    flags.push(format!(r#""f{edges}":{{"t":1,"v":{{"s":"matched"}}}}"#));
    parse(&format!(r#"{{"f":{{{}}}}}"#, flags.join(",")))
}

#[test]
fn prerequisite_depth_is_limited() {
    let config = prerequisite_chain(MAX_PREREQUISITE_DEPTH);
    let sink = Capture::new();
    assert_eq!(config.get_value("f0", "fallback", None, &sink), "matched");
    assert!(sink.records().is_empty());

    let config = prerequisite_chain(MAX_PREREQUISITE_DEPTH + 1);
    expect_failure(&config, "f0", &FlagError::PrerequisiteDepthExceeded);
    // Entering the chain lower down stays within the limit.
    assert_eq!(config.get_value("f1", "fallback", None, &NoLog), "matched");
}

// ---- % options ----

const PERCENTAGE_CONFIG: &str = r#"{"p":{"s":"test-salt"},"f":{
  "pct":{"t":1,"v":{"s":"default"},"i":"v-default",
         "p":[{"p":30,"v":{"s":"A"},"i":"v-a"},{"p":70,"v":{"s":"B"},"i":"v-b"}]},
  "pctCountry":{"t":1,"a":"Country","v":{"s":"default"},
         "p":[{"p":50,"v":{"s":"A"}},{"p":50,"v":{"s":"B"}}]},
  "pctAge":{"t":2,"a":"Age","v":{"i":0},
         "p":[{"p":25,"v":{"i":1}},{"p":25,"v":{"i":2}},{"p":25,"v":{"i":3}},{"p":25,"v":{"i":4}}]},
  "pctRule":{"t":1,"v":{"s":"default"},"i":"v-default2",
         "r":[{"c":[{"u":{"a":"Email","c":32,"l":["@example.com"]}}],
               "p":[{"p":40,"v":{"s":"ruleA"},"i":"v-rule-a"},{"p":60,"v":{"s":"ruleB"},"i":"v-rule-b"}]},
              {"c":[{"u":{"a":"Email","c":32,"l":["@other.com"]}}],"s":{"v":{"s":"other"},"i":"v-other"}}],
         "p":[{"p":100,"v":{"s":"everyone"},"i":"v-everyone"}]},
  "pctRuleCountry":{"t":1,"a":"Country","v":{"s":"default"},
         "r":[{"c":[{"u":{"a":"Email","c":32,"l":["@example.com"]}}],
               "p":[{"p":50,"v":{"s":"A"}},{"p":50,"v":{"s":"B"}}]},
              {"c":[{"u":{"a":"Email","c":32,"l":[".com"]}}],"s":{"v":{"s":"second"}}}]},
  "pctShort":{"t":1,"v":{"s":"default"},
         "p":[{"p":10,"v":{"s":"A"}},{"p":10,"v":{"s":"B"}}]}
}}"#;

#[test]
fn bucket_helper_matches_a_known_value() {
    // The value ConfigCat's SDKs compute for this key and attribute.
    assert_eq!(bucket("string75Cat0Dog25Falcon0HorseCustomAttr", "US"), 70);
}

#[test]
fn percentage_options_by_identifier() {
    let config = parse(PERCENTAGE_CONFIG);
    let setting = config.setting("pct").unwrap();
    let mut seen = [false, false];
    for n in 0..60 {
        let id = format!("user-{n}");
        let bucket = bucket("pct", &id);
        let (value, index, variation) = if bucket < 30 {
            ("A", 0, "v-a")
        } else {
            ("B", 1, "v-b")
        };
        seen[index] = true;
        let sink = Capture::new();
        let details = config.get_value_details("pct", "", Some(&User::new(id.clone())), &sink);
        assert_eq!(details.value, value, "{id} (bucket {bucket})");
        assert_eq!(details.matched_percentage_option_index, Some(index));
        assert_eq!(
            details.matched_percentage_option.as_deref(),
            Some(&setting.percentage_options()[index])
        );
        assert_eq!(details.variation_id.as_deref(), Some(variation));
        assert_eq!(details.matched_targeting_rule.as_deref(), None);
        assert!(!details.is_default_value);
        assert!(sink.records().is_empty());
    }
    assert_eq!(seen, [true, true], "both options must be reached");
}

#[test]
fn percentage_options_by_custom_attribute() {
    let config = parse(PERCENTAGE_CONFIG);
    for country in ["HU", "AT", "US", "Hungary", "äöü"] {
        let expected = if bucket("pctCountry", country) < 50 {
            "A"
        } else {
            "B"
        };
        // The identifier does not matter, the Country does.
        for id in ["1", "2", "3"] {
            let user = User::new(id).with_country(country);
            assert_eq!(
                config.get_value("pctCountry", "", Some(&user), &NoLog),
                expected
            );
        }
    }
    // Number attributes are hashed as their canonical text, without a warning.
    for age in [0, 7, 42, 99] {
        let sink = Capture::new();
        let user = User::new("id").with_custom("Age", age);
        let expected = i64::from(bucket("pctAge", &age.to_string()) / 25 + 1);
        assert_eq!(
            config.get_value("pctAge", 0_i64, Some(&user), &sink),
            expected
        );
        assert!(sink.records().is_empty());
    }
    let user = User::new("id").with_custom("Age", 42.5);
    let expected = i64::from(bucket("pctAge", "42.5") / 25 + 1);
    assert_eq!(
        config.get_value("pctAge", 0_i64, Some(&user), &NoLog),
        expected
    );
}

#[test]
fn percentage_attribute_missing_warns_3003_and_serves_the_default() {
    let config = parse(PERCENTAGE_CONFIG);
    let sink = Capture::new();
    let details = config.get_value_details("pctCountry", "", Some(&User::new("id")), &sink);
    assert_eq!(details.value, "default");
    assert_eq!(details.matched_percentage_option.as_deref(), None);
    assert_eq!(
        sink.warnings(),
        [(
            3003,
            format!(
                "Cannot evaluate % options for setting 'pctCountry' (the User.Country attribute is missing). You should set the User.Country attribute in order to make targeting work properly. {READ_MORE}"
            )
        )]
    );

    // Without a user: 3001 instead.
    let sink = Capture::new();
    assert_eq!(config.get_value("pct", "", None, &sink), "default");
    assert_eq!(sink.ids(), [(LogLevel::Warning, 3001)]);
}

#[test]
fn percentage_options_within_a_targeting_rule() {
    let config = parse(PERCENTAGE_CONFIG);
    let setting = config.setting("pctRule").unwrap();
    let rule = &setting.targeting_rules()[0];
    assert_eq!(rule.served_value(), None);
    assert_eq!(rule.percentage_options().len(), 2);
    let mut seen = [false, false];
    for n in 0..40 {
        let id = format!("user-{n}");
        let user = User::new(id.clone()).with_email("jane@example.com");
        let (value, index, variation) = if bucket("pctRule", &id) < 40 {
            ("ruleA", 0, "v-rule-a")
        } else {
            ("ruleB", 1, "v-rule-b")
        };
        seen[index] = true;
        let details = config.get_value_details("pctRule", "", Some(&user), &NoLog);
        assert_eq!(details.value, value);
        assert_eq!(details.matched_targeting_rule.as_deref(), Some(rule));
        assert_eq!(details.matched_targeting_rule_index, Some(0));
        assert_eq!(details.matched_percentage_option_index, Some(index));
        assert_eq!(
            details.matched_percentage_option.as_deref(),
            Some(&rule.percentage_options()[index])
        );
        assert_eq!(details.variation_id.as_deref(), Some(variation));
    }
    assert_eq!(seen, [true, true]);

    // The second rule serves a value.
    let user = User::new("id").with_email("jane@other.com");
    let details = config.get_value_details("pctRule", "", Some(&user), &NoLog);
    assert_eq!(details.value, "other");
    assert_eq!(details.variation_id.as_deref(), Some("v-other"));
    assert_eq!(details.matched_targeting_rule_index, Some(1));
    assert_eq!(details.matched_percentage_option.as_deref(), None);

    // No rule matches: the setting's own % options (100% "everyone").
    let user = User::new("id").with_email("jane@nowhere.org");
    let details = config.get_value_details("pctRule", "", Some(&user), &NoLog);
    assert_eq!(details.value, "everyone");
    assert_eq!(details.matched_targeting_rule.as_deref(), None);
    assert_eq!(details.matched_percentage_option_index, Some(0));
    assert_eq!(details.variation_id.as_deref(), Some("v-everyone"));
}

#[test]
fn rule_percentage_options_without_their_attribute_skip_the_rule() {
    let config = parse(PERCENTAGE_CONFIG);
    let sink = Capture::new();
    let user = User::new("id").with_email("jane@example.com");
    let details = config.get_value_details("pctRuleCountry", "", Some(&user), &sink);
    assert_eq!(details.value, "second");
    assert_eq!(details.matched_targeting_rule_index, Some(1));
    assert_eq!(sink.ids(), [(LogLevel::Warning, 3003)]);
    assert!(
        sink.warnings()[0]
            .1
            .starts_with("Cannot evaluate % options for setting 'pctRuleCountry' (the User.Country attribute is missing).")
    );
    let user = user.with_country("HU");
    let expected = if bucket("pctRuleCountry", "HU") < 50 {
        "A"
    } else {
        "B"
    };
    assert_eq!(
        config.get_value("pctRuleCountry", "", Some(&user), &NoLog),
        expected
    );
}

#[test]
fn percentage_sum_below_100_is_an_error_for_uncovered_buckets() {
    let config = parse(PERCENTAGE_CONFIG);
    let find = |range: core::ops::Range<u32>| {
        (0..1000)
            .map(|n| format!("user-{n}"))
            .find(|id| range.contains(&bucket("pctShort", id)))
            .unwrap()
    };
    let low = find(0..10);
    let mid = find(10..20);
    let high = find(20..100);
    assert_eq!(
        config.get_value("pctShort", "", Some(&User::new(low)), &NoLog),
        "A"
    );
    assert_eq!(
        config.get_value("pctShort", "", Some(&User::new(mid)), &NoLog),
        "B"
    );
    let sink = Capture::new();
    let details = config.get_value_details("pctShort", "fallback", Some(&User::new(high)), &sink);
    assert_eq!(details.value, "fallback");
    assert!(details.is_default_value);
    assert_eq!(details.error, Some(FlagError::PercentageSumBelow100));
    assert_eq!(
        sink.errors(),
        [(
            2001,
            "Failed to evaluate setting 'pctShort' (Sum of percentage option percentages is less than 100). Returning the `default_value` parameter that you specified in your application: 'fallback'.".to_owned()
        )]
    );
}

// ---- variation ids, evaluate_all, keys ----

#[test]
fn variation_ids_and_lookup() {
    let config = parse(PERCENTAGE_CONFIG);
    let details = config.get_value_details("pct", "", None, &NoLog);
    assert_eq!(details.value, "default");
    assert_eq!(details.variation_id.as_deref(), Some("v-default"));

    assert_eq!(
        config.key_and_value_for_variation_id("v-default"),
        Some(("pct", Value::Text("default")))
    );
    assert_eq!(
        config.key_and_value_for_variation_id("v-b"),
        Some(("pct", Value::Text("B")))
    );
    assert_eq!(
        config.key_and_value_for_variation_id("v-rule-a"),
        Some(("pctRule", Value::Text("ruleA")))
    );
    assert_eq!(
        config.key_and_value_for_variation_id("v-other"),
        Some(("pctRule", Value::Text("other")))
    );
    assert_eq!(
        config.key_and_value_for_variation_id("v-everyone"),
        Some(("pctRule", Value::Text("everyone")))
    );
    assert_eq!(config.key_and_value_for_variation_id("v-unknown"), None);
    assert_eq!(config.key_and_value_for_variation_id(""), None);

    let typed = parse(
        r#"{"f":{"b":{"t":0,"v":{"b":true},"i":"vb"},"i":{"t":2,"v":{"i":-7},"i":"vi"},
                 "d":{"t":3,"v":{"d":2.5},"i":"vd"}}}"#,
    );
    assert_eq!(
        typed.key_and_value_for_variation_id("vb"),
        Some(("b", Value::Bool(true)))
    );
    assert_eq!(
        typed.key_and_value_for_variation_id("vi"),
        Some(("i", Value::Int(-7)))
    );
    assert_eq!(
        typed.key_and_value_for_variation_id("vd"),
        Some(("d", Value::Float(2.5)))
    );
}

#[test]
fn evaluate_all_in_document_order() {
    let config = parse(
        r#"{"p":{"s":"test-salt"},"f":{
          "zeta":{"t":0,"v":{"b":true},"i":"vz"},
          "alpha":{"t":1,"v":{"s":"default"},
                   "r":[{"c":[{"u":{"a":"Email","c":28,"s":"a@b.c"}}],"s":{"v":{"s":"targeted"},"i":"va"}}]},
          "broken":{"t":9,"v":{"b":true}},
          "number":{"t":3,"v":{"d":1.25}}}}"#,
    );
    assert_eq!(
        config.keys().collect::<Vec<_>>(),
        ["zeta", "alpha", "broken", "number"]
    );
    assert_eq!(config.keys().len(), 4);

    let user = User::new("id").with_email("a@b.c");
    let sink = Capture::new();
    let all = config.evaluate_all(Some(&user), &sink);
    let summary: Vec<(&str, Option<Value<'_>>, Option<&str>, bool)> = all
        .iter()
        .map(|details| {
            (
                &*details.key,
                details.value,
                details.variation_id.as_deref(),
                details.error.is_some(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("zeta", Some(Value::Bool(true)), Some("vz"), false),
            ("alpha", Some(Value::Text("targeted")), Some("va"), false),
            ("broken", None, None, true),
            ("number", Some(Value::Float(1.25)), None, false),
        ]
    );
    assert_eq!(all[2].error, Some(FlagError::InvalidSettingType(9)));
    assert!(all[2].is_default_value);
    assert_eq!(all[1].matched_targeting_rule_index, Some(0));
    // The broken setting is reported as an evaluation error.
    assert_eq!(sink.errors().len(), 1);
    assert_eq!(sink.errors()[0].0, 2001);
    assert!(
        sink.errors()[0]
            .1
            .starts_with("Failed to evaluate setting 'broken'")
    );

    let without_user = config.evaluate_all(None, &NoLog);
    assert_eq!(without_user[1].value, Some(Value::Text("default")));
}

#[test]
fn setting_accessors() {
    let config = parse(PERCENTAGE_CONFIG);
    let setting = config.setting("pctAge").unwrap();
    assert_eq!(setting.key(), "pctAge");
    assert_eq!(setting.setting_type(), Some(SettingType::Int));
    assert_eq!(setting.default_value(), Some(Value::Int(0)));
    assert_eq!(setting.percentage_options().len(), 4);
    assert_eq!(setting.percentage_options()[2].percentage(), 25);
    assert_eq!(setting.percentage_options()[2].value(), Some(Value::Int(3)));
    let rule_setting = config.setting("pctRule").unwrap();
    assert_eq!(rule_setting.variation_id(), Some("v-default2"));
    let second = &rule_setting.targeting_rules()[1];
    assert_eq!(second.served_value(), Some(Value::Text("other")));
    assert_eq!(second.variation_id(), Some("v-other"));
    assert!(second.percentage_options().is_empty());
    assert!(config.setting("nope").is_none());
    assert_eq!(
        config.keys().collect::<Vec<_>>(),
        [
            "pct",
            "pctCountry",
            "pctAge",
            "pctRule",
            "pctRuleCountry",
            "pctShort"
        ]
    );
}
