//! The embedded client on the host, through the same `Connection` trait a
//! device uses: a plain TCP connection to the CDN stand-in on 127.0.0.1, RAM
//! and file-backed storages, and a fake clock (every time is passed in;
//! nothing sleeps to synchronise: a tick is synchronous, so whatever it sent
//! has been received by the stand-in when it returns).

// Marks the whole crate as test code, so that the workspace clippy.toml
// allowances for tests (unwrap, expect, panic, indexing) cover the helpers too.
#![cfg(test)]

mod support;

use std::cell::Cell;
use std::time::Duration;

use configcat_cdn_stand_in::{CdnStandIn, Fault};
use configcat_embedded::{
    CacheState, Client, ClientOptions, ConfigStorage, Connector, Fetched, FlagError, Instant,
    LogSink, PollingMode, RefreshError, TransportErrorKind, User, Value,
};
use support::{Capture, FileStorage, RamStorage, SDK_KEY, T0, mono, tcp_connector};

const INTERVAL: u64 = 60_000;

fn config_json(led: bool, greeting: &str) -> String {
    format!(
        r#"{{"p":{{"s":"salt"}},"f":{{
  "ledEnabled":{{"t":0,"v":{{"b":{led}}},"i":"v-led-{led}"}},
  "greeting":{{"t":1,"v":{{"s":"{greeting}"}},"i":"v-greeting",
    "r":[{{"c":[{{"u":{{"a":"Email","c":32,"l":["@example.com"]}}}}],"s":{{"v":{{"s":"hello colleague"}},"i":"v-colleague"}}}}]}},
  "maxItems":{{"t":2,"v":{{"i":42}}}},
  "ratio":{{"t":3,"v":{{"d":0.25}}}}
}}}}"#
    )
}

fn auto_options(base_url: &str) -> ClientOptions {
    ClientOptions::default()
        .with_polling_mode(PollingMode::Auto {
            interval_ms: INTERVAL,
            max_init_wait_ms: 0,
        })
        .with_base_url(base_url)
        .with_timeouts_ms(300, 300)
}

fn boot<'a, S: ConfigStorage>(
    options: ClientOptions,
    made: &'a Cell<usize>,
    storage: S,
    sink: &'a Capture,
    now: u64,
) -> Client<impl Connector + 'a, S, &'a Capture> {
    Client::new(
        SDK_KEY,
        options,
        tcp_connector(made),
        storage,
        sink,
        mono(now),
        now,
    )
    .unwrap()
}

fn led<K: Connector, S: ConfigStorage, L: LogSink>(client: &Client<K, S, L>) -> bool {
    client.get_value("ledEnabled", false, None)
}

fn greeting<K: Connector, S: ConfigStorage, L: LogSink>(client: &Client<K, S, L>) -> &str {
    client.get_value("greeting", "default", None)
}

fn transport_error(result: Option<Result<Fetched, RefreshError>>) -> TransportErrorKind {
    match result {
        Some(Err(RefreshError::Transport { kind, .. })) => kind,
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[test]
fn first_boot_online_fetches_serves_and_stores() {
    let cdn = CdnStandIn::start().unwrap();
    let json = config_json(true, "hello");
    cdn.set_config(&json);
    let (made, sink, mut storage) = (Cell::new(0), Capture::default(), RamStorage::default());
    let mut client = boot(
        auto_options(&cdn.base_url()),
        &made,
        &mut storage,
        &sink,
        T0,
    );
    assert_eq!(client.cache_state(mono(T0)), CacheState::NoFlagData);
    assert!(!led(&client), "no config yet: the default");
    assert_eq!(sink.ids(), [1000], "config JSON missing");
    assert_eq!(client.next_tick(), Some(mono(T0)), "the first tick fetches");

    assert_eq!(client.tick(mono(T0), T0), Some(Ok(Fetched::New)));
    assert!(led(&client));
    assert_eq!(greeting(&client), "hello");
    assert_eq!(client.fetch_time_ms(), Some(T0));
    assert_eq!(client.cache_state(mono(T0 + 1)), CacheState::UpToDate);
    assert_eq!(client.next_tick(), Some(mono(T0 + INTERVAL)));
    let key = client.storage_key().to_owned();
    drop(client);

    let requests = cdn.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].path,
        format!("/configuration-files/{SDK_KEY}/config_v6.json")
    );
    assert_eq!(
        requests[0].header("X-ConfigCat-UserAgent"),
        Some(concat!(
            "ConfigCat-OxideFlags/a-",
            env!("CARGO_PKG_VERSION")
        ))
    );
    assert_eq!(requests[0].header("If-None-Match"), None);
    assert_eq!(made.get(), 1);

    // The blob is the shared-cache payload, under a 15-character key.
    assert_eq!(key.len(), 15);
    assert!(configcat_embedded::Config::parse(json.as_bytes()).is_ok());
    assert_eq!(storage.writes, 1);
    let blob = String::from_utf8(storage.blobs[&key].clone()).unwrap();
    assert_eq!(blob, format!("{T0}\n\"v1\"\n{json}"));
}

