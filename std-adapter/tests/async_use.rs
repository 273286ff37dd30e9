//! The client from async code: its futures run on any executor, and with
//! the documented use (await readiness, serve stale lazy configs, await
//! forced refreshes) nothing blocks an executor's thread on the network.
//!
//! The heartbeat test measures how long a `current_thread` runtime's only
//! thread stops running tasks: a task that wakes every 10 ms records when
//! it ran, and no gap may exceed 25 ms while the CDN hangs, refuses
//! connections or stalls a refresh, or while the client closes.

// clippy.toml allows these inside `#[test]` functions only; the helpers of
// this test crate fail a test the same way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use configcat_cdn_stand_in::{CdnStandIn, Fault};
use configcat_std::{CacheState, Client, ClientOptions, Fetched, ManualClock, RefreshError};

use common::{WAIT, options, sdk_key, text_config};

const BEAT: Duration = Duration::from_millis(10);
const LONGEST_GAP: Duration = Duration::from_millis(25);
const STALL: Fault = Fault::Stall(Duration::from_secs(30));

/// When the heartbeat task ran.
type Beats = Arc<Mutex<Vec<Instant>>>;

/// The longest time between two heartbeats around `from..to`.
fn longest_gap(beats: &Beats, from: Instant, to: Instant) -> Duration {
    let beats = beats.lock().unwrap();
    let first = beats.iter().rposition(|&beat| beat <= from).unwrap_or(0);
    let last = beats
        .iter()
        .position(|&beat| beat >= to)
        .unwrap_or(beats.len() - 1);
    beats[first..=last]
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .max()
        .unwrap_or_default()
}

/// Runs `work` while the heartbeat beats; returns the longest gap.
async fn gap_during<F: Future<Output = ()>>(beats: &Beats, work: F) -> Duration {
    tokio::time::sleep(3 * BEAT).await;
    let from = Instant::now();
    work.await;
    let to = Instant::now();
    tokio::time::sleep(3 * BEAT).await;
    longest_gap(beats, from, to)
}

/// A loopback port nothing listens on.
fn refusing_base_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn a_current_thread_runtime_keeps_its_heartbeat() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let beats: Beats = Arc::default();
        let recorder = Arc::clone(&beats);
        let heartbeat = tokio::spawn(async move {
            loop {
                recorder.lock().unwrap().push(Instant::now());
                tokio::time::sleep(BEAT).await;
            }
        });
        let mut gaps = Vec::new();

        // A hanging CDN: readiness is awaited (max init wait ends it), then reads.
        let hanging = CdnStandIn::start().unwrap();
        hanging.set_fault(STALL);
        let auto = Client::get(
            &sdk_key("async_hanging_cdn"),
            options(&hanging)
                .with_auto_polling(Duration::from_secs(60), Duration::from_millis(300))
                .with_read_timeout(Duration::from_secs(30)),
        )
        .unwrap();
        let gap = gap_during(&beats, async {
            assert_eq!(
                auto.wait_for_ready_async(WAIT).await,
                CacheState::NoFlagData
            );
            for _ in 0..100 {
                assert_eq!(auto.get_value("flag", "d".to_owned(), None), "d");
            }
        })
        .await;
        gaps.push(("hanging CDN", gap));

        // A refused connection.
        let refused = Client::get(
            &sdk_key("async_refused"),
            ClientOptions::default()
                .with_base_url(refusing_base_url())
                .with_auto_polling(Duration::from_secs(60), Duration::from_secs(5)),
        )
        .unwrap();
        let gap = gap_during(&beats, async {
            assert_eq!(
                refused.wait_for_ready_async(WAIT).await,
                CacheState::NoFlagData
            );
            assert!(!refused.get_value("flag", false, None));
        })
        .await;
        gaps.push(("refused connection", gap));

        // Lazy loading past its TTL against a stalled CDN, serving stale.
        let stalling = CdnStandIn::start().unwrap();
        stalling.set_config(&text_config(&stalling.base_url(), "flag", "one"));
        let clock = ManualClock::new(1_700_000_000_000);
        let lazy = Client::get(
            &sdk_key("async_lazy_stale"),
            options(&stalling)
                .with_lazy_loading(Duration::from_secs(60))
                .with_serve_stale(true)
                .with_read_timeout(Duration::from_secs(30))
                .with_clock(clock.clock()),
        )
        .unwrap();
        assert_eq!(lazy.force_refresh_async().await, Ok(Fetched::New));
        stalling.set_fault(STALL);
        clock.advance(Duration::from_secs(61));
        let gap = gap_during(&beats, async {
            for _ in 0..100 {
                assert_eq!(lazy.get_value("flag", String::new(), None), "one");
            }
            assert!(
                stalling.wait_for_requests(2, WAIT),
                "refreshing in the background"
            );
        })
        .await;
        gaps.push(("lazy TTL expiry, stalled CDN", gap));

        // A forced refresh against a stall, awaited until its read timeout ends it.
        let forced = Client::get(
            &sdk_key("async_force_stall"),
            options(&stalling).with_read_timeout(Duration::from_millis(500)),
        )
        .unwrap();
        let gap = gap_during(&beats, async {
            let result = forced.force_refresh_async().await;
            assert!(
                matches!(result, Err(RefreshError::Transport { .. })),
                "{result:?}"
            );
        })
        .await;
        gaps.push(("force refresh, stalled CDN", gap));

        // Closing clients whose requests still stall.
        let gap = gap_during(&beats, async {
            for client in [&auto, &refused, &lazy, &forced] {
                client.close();
            }
        })
        .await;
        gaps.push(("close", gap));

        heartbeat.abort();
        for (scenario, gap) in gaps {
            println!("{scenario}: longest heartbeat gap {gap:?}");
            assert!(
                gap <= LONGEST_GAP,
                "{scenario}: the executor stalled for {gap:?}"
            );
        }
    });
}

/// A forced refresh and readiness, awaited.
async fn refresh_and_ready(test: &str) {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let client = Client::get(&sdk_key(test), options(&cdn)).unwrap();
    assert_eq!(
        client.wait_for_ready_async(WAIT).await,
        CacheState::NoFlagData
    );
    assert_eq!(client.force_refresh_async().await, Ok(Fetched::New));
    assert_eq!(
        client.wait_for_ready_async(WAIT).await,
        CacheState::UpToDate
    );
    assert_eq!(client.get_value("flag", String::new(), None), "one");
    client.close();
}

#[test]
fn readiness_waits_for_the_first_lazy_fetch_when_serving_stale() {
    futures_executor::block_on(async {
        let cdn = CdnStandIn::start().unwrap();
        cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
        let client = Client::get(
            &sdk_key("async_lazy_ready"),
            options(&cdn)
                .with_lazy_loading(Duration::from_secs(60))
                .with_serve_stale(true),
        )
        .unwrap();
        assert_eq!(
            client.wait_for_ready_async(WAIT).await,
            CacheState::UpToDate
        );
        assert_eq!(client.get_value("flag", String::new(), None), "one");
        assert_eq!(cdn.request_count(), 1);
        client.close();
    });
}

#[test]
fn the_futures_run_on_a_multi_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    runtime.block_on(refresh_and_ready("async_multi_thread"));
}

#[test]
fn the_futures_run_on_a_plain_block_on() {
    futures_executor::block_on(refresh_and_ready("async_block_on"));
}
