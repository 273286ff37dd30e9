//! The OpenFeature provider (feature `openfeature`), driven through the
//! OpenFeature API: `OpenFeature::singleton_mut()` → `set_provider` /
//! `set_named_provider` → a client's `get_*_value` / `get_*_details`.
//!
//! The OpenFeature API is a process-wide singleton and tests run in
//! parallel, so every test binds its own provider to a name of its own; one
//! test uses the default (unnamed) provider.

// clippy.toml allows these inside `#[test]` functions only; the helpers of
// this test crate fail a test the same way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use configcat_cdn_stand_in::CdnStandIn;
use configcat_std::open_feature;
use configcat_std::open_feature::provider::{FeatureProvider, ProviderStatus};
use configcat_std::open_feature::{
    EvaluationContext, EvaluationContextFieldValue, EvaluationErrorCode, EvaluationReason,
    FlagMetadataValue, OpenFeature, StructValue, Value,
};
use configcat_std::{
    Client, ClientOptions, ConfigCatProvider, FlagOverrides, OverrideBehaviour, OwnedValue, User,
    UserValue,
};

use common::{WAIT, config_with, sdk_key};

/// Settings of every type, with targeting rules on each kind of attribute the
/// context mapping produces, and % options.
fn settings() -> String {
    let theme = r#"{\"color\":\"blue\",\"size\":3,\"ratio\":1.5,\"beta\":true,\"tags\":[\"a\",\"b\"],\"nested\":{\"on\":false}}"#;
    [
        // bool: a rule on the e-mail
        r#""newCheckout":{"t":0,"v":{"b":false},"i":"checkout-off","r":[{"c":[{"u":{"a":"Email","c":32,"l":["@example.com"]}}],"s":{"v":{"b":true},"i":"checkout-staff"}}]}"#.to_owned(),
        // text: % options on the identifier
        r#""greeting":{"t":1,"v":{"s":"Hello"},"i":"greeting-default","p":[{"p":50,"v":{"s":"Hi A"},"i":"greeting-a"},{"p":50,"v":{"s":"Hi B"},"i":"greeting-b"}]}"#.to_owned(),
        // whole number: a rule on the country
        r#""pageSize":{"t":2,"v":{"i":10},"i":"page-10","r":[{"c":[{"u":{"a":"Country","c":0,"l":["Hungary"]}}],"s":{"v":{"i":20},"i":"page-20"}}]}"#.to_owned(),
        // decimal
        r#""discount":{"t":3,"v":{"d":0.25},"i":"discount-25"}"#.to_owned(),
        // JSON text, for structures
        format!(r#""theme":{{"t":1,"v":{{"s":"{theme}"}},"i":"theme-1"}}"#),
        r#""plainText":{"t":1,"v":{"s":"not json"},"i":"plain"}"#.to_owned(),
        // rules on custom attributes of each type
        r#""admins":{"t":0,"v":{"b":false},"i":"admins-off","r":[{"c":[{"u":{"a":"Roles","c":34,"l":["admin"]}}],"s":{"v":{"b":true},"i":"admins-on"}}]}"#.to_owned(),
        r#""adults":{"t":0,"v":{"b":false},"i":"adults-off","r":[{"c":[{"u":{"a":"Age","c":15,"d":18}}],"s":{"v":{"b":true},"i":"adults-on"}}]}"#.to_owned(),
        r#""earlyBirds":{"t":0,"v":{"b":false},"i":"early-off","r":[{"c":[{"u":{"a":"SignedUp","c":18,"d":1700000000}}],"s":{"v":{"b":true},"i":"early-on"}}]}"#.to_owned(),
        r#""betaTesters":{"t":0,"v":{"b":false},"i":"beta-off","r":[{"c":[{"u":{"a":"Beta","c":28,"s":"true"}}],"s":{"v":{"b":true},"i":"beta-on"}}]}"#.to_owned(),
        r#""ratioAbove":{"t":0,"v":{"b":false},"i":"ratio-off","r":[{"c":[{"u":{"a":"Ratio","c":14,"d":0.5}}],"s":{"v":{"b":true},"i":"ratio-on"}}]}"#.to_owned(),
    ]
    .join(",")
}

/// A CDN serving [`settings`] and an auto-polling client of it, ready.
fn served_client(test: &str) -> (CdnStandIn, Client) {
    let cdn = CdnStandIn::start().expect("cdn");
    cdn.set_config(&config_with(&cdn.base_url(), &settings()));
    let client = Client::get(&sdk_key(test), common::auto_options(&cdn)).expect("client");
    (cdn, client)
}

/// Binds a provider for `client` to the name `test`; returns an OpenFeature
/// client of that name.
async fn named_client(test: &str, client: &Client) -> open_feature::Client {
    let mut api = OpenFeature::singleton_mut().await;
    api.set_named_provider(test, ConfigCatProvider::new(client.clone()))
        .await;
    api.create_named_client(test)
}

fn context(targeting_key: &str) -> EvaluationContext {
    EvaluationContext::default().with_targeting_key(targeting_key)
}

#[tokio::test]
async fn the_default_provider_resolves_every_type() {
    let (_cdn, client) = served_client("of_default_provider");
    let mut api = OpenFeature::singleton_mut().await;
    api.set_provider(ConfigCatProvider::new(client.clone()))
        .await;
    assert_eq!(api.provider_metadata().await.name, "ConfigCat");
    let flags = api.create_client();
    drop(api);

    let staff = context("u-1").with_custom_field("Email", "jane@example.com");
    assert_eq!(
        flags
            .get_bool_value("newCheckout", Some(&staff), None)
            .await,
        Ok(true)
    );
    assert_eq!(
        flags.get_bool_value("newCheckout", None, None).await,
        Ok(false)
    );
    let greeting = flags
        .get_string_value("greeting", Some(&context("u-1")), None)
        .await
        .expect("text");
    assert!(greeting == "Hi A" || greeting == "Hi B", "{greeting}");
    let hungarian = context("u-1").with_custom_field("Country", "Hungary");
    assert_eq!(
        flags
            .get_int_value("pageSize", Some(&hungarian), None)
            .await,
        Ok(20)
    );
    assert_eq!(flags.get_int_value("pageSize", None, None).await, Ok(10));
    assert_eq!(
        flags.get_float_value("discount", None, None).await,
        Ok(0.25)
    );
    // A whole number setting may be read as a float (never the reverse).
    assert_eq!(
        flags.get_float_value("pageSize", None, None).await,
        Ok(10.0)
    );

    let theme: StructValue = flags
        .get_struct_value("theme", None, None)
        .await
        .expect("structure");
    let expected = StructValue::default()
        .with_field("color", "blue")
        .with_field("size", 3_i64)
        .with_field("ratio", 1.5)
        .with_field("beta", true)
        .with_field(
            "tags",
            Value::Array(vec![Value::String("a".into()), Value::String("b".into())]),
        )
        .with_field("nested", StructValue::default().with_field("on", false));
    assert_eq!(theme, expected);
    client.close();
}

#[tokio::test]
async fn details_carry_the_variation_id_the_reason_and_metadata() {
    let (_cdn, client) = served_client("of_details");
    let flags = named_client("of_details", &client).await;

    // A targeting rule matched.
    let staff = context("u-1").with_custom_field("Email", "jane@example.com");
    let details = flags
        .get_bool_details("newCheckout", Some(&staff), None)
        .await
        .expect("details");
    assert!(details.value);
    assert_eq!(details.variant.as_deref(), Some("checkout-staff"));
    assert_eq!(details.reason, Some(EvaluationReason::TargetingMatch));
    assert_eq!(
        details
            .flag_metadata
            .values
            .get("matched_targeting_rule_index"),
        Some(&FlagMetadataValue::Int(0))
    );
    assert!(matches!(
        details.flag_metadata.values.get("fetch_time_unix_ms"),
        Some(FlagMetadataValue::Int(ms)) if ms.abs_diff(i64::try_from(common::now_ms()).unwrap()) < 60_000
    ));

    // No rule matched: the setting's value.
    let details = flags
        .get_bool_details("newCheckout", Some(&context("u-2")), None)
        .await
        .expect("details");
    assert!(!details.value);
    assert_eq!(details.variant.as_deref(), Some("checkout-off"));
    assert_eq!(details.reason, Some(EvaluationReason::Default));
    assert_eq!(
        details
            .flag_metadata
            .values
            .get("matched_targeting_rule_index"),
        None
    );

    // A % option chose the value; it is the one the client itself serves that user.
    for id in ["u-1", "u-2", "u-3", "u-4", "u-5", "u-6"] {
        let details = flags
            .get_string_details("greeting", Some(&context(id)), None)
            .await
            .expect("details");
        let direct = client.get_value_details("greeting", String::new(), Some(&User::new(id)));
        assert_eq!(details.value, direct.value, "{id}");
        assert_eq!(
            details.variant.as_deref(),
            direct.variation_id.as_deref(),
            "{id}"
        );
        assert_eq!(details.reason, Some(EvaluationReason::Split), "{id}");
        let index = i64::try_from(direct.matched_percentage_option_index.expect("a % option"))
            .expect("small");
        assert_eq!(
            details
                .flag_metadata
                .values
                .get("matched_percentage_option_index"),
            Some(&FlagMetadataValue::Int(index))
        );
    }
    // Both % options are served to someone among a few users.
    let mut variants = std::collections::BTreeSet::new();
    for n in 0..20 {
        let details = flags
            .get_string_details("greeting", Some(&context(&format!("user-{n}"))), None)
            .await
            .expect("details");
        variants.insert(details.variant.expect("variant"));
    }
    assert_eq!(variants.len(), 2, "{variants:?}");

    // Structures: the text setting's variation and reason.
    let details = flags
        .get_struct_details::<StructValue>("theme", None, None)
        .await
        .expect("details");
    assert_eq!(details.variant.as_deref(), Some("theme-1"));
    assert_eq!(details.reason, Some(EvaluationReason::Default));
    client.close();
}

#[tokio::test]
async fn the_context_becomes_a_user_with_typed_custom_attributes() {
    let (_cdn, client) = served_client("of_context");
    let flags = named_client("of_context", &client).await;
    let ctx = |name: &str, value: EvaluationContextFieldValue| {
        context("u-1").with_custom_field(name, value)
    };
    let on = |key: &'static str, ctx: EvaluationContext| {
        let flags = &flags;
        async move { flags.get_bool_value(key, Some(&ctx), None).await }
    };

    // string list (a Vec<String> or Vec<&str> in a struct field) → string list
    let roles =
        EvaluationContextFieldValue::new_struct(vec!["reader".to_owned(), "admin".to_owned()]);
    assert_eq!(on("admins", ctx("Roles", roles)).await, Ok(true));
    let roles = EvaluationContextFieldValue::new_struct(vec!["reader"]);
    assert_eq!(on("admins", ctx("Roles", roles)).await, Ok(false));
    let roles =
        EvaluationContextFieldValue::new_struct(UserValue::StringList(vec!["admin".into()]));
    assert_eq!(on("admins", ctx("Roles", roles)).await, Ok(true));
    // integer and float → number
    assert_eq!(on("adults", ctx("Age", 18_i64.into())).await, Ok(true));
    assert_eq!(on("adults", ctx("Age", 17_i64.into())).await, Ok(false));
    assert_eq!(on("ratioAbove", ctx("Ratio", 0.75.into())).await, Ok(true));
    assert_eq!(on("ratioAbove", ctx("Ratio", 0.25.into())).await, Ok(false));
    // date-time → date-time (the rule: signed up before 2023-11-14T22:13:20Z)
    let early = time::OffsetDateTime::from_unix_timestamp(1_600_000_000).expect("time");
    let late = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
    assert_eq!(
        on("earlyBirds", ctx("SignedUp", early.into())).await,
        Ok(true)
    );
    assert_eq!(
        on("earlyBirds", ctx("SignedUp", late.into())).await,
        Ok(false)
    );
    // bool → the text "true" / "false"
    assert_eq!(on("betaTesters", ctx("Beta", true.into())).await, Ok(true));
    assert_eq!(
        on("betaTesters", ctx("Beta", false.into())).await,
        Ok(false)
    );
    // a custom field of the wrong type is ignored, not an error
    let unknown = EvaluationContextFieldValue::new_struct(42_u8);
    assert_eq!(on("admins", ctx("Roles", unknown)).await, Ok(false));

    // The mapping itself.
    let full = EvaluationContext::default()
        .with_targeting_key("u-9")
        .with_custom_field("Email", "ann@example.com")
        .with_custom_field("Country", "Hungary")
        .with_custom_field("Age", 31_i64)
        .with_custom_field("Beta", true)
        .with_custom_field("Plan", "pro");
    let user = ConfigCatProvider::user_from_context(&full).expect("a user");
    assert_eq!(user.identifier(), "u-9");
    assert_eq!(user.email(), Some("ann@example.com"));
    assert_eq!(user.country(), Some("Hungary"));
    assert_eq!(user.custom("Age"), Some(&UserValue::Number(31.0)));
    assert_eq!(user.custom("Beta"), Some(&UserValue::Text("true".into())));
    assert_eq!(user.custom("Plan"), Some(&UserValue::Text("pro".into())));
    assert_eq!(user.custom("Email"), None);
    assert_eq!(
        ConfigCatProvider::user_from_context(&EvaluationContext::default()),
        None
    );
    let without_key = EvaluationContext::default().with_custom_field("Identifier", "from-field");
    assert_eq!(
        ConfigCatProvider::user_from_context(&without_key).map(|u| u.identifier().to_owned()),
        Some("from-field".to_owned())
    );

    // The client's own context and the API's global one are merged in.
    let mut scoped = named_client("of_context_scoped", &client).await;
    scoped.set_evaluation_context(
        EvaluationContext::default().with_custom_field("Email", "jane@example.com"),
    );
    assert_eq!(
        scoped
            .get_bool_value("newCheckout", Some(&context("u-1")), None)
            .await,
        Ok(true)
    );
    client.close();
}