#[test]
fn etag_round_trip_answers_304_and_writes_nothing() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&config_json(false, "one"));
    let (made, sink, mut storage) = (Cell::new(0), Capture::default(), RamStorage::default());
    let mut client = boot(
        auto_options(&cdn.base_url()),
        &made,
        &mut storage,
        &sink,
        T0,
    );
    assert_eq!(client.tick(mono(T0), T0), Some(Ok(Fetched::New)));

    assert_eq!(
        client.tick(mono(T0 + INTERVAL), T0 + INTERVAL),
        Some(Ok(Fetched::NotModified))
    );
    assert_eq!(client.fetch_time_ms(), Some(T0 + INTERVAL), "confirmed");
    assert_eq!(greeting(&client), "one");
    assert_eq!(client.storage().writes, 1, "a 304 never writes the flash");

    cdn.set_config(&config_json(true, "two"));
    assert_eq!(
        client.tick(mono(T0 + 2 * INTERVAL), T0 + 2 * INTERVAL),
        Some(Ok(Fetched::New))
    );
    assert_eq!(greeting(&client), "two");
    assert!(led(&client));
    assert_eq!(client.storage().writes, 2, "a new config is written");
    drop(client);

    let requests = cdn.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[1].header("If-None-Match"), Some("\"v1\""));
    assert_eq!(requests[2].header("If-None-Match"), Some("\"v1\""));
    assert!(sink.ids().is_empty(), "{:?}", sink.ids());
}

#[test]
fn a_tick_before_the_interval_does_nothing() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&config_json(true, "hello"));
    let (made, sink) = (Cell::new(0), Capture::default());
    let mut client = boot(
        auto_options(&cdn.base_url()),
        &made,
        RamStorage::default(),
        &sink,
        T0,
    );
    assert_eq!(client.tick(mono(T0), T0), Some(Ok(Fetched::New)));
    for now in [T0, T0 + 1, T0 + INTERVAL / 2, T0 + INTERVAL - 1] {
        assert_eq!(client.tick(mono(now), now), None, "at {now}");
    }
    assert_eq!(
        client.tick(mono(T0 + 1), T0 - 5_000),
        None,
        "a wall clock set back changes nothing"
    );
    assert_eq!(cdn.request_count(), 1, "no request before the interval");
    assert_eq!(made.get(), 1, "not even a connection");
    assert_eq!(
        client.tick(mono(T0 + INTERVAL), T0 + INTERVAL),
        Some(Ok(Fetched::NotModified))
    );
    assert_eq!(cdn.request_count(), 2);
}

