//! Flag overrides: maps with all three behaviours, and files that are read
//! again when they change on disk.

// clippy.toml allows these inside `#[test]` functions only; the helpers of
// this test crate fail a test the same way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

use configcat_cdn_stand_in::CdnStandIn;
use configcat_std::{
    CacheState, Client, ClientOptions, Fetched, FlagOverrides, Hooks, OverrideBehaviour,
    OwnedValue, RefreshError,
};

use common::{
    POLL_INTERVAL, TempFile, WAIT, auto_options, changed_values, config_with, options, sdk_key,
    temp_file, wait_for_value,
};

/// The remote config of these tests: `flag` and `remoteOnly`.
fn remote_config(base_url: &str) -> String {
    config_with(
        base_url,
        r#""flag":{"t":1,"v":{"s":"remote"},"i":"r1"},"remoteOnly":{"t":1,"v":{"s":"r"},"i":"r2"}"#,
    )
}

fn local_map(behaviour: OverrideBehaviour) -> FlagOverrides {
    FlagOverrides::from_map(
        [
            ("flag", OwnedValue::Text("local".into())),
            ("localOnly", OwnedValue::Bool(true)),
            ("number", OwnedValue::Int(7)),
        ],
        behaviour,
    )
}

fn text(client: &Client, key: &str) -> String {
    client.get_value(key, "default".to_owned(), None)
}

#[test]
fn local_only_map_overrides_never_fetch() {
    let key = sdk_key("map_local_only");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&remote_config(&cdn.base_url()));
    let client = Client::get(
        &key,
        auto_options(&cdn).with_flag_overrides(local_map(OverrideBehaviour::LocalOnly)),
    )
    .unwrap();
    assert_eq!(client.wait_for_ready(WAIT), CacheState::LocalOverridesOnly);
    assert_eq!(text(&client, "flag"), "local");
    assert_eq!(text(&client, "remoteOnly"), "default");
    assert!(client.get_value("localOnly", false, None));
    assert_eq!(client.get_value("number", 0_i64, None), 7);
    assert_eq!(client.get_all_keys(), ["flag", "localOnly", "number"]);
    assert_eq!(client.force_refresh(), Err(RefreshError::LocalOnly));
    assert!(
        !cdn.wait_for_requests(1, POLL_INTERVAL * 3),
        "no request in local-only mode"
    );
    client.close();
}

#[test]
fn local_over_remote_map_overrides() {
    let key = sdk_key("map_local_over_remote");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&remote_config(&cdn.base_url()));
    let client = Client::get(
        &key,
        options(&cdn).with_flag_overrides(local_map(OverrideBehaviour::LocalOverRemote)),
    )
    .unwrap();
    // Before any fetch, the overrides alone.
    assert_eq!(text(&client, "flag"), "local");
    assert_eq!(text(&client, "remoteOnly"), "default");

    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert_eq!(text(&client, "flag"), "local");
    assert_eq!(text(&client, "remoteOnly"), "r");
    assert!(client.get_value("localOnly", false, None));
    let mut keys = client.get_all_keys();
    keys.sort();
    assert_eq!(keys, ["flag", "localOnly", "number", "remoteOnly"]);
    client.close();
}

#[test]
fn remote_over_local_map_overrides() {
    let key = sdk_key("map_remote_over_local");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&remote_config(&cdn.base_url()));
    let client = Client::get(
        &key,
        options(&cdn).with_flag_overrides(local_map(OverrideBehaviour::RemoteOverLocal)),
    )
    .unwrap();
    assert_eq!(text(&client, "flag"), "local", "no remote config yet");
    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert_eq!(text(&client, "flag"), "remote");
    let details = client.get_value_details("flag", String::new(), None);
    assert_eq!(details.variation_id.as_deref(), Some("r1"));
    assert_eq!(text(&client, "remoteOnly"), "r");
    assert!(client.get_value("localOnly", false, None));
    assert_eq!(client.get_value("number", 0_i64, None), 7);
    client.close();
}

