//! Polling modes (auto, lazy, manual), readiness, offline/online switching,
//! close, and reads that never wait on a stalled refresh.

// clippy.toml allows these inside `#[test]` functions only; the helpers of
// this test crate fail a test the same way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use configcat_cdn_stand_in::{CdnStandIn, Fault};
use configcat_std::{
    CacheState, Client, Fetched, FlagOverrides, Hooks, InMemoryCache, ManualClock,
    OverrideBehaviour, OwnedValue, RefreshError,
};

use common::{
    POLL_INTERVAL, WAIT, auto_options, cache_payload, changed_values, now_ms, options, sdk_key,
    text_config, wait_for_value, within_wait,
};

fn user_agent(cdn: &CdnStandIn, index: usize) -> String {
    cdn.requests()[index]
        .header("x-configcat-useragent")
        .unwrap()
        .to_owned()
}

#[test]
fn auto_polling_fetches_at_once_and_then_every_interval() {
    let key = sdk_key("auto_polling_interval");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let (hooks, changes) = changed_values("flag");
    let started = Instant::now();
    let client = Client::get(&key, auto_options(&cdn).with_hooks(hooks)).unwrap();

    assert_eq!(client.wait_for_ready(WAIT), CacheState::UpToDate);
    assert_eq!(client.get_value("flag", String::new(), None), "one");
    assert!(wait_for_value(&changes, "one"));
    assert!(cdn.wait_for_requests(3, WAIT), "polls every interval");
    // Three polls are two intervals apart at least: polling never hammers the CDN.
    assert!(
        started.elapsed() >= POLL_INTERVAL * 2 - Duration::from_millis(20),
        "{:?}",
        started.elapsed()
    );
    assert!(
        user_agent(&cdn, 0).starts_with("ConfigCat-OxideFlags/a-"),
        "{}",
        user_agent(&cdn, 0)
    );
    assert!(
        cdn.requests()[0]
            .path
            .ends_with(&format!("/configuration-files/{key}/config_v6.json"))
    );

    cdn.set_config(&text_config(&cdn.base_url(), "flag", "two"));
    assert!(wait_for_value(&changes, "two"), "a new config is picked up");
    assert_eq!(client.get_value("flag", String::new(), None), "two");
    client.close();
}

#[test]
fn auto_polling_reads_wait_for_the_first_config() {
    let key = sdk_key("auto_polling_first_read");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    // The first answer trickles in over ~150 ms: the first read must wait for it.
    cdn.set_fault_for(
        Fault::SlowBody {
            chunk_delay: Duration::from_millis(5),
        },
        1,
    );
    let client = Client::get(
        &key,
        auto_options(&cdn).with_read_timeout(Duration::from_secs(3)),
    )
    .unwrap();
    assert_eq!(client.get_value("flag", String::new(), None), "one");
    client.close();
}

#[test]
fn max_init_wait_bounds_the_first_read_when_the_server_stalls() {
    let key = sdk_key("max_init_wait_bounds");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    cdn.set_fault(Fault::Stall(Duration::from_secs(30)));
    let options = options(&cdn)
        .with_auto_polling(POLL_INTERVAL, Duration::from_millis(200))
        .with_read_timeout(Duration::from_secs(10));
    let started = Instant::now();
    let client = Client::get(&key, options).unwrap();
    assert_eq!(
        client.get_value("flag", "default".to_owned(), None),
        "default"
    );
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(150), "{elapsed:?}");
    // It did not wait for the stalled fetch (a 10 s read timeout): later
    // reads do not wait either (tests/clock.rs shows it on a manual clock).
    let reader = client.clone();
    let value = within_wait(move || reader.get_value("flag", "d".to_owned(), None));
    assert_eq!(value, "d");
    // Dropping the stand-in ends the stalled request, so close is quick.
    drop(cdn);
    client.close();
}

