//! Property tests: facts that must hold for every input, checked on
//! generated configs, users and payloads.
#![cfg(test)]

use configcat_core::refresh::CacheEntry;
use configcat_core::{Config, NoLog, User, UserValue, Value};
use proptest::prelude::*;

/// A text value drawn from a small alphabet, so that generated conditions
/// and users actually meet.
fn word() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "",
        "a",
        "b",
        "ab",
        "Cat",
        "Dog",
        "1.0.0",
        "2",
        "3.5",
        "x@example.com",
        "é",
    ])
    .prop_map(str::to_owned)
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

/// One user condition in config JSON v6, over any of the 36 comparators,
/// with a comparison value of the kind the comparator takes (or, sometimes,
/// the wrong kind: that must fail gracefully too).
fn condition() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["Identifier", "Email", "Country", "Custom1", "Missing"]),
        0_i64..=37,
        word(),
        prop::collection::vec(word(), 0..4),
        -5.0_f64..5.0,
        0_u8..3,
    )
        .prop_map(|(attribute, comparator, text, list, number, kind)| {
            let list_json: Vec<String> = list.iter().map(|item| json_string(item)).collect();
            let value = match kind {
                0 => format!(r#""s":{}"#, json_string(&text)),
                1 => format!(r#""l":[{}]"#, list_json.join(",")),
                _ => format!(r#""d":{number}"#),
            };
            format!(r#"{{"u":{{"a":"{attribute}","c":{comparator},{value}}}}}"#)
        })
}

/// A text setting with up to three rules and optional % options.
fn setting_json() -> impl Strategy<Value = (String, Vec<String>)> {
    (
        prop::collection::vec((prop::collection::vec(condition(), 1..3), word()), 0..4),
        prop::option::of(prop::collection::vec(1_i64..60, 1..4)),
        word(),
    )
        .prop_map(|(rules, options, default)| {
            let mut values = vec![default.clone()];
            let rules_json: Vec<String> = rules
                .iter()
                .map(|(conditions, served)| {
                    values.push(served.clone());
                    format!(r#"{{"c":[{}],"s":{{"v":{{"s":{}}}}}}}"#, conditions.join(","), json_string(served))
                })
                .collect();
            let options_json = options.map_or_else(String::new, |shares| {
                // Make the shares add up to 100: the last one takes the rest.
                let mut remaining = 100;
                let mut items = Vec::new();
                for (index, share) in shares.iter().enumerate() {
                    let share = if index + 1 == shares.len() { remaining } else { (*share).min(remaining) };
                    remaining -= share;
                    let value = format!("option{index}");
                    items.push(format!(r#"{{"p":{share},"v":{{"s":"{value}"}}}}"#));
                    values.push(value);
                }
                format!(r#","p":[{}]"#, items.join(","))
            });
            let json = format!(
                r#"{{"p":{{"s":"salt"}},"f":{{"flag":{{"t":1,"v":{{"s":{}}},"r":[{}]{options_json}}}}}}}"#,
                json_string(&default),
                rules_json.join(",")
            );
            (json, values)
        })
}

fn user() -> impl Strategy<Value = Option<User>> {
    prop::option::of(
        (
            word(),
            prop::option::of(word()),
            prop::option::of(word()),
            prop::option::of(word()),
            -10.0_f64..10.0,
        )
            .prop_map(|(id, email, country, custom, number)| {
                let mut user = User::new(id);
                if let Some(email) = email {
                    user = user.with_email(email);
                }
                if let Some(country) = country {
                    user = user.with_country(country);
                }
                if let Some(custom) = custom {
                    user = user.with_custom("Custom1", custom);
                } else {
                    user = user.with_custom("Custom1", UserValue::Number(number));
                }
                user
            }),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Parsing arbitrary bytes never panics; it either parses or says why.
    #[test]
    fn parsing_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Config::parse(&bytes);
        let _ = Config::parse_overrides(&bytes);
        let _ = CacheEntry::parse_payload(&String::from_utf8_lossy(&bytes));
    }

    /// Parsing mutated valid configs never panics either (reaches deeper code than random bytes).
    #[test]
    fn parsing_mutated_configs_never_panics((json, _) in setting_json(), cut in 0_usize..2000, byte in any::<u8>()) {
        let mut bytes = json.into_bytes();
        if !bytes.is_empty() {
            let at = cut % bytes.len();
            bytes[at] = byte;
        }
        if let Ok(config) = Config::parse(&bytes) {
            let _ = config.evaluate("flag", Some(&User::new("x")), &NoLog);
        }
    }

    /// Evaluation is deterministic, and what it serves is one of the
    /// setting's values, or (when it fails) nothing — never anything else.
    #[test]
    fn evaluation_is_deterministic_and_serves_a_setting_value((json, values) in setting_json(), user in user()) {
        let config = Config::parse(json.as_bytes()).expect("generated configs are well-formed");
        let first = config.evaluate("flag", user.as_ref(), &NoLog);
        let second = config.evaluate("flag", user.as_ref(), &NoLog);
        prop_assert_eq!(&first, &second);
        match first.value {
            Some(Value::Text(text)) => prop_assert!(values.iter().any(|v| v == text), "{text:?} not in {values:?}"),
            Some(other) => prop_assert!(false, "a text setting served {other:?}"),
            None => prop_assert!(first.error.is_some()),
        }
        let typed = config.get_value("flag", "DEFAULT", user.as_ref(), &NoLog);
        prop_assert!(typed == "DEFAULT" || values.iter().any(|v| v == typed));
    }

    /// The cache payload round-trips for any fetch time, ETag and config.
    #[test]
    fn cache_payload_round_trips(time in any::<u64>(), etag in "[^\n]{1,40}", (json, _) in setting_json()) {
        let entry = CacheEntry::new(time, &etag, &json);
        let (parsed, config) = CacheEntry::parse_payload(&entry.payload()).expect("own payloads parse");
        prop_assert_eq!(&parsed, &entry);
        prop_assert_eq!(config, Config::parse(json.as_bytes()).expect("generated configs are well-formed"));
    }
}

/// % options split users within a stated tolerance of their declared shares:
/// with 20,000 users, each bucket is within 1.5 percentage points.
#[test]
fn percentage_rollout_matches_declared_shares() {
    let json = br#"{"f":{"rollout":{"t":1,"v":{"s":"none"},"p":[
        {"p":10,"v":{"s":"a"}},{"p":20,"v":{"s":"b"}},{"p":30,"v":{"s":"c"}},{"p":40,"v":{"s":"d"}}]}}}"#;
    let config = Config::parse(json).expect("valid config");
    let users = 20_000;
    let mut counts = std::collections::BTreeMap::new();
    for index in 0..users {
        let user = User::new(format!("user-{index}"));
        let value = config.get_value("rollout", "", Some(&user), &NoLog);
        *counts.entry(value).or_insert(0_u32) += 1;
    }
    for (value, share) in [("a", 10.0), ("b", 20.0), ("c", 30.0), ("d", 40.0)] {
        let measured =
            f64::from(counts.get(value).copied().unwrap_or(0)) * 100.0 / f64::from(users);
        assert!(
            (measured - share).abs() < 1.5,
            "{value}: {measured:.2}% vs {share}%"
        );
    }
    assert_eq!(counts.get("none"), None);
}
