//! Regression tests for what the fuzz targets (`fuzz/`) found. Each test
//! names the target and states the broken invariant.

use configcat_core::refresh::{
    CacheEntry, FetchResponse, FetchStep, Instant, PollingMode, RefreshOptions, Refresher,
};
use configcat_core::{Config, NoLog};

fn at(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

const SDK_KEY: &str = "configcat-sdk-1/PKDVCLf-Hq-h-kCzMp-L7Q/HhOWfwVtZ0mb30i9wi17GQ";

/// `config_parse`: a served value that fails to parse shared its variation
/// id with a % option that has a value; looking the id up stopped at the
/// broken value and found nothing, although evaluation served that id.
#[test]
fn variation_id_lookup_skips_values_that_did_not_parse() {
    let config = Config::parse(
        br#"{"f":{"pageSize":{"t":2,"v":{"i;":20},"i":"ps-20",
             "p":[{"p":50,"v":{"i":10},"i":"ps-10"},{"p":50,"v":{"i":20},"i":"ps-20"}]}}}"#,
    )
    .expect("valid JSON of the config shape");
    let served_ids: Vec<_> = ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .map(|id| {
            let user = configcat_core::User::new(*id);
            config
                .evaluate("pageSize", Some(&user), &NoLog)
                .variation_id
                .map(std::borrow::Cow::into_owned)
        })
        .collect();
    assert!(
        served_ids.contains(&Some("ps-20".to_owned())),
        "{served_ids:?}"
    );
    assert_eq!(
        config.key_and_value_for_variation_id("ps-20"),
        Some(("pageSize", configcat_core::Value::Int(20)))
    );
    assert_eq!(
        config.key_and_value_for_variation_id("ps-10"),
        Some(("pageSize", configcat_core::Value::Int(10)))
    );
}

/// `refresher`: an ETag holding a line break was stored as is, and the cache
/// payload written for it (`<time>\n<etag>\n<json>`) no longer read back.
/// Such an ETag is now not kept (as if the server sent none), and no
/// `If-None-Match` is sent for an ETag the client does not have.
#[test]
fn an_etag_with_a_line_break_is_not_kept() {
    let options = RefreshOptions::new(PollingMode::Manual);
    let mut refresher = Refresher::new(SDK_KEY, options, Instant::ZERO).expect("valid key");
    refresher.start_fetch(at(1), &NoLog).expect("online");
    let body = br#"{"f":{"flag":{"t":0,"v":{"b":true}}}}"#;
    let FetchStep::Done(update) = refresher.handle_response(
        at(2),
        2,
        FetchResponse::new(200, Some("\"a\"\n{\"f\":{}}"), body),
        &NoLog,
    ) else {
        panic!("no redirect in this config");
    };
    assert!(update.new_config.is_some());
    let entry = refresher.entry().expect("the config is kept");
    assert_eq!(entry.etag(), "");
    let payload = update.cache_payload.expect("a new config is written");
    assert_eq!(
        payload,
        CacheEntry::new(2, "", std::str::from_utf8(body).unwrap()).payload()
    );

    let next = refresher.start_fetch(at(3), &NoLog).expect("online");
    assert_eq!(next.if_none_match, None);
    assert!(next.headers().all(|(name, _)| name != "If-None-Match"));
}

/// `refresher`: a newer cache entry with the same ETag but another config
/// replaced the kept entry without publishing its config, so readers stayed
/// on a config other than the one the client kept and wrote back.
#[test]
fn a_cache_entry_reusing_the_etag_with_another_config_is_published() {
    let options = RefreshOptions::new(PollingMode::Manual);
    let mut refresher = Refresher::new(SDK_KEY, options, Instant::ZERO).expect("valid key");
    let first = CacheEntry::new(10, "\"same\"", r#"{"f":{"a":{"t":0,"v":{"b":true}}}}"#);
    let second = CacheEntry::new(20, "\"same\"", r#"{"f":{"b":{"t":0,"v":{"b":true}}}}"#);
    let published = refresher
        .handle_cache_payload(at(30), 30, &first.payload(), &NoLog)
        .expect("a first entry is published");
    assert_eq!(published.keys().collect::<Vec<_>>(), ["a"]);
    let published = refresher
        .handle_cache_payload(at(40), 40, &second.payload(), &NoLog)
        .expect("another config under the same ETag is published too");
    assert_eq!(published.keys().collect::<Vec<_>>(), ["b"]);
    assert_eq!(refresher.entry(), Some(&second));
    // The same entry again (only a newer fetch time) publishes nothing.
    let confirmed = CacheEntry::new(50, "\"same\"", second.config_json());
    assert!(
        refresher
            .handle_cache_payload(at(60), 60, &confirmed.payload(), &NoLog)
            .is_none()
    );
    assert_eq!(refresher.entry(), Some(&confirmed));
}