#[test]
fn client_ready_hook_fires_after_max_init_wait_while_the_fetch_stalls() {
    let key = sdk_key("ready_hook_max_init_wait");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_fault(Fault::Stall(Duration::from_secs(30)));
    let (sender, ready) = mpsc::channel();
    let sender = Mutex::new(sender);
    let hooks = Hooks::default().on_client_ready(move |state| {
        let _ = sender.lock().unwrap().send(state);
    });
    let options = options(&cdn)
        .with_auto_polling(POLL_INTERVAL, Duration::from_millis(200))
        .with_read_timeout(Duration::from_secs(10))
        .with_hooks(hooks);
    let client = Client::get(&key, options).unwrap();
    // Nobody reads: the hook alone must tell the application the wait is
    // over, while the fetch stalls (its read timeout of 10 s is past `WAIT`).
    assert_eq!(ready.recv_timeout(WAIT).unwrap(), CacheState::NoFlagData);
    drop(cdn);
    client.close();
    assert!(ready.try_recv().is_err(), "reported once");
}

#[test]
fn a_failed_first_fetch_ends_the_wait_within_the_read_timeout() {
    let key = sdk_key("failed_first_fetch");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_fault(Fault::Stall(Duration::from_secs(30)));
    // Max init wait never ends on a clock that stands still: the read
    // timeout (300 ms) ending the first fetch is what ends the wait.
    let clock = ManualClock::new(1_700_000_000_000);
    let options = options(&cdn)
        .with_auto_polling(Duration::from_secs(60), Duration::from_secs(10))
        .with_clock(clock.clock());
    let client = Client::get(&key, options).unwrap();
    assert!(!client.get_value("flag", false, None));
    assert_eq!(client.wait_for_ready(WAIT), CacheState::NoFlagData);
    drop(cdn);
    client.close();
}

#[test]
fn manual_polling_fetches_only_on_force_refresh() {
    let key = sdk_key("manual_polling");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let client = Client::get(&key, options(&cdn)).unwrap();

    assert_eq!(client.wait_for_ready(WAIT), CacheState::NoFlagData);
    assert_eq!(client.get_value("flag", "none".to_owned(), None), "none");
    assert_eq!(cdn.request_count(), 0, "reads never fetch in manual mode");

    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert_eq!(cdn.request_count(), 1);
    assert!(user_agent(&cdn, 0).starts_with("ConfigCat-OxideFlags/m-"));
    assert_eq!(client.get_value("flag", String::new(), None), "one");
    assert_eq!(client.wait_for_ready(WAIT), CacheState::UpToDate);

    cdn.set_config(&text_config(&cdn.base_url(), "flag", "two"));
    assert_eq!(client.get_value("flag", String::new(), None), "one");
    assert_eq!(cdn.request_count(), 1);
    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert_eq!(client.get_value("flag", String::new(), None), "two");
    client.close();
}

#[test]
fn lazy_loading_fetches_on_read_and_keeps_the_config_for_the_ttl() {
    let key = sdk_key("lazy_loading_ttl");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let client = Client::get(
        &key,
        options(&cdn).with_lazy_loading(Duration::from_secs(60)),
    )
    .unwrap();
    assert_eq!(cdn.request_count(), 0, "nothing fetched before a read");

    assert_eq!(client.get_value("flag", String::new(), None), "one");
    assert_eq!(cdn.request_count(), 1, "the read fetched");
    assert!(user_agent(&cdn, 0).starts_with("ConfigCat-OxideFlags/l-"));

    cdn.set_config(&text_config(&cdn.base_url(), "flag", "two"));
    for _ in 0..10 {
        assert_eq!(client.get_value("flag", String::new(), None), "one");
    }
    assert_eq!(client.get_all_keys(), ["flag"]);
    assert_eq!(cdn.request_count(), 1, "no fetch within the TTL");
    assert_eq!(client.wait_for_ready(WAIT), CacheState::UpToDate);

    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert_eq!(client.get_value("flag", String::new(), None), "two");
    client.close();
}

#[test]
fn lazy_loading_refetches_an_expired_cached_config() {
    let key = sdk_key("lazy_loading_expired");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "fresh"));
    let cache = Arc::new(InMemoryCache::new());
    let old = cache_payload(
        now_ms() - 120_000,
        "\"old\"",
        &text_config(&cdn.base_url(), "flag", "cached"),
    );
    configcat_std::ConfigCache::write(&*cache, &configcat_core::refresh::cache_key(&key), &old)
        .unwrap();
    let client = Client::get(
        &key,
        options(&cdn)
            .with_lazy_loading(Duration::from_secs(60))
            .with_cache(cache),
    )
    .unwrap();
    assert_eq!(client.get_value("flag", String::new(), None), "fresh");
    assert_eq!(cdn.request_count(), 1);
    assert_eq!(
        cdn.requests()[0].header("if-none-match"),
        Some("\"old\""),
        "the cached ETag is sent"
    );
    client.close();
}