#[tokio::test]
async fn errors_have_the_openfeature_codes() {
    let (_cdn, client) = served_client("of_errors");
    let flags = named_client("of_errors", &client).await;

    let error = flags
        .get_bool_value("noSuchFlag", None, None)
        .await
        .expect_err("missing");
    assert_eq!(error.code, EvaluationErrorCode::FlagNotFound);
    assert!(
        error
            .message
            .as_deref()
            .is_some_and(|m| m.contains("noSuchFlag")),
        "{error:?}"
    );

    for error in [
        flags
            .get_int_value("newCheckout", None, None)
            .await
            .expect_err("bool as int"),
        flags
            .get_int_value("discount", None, None)
            .await
            .expect_err("float as int"),
        flags
            .get_string_value("pageSize", None, None)
            .await
            .expect_err("int as text"),
        flags
            .get_bool_value("greeting", None, None)
            .await
            .expect_err("text as bool"),
        flags
            .get_struct_value::<StructValue>("newCheckout", None, None)
            .await
            .expect_err("bool as structure"),
    ] {
        assert_eq!(error.code, EvaluationErrorCode::TypeMismatch, "{error:?}");
    }

    let error = flags
        .get_struct_value::<StructValue>("plainText", None, None)
        .await
        .expect_err("not JSON");
    assert_eq!(error.code, EvaluationErrorCode::ParseError);

    // The details of a failed evaluation are an error as well.
    let error = flags
        .get_bool_details("noSuchFlag", None, None)
        .await
        .expect_err("missing");
    assert_eq!(error.code, EvaluationErrorCode::FlagNotFound);
    client.close();
}

