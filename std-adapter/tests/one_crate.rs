//! One crate is enough: every type this crate's public API names is reached
//! through `configcat_std` paths, as an application that depends on this
//! crate alone writes them. This file never names `configcat_core`.
//!
//! The list was taken from the crate's rustdoc JSON: every item of
//! `configcat-core` reachable from a public signature, field, variant,
//! bound or trait of this crate (and from those items' own public API).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Arguments;
use std::sync::{Arc, Mutex};

use configcat_std::{
    CacheState, Client, ClientOptions, Config, DataGovernance, EvaluationDetails, EventId, Fetched,
    FlagDefault, FlagError, FlagOverrides, FlagValue, Hooks, LogLevel, LogSink,
    MatchedPercentageOption, MatchedTargetingRule, NoLog, OverrideBehaviour, OwnedValue,
    ParseError, ParseErrorKind, PercentageOption, PollingMode, Preferences, RedirectMode,
    RefreshError, RefreshOptions, SdkKeyError, Setting, SettingType, TargetingRule,
    TransportErrorKind, User, UserValue, Value, cache_key,
};

/// Names each type in a signature: this file compiling is the test.
#[allow(clippy::too_many_arguments, dead_code)]
fn names_every_type(
    _: CacheState,
    _: DataGovernance,
    _: Fetched,
    _: PollingMode,
    _: RefreshError,
    _: RefreshOptions,
    _: SdkKeyError,
    _: TransportErrorKind,
    _: &Config,
    _: EventId,
    _: FlagError,
    _: LogLevel,
    _: &dyn LogSink,
    _: MatchedPercentageOption<'_>,
    _: MatchedTargetingRule<'_>,
    _: NoLog,
    _: OverrideBehaviour,
    _: OwnedValue,
    _: ParseError,
    _: ParseErrorKind,
    _: &PercentageOption,
    _: &Preferences,
    _: RedirectMode,
    _: &Setting,
    _: SettingType,
    _: &TargetingRule,
    _: User,
    _: UserValue,
    _: Value<'_>,
    _: EvaluationDetails<String>,
) {
}

/// Generic code over the read types, as a wrapper around the client writes it.
fn read_or<T: FlagDefault>(client: &Client, key: &str, default: T) -> T::Output
where
    T::Output: for<'a> FlagValue<'a>,
{
    client.get_value(key, default, None)
}

/// A log sink of the application's own, for `Config`'s evaluation methods.
#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl LogSink for Lines {
    fn enabled(&self, level: LogLevel) -> bool {
        level <= LogLevel::Info
    }
    fn event(&self, level: LogLevel, id: EventId, message: Arguments<'_>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{level:?} [{}] {message}", id as u16));
    }
}

const RULES: &str = r#"{"p":{"s":"salt"},"f":{
    "greeting":{"t":1,"v":{"s":"hello"},"i":"v-hello",
        "r":[{"c":[{"u":{"a":"Email","c":2,"l":["@example.com"]}}],"s":{"v":{"s":"hi colleague"},"i":"v-colleague"}}]},
    "split":{"t":1,"v":{"s":"none"},"p":[{"p":0,"v":{"s":"never"}},{"p":100,"v":{"s":"all"},"i":"v-all"}]}}}"#;

#[test]
fn an_application_needs_no_other_crate() {
    let config = Config::parse(RULES.as_bytes()).unwrap();
    let colleague = User::new("42").with_email("jane@example.com");

    // The details name the matched rule and option, which show as the log does.
    let sink = Lines::default();
    let details = config.get_value_details("greeting", "", Some(&colleague), &sink);
    let rule: &MatchedTargetingRule<'_> = details.matched_targeting_rule.as_ref().unwrap();
    assert_eq!(
        rule.to_string(),
        "IF User.Email CONTAINS ANY OF ['@example.com'] THEN 'hi colleague'"
    );
    let model: &TargetingRule = rule;
    assert_eq!(model.variation_id(), Some("v-colleague"));
    assert!(
        sink.0
            .lock()
            .unwrap()
            .iter()
            .any(|line| line.contains("[5000]"))
    );
    let split = config.get_value_details("split", "", Some(&colleague), &NoLog);
    let option: &MatchedPercentageOption<'_> = split.matched_percentage_option.as_ref().unwrap();
    assert_eq!(option.to_string(), "% option 2 (100%), 'all'");
    let option: &PercentageOption = option;
    assert_eq!(option.value(), Some(Value::Text("all")));

    // The model, from a config a hook hands over.
    let setting: &Setting = config.setting("split").unwrap();
    assert_eq!(setting.setting_type(), Some(SettingType::Text));
    let preferences: &Preferences = config.preferences();
    assert_eq!(preferences.redirect(), None::<RedirectMode>);
    let error: ParseError = Config::parse(b"{").unwrap_err();
    let _: ParseErrorKind = error.kind();

    // The client, its options, the refresh types and the cache key.
    let options = ClientOptions::default().with_flag_overrides(FlagOverrides::from_map(
        [("enabled", OwnedValue::Bool(true))],
        OverrideBehaviour::LocalOnly,
    ));
    let refresh: &RefreshOptions = &options.refresh;
    assert_eq!(refresh.polling, PollingMode::AUTO_DEFAULT);
    let changed = Arc::new(Mutex::new(0));
    let seen = Arc::clone(&changed);
    let client = Client::get(
        "configcat-sdk-1/ONE-CRATE-ONE-CRATE-01/1234567890123456789012",
        options.with_hooks(Hooks::default().on_config_changed(move |config: &Config| {
            *seen.lock().unwrap() += config.settings().len();
        })),
    )
    .unwrap();
    assert_eq!(
        client.wait_for_ready(std::time::Duration::from_secs(5)),
        CacheState::LocalOverridesOnly
    );
    assert!(read_or(&client, "enabled", false));
    assert_eq!(read_or(&client, "missing", "text"), "text");
    let details: EvaluationDetails<bool> = client.get_value_details("enabled", false, None);
    assert!(details.error.is_none());
    let refused: Result<Fetched, RefreshError> = client.force_refresh();
    assert_eq!(refused, Err(RefreshError::LocalOnly));
    assert!(*changed.lock().unwrap() >= 1);
    client.close();

    let error: Option<SdkKeyError> = match Client::get("not-a-key", ClientOptions::default()) {
        Err(configcat_std::ClientError::InvalidSdkKey(error)) => Some(error),
        _ => None,
    };
    assert!(error.is_some());
    assert_eq!(cache_key("configcat-sdk-1/x/y").len(), 40);
    let _ = (DataGovernance::EuOnly, TransportErrorKind::TimedOut);
    let _ = UserValue::Number(1.0);
    let _ = FlagError::ConfigJsonMissing;
}
