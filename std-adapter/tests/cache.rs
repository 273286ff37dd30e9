//! The config cache: the shared payload format and key, serving a cached
//! config before any fetch, and caches that fail.

// clippy.toml allows these inside `#[test]` functions only; the helpers of
// this test crate fail a test the same way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use configcat_cdn_stand_in::{CdnStandIn, Fault};
use configcat_std::cache_key;
use configcat_std::{CacheError, CacheState, Client, ConfigCache, Fetched, Hooks, InMemoryCache};

use common::{
    WAIT, cache_payload, changed_values, logs, now_ms, options, sdk_key, text_config,
    wait_for_value, within_wait,
};

/// Splits a payload into fetch time, ETag and config JSON.
fn parts(payload: &str) -> (u64, String, String) {
    let mut parts = payload.splitn(3, '\n');
    let time = parts.next().unwrap().parse().unwrap();
    let etag = parts.next().unwrap().to_owned();
    let json = parts.next().unwrap().to_owned();
    (time, etag, json)
}

#[test]
fn a_fetched_config_is_cached_in_the_shared_format_under_the_shared_key() {
    let key = sdk_key("cache_payload_format");
    let cdn = CdnStandIn::start().unwrap();
    let json = text_config(&cdn.base_url(), "flag", "one");
    let etag = cdn.set_config(&json);
    let cache = Arc::new(InMemoryCache::new());
    let client = Client::get(&key, options(&cdn).with_cache(cache.clone())).unwrap();

    let cache_key = cache_key(&key);
    assert_eq!(cache_key.len(), 40);
    assert!(cache_key.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        cache.read(&cache_key).unwrap(),
        None,
        "nothing before a fetch"
    );

    let before = now_ms();
    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    let after = now_ms();
    let payload = cache.read(&cache_key).unwrap().unwrap();
    assert_eq!(payload, cache_payload(parts(&payload).0, &etag, &json));
    let (fetch_time, _, _) = parts(&payload);
    assert!((before..=after).contains(&fetch_time), "{fetch_time}");
    let details = client.get_value_details("flag", String::new(), None);
    assert_eq!(details.fetch_time_ms, Some(fetch_time));

    // A 304 confirms the config: same ETag and JSON, a new fetch time.
    assert_eq!(client.force_refresh(), Ok(Fetched::NotModified));
    let confirmed = cache.read(&cache_key).unwrap().unwrap();
    let (confirmed_time, confirmed_etag, confirmed_json) = parts(&confirmed);
    assert!(confirmed_time >= fetch_time);
    assert_eq!((confirmed_etag, confirmed_json), (etag, json));
    client.close();
}

#[test]
fn a_pre_filled_cache_serves_reads_before_any_fetch() {
    let key = sdk_key("cache_pre_filled_manual");
    let cdn = CdnStandIn::start().unwrap();
    let fresh = text_config(&cdn.base_url(), "flag", "fresh");
    let fresh_etag = cdn.set_config(&fresh);
    let cache = Arc::new(InMemoryCache::new());
    let cached = text_config(&cdn.base_url(), "flag", "cached");
    cache
        .write(
            &cache_key(&key),
            &cache_payload(now_ms(), "\"cached\"", &cached),
        )
        .unwrap();
    let client = Client::get(&key, options(&cdn).with_cache(cache.clone())).unwrap();

    assert_eq!(client.get_value("flag", String::new(), None), "cached");
    assert_eq!(client.wait_for_ready(WAIT), CacheState::UpToDate);
    assert_eq!(cdn.request_count(), 0);

    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert_eq!(
        cdn.requests()[0].header("if-none-match"),
        Some("\"cached\""),
        "the cached ETag is sent"
    );
    assert_eq!(client.get_value("flag", String::new(), None), "fresh");
    let (_, etag, json) = parts(&cache.read(&cache_key(&key)).unwrap().unwrap());
    assert_eq!((etag, json), (fresh_etag, fresh));
    client.close();
}