#[tokio::test]
async fn a_broken_setting_is_a_general_error() {
    let cdn = CdnStandIn::start().expect("cdn");
    // A targeting rule whose comparator does not exist.
    cdn.set_config(&config_with(
        &cdn.base_url(),
        r#""broken":{"t":0,"v":{"b":false},"i":"b","r":[{"c":[{"u":{"a":"Email","c":99,"l":["x"]}}],"s":{"v":{"b":true},"i":"t"}}]}"#,
    ));
    let client = Client::get(&sdk_key("of_general"), common::auto_options(&cdn)).expect("client");
    let flags = named_client("of_general", &client).await;
    let error = flags
        .get_bool_value(
            "broken",
            Some(&context("u-1").with_custom_field("Email", "a@b.c")),
            None,
        )
        .await
        .expect_err("broken");
    assert!(
        matches!(error.code, EvaluationErrorCode::General(_)),
        "{error:?}"
    );
    client.close();
}

#[tokio::test]
async fn provider_not_ready_until_the_client_has_a_config() {
    // The CDN has no config yet (404): the client has no flag data.
    let cdn = CdnStandIn::start().expect("cdn");
    let options =
        common::options(&cdn).with_auto_polling(common::POLL_INTERVAL, Duration::from_millis(300));
    let client = Client::get(&sdk_key("of_not_ready"), options).expect("client");
    let provider =
        ConfigCatProvider::new(client.clone()).with_init_timeout(Duration::from_millis(500));
    let status_of = provider.clone();
    let flags = {
        let mut api = OpenFeature::singleton_mut().await;
        // set_named_provider runs `initialize`, which gives up after max init wait.
        api.set_named_provider("of_not_ready", provider).await;
        api.create_named_client("of_not_ready")
    };
    assert_eq!(status_of.status(), ProviderStatus::NotReady);
    let error = flags
        .get_bool_value("newCheckout", None, None)
        .await
        .expect_err("no config");
    assert_eq!(error.code, EvaluationErrorCode::ProviderNotReady);

    // The config arrives: the provider is ready and resolves.
    cdn.set_config(&config_with(&cdn.base_url(), &settings()));
    let deadline = std::time::Instant::now() + WAIT;
    while status_of.status() != ProviderStatus::Ready && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status_of.status(), ProviderStatus::Ready);
    assert_eq!(flags.get_int_value("pageSize", None, None).await, Ok(10));

    // A closed client serves its last config, which is never refreshed again.
    client.close();
    assert_eq!(status_of.status(), ProviderStatus::STALE);
    assert_eq!(flags.get_int_value("pageSize", None, None).await, Ok(10));
}