/// Ticks once a second for ten intervals of the monotonic clock while the
/// wall clock steps by `step_ms` in the middle of the third interval.
fn requests_through_a_wall_clock_step(step_ms: i64) -> usize {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&config_json(true, "hello"));
    let (made, sink) = (Cell::new(0), Capture::default());
    let mut client = boot(
        auto_options(&cdn.base_url()),
        &made,
        RamStorage::default(),
        &sink,
        T0,
    );
    let step_at = 2 * INTERVAL + INTERVAL / 2;
    for uptime in (0..=10 * INTERVAL).step_by(1_000) {
        let wall = (T0 + uptime).saturating_add_signed(if uptime >= step_at { step_ms } else { 0 });
        if let Some(result) = client.tick(Instant::from_millis(uptime), wall) {
            assert!(result.is_ok(), "{result:?}");
        }
    }
    assert!(sink.ids().is_empty(), "{:?}", sink.ids());
    cdn.request_count()
}

#[test]
fn a_wall_clock_step_neither_stops_polling_nor_causes_a_fetch_storm() {
    // One request at boot and one per interval, whichever way the wall clock steps.
    assert_eq!(requests_through_a_wall_clock_step(0), 11);
    assert_eq!(
        requests_through_a_wall_clock_step(-3_600_000),
        11,
        "back an hour"
    );
    assert_eq!(
        requests_through_a_wall_clock_step(86_400_000),
        11,
        "forward a day"
    );
}

#[test]
fn server_errors_keep_the_last_config_and_are_logged() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&config_json(true, "good"));
    let (made, sink) = (Cell::new(0), Capture::default());
    let mut client = boot(
        auto_options(&cdn.base_url()),
        &made,
        RamStorage::default(),
        &sink,
        T0,
    );
    assert_eq!(client.tick(mono(T0), T0), Some(Ok(Fetched::New)));

    let mut now = T0;
    let cases: [(Fault, u16); 5] = [
        (Fault::Status(500), 1101),
        (Fault::Status(503), 1101),
        (Fault::Status(404), 1100),
        (Fault::Body(b"{not json".to_vec()), 1105),
        (Fault::Body(br#"{"f":[]}"#.to_vec()), 1105),
    ];
    for (fault, id) in cases {
        sink.clear();
        cdn.set_fault_for(fault.clone(), 1);
        now += INTERVAL;
        let result = client.tick(mono(now), now).unwrap();
        match (&fault, result) {
            (Fault::Status(404), Err(RefreshError::InvalidSdkKey { status: 404 })) => {}
            (Fault::Status(status), Err(RefreshError::UnexpectedStatus { status: got })) => {
                assert_eq!(*status, got);
            }
            (Fault::Body(_), Err(RefreshError::InvalidBody(_))) => {}
            (fault, other) => panic!("{fault:?}: {other:?}"),
        }
        assert_eq!(sink.ids(), [id], "{fault:?}");
        // The last good config still serves, re-parsed after an unusable 200.
        assert_eq!(greeting(&client), "good", "{fault:?}");
        assert!(led(&client));
    }
    assert_eq!(client.storage().writes, 1, "failures never write");
    assert_eq!(
        client.tick(mono(now + INTERVAL), now + INTERVAL),
        Some(Ok(Fetched::NotModified))
    );
}

#[test]
fn without_persistent_storage_the_last_config_survives_a_broken_body() {
    // NoStorage keeps nothing, so the client keeps the config text itself
    // and restores from it; a persisting storage restores from the blob.
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&config_json(true, "good"));
    let (made, sink) = (Cell::new(0), Capture::default());
    let mut client = boot(
        auto_options(&cdn.base_url()),
        &made,
        configcat_embedded::NoStorage,
        &sink,
        T0,
    );
    assert_eq!(client.tick(mono(T0), T0), Some(Ok(Fetched::New)));
    cdn.set_fault_for(Fault::Body(b"{not json".to_vec()), 1);
    let now = T0 + INTERVAL;
    assert!(matches!(
        client.tick(mono(now), now),
        Some(Err(RefreshError::InvalidBody(_)))
    ));
    assert_eq!(greeting(&client), "good");
}