#[test]
fn auto_polling_serves_a_fresh_cache_entry_while_the_server_stalls() {
    let key = sdk_key("cache_pre_filled_auto");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_fault(Fault::Stall(Duration::from_secs(30)));
    let cache = Arc::new(InMemoryCache::new());
    let cached = text_config(&cdn.base_url(), "flag", "cached");
    cache
        .write(&cache_key(&key), &cache_payload(now_ms(), "\"c\"", &cached))
        .unwrap();
    let (sender, ready) = mpsc::channel();
    let sender = Mutex::new(sender);
    let hooks = Hooks::default().on_client_ready(move |state| {
        let _ = sender.lock().unwrap().send(state);
    });
    let client = Client::get(
        &key,
        options(&cdn)
            .with_auto_polling(Duration::from_secs(60), Duration::from_secs(10))
            .with_read_timeout(Duration::from_secs(10))
            .with_cache(cache)
            .with_hooks(hooks),
    )
    .unwrap();
    // A read that waited for the stalled fetch would block for its 10 s read timeout.
    let reader = client.clone();
    let value = within_wait(move || reader.get_value("flag", String::new(), None));
    assert_eq!(value, "cached", "no wait for a fetch");
    assert_eq!(ready.recv_timeout(WAIT).unwrap(), CacheState::UpToDate);
    assert_eq!(client.wait_for_ready(WAIT), CacheState::UpToDate);
    assert_eq!(
        cdn.request_count(),
        0,
        "the fresh entry delays the first poll"
    );
    drop(cdn);
    client.close();
}

#[test]
fn a_new_client_starts_from_what_a_closed_one_cached() {
    let key = sdk_key("cache_across_restarts");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let cache = Arc::new(InMemoryCache::new());
    let first = Client::get(&key, options(&cdn).with_cache(cache.clone())).unwrap();
    assert_eq!(first.force_refresh(), Ok(Fetched::New));
    first.close();

    cdn.set_fault(Fault::Status(500));
    let second = Client::get(&key, options(&cdn).with_cache(cache)).unwrap();
    assert_eq!(second.get_value("flag", String::new(), None), "one");
    assert_eq!(cdn.request_count(), 1);
    second.close();
}

#[test]
fn a_newer_cache_entry_from_another_process_is_adopted_on_the_next_refresh() {
    // Lazy loading reads the cache when its config expires; an entry another
    // process wrote since then is used without a download.
    let key = sdk_key("cache_shared_newer");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_fault(Fault::Stall(Duration::from_secs(30)));
    let cache = Arc::new(InMemoryCache::new());
    let old = text_config(&cdn.base_url(), "flag", "old");
    cache
        .write(
            &cache_key(&key),
            &cache_payload(now_ms() - 120_000, "\"o\"", &old),
        )
        .unwrap();
    let client = Client::get(
        &key,
        options(&cdn)
            .with_lazy_loading(Duration::from_secs(60))
            .with_cache(cache.clone()),
    )
    .unwrap();
    // Another process refreshes the shared cache after this client started.
    let newer = text_config(&cdn.base_url(), "flag", "newer");
    cache
        .write(&cache_key(&key), &cache_payload(now_ms(), "\"n\"", &newer))
        .unwrap();
    assert_eq!(client.get_value("flag", String::new(), None), "newer");
    assert_eq!(client.wait_for_ready(WAIT), CacheState::UpToDate);
    assert_eq!(cdn.request_count(), 0);
    drop(cdn);
    client.close();
}

/// A cache whose every read and write fails.
struct FailingCache {
    marker: &'static str,
    reads: AtomicUsize,
    writes: AtomicUsize,
}

impl ConfigCache for FailingCache {
    fn read(&self, _key: &str) -> Result<Option<String>, CacheError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        Err(format!("read failed: {}", self.marker).into())
    }

    fn write(&self, _key: &str, _payload: &str) -> Result<(), CacheError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        Err(format!("write failed: {}", self.marker).into())
    }
}

