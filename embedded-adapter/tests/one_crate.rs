//! One crate is enough: every `configcat-core` type this crate's public API
//! names is reached through `configcat_embedded` paths, as an application
//! that depends on this crate alone writes them. This file never names
//! `configcat_core`. (HTTP connections are `embedded-svc`'s trait, which
//! the device's HAL provides.)
//!
//! The list was taken from the crate's rustdoc JSON: every item of
//! `configcat-core` reachable from a public signature, field, variant,
//! bound or trait of this crate (and from those items' own public API).

#![cfg(test)]

use configcat_embedded::{
    CacheState, Client, ClientOptions, Config, ConfigStorage, Connector, DataGovernance,
    EvaluationDetails, EventId, Fetched, FlagError, FlagValue, Instant, LogLevel, LogSink,
    MatchedPercentageOption, MatchedTargetingRule, NoLog, NoStorage, OverrideBehaviour, OwnedValue,
    ParseError, ParseErrorKind, PercentageOption, PollingMode, Preferences, RedirectMode,
    RefreshError, RefreshOptions, SdkKeyError, Setting, SettingType, TargetingRule,
    TransportErrorKind, User, UserValue, Value,
};

/// Names each type in a signature: this file compiling is the test.
#[allow(clippy::too_many_arguments, dead_code)]
fn names_every_type<K: Connector, S: ConfigStorage, L: LogSink>(
    _: &Client<K, S, L>,
    _: CacheState,
    _: DataGovernance,
    _: Fetched,
    _: Instant,
    _: PollingMode,
    _: RefreshError,
    _: RefreshOptions,
    _: SdkKeyError,
    _: TransportErrorKind,
    _: &Config,
    _: EventId,
    _: FlagError,
    _: LogLevel,
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
    _: EvaluationDetails<'_, bool>,
) {
}

/// Generic code over the read types, as a wrapper around the client writes it.
fn read_or<'a, T: FlagValue<'a>>(config: &'a Config, key: &str, default: T) -> T {
    config.get_value(key, default, None, &NoLog)
}

#[test]
fn an_application_needs_no_other_crate() {
    let config = Config::parse(
        br#"{"f":{"led":{"t":0,"v":{"b":false},"r":[{"c":[{"u":{"a":"Identifier","c":0,"l":["dev-1"]}}],"s":{"v":{"b":true}}}]},
              "split":{"t":1,"v":{"s":"none"},"p":[{"p":100,"v":{"s":"all"}}]}}}"#,
    )
    .unwrap();
    let device = User::new("dev-1");
    let details: EvaluationDetails<'_, bool> =
        config.get_value_details("led", false, Some(&device), &NoLog);
    let rule: &MatchedTargetingRule<'_> = details.matched_targeting_rule.as_ref().unwrap();
    assert_eq!(
        rule.to_string(),
        "IF User.Identifier IS ONE OF ['dev-1'] THEN 'true'"
    );
    let split = config.get_value_details("split", "", Some(&device), &NoLog);
    let option: &MatchedPercentageOption<'_> = split.matched_percentage_option.as_ref().unwrap();
    assert_eq!(option.to_string(), "% option 1 (100%), 'all'");
    assert_eq!(read_or(&config, "split", ""), "none");
    let setting: &Setting = config.setting("led").unwrap();
    assert_eq!(setting.targeting_rules().len(), 1);
    let options = ClientOptions::default();
    let _: &RefreshOptions = &options.refresh;
    let _ = NoStorage;
}
