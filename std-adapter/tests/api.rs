//! The client's API: the per-SDK-key registry, reading all values, variation
//! ids, the default user, hooks (one calling back into the client), and the
//! evaluation log through the `log` facade.

// clippy.toml allows these inside `#[test]` functions only; the helpers of
// this test crate fail a test the same way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use configcat_cdn_stand_in::{CdnStandIn, Fault};
use configcat_std::cache_key;
use configcat_std::{
    CacheState, Client, ClientError, ClientOptions, ConfigCache, Fetched, FlagError, Hooks,
    InMemoryCache, OwnedValue, SettingType, User,
};

use common::{
    WAIT, auto_options, changed_values, config_with, logs, options, sdk_key, text_config,
    wait_for_value,
};

/// A config with one setting of each type, a targeting rule and % options.
fn rich_config(base_url: &str) -> String {
    config_with(
        base_url,
        r#""enabled":{"t":0,"v":{"b":true},"i":"v-enabled"},
        "count":{"t":2,"v":{"i":42},"i":"v-count"},
        "ratio":{"t":3,"v":{"d":0.5},"i":"v-ratio"},
        "greeting":{"t":1,"v":{"s":"hello"},"i":"v-hello",
            "r":[{"c":[{"u":{"a":"Identifier","c":28,"s":"vip"}}],"s":{"v":{"s":"hello vip"},"i":"v-vip"}},
                 {"c":[{"u":{"a":"Email","c":28,"s":"jane@example.com"}}],"s":{"v":{"s":"hello jane"},"i":"v-jane"}}]},
        "split":{"t":1,"v":{"s":"none"},"i":"v-none","p":[{"p":100,"v":{"s":"all"},"i":"v-all"}]}"#,
    )
}

#[test]
fn get_returns_the_same_client_for_the_same_key_and_warns_on_other_options() {
    let key = sdk_key("registry_same_instance");
    let logs = logs();
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&rich_config(&cdn.base_url()));
    let options = options(&cdn);
    let first = Client::get(&key, options.clone()).unwrap();
    let second = Client::get(&key, options).unwrap();
    assert!(
        logs.matching("[3000]").is_empty(),
        "same options: no warning"
    );

    // One instance: a refresh and a default user set through one are seen through the other.
    assert_eq!(first.force_refresh(), Ok(Fetched::New));
    second.set_default_user(User::new("vip"));
    assert_eq!(
        first.get_value("greeting", String::new(), None),
        "hello vip"
    );
    assert_eq!(
        second.get_value("greeting", String::new(), None),
        "hello vip"
    );

    // Other options: the existing client is returned, with warning 3000.
    let third = Client::get(&key, options_with_other_polling(&cdn)).unwrap();
    assert_eq!(
        third.get_value("greeting", String::new(), None),
        "hello vip"
    );
    let warnings = logs.matching("[3000]");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].level, log::Level::Warn);
    assert_eq!(warnings[0].target, "configcat");
    assert!(
        warnings[0]
            .message
            .starts_with("[3000] There is an existing client instance for the specified SDK Key."),
        "{warnings:?}"
    );

    // Closing through any handle closes the one client.
    third.close();
    assert!(first.is_closed() && second.is_closed());
    let fresh = Client::get(&key, common::options(&cdn)).unwrap();
    assert!(!fresh.is_closed(), "a closed client leaves the registry");
    fresh.close();
}

fn options_with_other_polling(cdn: &CdnStandIn) -> ClientOptions {
    options(cdn).with_lazy_loading(Duration::from_secs(60))
}