#[test]
fn stalls_and_broken_bodies_fail_the_refresh_without_panicking() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&config_json(true, "good"));
    let (made, sink) = (Cell::new(0), Capture::default());
    let options = auto_options(&cdn.base_url()).with_keep_connection(true);
    let mut client = boot(options, &made, RamStorage::default(), &sink, T0);
    assert_eq!(client.tick(mono(T0), T0), Some(Ok(Fetched::New)));
    assert_eq!(
        client.tick(mono(T0 + INTERVAL), T0 + INTERVAL),
        Some(Ok(Fetched::NotModified))
    );
    assert_eq!(made.get(), 1, "kept between refreshes");

    let mut now = T0 + INTERVAL;
    let cases = [
        (
            Fault::Stall(Duration::from_secs(30)),
            TransportErrorKind::TimedOut,
            1102,
        ),
        (
            Fault::SlowBody {
                chunk_delay: Duration::from_secs(30),
            },
            TransportErrorKind::TimedOut,
            1102,
        ),
        (Fault::ResetMidBody, TransportErrorKind::Other, 1103),
        (Fault::TruncatedBody, TransportErrorKind::Other, 1103),
    ];
    for (fault, kind, id) in cases {
        sink.clear();
        cdn.set_fault_for(fault.clone(), 1);
        let connections = made.get();
        now += INTERVAL;
        assert_eq!(
            transport_error(client.tick(mono(now), now)),
            kind,
            "{fault:?}"
        );
        assert_eq!(sink.ids(), [id], "{fault:?}");
        if kind == TransportErrorKind::TimedOut {
            let message = sink.message(id).unwrap();
            assert!(
                message.contains("Timeout values: [connect: 0.3s, read: 0.3s]"),
                "{message}"
            );
        }
        assert_eq!(greeting(&client), "good", "{fault:?}");
        // The broken connection was dropped: the next refresh makes a new one.
        now += INTERVAL;
        assert_eq!(
            client.tick(mono(now), now),
            Some(Ok(Fetched::NotModified)),
            "{fault:?}"
        );
        assert_eq!(made.get(), connections + 1, "{fault:?}");
    }
    assert_eq!(client.storage().writes, 1);
}

#[test]
fn a_body_over_the_limit_is_refused() {
    let cdn = CdnStandIn::start().unwrap();
    let json = config_json(true, "big");
    cdn.set_config(&json);
    let (made, sink) = (Cell::new(0), Capture::default());
    let options = auto_options(&cdn.base_url()).with_max_body_bytes(json.len() - 1);
    let mut client = boot(options, &made, RamStorage::default(), &sink, T0);
    assert_eq!(
        transport_error(client.tick(mono(T0), T0)),
        TransportErrorKind::BodyTooLarge
    );
    assert_eq!(sink.ids(), [1103]);
    assert!(sink.message(1103).unwrap().contains("exceeds the limit"));
    assert!(client.config().is_none());
    assert_eq!(client.storage().writes, 0);
    drop(client);

    // Exactly at the limit is fine.
    let options = auto_options(&cdn.base_url()).with_max_body_bytes(json.len());
    let mut client = boot(options, &made, RamStorage::default(), &sink, T0);
    assert_eq!(client.tick(mono(T0), T0), Some(Ok(Fetched::New)));
}

#[test]
fn reboot_with_a_persisted_cache_while_the_server_is_down() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&config_json(true, "persisted"));
    let base_url = cdn.base_url();
    let (made, sink) = (Cell::new(0), Capture::default());
    let mut storage = RamStorage::default();
    {
        let mut client = boot(auto_options(&base_url), &made, &mut storage, &sink, T0);
        assert_eq!(client.tick(mono(T0), T0), Some(Ok(Fetched::New)));
    }
    // Power off; the CDN goes away.
    drop(cdn);

    let boot_ms = T0 + 3_600_000;
    let mut client = boot(auto_options(&base_url), &made, &mut storage, &sink, boot_ms);
    assert_eq!(
        greeting(&client),
        "persisted",
        "served before any network use"
    );
    assert!(led(&client));
    assert_eq!(client.fetch_time_ms(), Some(T0));
    assert_eq!(
        client.cache_state(mono(boot_ms)),
        CacheState::CachedDataOnly
    );
    assert!(
        client.next_tick().unwrap() <= mono(boot_ms),
        "stale: fetch at once"
    );
    assert_eq!(
        transport_error(client.tick(mono(boot_ms), boot_ms)),
        TransportErrorKind::ConnectionFailed
    );
    assert_eq!(sink.ids(), [1103]);
    assert_eq!(greeting(&client), "persisted");
    assert_eq!(
        client.tick(mono(boot_ms + 1), boot_ms + 1),
        None,
        "the next attempt waits an interval"
    );
    drop(client);
    assert_eq!(storage.writes, 1);
}

