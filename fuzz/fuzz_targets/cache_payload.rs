//! A shared-cache payload (`<fetch time>\n<etag>\n<config json>`) written by
//! anyone: another SDK, an older version, an attacker with cache access.
//! Reading never panics; what is accepted round-trips through `payload()`;
//! a refresher handed it either adopts it (and then reports the same
//! config) or keeps what it had.
#![no_main]

use configcat_core::NoLog;
use configcat_core::refresh::{CacheEntry, Instant, PollingMode, RefreshOptions, Refresher};
use configcat_fuzz::{FormattingSink, exercise};
use libfuzzer_sys::fuzz_target;

const SDK_KEY: &str = "configcat-sdk-1/PKDVCLf-Hq-h-kCzMp-L7Q/HhOWfwVtZ0mb30i9wi17GQ";

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = core::str::from_utf8(data) else {
        return;
    };
    let parsed = CacheEntry::parse_payload(payload);
    if let Ok((entry, config)) = &parsed {
        let written = entry.payload();
        let (again, _) = CacheEntry::parse_payload(&written)
            .unwrap_or_else(|e| panic!("an accepted entry does not read back: {e}"));
        assert_eq!(&again, entry, "payload round trip");
        exercise(config, None, "missing");
    }

    let options = RefreshOptions::new(PollingMode::Auto {
        interval_ms: 60_000,
        max_init_wait_ms: 5_000,
    });
    let Ok(mut refresher) = Refresher::new(SDK_KEY, options, Instant::ZERO) else {
        panic!("the test SDK key is valid");
    };
    let sink = FormattingSink::default();
    let adopted =
        refresher.handle_cache_payload(Instant::from_millis(1_000), 1_000, payload, &sink);
    match (&parsed, refresher.entry()) {
        (Ok((entry, _)), Some(kept)) => {
            assert_eq!(entry, kept, "the refresher keeps what was read");
            assert!(adopted.is_some(), "a first valid payload is a new config");
        }
        (Ok(_), None) => panic!("a valid payload was not adopted"),
        (Err(_), kept) => {
            assert!(
                kept.is_none() && adopted.is_none(),
                "an invalid payload was adopted"
            );
            assert!(
                payload.is_empty() || sink.events() == 1,
                "a rejected payload is reported once"
            );
        }
    }
    // Handing the same payload again changes nothing.
    assert!(
        refresher
            .handle_cache_payload(Instant::from_millis(2_000), 2_000, payload, &NoLog)
            .is_none()
    );
});