#[test]
fn invalid_sdk_keys_are_rejected() {
    for bad in [
        "",
        "not-a-key",
        "configcat-sdk-1/short/short",
        "configcat-sdk-1/PKDVCLf-Hq-h-kCzMp-L7Q/HhOWfwVtZ0mb30i9wi17G!",
    ] {
        let result = Client::get(bad, ClientOptions::default());
        assert!(
            matches!(result, Err(ClientError::InvalidSdkKey(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn all_keys_all_values_and_all_value_details() {
    let key = sdk_key("all_values");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&rich_config(&cdn.base_url()));
    let client = Client::get(&key, options(&cdn)).unwrap();
    assert!(client.get_all_keys().is_empty(), "no config yet");
    assert!(client.get_all_values(None).is_empty());
    assert!(client.get_all_value_details(None).is_empty());

    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert_eq!(
        client.get_all_keys(),
        ["enabled", "count", "ratio", "greeting", "split"]
    );
    let values = client.get_all_values(None);
    let expected: BTreeMap<String, OwnedValue> = [
        ("enabled", OwnedValue::Bool(true)),
        ("count", OwnedValue::Int(42)),
        ("ratio", OwnedValue::Float(0.5)),
        ("greeting", OwnedValue::Text("hello".into())),
        ("split", OwnedValue::Text("none".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(values, expected);
    // Ordered by key, whatever the config's order.
    assert_eq!(
        values.keys().collect::<Vec<_>>(),
        ["count", "enabled", "greeting", "ratio", "split"]
    );

    let vip = User::new("vip");
    let values = client.get_all_values(Some(&vip));
    assert_eq!(values["greeting"], OwnedValue::Text("hello vip".into()));
    assert_eq!(values["split"], OwnedValue::Text("all".into()));
    // The same values visited in the config's order, without the map.
    let mut visited = Vec::new();
    client.for_each_value(Some(&vip), |key, value| {
        visited.push((key.to_owned(), value.to_owned_value()));
    });
    assert_eq!(
        visited
            .iter()
            .map(|(key, _)| key.as_str())
            .collect::<Vec<_>>(),
        ["enabled", "count", "ratio", "greeting", "split"]
    );
    assert_eq!(visited.into_iter().collect::<BTreeMap<_, _>>(), values);

    let details = client.get_all_value_details(Some(&vip));
    assert_eq!(details.len(), 5);
    let greeting = details.iter().find(|d| d.key == "greeting").unwrap();
    assert_eq!(greeting.value, Some(OwnedValue::Text("hello vip".into())));
    assert_eq!(greeting.variation_id.as_deref(), Some("v-vip"));
    assert_eq!(greeting.matched_targeting_rule_index, Some(0));
    assert!(greeting.matched_targeting_rule.is_some());
    assert_eq!(greeting.user.as_deref(), Some(&vip));
    assert!(!greeting.is_default_value);
    assert!(greeting.fetch_time_ms.is_some());
    let split = details.iter().find(|d| d.key == "split").unwrap();
    assert_eq!(split.matched_percentage_option_index, Some(0));
    assert_eq!(split.variation_id.as_deref(), Some("v-all"));
    client.close();
}

#[test]
fn typed_reads_and_their_details() {
    let key = sdk_key("typed_reads");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&rich_config(&cdn.base_url()));
    let client = Client::get(&key, options(&cdn)).unwrap();

    let missing = client.get_value_details("greeting", "d".to_owned(), None);
    assert_eq!(missing.value, "d");
    assert!(missing.is_default_value);
    assert_eq!(missing.error, Some(FlagError::ConfigJsonMissing));

    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert!(client.get_value("enabled", false, None));
    assert_eq!(client.get_value("count", 0_i64, None), 42);
    assert!((client.get_value("count", 0.0_f64, None) - 42.0).abs() < f64::EPSILON);
    assert!((client.get_value("ratio", 0.0_f64, None) - 0.5).abs() < f64::EPSILON);

    let mismatch = client.get_value_details("count", "text".to_owned(), None);
    assert_eq!(mismatch.value, "text");
    assert!(mismatch.is_default_value);
    assert!(matches!(
        mismatch.error,
        Some(FlagError::TypeMismatch {
            setting_type: SettingType::Int,
            ..
        })
    ));
    let unknown = client.get_value_details("nope", 5_i64, None);
    assert_eq!(unknown.value, 5);
    assert!(matches!(
        unknown.error,
        Some(FlagError::SettingNotFound { .. })
    ));
    assert_eq!(unknown.key, "nope");
    client.close();
}

#[test]
fn a_str_default_reads_text_as_a_string() {
    let key = sdk_key("str_default");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&rich_config(&cdn.base_url()));
    let client = Client::get(&key, options(&cdn)).unwrap();

    // No config yet: the default, as a `String`.
    let before: String = client.get_value("greeting", "hi", None);
    assert_eq!(before, "hi");
    let missing = client.get_value_details("greeting", "hi", None);
    assert_eq!(
        (missing.value.as_str(), missing.error),
        ("hi", Some(FlagError::ConfigJsonMissing))
    );

    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    let greeting: String = client.get_value("greeting", "hi", None);
    assert_eq!(greeting, "hello");
    let jane = User::new("u").with_email("jane@example.com");
    assert_eq!(
        client.get_value("greeting", "hi", Some(&jane)),
        "hello jane"
    );
    // A default borrowed from a local `String` that dies before the value.
    let value = {
        let default = String::from("local");
        client.get_value("greeting", default.as_str(), Some(&jane))
    };
    assert_eq!(value, "hello jane");

    let details = client.get_value_details("greeting", "hi", Some(&jane));
    assert_eq!(details.value, "hello jane");
    assert_eq!(details.variation_id.as_deref(), Some("v-jane"));
    assert_eq!(details.matched_targeting_rule_index, Some(1));
    assert!(!details.is_default_value);

    // Missing key and other types: the default, with the reason.
    assert_eq!(client.get_value("nope", "hi", None), "hi");
    let unknown = client.get_value_details("nope", "hi", None);
    assert_eq!(unknown.value, "hi");
    assert!(matches!(
        unknown.error,
        Some(FlagError::SettingNotFound { .. })
    ));
    assert_eq!(client.get_value("count", "hi", None), "hi");
    let mismatch = client.get_value_details("enabled", "hi", None);
    assert_eq!(mismatch.value, "hi");
    assert!(matches!(
        mismatch.error,
        Some(FlagError::TypeMismatch {
            setting_type: SettingType::Bool,
            requested: "text"
        })
    ));

    // With an evaluation hook, reads go through the details: the same values.
    let evaluated = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&evaluated);
    let hooked = Client::get(
        &sdk_key("str_default_hooked"),
        options(&cdn).with_hooks(Hooks::default().on_flag_evaluated(move |details| {
            seen.lock().unwrap().push(details.value.clone());
        })),
    )
    .unwrap();
    assert_eq!(hooked.force_refresh(), Ok(Fetched::New));
    assert_eq!(
        hooked.get_value("greeting", "hi", Some(&jane)),
        "hello jane"
    );
    assert_eq!(hooked.get_value("count", "hi", None), "hi");
    assert_eq!(
        *evaluated.lock().unwrap(),
        [
            Some(OwnedValue::Text("hello jane".into())),
            Some(OwnedValue::Text("hi".into()))
        ]
    );
    hooked.close();
    client.close();
}

#[test]
fn get_key_and_value_finds_every_variation_id() {
    let key = sdk_key("key_and_value");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&rich_config(&cdn.base_url()));
    let client = Client::get(&key, options(&cdn)).unwrap();
    assert_eq!(client.get_key_and_value("v-enabled"), None, "no config yet");
    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    let cases = [
        ("v-enabled", "enabled", OwnedValue::Bool(true)),
        ("v-count", "count", OwnedValue::Int(42)),
        ("v-ratio", "ratio", OwnedValue::Float(0.5)),
        ("v-hello", "greeting", OwnedValue::Text("hello".into())),
        ("v-vip", "greeting", OwnedValue::Text("hello vip".into())),
        ("v-all", "split", OwnedValue::Text("all".into())),
    ];
    for (variation_id, setting, value) in cases {
        assert_eq!(
            client.get_key_and_value(variation_id),
            Some((setting.to_owned(), value)),
            "{variation_id}"
        );
    }
    assert_eq!(client.get_key_and_value("unknown"), None);
    client.close();
}

#[test]
fn default_user_set_and_clear() {
    let key = sdk_key("default_user");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&rich_config(&cdn.base_url()));
    let client = Client::get(
        &key,
        options(&cdn).with_default_user(User::new("someone").with_email("jane@example.com")),
    )
    .unwrap();
    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert_eq!(
        client.get_value("greeting", String::new(), None),
        "hello jane",
        "the default user from the options"
    );

    client.set_default_user(User::new("vip"));
    assert_eq!(
        client.get_value("greeting", String::new(), None),
        "hello vip"
    );
    let details = client.get_value_details("greeting", String::new(), None);
    assert_eq!(details.user.as_deref(), Some(&User::new("vip")));
    assert_eq!(
        client.get_all_values(None)["greeting"],
        OwnedValue::Text("hello vip".into())
    );
    // An explicit user wins over the default user.
    assert_eq!(
        client.get_value("greeting", String::new(), Some(&User::new("other"))),
        "hello"
    );

    client.clear_default_user();
    assert_eq!(client.get_value("greeting", String::new(), None), "hello");
    assert_eq!(
        client
            .get_value_details("greeting", String::new(), None)
            .user,
        None
    );
    client.close();
}

#[test]
fn hooks_report_readiness_changes_evaluations_and_errors() {
    let key = sdk_key("hooks_all");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let (ready_sender, ready) = mpsc::channel();
    let ready_sender = Mutex::new(ready_sender);
    let (evaluated_sender, evaluated) = mpsc::channel();
    let evaluated_sender = Mutex::new(evaluated_sender);
    let (error_sender, errors) = mpsc::channel();
    let error_sender = Mutex::new(error_sender);
    let (changed_hooks, changes) = changed_values("flag");
    let hooks = changed_hooks
        .on_client_ready(move |state| {
            let _ = ready_sender.lock().unwrap().send(state);
        })
        .on_flag_evaluated(move |details| {
            let _ = evaluated_sender
                .lock()
                .unwrap()
                .send((details.key.to_string(), details.value.clone()));
        })
        .on_error(move |message| {
            let _ = error_sender.lock().unwrap().send(message.to_owned());
        });
    let client = Client::get(&key, auto_options(&cdn).with_hooks(hooks)).unwrap();

    assert_eq!(ready.recv_timeout(WAIT).unwrap(), CacheState::UpToDate);
    assert!(wait_for_value(&changes, "one"));

    assert_eq!(client.get_value("flag", String::new(), None), "one");
    assert_eq!(
        evaluated.recv_timeout(WAIT).unwrap(),
        ("flag".to_owned(), Some(OwnedValue::Text("one".into())))
    );
    let _ = client.get_value_details("flag", String::new(), None);
    assert_eq!(evaluated.recv_timeout(WAIT).unwrap().0, "flag");
    let _ = client.get_all_values(None);
    assert_eq!(evaluated.recv_timeout(WAIT).unwrap().0, "flag");
    let mut visited = Vec::new();
    client.for_each_value(None, |key, value| {
        visited.push((key.to_owned(), value.to_owned_value()))
    });
    assert_eq!(evaluated.recv_timeout(WAIT).unwrap().0, "flag");
    assert_eq!(
        visited,
        [("flag".to_owned(), OwnedValue::Text("one".into()))]
    );
    let _ = client.get_value("missing", 1_i64, None);
    assert_eq!(
        evaluated.recv_timeout(WAIT).unwrap(),
        ("missing".to_owned(), Some(OwnedValue::Int(1)))
    );
    let message = errors.recv_timeout(WAIT).unwrap();
    assert!(
        message.contains("Failed to evaluate setting 'missing'"),
        "{message}"
    );

    cdn.set_fault(Fault::Status(500));
    let message = errors.recv_timeout(WAIT).unwrap();
    assert!(message.contains("500"), "{message}");
    cdn.clear_fault();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "two"));
    assert!(wait_for_value(&changes, "two"));
    client.close();
    assert!(ready.try_recv().is_err(), "ready is reported once");
}

#[test]
fn a_hook_may_call_back_into_the_client() {
    let key = sdk_key("hook_callback");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let cell: Arc<OnceLock<Client>> = Arc::new(OnceLock::new());
    let (sender, seen) = mpsc::channel();
    let sender = Mutex::new(sender);
    let hooks = {
        let cell = Arc::clone(&cell);
        Hooks::default().on_config_changed(move |_config| {
            let Some(client) = cell.get() else { return };
            // Reads, a nested refresh and a registry lookup from inside a hook.
            let value = client.get_value("flag", String::new(), None);
            let keys = client.get_all_keys();
            let nested = client.force_refresh();
            let state = client.wait_for_ready(WAIT);
            let _ = sender.lock().unwrap().send((value, keys, nested, state));
        })
    };
    let options = options(&cdn).with_hooks(hooks);
    let client = Client::get(&key, options.clone()).unwrap();
    cell.set(client.clone()).unwrap();

    // Run the outer refresh on another thread, so a deadlock fails the test instead of hanging it.
    let outer = {
        let client = client.clone();
        thread::spawn(move || client.force_refresh())
    };
    let (value, keys, nested, state) = seen.recv_timeout(WAIT).expect("hook ran without deadlock");
    assert_eq!(value, "one");
    assert_eq!(keys, ["flag"]);
    assert_eq!(nested, Ok(Fetched::NotModified));
    assert_eq!(state, CacheState::UpToDate);
    assert_eq!(outer.join().unwrap(), Ok(Fetched::New));
    client.close();
}

#[test]
fn a_hook_may_close_the_client_from_the_polling_thread() {
    let key = sdk_key("hook_closes");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let cell: Arc<OnceLock<Client>> = Arc::new(OnceLock::new());
    let (sender, closed) = mpsc::channel();
    let sender = Mutex::new(sender);
    let hooks = {
        let cell = Arc::clone(&cell);
        Hooks::default().on_config_changed(move |config| {
            let value = config.get_value("flag", String::new(), None, &configcat_std::NoLog);
            if value != "close" {
                return;
            }
            if let Some(client) = cell.get() {
                client.close();
                let _ = sender.lock().unwrap().send(client.is_closed());
            }
        })
    };
    let client = Client::get(&key, auto_options(&cdn).with_hooks(hooks)).unwrap();
    cell.set(client.clone()).unwrap();
    assert_eq!(client.wait_for_ready(WAIT), CacheState::UpToDate);
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "close"));
    assert!(
        closed
            .recv_timeout(WAIT)
            .expect("close returned inside the hook")
    );
    let count = cdn.request_count();
    assert!(!cdn.wait_for_requests(count + 1, Duration::from_millis(300)));
    client.close();
}