#[test]
fn a_failing_cache_is_logged_and_does_not_break_reads() {
    let key = sdk_key("cache_failing");
    let logs = logs();
    let marker = "storage-offline-7f3a";
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let cache = Arc::new(FailingCache {
        marker,
        reads: AtomicUsize::new(0),
        writes: AtomicUsize::new(0),
    });
    let (sender, errors) = mpsc::channel();
    let sender = Mutex::new(sender);
    let hooks = Hooks::default().on_error(move |message| {
        let _ = sender.lock().unwrap().send(message.to_owned());
    });
    let client = Client::get(
        &key,
        options(&cdn)
            .with_lazy_loading(Duration::from_secs(60))
            .with_cache(cache.clone())
            .with_hooks(hooks),
    )
    .unwrap();

    // The read expires the (missing) config: cache read fails, fetch, cache write fails.
    assert_eq!(client.get_value("flag", String::new(), None), "one");
    assert_eq!(client.get_value("flag", String::new(), None), "one");
    assert!(cache.reads.load(Ordering::SeqCst) >= 1);
    assert_eq!(cache.writes.load(Ordering::SeqCst), 1);
    assert_eq!(client.force_refresh(), Ok(Fetched::NotModified));

    let read_errors = logs.matching(&format!("read failed: {marker}"));
    assert!(!read_errors.is_empty());
    let write_errors = logs.matching(&format!("write failed: {marker}"));
    assert!(!write_errors.is_empty());
    for record in read_errors.iter().chain(&write_errors) {
        assert_eq!(record.level, log::Level::Error);
        assert_eq!(record.target, "configcat");
    }
    assert!(
        read_errors[0]
            .message
            .starts_with("[2200] Error occurred while reading the cache."),
        "{read_errors:?}"
    );
    assert!(
        write_errors[0]
            .message
            .starts_with("[2201] Error occurred while writing the cache."),
        "{write_errors:?}"
    );
    let messages: Vec<String> = errors.try_iter().collect();
    assert!(
        messages.iter().any(|m| m.contains("read failed")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("write failed")),
        "{messages:?}"
    );
    client.close();
}

#[test]
fn a_corrupt_cache_entry_is_reported_and_ignored() {
    let key = sdk_key("cache_corrupt");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let cache = Arc::new(InMemoryCache::new());
    cache
        .write(&cache_key(&key), "1700000000000\n\"e\"\n{\"f\":")
        .unwrap();
    let (sender, errors) = mpsc::channel();
    let sender = Mutex::new(sender);
    let hooks = Hooks::default().on_error(move |message| {
        let _ = sender.lock().unwrap().send(message.to_owned());
    });
    let client = Client::get(
        &key,
        options(&cdn).with_cache(cache.clone()).with_hooks(hooks),
    )
    .unwrap();
    let message = errors.recv_timeout(WAIT).unwrap();
    assert!(
        message.starts_with("Error occurred while reading the cache."),
        "{message}"
    );
    assert_eq!(client.get_value("flag", "none".to_owned(), None), "none");
    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert_eq!(client.get_value("flag", String::new(), None), "one");
    let (_, etag, _) = parts(&cache.read(&cache_key(&key)).unwrap().unwrap());
    assert_eq!(etag, "\"v1\"", "the good config replaced the corrupt entry");
    client.close();
}

#[test]
fn an_offline_client_follows_the_shared_cache() {
    // The shared-cache pattern: an online instance writes, offline instances
    // read. The offline client re-reads the cache once per poll interval.
    let cdn = CdnStandIn::start().unwrap();
    let key = sdk_key("an_offline_client_follows_the_shared_cache");
    let cache = Arc::new(InMemoryCache::new());
    let entry = cache_key(&key);
    let first = text_config(&cdn.base_url(), "flag", "first");
    cache
        .write(&entry, &cache_payload(now_ms(), "\"c1\"", &first))
        .unwrap();
    let (hooks, values) = changed_values("flag");
    let client = Client::get(
        &key,
        options(&cdn)
            .with_auto_polling(Duration::from_millis(50), Duration::from_millis(0))
            .with_offline(true)
            .with_cache(cache.clone())
            .with_hooks(hooks),
    )
    .unwrap();
    assert!(wait_for_value(&values, "first"));
    assert_eq!(client.get_value("flag", String::new(), None), "first");
    let second = text_config(&cdn.base_url(), "flag", "second");
    cache
        .write(&entry, &cache_payload(now_ms() + 1, "\"c2\"", &second))
        .unwrap();
    assert!(
        wait_for_value(&values, "second"),
        "the offline client picked up the newer entry"
    );
    assert_eq!(client.get_value("flag", String::new(), None), "second");
    assert_eq!(cdn.request_count(), 0, "an offline client never fetches");
    client.close();
}
