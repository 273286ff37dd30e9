//! The client's timing on a manual clock: polls, max init wait and lazy
//! expiry happen when the clock says so, and a wall clock that steps
//! (NTP) neither stops polling nor causes a burst of fetches. No test here
//! measures how long anything took.

// clippy.toml allows these inside `#[test]` functions only; the helpers of
// this test crate fail a test the same way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Mutex;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use configcat_cdn_stand_in::{CdnStandIn, Fault};
use configcat_std::{CacheState, Client, Hooks, ManualClock};

use common::{WAIT, changed_values, logs, options, sdk_key, text_config, wait_for_value};

const UNIX_START: u64 = 1_700_000_000_000;
const SECOND: Duration = Duration::from_secs(1);

/// Polls every second of a manual clock for 12 s, the wall clock stepping
/// by `step_ms` after 4 s; the config changes before every poll, so each
/// poll is seen when its config-changed hook fires. Returns the requests made.
fn requests_through_a_wall_clock_step(test: &str, step_ms: i64) -> usize {
    let cdn = CdnStandIn::start().unwrap();
    let config = |version: usize| text_config(&cdn.base_url(), "flag", &format!("v{version}"));
    cdn.set_config(&config(0));
    let clock = ManualClock::new(UNIX_START);
    let (hooks, changes) = changed_values("flag");
    let client = Client::get(
        &sdk_key(test),
        options(&cdn)
            .with_auto_polling(SECOND, Duration::ZERO)
            .with_clock(clock.clock())
            .with_hooks(hooks),
    )
    .unwrap();
    assert!(wait_for_value(&changes, "v0"), "the first poll, at once");
    for version in 1..=12 {
        if version == 5 {
            clock.step_wall_clock(step_ms);
        }
        cdn.set_config(&config(version));
        clock.advance(SECOND);
        assert!(
            wait_for_value(&changes, &format!("v{version}")),
            "poll {version} after a wall-clock step of {step_ms} ms"
        );
    }
    client.close();
    cdn.request_count()
}

#[test]
fn a_wall_clock_step_back_an_hour_does_not_stop_polling() {
    assert_eq!(
        requests_through_a_wall_clock_step("clock_step_back", -3_600_000),
        13,
        "one request at start and one per interval, no more"
    );
}

#[test]
fn a_wall_clock_step_forward_a_day_causes_no_burst_of_fetches() {
    assert_eq!(
        requests_through_a_wall_clock_step("clock_step_forward", 86_400_000),
        13,
        "one request at start and one per interval, no more"
    );
}

#[test]
fn max_init_wait_ends_on_the_clock_while_the_first_fetch_stalls() {
    let logs = logs();
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_fault(Fault::Stall(Duration::from_secs(30)));
    let clock = ManualClock::new(UNIX_START);
    let (sender, ready) = mpsc::channel();
    let sender = Mutex::new(sender);
    let hooks = Hooks::default().on_client_ready(move |state| {
        let _ = sender.lock().unwrap().send(state);
    });
    let client = Client::get(
        &sdk_key("manual_clock_max_init_wait"),
        options(&cdn)
            .with_auto_polling(Duration::from_secs(60), Duration::from_secs(5))
            .with_read_timeout(Duration::from_secs(30))
            .with_clock(clock.clock())
            .with_hooks(hooks),
    )
    .unwrap();
    assert!(
        cdn.wait_for_requests(1, WAIT),
        "the first fetch is in flight"
    );
    let reader = {
        let client = client.clone();
        thread::spawn(move || client.get_value("flag", "default".to_owned(), None))
    };
    clock.advance(Duration::from_millis(4_999));
    clock.advance(Duration::from_millis(1));
    assert_eq!(ready.recv_timeout(WAIT).unwrap(), CacheState::NoFlagData);
    assert_eq!(reader.join().unwrap(), "default");
    assert!(
        !logs.matching("[4200] `max_init_wait`").is_empty(),
        "the end of the wait is logged"
    );

    // The clock stands still from here: a read that waited again would hang.
    let (sender, read) = mpsc::channel();
    let again = client.clone();
    thread::spawn(move || sender.send(again.get_value("flag", "d".to_owned(), None)));
    assert_eq!(
        read.recv_timeout(WAIT).unwrap(),
        "d",
        "later reads do not wait"
    );
    assert!(ready.try_recv().is_err(), "ready is reported once");
    // Dropping the stand-in ends the stalled request.
    drop(cdn);
    client.close();
}

#[test]
fn lazy_loading_refreshes_when_the_ttl_has_passed_on_the_clock() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let clock = ManualClock::new(UNIX_START);
    let client = Client::get(
        &sdk_key("manual_clock_lazy_ttl"),
        options(&cdn)
            .with_lazy_loading(Duration::from_secs(60))
            .with_clock(clock.clock()),
    )
    .unwrap();
    assert_eq!(client.get_value("flag", String::new(), None), "one");
    assert_eq!(cdn.request_count(), 1);
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "two"));
    clock.advance(Duration::from_millis(59_999));
    assert_eq!(client.get_value("flag", String::new(), None), "one");
    assert_eq!(cdn.request_count(), 1, "not expired yet");
    // The wall clock jumping a day ahead is no reason to refresh.
    clock.step_wall_clock(86_400_000);
    assert_eq!(client.get_value("flag", String::new(), None), "one");
    assert_eq!(cdn.request_count(), 1);
    clock.advance(Duration::from_millis(1));
    assert_eq!(client.get_value("flag", String::new(), None), "two");
    assert_eq!(cdn.request_count(), 2, "expired: the read refreshed");
    client.close();
}