#[test]
fn reboot_from_a_file_while_the_server_answers_500() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&config_json(false, "from flash"));
    let (made, sink) = (Cell::new(0), Capture::default());
    let mut storage = FileStorage::new("reboot-500");
    {
        let mut client = boot(
            auto_options(&cdn.base_url()),
            &made,
            &mut storage,
            &sink,
            T0,
        );
        assert_eq!(client.tick(mono(T0), T0), Some(Ok(Fetched::New)));
        assert!(client.storage().path(client.storage_key()).is_file());
    }
    cdn.set_fault(Fault::Status(500));
    let boot_ms = T0 + 10 * INTERVAL;
    let mut client = boot(
        auto_options(&cdn.base_url()),
        &made,
        &mut storage,
        &sink,
        boot_ms,
    );
    assert_eq!(greeting(&client), "from flash");
    assert!(matches!(
        client.tick(mono(boot_ms), boot_ms),
        Some(Err(RefreshError::UnexpectedStatus { status: 500 }))
    ));
    assert_eq!(greeting(&client), "from flash");
    assert_eq!(client.storage().writes, 1);

    cdn.clear_fault();
    assert_eq!(
        client.tick(mono(boot_ms + INTERVAL), boot_ms + INTERVAL),
        Some(Ok(Fetched::NotModified))
    );
    assert_eq!(
        cdn.requests().last().unwrap().header("If-None-Match"),
        Some("\"v1\""),
        "the ETag came back from the file"
    );
}

#[test]
fn booting_offline_serves_the_cached_config_and_never_fetches() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&config_json(true, "cached"));
    let (made, sink) = (Cell::new(0), Capture::default());
    let mut storage = RamStorage::default();
    {
        let mut client = boot(
            auto_options(&cdn.base_url()),
            &made,
            &mut storage,
            &sink,
            T0,
        );
        assert_eq!(client.tick(mono(T0), T0), Some(Ok(Fetched::New)));
    }
    let options = auto_options(&cdn.base_url()).with_offline(true);
    let boot_ms = T0 + 10 * INTERVAL;
    let mut client = boot(options, &made, &mut storage, &sink, boot_ms);
    assert!(client.is_offline());
    assert_eq!(greeting(&client), "cached");
    assert_eq!(client.next_tick(), None);
    assert_eq!(client.tick(mono(boot_ms), boot_ms), None);
    assert_eq!(
        client.refresh(mono(boot_ms), boot_ms),
        Err(RefreshError::Offline)
    );
    assert_eq!(sink.ids(), [3200]);
    assert_eq!(cdn.request_count(), 1);

    client.set_online();
    assert_eq!(
        client.tick(mono(boot_ms), boot_ms),
        Some(Ok(Fetched::NotModified))
    );
    assert!(!client.is_offline());
    client.set_offline();
    assert!(client.is_offline());
    assert_eq!(
        client.tick(mono(boot_ms + 10 * INTERVAL), boot_ms + 10 * INTERVAL),
        None
    );
    assert_eq!(cdn.request_count(), 2);
    assert_eq!(
        sink.ids(),
        [3200],
        "5200 (state changed) is info, not captured"
    );
}