/// Hooks sending every error message to a channel, plus config changes of `flag`.
fn error_and_change_hooks() -> (Hooks, Receiver<String>, Receiver<String>) {
    let (changes_hooks, changes) = changed_values("flag");
    let (sender, errors) = mpsc::channel();
    let sender = Mutex::new(sender);
    let hooks = changes_hooks.on_error(move |message| {
        let _ = sender.lock().unwrap().send(message.to_owned());
    });
    (hooks, changes, errors)
}

#[test]
fn an_override_file_is_read_again_when_it_changes() {
    let key = sdk_key("file_reread");
    let file = TempFile(temp_file("file_reread"));
    std::fs::write(&file.0, r#"{"flags":{"flag":"first","count":1}}"#).unwrap();
    let (hooks, changes) = changed_values("flag");
    let cdn = CdnStandIn::start().unwrap();
    let client = Client::get(
        &key,
        options(&cdn)
            .with_flag_overrides(FlagOverrides::from_file(
                &file.0,
                OverrideBehaviour::LocalOnly,
            ))
            .with_hooks(hooks),
    )
    .unwrap();
    assert!(wait_for_value(&changes, "first"));
    assert_eq!(text(&client, "flag"), "first");
    assert_eq!(client.get_value("count", 0_i64, None), 1);
    assert_eq!(client.wait_for_ready(WAIT), CacheState::LocalOverridesOnly);

    // Another length, so the change shows even within one mtime tick.
    std::fs::write(&file.0, r#"{"flags":{"flag":"second","count":22}}"#).unwrap();
    assert!(wait_for_value(&changes, "second"), "the change was noticed");
    assert_eq!(text(&client, "flag"), "second");
    assert_eq!(client.get_value("count", 0_i64, None), 22);

    std::fs::write(
        &file.0,
        r#"{"flags":{"flag":"third","count":333,"on":true}}"#,
    )
    .unwrap();
    assert!(wait_for_value(&changes, "third"));
    assert!(client.get_value("on", false, None));
    assert_eq!(cdn.request_count(), 0);
    client.close();
}

#[test]
fn a_full_config_file_overrides_remote_flags() {
    let key = sdk_key("file_full_config");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&remote_config(&cdn.base_url()));
    let file = TempFile(temp_file("file_full_config"));
    // A config JSON v6 with a targeting rule, as exported from the dashboard.
    std::fs::write(
        &file.0,
        r#"{"p":{"s":"salt"},"f":{"flag":{"t":1,"v":{"s":"file"},"i":"f1",
            "r":[{"c":[{"u":{"a":"Identifier","c":28,"s":"vip"}}],"s":{"v":{"s":"file-vip"},"i":"f2"}}]}}}"#,
    )
    .unwrap();
    let client = Client::get(
        &key,
        options(&cdn).with_flag_overrides(FlagOverrides::from_file(
            &file.0,
            OverrideBehaviour::LocalOverRemote,
        )),
    )
    .unwrap();
    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert_eq!(text(&client, "flag"), "file");
    let vip = configcat_std::User::new("vip");
    assert_eq!(
        client.get_value("flag", String::new(), Some(&vip)),
        "file-vip"
    );
    assert_eq!(text(&client, "remoteOnly"), "r");
    client.close();
}