#[test]
fn lazy_loading_serves_a_fresh_cached_config_without_fetching() {
    let key = sdk_key("lazy_loading_fresh_cache");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "server"));
    let cache = Arc::new(InMemoryCache::new());
    let fresh = cache_payload(
        now_ms(),
        "\"c\"",
        &text_config(&cdn.base_url(), "flag", "cached"),
    );
    configcat_std::ConfigCache::write(&*cache, &configcat_core::refresh::cache_key(&key), &fresh)
        .unwrap();
    let client = Client::get(
        &key,
        options(&cdn)
            .with_lazy_loading(Duration::from_secs(60))
            .with_cache(cache),
    )
    .unwrap();
    assert_eq!(client.get_value("flag", String::new(), None), "cached");
    assert_eq!(client.wait_for_ready(WAIT), CacheState::UpToDate);
    assert_eq!(cdn.request_count(), 0);
    client.close();
}

#[test]
fn concurrent_lazy_reads_share_one_fetch() {
    let key = sdk_key("lazy_loading_shared");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    cdn.set_fault_for(
        Fault::SlowBody {
            chunk_delay: Duration::from_millis(3),
        },
        1,
    );
    let client = Client::get(
        &key,
        options(&cdn)
            .with_lazy_loading(Duration::from_secs(60))
            .with_read_timeout(Duration::from_secs(3)),
    )
    .unwrap();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let client = client.clone();
            thread::spawn(move || client.get_value("flag", String::new(), None))
        })
        .collect();
    for reader in readers {
        assert_eq!(reader.join().unwrap(), "one");
    }
    assert_eq!(cdn.request_count(), 1);
    client.close();
}

#[test]
fn offline_and_online_switching() {
    let key = sdk_key("offline_online");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let (hooks, changes) = changed_values("flag");
    let client = Client::get(
        &key,
        auto_options(&cdn).with_offline(true).with_hooks(hooks),
    )
    .unwrap();

    assert!(client.is_offline());
    assert_eq!(client.wait_for_ready(WAIT), CacheState::NoFlagData);
    assert_eq!(client.force_refresh(), Err(RefreshError::Offline));
    assert!(
        !cdn.wait_for_requests(1, POLL_INTERVAL * 3),
        "no requests while offline"
    );
    assert_eq!(client.get_value("flag", "d".to_owned(), None), "d");

    client.set_online();
    assert!(!client.is_offline());
    assert!(wait_for_value(&changes, "one"), "polls at once when online");
    assert_eq!(client.get_value("flag", String::new(), None), "one");

    client.set_offline();
    assert!(client.is_offline());
    // A poll may be in flight at the switch: force_refresh waits for it and
    // then reports Offline.
    let mut attempts = 0;
    while client.force_refresh() != Err(RefreshError::Offline) {
        attempts += 1;
        assert!(attempts < 3);
    }
    let count = cdn.request_count();
    assert!(
        !cdn.wait_for_requests(count + 1, POLL_INTERVAL * 3),
        "polling stopped"
    );
    assert_eq!(
        client.get_value("flag", String::new(), None),
        "one",
        "reads keep the last config"
    );

    cdn.set_config(&text_config(&cdn.base_url(), "flag", "two"));
    client.set_online();
    assert!(wait_for_value(&changes, "two"), "polling resumed");
    client.close();
}

#[test]
fn offline_manual_client_goes_online() {
    let key = sdk_key("offline_manual");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let client = Client::get(&key, options(&cdn).with_offline(true)).unwrap();
    assert_eq!(client.force_refresh(), Err(RefreshError::Offline));
    assert_eq!(cdn.request_count(), 0);
    client.set_online();
    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert_eq!(client.get_value("flag", String::new(), None), "one");
    client.close();
}

