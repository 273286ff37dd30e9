//! Flag overrides in configcat-core: the simple `{"flags": {...}}` format,
//! full config JSON v6 as an override, `Config::from_values`, and merging a
//! local config with the remote one under the three override behaviours.

// Marks the whole crate as test code, so that the workspace clippy.toml
// allowances for tests (unwrap, expect, panic, indexing) cover the helpers too.
#![cfg(test)]

mod common;

use common::{Capture, js, parse, sha256_hex};
use configcat_core::{
    Config, FlagError, NoLog, OverrideBehaviour, OwnedValue, ParseErrorKind, RedirectMode,
    SettingType, User, Value,
};

fn overrides(json: &str) -> Config {
    match Config::parse_overrides(json.as_bytes()) {
        Ok(config) => config,
        Err(error) => panic!("override does not parse: {error}\n{json}"),
    }
}

fn sorted_keys(config: &Config) -> Vec<&str> {
    let mut keys: Vec<&str> = config.keys().collect();
    keys.sort_unstable();
    keys
}

// ---- the simple format ----

#[test]
fn simple_format_infers_the_setting_type_from_the_json_value() {
    let config = overrides(
        r#"{"flags":{"enabled":true,"disabled":false,"count":5,"negative":-7,"ratio":3.14,
                     "wholeFloat":2.0,"exponent":1e3,"name":"x","empty":"","huge":18446744073709551615}}"#,
    );
    let types: Vec<(&str, Option<SettingType>)> = config
        .settings()
        .iter()
        .map(|setting| (setting.key(), setting.setting_type()))
        .collect();
    assert_eq!(
        types,
        [
            ("enabled", Some(SettingType::Bool)),
            ("disabled", Some(SettingType::Bool)),
            ("count", Some(SettingType::Int)),
            ("negative", Some(SettingType::Int)),
            ("ratio", Some(SettingType::Float)),
            ("wholeFloat", Some(SettingType::Float)),
            ("exponent", Some(SettingType::Float)),
            ("name", Some(SettingType::Text)),
            ("empty", Some(SettingType::Text)),
            // Too large for an int setting: a float, as JSON numbers are.
            ("huge", Some(SettingType::Float)),
        ]
    );
    let sink = Capture::new();
    assert!(config.get_value("enabled", false, None, &sink));
    assert!(!config.get_value("disabled", true, None, &sink));
    assert_eq!(config.get_value("count", 0_i64, None, &sink), 5);
    assert_eq!(config.get_value("negative", 0_i64, None, &sink), -7);
    #[expect(
        clippy::approx_constant,
        reason = "3.14 is the override's value, not pi"
    )]
    let ratio = 3.14;
    assert_eq!(
        config.get_value("ratio", Value::Bool(false), None, &sink),
        Value::Float(ratio)
    );
    assert_eq!(
        config.get_value("exponent", Value::Bool(false), None, &sink),
        Value::Float(1000.0)
    );
    assert_eq!(config.get_value("name", "", None, &sink), "x");
    assert_eq!(config.get_value("empty", "default", None, &sink), "");
    assert!(sink.records().is_empty(), "{:?}", sink.records());
    // Strict types: 5 is an int, so not a bool or text; 2.0 is a float, not an int.
    let details = config.get_value_details("count", false, None, &NoLog);
    assert!(details.is_default_value);
    let details = config.get_value_details("wholeFloat", 0_i64, None, &NoLog);
    assert!(details.is_default_value);
    assert!(matches!(
        details.error,
        Some(FlagError::TypeMismatch { .. })
    ));
    // No rules, no variation ids, no preferences.
    let details = config.get_value_details("name", "", Some(&User::new("id")), &NoLog);
    assert_eq!(details.variation_id.as_deref(), None);
    assert_eq!(details.matched_targeting_rule, None);
    assert_eq!(config.preferences().base_url(), None);
}