#[test]
fn an_invalid_override_file_is_reported_and_the_last_good_overrides_stay() {
    let key = sdk_key("file_invalid");
    let file = TempFile(temp_file("file_invalid"));
    std::fs::write(&file.0, r#"{"flags":{"flag":"good"}}"#).unwrap();
    let (hooks, changes, errors) = error_and_change_hooks();
    let cdn = CdnStandIn::start().unwrap();
    let client = Client::get(
        &key,
        options(&cdn)
            .with_flag_overrides(FlagOverrides::from_file(
                &file.0,
                OverrideBehaviour::LocalOnly,
            ))
            .with_hooks(hooks),
    )
    .unwrap();
    assert!(wait_for_value(&changes, "good"));

    std::fs::write(&file.0, r#"{"flags":{"flag":"#).unwrap();
    let message = errors.recv_timeout(WAIT).unwrap();
    assert!(
        message.starts_with("Failed to decode JSON from the local config file"),
        "{message}"
    );
    assert_eq!(text(&client, "flag"), "good");

    std::fs::write(&file.0, r#"{"flags":{"flag":"fixed"}}"#).unwrap();
    assert!(wait_for_value(&changes, "fixed"));
    client.close();
}

#[test]
fn a_missing_override_file_is_reported_and_read_once_it_appears() {
    let key = sdk_key("file_missing");
    let file = TempFile(temp_file("file_missing"));
    let (hooks, changes, errors) = error_and_change_hooks();
    let cdn = CdnStandIn::start().unwrap();
    let client = Client::get(
        &key,
        options(&cdn)
            .with_flag_overrides(FlagOverrides::from_file(
                &file.0,
                OverrideBehaviour::LocalOnly,
            ))
            .with_hooks(hooks),
    )
    .unwrap();
    let message = errors.recv_timeout(WAIT).unwrap();
    assert!(
        message.starts_with("Cannot find the local config file"),
        "{message}"
    );
    assert_eq!(text(&client, "flag"), "default");

    std::fs::write(&file.0, r#"{"flags":{"flag":"appeared"}}"#).unwrap();
    assert!(wait_for_value(&changes, "appeared"));
    assert_eq!(text(&client, "flag"), "appeared");
    client.close();
}

#[test]
fn close_stops_the_override_file_watcher() {
    let key = sdk_key("file_watcher_close");
    let file = TempFile(temp_file("file_watcher_close"));
    std::fs::write(&file.0, r#"{"flags":{"flag":"one"}}"#).unwrap();
    let (hooks, changes) = changed_values("flag");
    let cdn = CdnStandIn::start().unwrap();
    let client = Client::get(
        &key,
        options(&cdn)
            .with_flag_overrides(FlagOverrides::from_file(
                &file.0,
                OverrideBehaviour::LocalOnly,
            ))
            .with_hooks(hooks),
    )
    .unwrap();
    assert!(wait_for_value(&changes, "one"));
    client.close();
    std::fs::write(&file.0, r#"{"flags":{"flag":"after close"}}"#).unwrap();
    // The watcher checks every 200 ms; after close nothing is read any more.
    assert!(
        changes.recv_timeout(Duration::from_millis(500)).is_err(),
        "no reload after close"
    );
    assert_eq!(text(&client, "flag"), "one");
}

#[test]
fn a_hook_running_while_the_client_starts_may_get_it_from_the_registry() {
    // (In this binary because `get` with other options logs warning 3000,
    // which the registry test of api.rs counts.)
    let key = sdk_key("hook_get_during_start");
    let (sender, seen) = mpsc::channel();
    let sender = Mutex::new(sender);
    let hook_key = key.clone();
    // Map overrides are published while the client starts, calling this hook.
    let hooks = Hooks::default().on_config_changed(move |_| {
        let client =
            Client::get(&hook_key, ClientOptions::default().with_manual_polling()).unwrap();
        let _ = sender
            .lock()
            .unwrap()
            .send(client.get_value("flag", false, None));
    });
    let options = ClientOptions::default()
        .with_manual_polling()
        .with_flag_overrides(FlagOverrides::from_map(
            [("flag", OwnedValue::Bool(true))],
            OverrideBehaviour::LocalOnly,
        ))
        .with_hooks(hooks);
    let creator = {
        let key = key.clone();
        thread::spawn(move || Client::get(&key, options).unwrap())
    };
    assert!(seen.recv_timeout(WAIT).expect("no deadlock"));
    let client = creator.join().unwrap();
    client.close();
}