#[test]
fn close_stops_the_polling_thread() {
    let key = sdk_key("close_stops_polling");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let client = Client::get(&key, auto_options(&cdn)).unwrap();
    assert!(cdn.wait_for_requests(2, WAIT));
    client.close();
    assert!(client.is_closed());
    let count = cdn.request_count();
    assert!(
        !cdn.wait_for_requests(count + 1, POLL_INTERVAL * 4),
        "no poll after close"
    );
    assert_eq!(
        client.get_value("flag", String::new(), None),
        "one",
        "reads keep working on the last config"
    );
    // Closing twice is harmless.
    client.close();
    // The registry forgot the closed client: a new one is created.
    let again = Client::get(&key, auto_options(&cdn)).unwrap();
    assert!(!again.is_closed());
    assert!(cdn.wait_for_requests(count + 1, WAIT));
    again.close();
}

#[test]
fn reads_return_at_once_while_a_refresh_is_stalled() {
    let key = sdk_key("reads_during_stall");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let client = Client::get(
        &key,
        options(&cdn)
            .with_auto_polling(Duration::from_secs(60), Duration::from_secs(5))
            .with_read_timeout(Duration::from_secs(10)),
    )
    .unwrap();
    assert_eq!(client.wait_for_ready(WAIT), CacheState::UpToDate);
    assert_eq!(cdn.request_count(), 1);

    cdn.set_fault(Fault::Stall(Duration::from_secs(30)));
    let refresher = {
        let client = client.clone();
        thread::spawn(move || client.force_refresh())
    };
    assert!(cdn.wait_for_requests(2, WAIT), "the refresh is in flight");

    // The refresh holds no lock readers need: were they blocked, they would
    // wait out its 10 s read timeout.
    let reader = client.clone();
    within_wait(move || {
        for _ in 0..100 {
            assert_eq!(reader.get_value("flag", String::new(), None), "one");
        }
        let details = reader.get_value_details("flag", String::new(), None);
        assert_eq!(details.value, "one");
        assert_eq!(reader.get_all_keys(), ["flag"]);
        assert_eq!(reader.get_all_values(None).len(), 1);
        assert!(!reader.is_offline());
    });

    // Dropping the stand-in breaks the stalled connection.
    drop(cdn);
    let result = refresher.join().unwrap();
    assert!(
        matches!(result, Err(RefreshError::Transport { .. })),
        "{result:?}"
    );
    assert_eq!(client.get_value("flag", String::new(), None), "one");
    client.close();
}

#[test]
fn wait_for_ready_reports_up_to_date_after_a_fetch() {
    let key = sdk_key("ready_up_to_date");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let (sender, ready) = mpsc::channel();
    let sender = Mutex::new(sender);
    let hooks = Hooks::default().on_client_ready(move |state| {
        let _ = sender.lock().unwrap().send(state);
    });
    let client = Client::get(&key, auto_options(&cdn).with_hooks(hooks)).unwrap();
    assert_eq!(client.wait_for_ready(WAIT), CacheState::UpToDate);
    assert_eq!(ready.recv_timeout(WAIT).unwrap(), CacheState::UpToDate);
    client.close();
}

#[test]
fn wait_for_ready_reports_no_flag_data_when_the_server_is_down() {
    let key = sdk_key("ready_no_flag_data");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_fault(Fault::Stall(Duration::from_secs(30)));
    let (sender, ready) = mpsc::channel();
    let sender = Mutex::new(sender);
    let hooks = Hooks::default().on_client_ready(move |state| {
        let _ = sender.lock().unwrap().send(state);
    });
    let client = Client::get(
        &key,
        options(&cdn)
            .with_auto_polling(POLL_INTERVAL, Duration::from_millis(200))
            .with_read_timeout(Duration::from_secs(10))
            .with_hooks(hooks),
    )
    .unwrap();
    assert_eq!(client.wait_for_ready(WAIT), CacheState::NoFlagData);
    // Ready by max init wait (the hook says so), not by `WAIT` running out.
    assert_eq!(ready.recv_timeout(WAIT), Ok(CacheState::NoFlagData));
    drop(cdn);
    client.close();
}

#[test]
fn wait_for_ready_times_out_before_max_init_wait() {
    let key = sdk_key("ready_timeout");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_fault(Fault::Stall(Duration::from_secs(30)));
    // Max init wait never ends on a clock that stands still.
    let clock = ManualClock::new(1_700_000_000_000);
    let client = Client::get(
        &key,
        options(&cdn)
            .with_auto_polling(POLL_INTERVAL, Duration::from_secs(20))
            .with_read_timeout(Duration::from_secs(20))
            .with_clock(clock.clock()),
    )
    .unwrap();
    let started = Instant::now();
    assert_eq!(
        client.wait_for_ready(Duration::from_millis(100)),
        CacheState::NoFlagData
    );
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(90), "{elapsed:?}");
    drop(cdn);
    client.close();
}