#[test]
fn simple_format_rejects_values_a_setting_cannot_hold() {
    for value in ["null", "[]", "[true]", "{}", r#"{"b":true}"#] {
        let json = format!(r#"{{"flags":{{"ok":true,"bad":{value}}}}}"#);
        let error = Config::parse_overrides(json.as_bytes()).unwrap_err();
        assert_eq!(
            error.kind(),
            ParseErrorKind::UnsupportedOverrideValue,
            "{value}"
        );
        assert!(error.to_string().contains("flags.bad"), "{error}");
    }
    let error = Config::parse_overrides(br#"{"flags":5}"#).unwrap_err();
    assert_eq!(error.kind(), ParseErrorKind::Shape);
    let error = Config::parse_overrides(br#"{"flags":{"a":tru}}"#).unwrap_err();
    assert_eq!(error.kind(), ParseErrorKind::Syntax);
    let error = Config::parse_overrides(br#"{"flags":{"a":true"#).unwrap_err();
    assert_eq!(error.kind(), ParseErrorKind::Truncated);
    assert_eq!(overrides(r#"{"flags":{}}"#).keys().len(), 0);
}

#[test]
fn simple_format_duplicate_keys_last_wins() {
    let config = overrides(r#"{"flags":{"a":1,"b":true,"a":"text"}}"#);
    assert_eq!(config.keys().len(), 2);
    assert_eq!(config.get_value("a", "", None, &NoLog), "text");
}

// ---- full config JSON v6 as an override ----

#[test]
fn full_v6_document_as_override_is_the_same_config() {
    let json = r#"{"p":{"s":"local-salt"},
      "s":[{"n":"Testers","r":[{"a":"Email","c":32,"l":["@matching.com"]}]}],
      "f":{"enabledFeature":{"t":0,"v":{"b":true}},
           "targeted":{"t":0,"v":{"b":false},"i":"v1",
                       "r":[{"c":[{"u":{"a":"Email","c":28,"s":"csp@matching.com"}}],"s":{"v":{"b":true},"i":"v2"}}]},
           "inSegment":{"t":1,"v":{"s":"no"},"r":[{"c":[{"s":{"s":0,"c":0}}],"s":{"v":{"s":"yes"}}}]}}}"#;
    let config = overrides(json);
    assert_eq!(config, parse(json));
    let user = User::new("id").with_email("csp@matching.com");
    let other = User::new("id").with_email("joe@example.com");
    assert!(config.get_value("enabledFeature", false, None, &NoLog));
    let details = config.get_value_details("targeted", false, Some(&user), &NoLog);
    assert!(details.value);
    assert_eq!(details.variation_id.as_deref(), Some("v2"));
    assert!(!config.get_value("targeted", true, Some(&other), &NoLog));
    assert_eq!(
        config.get_value("inSegment", "", Some(&user), &NoLog),
        "yes"
    );
    assert_eq!(
        config.get_value("inSegment", "", Some(&other), &NoLog),
        "no"
    );
}

// ---- Config::from_values ----

#[test]
fn from_values_builds_plain_settings() {
    let config = Config::from_values([
        ("flag".to_owned(), OwnedValue::Bool(true)),
        ("text".to_owned(), OwnedValue::from("hello")),
        ("int".to_owned(), OwnedValue::Int(-3)),
        ("float".to_owned(), OwnedValue::Float(0.25)),
        ("flag".to_owned(), OwnedValue::Bool(false)),
    ]);
    assert_eq!(sorted_keys(&config), ["flag", "float", "int", "text"]);
    assert!(!config.get_value("flag", true, None, &NoLog), "last wins");
    assert_eq!(config.get_value("text", "", None, &NoLog), "hello");
    assert_eq!(config.get_value("int", 0_i64, None, &NoLog), -3);
    assert_eq!(
        config.get_value("float", Value::Bool(false), None, &NoLog),
        Value::Float(0.25)
    );
    // An int reads as a float too.
    let as_float: f64 = config.get_value("int", 0.0, None, &NoLog);
    assert!((as_float + 3.0).abs() < f64::EPSILON);
    let setting = config.setting("text").unwrap();
    assert_eq!(setting.setting_type(), Some(SettingType::Text));
    assert!(setting.targeting_rules().is_empty());
    assert_eq!(setting.variation_id(), None);
    assert_eq!(Config::from_values(Vec::new()).keys().len(), 0);
}

// ---- merging ----

const REMOTE: &str = r#"{"p":{"s":"remote-salt","u":"https://remote.example","r":0},
  "s":[{"n":"Shared name","r":[{"a":"Email","c":32,"l":["@remote.com"]}]}],
  "f":{
    "shared":{"t":1,"v":{"s":"remote"},"i":"remote-shared"},
    "remoteOnly":{"t":1,"v":{"s":"remote-only"}},
    "remoteSecret":{"t":1,"v":{"s":"default"},
      "r":[{"c":[{"u":{"a":"Email","c":20,"s":REMOTE_HASH}}],"s":{"v":{"s":"matched"}}}]},
    "remoteSegment":{"t":1,"v":{"s":"default"},
      "r":[{"c":[{"s":{"s":0,"c":0}}],"s":{"v":{"s":"matched"}}}]},
    "main":{"t":0,"v":{"b":false}},
    "dependent":{"t":1,"v":{"s":"default"},
      "r":[{"c":[{"p":{"f":"main","c":0,"v":{"b":true}}}],"s":{"v":{"s":"matched"}}}]}
  }}"#;

const LOCAL: &str = r#"{"p":{"s":"local-salt","u":"https://local.example","r":2},
  "s":[{"n":"Shared name","r":[{"a":"Email","c":32,"l":["@local.com"]}]},
       {"n":"Hashed","r":[{"a":"Email","c":16,"l":[SEGMENT_HASH]}]}],
  "f":{
    "shared":{"t":1,"v":{"s":"local"},"i":"local-shared"},
    "localOnly":{"t":1,"v":{"s":"local-only"}},
    "localSecret":{"t":1,"v":{"s":"default"},
      "r":[{"c":[{"u":{"a":"Email","c":20,"s":LOCAL_HASH}}],"s":{"v":{"s":"matched"}}}]},
    "localSegment":{"t":1,"v":{"s":"default"},
      "r":[{"c":[{"s":{"s":0,"c":0}}],"s":{"v":{"s":"matched"}}}]},
    "localHashedSegment":{"t":1,"v":{"s":"default"},
      "r":[{"c":[{"s":{"s":1,"c":0}}],"s":{"v":{"s":"matched"}}}]},
    "main":{"t":0,"v":{"b":true}},
    "localDependent":{"t":1,"v":{"s":"default"},
      "r":[{"c":[{"p":{"f":"remoteOnly","c":0,"v":{"s":"remote-only"}}}],"s":{"v":{"s":"matched"}}}]},
    "localOnRemoteSecret":{"t":1,"v":{"s":"default"},
      "r":[{"c":[{"p":{"f":"remoteSecret","c":0,"v":{"s":"matched"}}}],"s":{"v":{"s":"matched"}}}]}
  }}"#;

fn remote() -> Config {
    parse(&REMOTE.replace(
        "REMOTE_HASH",
        &js(&sha256_hex(
            b"jane@remote.com",
            "remote-salt",
            "remoteSecret",
        )),
    ))
}

fn local() -> Config {
    overrides(
        &LOCAL
            .replace(
                "LOCAL_HASH",
                &js(&sha256_hex(b"jane@local.com", "local-salt", "localSecret")),
            )
            .replace(
                "SEGMENT_HASH",
                &js(&sha256_hex(b"jane@local.com", "local-salt", "Hashed")),
            ),
    )
}

fn jane_remote() -> User {
    User::new("1").with_email("jane@remote.com")
}

fn jane_local() -> User {
    User::new("2").with_email("jane@local.com")
}

/// The flags that only one side has behave as in their own document.
fn assert_one_sided_flags_keep_their_salt_and_segments(merged: &Config) {
    let sink = Capture::new();
    let (remote_user, local_user) = (jane_remote(), jane_local());
    let get = |key: &str, user: &User| merged.get_value(key, "fallback", Some(user), &sink);
    assert_eq!(get("remoteOnly", &remote_user), "remote-only");
    assert_eq!(get("localOnly", &local_user), "local-only");
    assert_eq!(get("remoteSecret", &remote_user), "matched");
    assert_eq!(get("remoteSecret", &local_user), "default");
    assert_eq!(get("localSecret", &local_user), "matched");
    assert_eq!(get("localSecret", &remote_user), "default");
    // Both documents have a segment 0 named "Shared name", with different conditions.
    assert_eq!(get("remoteSegment", &remote_user), "matched");
    assert_eq!(get("remoteSegment", &local_user), "default");
    assert_eq!(get("localSegment", &local_user), "matched");
    assert_eq!(get("localSegment", &remote_user), "default");
    assert_eq!(get("localHashedSegment", &local_user), "matched");
    assert_eq!(get("localHashedSegment", &remote_user), "default");
    // A local flag depending on remote flags: resolved in the merged config,
    // and the remote prerequisite still hashes with the remote salt.
    assert_eq!(get("localDependent", &local_user), "matched");
    assert_eq!(get("localOnRemoteSecret", &remote_user), "matched");
    assert_eq!(get("localOnRemoteSecret", &local_user), "default");
    assert!(sink.records().is_empty(), "{:?}", sink.records());
}

#[test]
fn local_only_uses_only_the_local_flags() {
    let merged = Config::merge(&remote(), &local(), OverrideBehaviour::LocalOnly);
    assert_eq!(merged, local());
    assert_eq!(
        sorted_keys(&merged),
        [
            "localDependent",
            "localHashedSegment",
            "localOnRemoteSecret",
            "localOnly",
            "localSecret",
            "localSegment",
            "main",
            "shared"
        ]
    );
    assert_eq!(
        merged.preferences().base_url(),
        Some("https://local.example")
    );
    assert_eq!(
        merged.preferences().redirect(),
        Some(RedirectMode::ForceRedirect)
    );
    let user = jane_local();
    assert_eq!(merged.get_value("shared", "", Some(&user), &NoLog), "local");
    assert_eq!(
        merged.get_value("localSecret", "", Some(&user), &NoLog),
        "matched"
    );
    let details = merged.get_value_details("remoteOnly", "fallback", Some(&user), &NoLog);
    assert_eq!(details.value, "fallback");
    assert_eq!(
        details.error,
        Some(FlagError::SettingNotFound {
            key: "remoteOnly".into()
        })
    );
    // The prerequisite of localDependent exists only remotely.
    let details = merged.get_value_details("localDependent", "fallback", Some(&user), &NoLog);
    assert_eq!(
        details.error,
        Some(FlagError::PrerequisiteMissing {
            key: "remoteOnly".into()
        })
    );
}

#[test]
fn local_over_remote_takes_the_union_and_local_wins() {
    let merged = Config::merge(&remote(), &local(), OverrideBehaviour::LocalOverRemote);
    assert_eq!(
        sorted_keys(&merged),
        [
            "dependent",
            "localDependent",
            "localHashedSegment",
            "localOnRemoteSecret",
            "localOnly",
            "localSecret",
            "localSegment",
            "main",
            "remoteOnly",
            "remoteSecret",
            "remoteSegment",
            "shared"
        ]
    );
    // Preferences come from the remote config.
    assert_eq!(
        merged.preferences().base_url(),
        Some("https://remote.example")
    );
    assert_eq!(
        merged.preferences().redirect(),
        Some(RedirectMode::NoRedirect)
    );
    let details = merged.get_value_details("shared", "", None, &NoLog);
    assert_eq!(details.value, "local");
    assert_eq!(details.variation_id.as_deref(), Some("local-shared"));
    assert!(merged.get_value("main", false, None, &NoLog));
    // The remote flag `dependent` now sees the local `main` (true).
    assert_eq!(merged.get_value("dependent", "", None, &NoLog), "matched");
    assert_one_sided_flags_keep_their_salt_and_segments(&merged);
}

#[test]
fn remote_over_local_takes_the_union_and_remote_wins() {
    let merged = Config::merge(&remote(), &local(), OverrideBehaviour::RemoteOverLocal);
    assert_eq!(merged.keys().len(), 12);
    assert_eq!(
        merged.preferences().base_url(),
        Some("https://remote.example")
    );
    let details = merged.get_value_details("shared", "", None, &NoLog);
    assert_eq!(details.value, "remote");
    assert_eq!(details.variation_id.as_deref(), Some("remote-shared"));
    assert!(!merged.get_value("main", true, None, &NoLog));
    assert_eq!(merged.get_value("dependent", "", None, &NoLog), "default");
    assert_one_sided_flags_keep_their_salt_and_segments(&merged);
}

#[test]
fn map_overrides_merge_with_a_remote_config() {
    let map = Config::from_values([
        ("main".to_owned(), OwnedValue::Bool(true)),
        ("shared".to_owned(), OwnedValue::from("map")),
        ("extra".to_owned(), OwnedValue::Int(1)),
    ]);
    let merged = Config::merge(&remote(), &map, OverrideBehaviour::LocalOverRemote);
    assert_eq!(merged.keys().len(), 7);
    assert_eq!(merged.get_value("shared", "", None, &NoLog), "map");
    assert_eq!(merged.get_value("extra", 0_i64, None, &NoLog), 1);
    assert_eq!(merged.get_value("dependent", "", None, &NoLog), "matched");
    // The remote confidential flag still uses the remote salt.
    assert_eq!(
        merged.get_value("remoteSecret", "", Some(&jane_remote()), &NoLog),
        "matched"
    );
    assert_eq!(
        merged.preferences().base_url(),
        Some("https://remote.example")
    );

    // A prerequisite overridden with another type breaks its dependent flag.
    let retyped = Config::from_values([("main".to_owned(), OwnedValue::from("true"))]);
    let merged = Config::merge(&remote(), &retyped, OverrideBehaviour::LocalOverRemote);
    let details = merged.get_value_details("dependent", "fallback", None, &NoLog);
    assert_eq!(details.value, "fallback");
    assert_eq!(
        details.error,
        Some(FlagError::PrerequisiteTypeMismatch {
            comparison_value: OwnedValue::Bool(true),
            key: "main".into()
        })
    );
    let merged = Config::merge(&remote(), &retyped, OverrideBehaviour::RemoteOverLocal);
    assert_eq!(merged.get_value("dependent", "", None, &NoLog), "default");
}

#[test]
fn merging_with_an_empty_side() {
    let empty = Config::from_values(Vec::new());
    let merged = Config::merge(&empty, &local(), OverrideBehaviour::LocalOverRemote);
    assert_eq!(merged.keys().len(), local().keys().len());
    assert_eq!(merged.preferences().base_url(), None);
    assert_eq!(
        merged.get_value("localSecret", "", Some(&jane_local()), &NoLog),
        "matched"
    );
    let merged = Config::merge(&remote(), &empty, OverrideBehaviour::RemoteOverLocal);
    assert_eq!(merged.keys().len(), remote().keys().len());
    assert_eq!(
        merged.get_value("remoteSegment", "", Some(&jane_remote()), &NoLog),
        "matched"
    );
    // Merging a merged config again keeps every origin straight.
    let twice = Config::merge(
        &Config::merge(&remote(), &local(), OverrideBehaviour::LocalOverRemote),
        &Config::from_values([("main".to_owned(), OwnedValue::Bool(false))]),
        OverrideBehaviour::LocalOverRemote,
    );
    assert_eq!(twice.get_value("dependent", "", None, &NoLog), "default");
    assert_one_sided_flags_keep_their_salt_and_segments(&twice);
}