#[test]
fn a_panicking_hook_does_not_stop_the_client() {
    let key = sdk_key("hook_panics");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let (sender, changes) = mpsc::channel();
    let sender = Mutex::new(sender);
    // The panicking hooks run first; the channel hook after them still runs.
    let hooks = Hooks::default()
        .on_config_changed(|_| panic!("a config-changed hook panicked on purpose"))
        .on_flag_evaluated(|_| panic!("a flag-evaluated hook panicked on purpose"))
        .on_config_changed(move |config| {
            let value = config.get_value("flag", String::new(), None, &configcat_std::NoLog);
            let _ = sender.lock().unwrap().send(value);
        });
    let client = Client::get(&key, auto_options(&cdn).with_hooks(hooks)).unwrap();
    assert!(wait_for_value(&changes, "one"));
    assert_eq!(client.get_value("flag", String::new(), None), "one");
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "two"));
    assert!(
        wait_for_value(&changes, "two"),
        "the poller survived the panic"
    );
    assert_eq!(client.get_value("flag", String::new(), None), "two");
    client.close();
}

#[test]
fn the_evaluation_log_goes_to_the_log_facade_at_info_level() {
    let key = sdk_key("evaluation_log");
    let logs = logs();
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&config_with(
        &cdn.base_url(),
        r#""evalLogFlag9c1":{"t":1,"v":{"s":"plain"},"i":"a",
            "r":[{"c":[{"u":{"a":"Email","c":28,"s":"jane@example.com"}}],"s":{"v":{"s":"for jane"},"i":"b"}}]}"#,
    ));
    let client = Client::get(&key, options(&cdn)).unwrap();
    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    let jane = User::new("42").with_email("jane@example.com");
    assert_eq!(
        client.get_value("evalLogFlag9c1", String::new(), Some(&jane)),
        "for jane"
    );
    let records = logs.matching("Evaluating 'evalLogFlag9c1'");
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert_eq!(record.level, log::Level::Info);
    assert_eq!(record.target, "configcat");
    assert_eq!(
        record.message,
        "[5000] Evaluating 'evalLogFlag9c1' for User '{\"Identifier\":\"42\",\"Email\":\"jane@example.com\"}'\n\
         \x20 Evaluating targeting rules and applying the first match if any:\n\
         \x20 - IF User.Email EQUALS 'jane@example.com' THEN 'for jane' => MATCH, applying rule\n\
         \x20 Returning 'for jane'."
    );

    // One record per evaluation.
    assert_eq!(
        client.get_value("evalLogFlag9c1", String::new(), None),
        "plain"
    );
    assert_eq!(logs.matching("Evaluating 'evalLogFlag9c1'").len(), 2);

    let _ = client.get_value("missingKey7d2", false, None);
    let missing = logs.matching("'missingKey7d2'");
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(missing[0].level, log::Level::Error);
    assert!(missing[0].message.starts_with("[1001] "), "{missing:?}");

    client.set_offline();
    let offline = logs.matching("[5200] Switched to OFFLINE mode.");
    assert_eq!(offline.len(), 1, "{offline:?}");
    assert_eq!(offline[0].level, log::Level::Info);
    client.close();
}

#[test]
fn concurrent_gets_return_a_client_that_has_loaded_its_cache() {
    // Threads racing to get the same new client all read the cached config:
    // the loser of the race does not see a client that is still starting.
    for round in 0..50 {
        let key = sdk_key(&format!("registry_race_{round}"));
        let cache = Arc::new(InMemoryCache::new());
        let payload = common::cache_payload(
            common::now_ms(),
            "\"e\"",
            &text_config("http://127.0.0.1:9", "flag", "cached"),
        );
        cache.write(&cache_key(&key), &payload).unwrap();
        let options = ClientOptions::default()
            .with_base_url("http://127.0.0.1:9")
            .with_manual_polling()
            .with_cache(cache);
        let barrier = Arc::new(Barrier::new(4));
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let (barrier, key, options) = (Arc::clone(&barrier), key.clone(), options.clone());
                thread::spawn(move || {
                    barrier.wait();
                    let client = Client::get(&key, options).unwrap();
                    client.get_value("flag", String::new(), None)
                })
            })
            .collect();
        for reader in readers {
            assert_eq!(reader.join().unwrap(), "cached", "round {round}");
        }
        Client::get(&key, options).unwrap().close();
    }
}