#[test]
fn wait_for_ready_reports_cached_data_only_for_an_old_cache_entry() {
    let key = sdk_key("ready_cached_data_only");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_fault(Fault::Stall(Duration::from_secs(30)));
    let cache = Arc::new(InMemoryCache::new());
    let old = cache_payload(
        1_000,
        "\"old\"",
        &text_config(&cdn.base_url(), "flag", "cached"),
    );
    configcat_std::ConfigCache::write(&*cache, &configcat_core::refresh::cache_key(&key), &old)
        .unwrap();
    let client = Client::get(
        &key,
        options(&cdn)
            .with_auto_polling(POLL_INTERVAL, Duration::from_secs(5))
            .with_cache(cache),
    )
    .unwrap();
    // The stalled first fetch fails after the read timeout (300 ms).
    assert_eq!(client.wait_for_ready(WAIT), CacheState::CachedDataOnly);
    assert_eq!(client.get_value("flag", String::new(), None), "cached");
    drop(cdn);
    client.close();
}

#[test]
fn wait_for_ready_reports_local_overrides_only() {
    let key = sdk_key("ready_local_only");
    let cdn = CdnStandIn::start().unwrap();
    let overrides = FlagOverrides::from_map(
        [("flag", OwnedValue::Bool(true))],
        OverrideBehaviour::LocalOnly,
    );
    let client = Client::get(&key, auto_options(&cdn).with_flag_overrides(overrides)).unwrap();
    assert_eq!(client.wait_for_ready(WAIT), CacheState::LocalOverridesOnly);
    assert!(client.get_value("flag", false, None));
    client.close();
}

#[test]
fn a_stalled_poll_keeps_the_config_and_reports_a_timeout() {
    // The poller's failures do not disturb readers: a stalled poll after a
    // good config leaves the config in place and reports a timeout.
    let key = sdk_key("auto_poll_timeout");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let (sender, errors) = mpsc::channel();
    let sender = Mutex::new(sender);
    let hooks = Hooks::default().on_error(move |message| {
        let _ = sender.lock().unwrap().send(message.to_owned());
    });
    let client: Client = Client::get(&key, auto_options(&cdn).with_hooks(hooks)).unwrap();
    assert_eq!(client.wait_for_ready(WAIT), CacheState::UpToDate);
    cdn.set_fault(Fault::Stall(Duration::from_secs(30)));
    let message = errors.recv_timeout(WAIT).unwrap();
    assert!(message.contains("Request timed out"), "{message}");
    assert_eq!(client.get_value("flag", String::new(), None), "one");
    drop(cdn);
    client.close();
}

#[test]
fn a_lazy_read_is_bounded_by_the_read_timeout() {
    let key = sdk_key("lazy_read_timeout");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_fault(Fault::Stall(Duration::from_secs(30)));
    let client = Client::get(
        &key,
        options(&cdn).with_lazy_loading(Duration::from_secs(60)),
    )
    .unwrap();
    // The read timeout (300 ms) ends the read, not the stall (30 s).
    let reader = client.clone();
    let value = within_wait(move || reader.get_value("flag", "d".to_owned(), None));
    assert_eq!(value, "d");
    // A failed lazy fetch is not retried before the TTL: the next read does not fetch.
    assert_eq!(client.get_value("flag", "d".to_owned(), None), "d");
    assert_eq!(cdn.request_count(), 1);
    drop(cdn);
    client.close();
}

#[test]
fn close_is_bounded_by_the_read_timeout_while_a_poll_stalls() {
    let key = sdk_key("close_during_stall");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_fault(Fault::Stall(Duration::from_secs(30)));
    // A read timeout longer than `WAIT`: a close that waited for the request would hang.
    let client = Client::get(
        &key,
        auto_options(&cdn).with_read_timeout(Duration::from_secs(30)),
    )
    .unwrap();
    assert!(
        cdn.wait_for_requests(1, WAIT),
        "the first poll is in flight"
    );
    let closing = client.clone();
    within_wait(move || closing.close());
    let count = cdn.request_count();
    assert!(!cdn.wait_for_requests(count + 1, POLL_INTERVAL * 3));
}