#[tokio::test]
async fn initialize_waits_for_the_first_config() {
    let (_cdn, client) = served_client("of_initialize");
    let mut provider = ConfigCatProvider::new(client.clone());
    provider.initialize(&EvaluationContext::default()).await;
    assert_eq!(provider.status(), ProviderStatus::Ready);
    assert_eq!(provider.metadata().name, "ConfigCat");
    client.close();
}

#[tokio::test]
async fn local_only_overrides_are_ready_at_once() {
    let options = ClientOptions::default().with_flag_overrides(FlagOverrides::from_map(
        [
            ("enabled", OwnedValue::Bool(true)),
            ("limit", OwnedValue::Int(3)),
            ("settings", OwnedValue::Text(r#"{"a":[1,2]}"#.into())),
        ],
        OverrideBehaviour::LocalOnly,
    ));
    let client = Client::get("local-only-openfeature", options).expect("client");
    let provider = ConfigCatProvider::new(client.clone());
    assert_eq!(provider.status(), ProviderStatus::Ready);
    let flags = named_client("of_local_only", &client).await;
    let details = flags
        .get_bool_details("enabled", None, None)
        .await
        .expect("details");
    assert!(details.value);
    assert_eq!(details.reason, Some(EvaluationReason::Default));
    assert_eq!(flags.get_int_value("limit", None, None).await, Ok(3));
    let settings: StructValue = flags
        .get_struct_value("settings", None, None)
        .await
        .expect("structure");
    assert_eq!(
        settings.fields.get("a"),
        Some(&Value::Array(vec![Value::Int(1), Value::Int(2)]))
    );
    client.close();
}