#[test]
fn a_corrupted_or_truncated_blob_is_discarded_with_event_2200() {
    let cdn = CdnStandIn::start().unwrap();
    let json = config_json(true, "fresh");
    cdn.set_config(&json);
    let payload = format!("{T0}\n\"v0\"\n{json}");
    let blobs: [Vec<u8>; 5] = [
        b"garbage".to_vec(),
        payload.as_bytes()[..payload.len() / 2].to_vec(),
        b"not-a-time\n\"e\"\n{}".to_vec(),
        format!("{T0}\n\n{json}").into_bytes(),
        vec![0xff, 0xfe, b'\n', 0x80],
    ];
    for blob in blobs {
        let (made, sink) = (Cell::new(0), Capture::default());
        let mut storage = RamStorage::default();
        let key = {
            let probe = boot(
                auto_options(&cdn.base_url()),
                &made,
                &mut storage,
                &sink,
                T0,
            );
            probe.storage_key().to_owned()
        };
        storage.blobs.insert(key.clone(), blob.clone());
        sink.clear();

        let mut client = boot(
            auto_options(&cdn.base_url()),
            &made,
            &mut storage,
            &sink,
            T0,
        );
        assert!(client.config().is_none(), "{blob:?}");
        assert_eq!(sink.ids(), [2200], "{blob:?}");
        assert!(
            sink.message(2200)
                .unwrap()
                .starts_with("Error occurred while reading the cache.")
        );
        // The next fetch brings a config and replaces the bad blob.
        assert_eq!(client.tick(mono(T0), T0), Some(Ok(Fetched::New)));
        assert_eq!(greeting(&client), "fresh");
        drop(client);
        assert_eq!(storage.writes, 1);
        assert!(storage.blobs[&key].starts_with(format!("{T0}\n\"v1\"\n").as_bytes()));
    }
}

#[test]
fn redirects_are_followed_within_one_tick() {
    let eu = CdnStandIn::start().unwrap();
    let global = CdnStandIn::start().unwrap();
    eu.set_config(&format!(
        r#"{{"p":{{"u":"{}","r":0}},"f":{{"greeting":{{"t":1,"v":{{"s":"from eu"}}}}}}}}"#,
        eu.base_url()
    ));
    global.set_config(&format!(
        r#"{{"p":{{"u":"{}","r":2}},"f":{{"greeting":{{"t":1,"v":{{"s":"from global"}}}}}}}}"#,
        eu.base_url()
    ));
    let (made, sink) = (Cell::new(0), Capture::default());
    let mut client = boot(
        auto_options(&global.base_url()),
        &made,
        RamStorage::default(),
        &sink,
        T0,
    );
    assert_eq!(client.tick(mono(T0), T0), Some(Ok(Fetched::New)));
    assert_eq!(greeting(&client), "from eu");
    assert_eq!((global.request_count(), eu.request_count()), (1, 1));
    assert_eq!(
        client.storage().writes,
        1,
        "only the final config is written"
    );

    assert_eq!(
        client.tick(mono(T0 + INTERVAL), T0 + INTERVAL),
        Some(Ok(Fetched::NotModified))
    );
    assert_eq!(
        (global.request_count(), eu.request_count()),
        (1, 2),
        "later polls go to the new base url"
    );
}

#[test]
fn manual_polling_fetches_only_on_refresh() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&config_json(true, "manual"));
    let (made, sink) = (Cell::new(0), Capture::default());
    let options = auto_options(&cdn.base_url()).with_polling_mode(PollingMode::Manual);
    let mut client = boot(options, &made, RamStorage::default(), &sink, T0);
    assert_eq!(client.next_tick(), None);
    assert_eq!(client.tick(mono(T0), T0), None);
    assert_eq!(
        client.tick(mono(T0 + 100 * INTERVAL), T0 + 100 * INTERVAL),
        None
    );
    assert_eq!(cdn.request_count(), 0);
    assert_eq!(client.refresh(mono(T0), T0), Ok(Fetched::New));
    assert_eq!(
        client.refresh(mono(T0 + 1), T0 + 1),
        Ok(Fetched::NotModified)
    );
    assert_eq!(greeting(&client), "manual");
    let requests = cdn.requests();
    assert!(
        requests[0]
            .header("X-ConfigCat-UserAgent")
            .unwrap()
            .contains("/m-")
    );
}

#[test]
fn lazy_loading_fetches_on_a_tick_once_the_ttl_expired() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&config_json(true, "lazy"));
    let (made, sink) = (Cell::new(0), Capture::default());
    let options =
        auto_options(&cdn.base_url()).with_polling_mode(PollingMode::Lazy { ttl_ms: 10_000 });
    let mut client = boot(options, &made, RamStorage::default(), &sink, T0);
    assert_eq!(client.tick(mono(T0), T0), Some(Ok(Fetched::New)));
    assert_eq!(greeting(&client), "lazy");
    assert_eq!(cdn.request_count(), 1, "reads never fetch");
    assert_eq!(client.tick(mono(T0 + 9_999), T0 + 9_999), None);
    assert_eq!(client.next_tick(), Some(mono(T0 + 10_000)));
    assert_eq!(
        client.tick(mono(T0 + 10_000), T0 + 10_000),
        Some(Ok(Fetched::NotModified))
    );
}

#[test]
fn evaluation_api_typed_values_details_all_values_and_default_user() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&config_json(true, "hello"));
    let (made, sink) = (Cell::new(0), Capture::default());
    let mut client = boot(
        auto_options(&cdn.base_url()),
        &made,
        RamStorage::default(),
        &sink,
        T0,
    );

    let details = client.get_value_details("greeting", "default", None);
    assert_eq!(details.value, "default");
    assert_eq!(details.error, Some(FlagError::ConfigJsonMissing));
    assert!(client.get_all_values(None).is_empty());
    assert_eq!(client.get_all_keys().count(), 0);

    assert_eq!(client.tick(mono(T0), T0), Some(Ok(Fetched::New)));
    assert!(client.get_value("ledEnabled", false, None));
    assert_eq!(client.get_value("maxItems", 0_i64, None), 42);
    assert!((client.get_value("ratio", 0.0_f64, None) - 0.25).abs() < f64::EPSILON);
    assert!((client.get_value("maxItems", 0.0_f64, None) - 42.0).abs() < f64::EPSILON);
    assert_eq!(client.get_value("greeting", String::new(), None), "hello");

    // A text value is borrowed from the config.
    let text: &str = client.get_value("greeting", "", None);
    let json = client.config().unwrap();
    assert_eq!(
        text,
        json.get_value("greeting", "", None, &configcat_embedded::NoLog)
    );

    let colleague = User::new("7").with_email("jane@example.com");
    let details = client.get_value_details("greeting", "default", Some(&colleague));
    assert_eq!(details.value, "hello colleague");
    assert_eq!(details.variation_id.as_deref(), Some("v-colleague"));
    assert_eq!(details.matched_targeting_rule_index, Some(0));
    assert!(details.matched_targeting_rule.is_some());
    assert!(!details.is_default_value);
    assert_eq!(details.fetch_time_ms, Some(T0));

    let mismatch = client.get_value_details("greeting", false, None);
    assert!(mismatch.is_default_value);
    assert!(matches!(
        mismatch.error,
        Some(FlagError::TypeMismatch { .. })
    ));

    client.set_default_user(colleague.clone());
    assert_eq!(greeting(&client), "hello colleague");
    client.clear_default_user();
    assert_eq!(greeting(&client), "hello");

    assert_eq!(
        client.get_all_keys().collect::<Vec<_>>(),
        ["ledEnabled", "greeting", "maxItems", "ratio"]
    );
    assert_eq!(
        client.get_all_values(Some(&colleague)),
        [
            ("ledEnabled", Value::Bool(true)),
            ("greeting", Value::Text("hello colleague")),
            ("maxItems", Value::Int(42)),
            ("ratio", Value::Float(0.25)),
        ]
    );
    assert_eq!(
        client.get_key_and_value("v-led-true"),
        Some(("ledEnabled", Value::Bool(true)))
    );
    assert_eq!(client.get_all_value_details(None).len(), 4);
}
