//! Fault soak: the embedded client, ticked from a loop, against a
//! misbehaving CDN for a bounded time, with reboots.
//!
//! The client talks to the CDN stand-in through the host's TCP `Connection`
//! (read timeout 300 ms), and keeps its config in a RAM "NVS" behind
//! [`KeyValueStorage`], the adapter's path to esp-idf-svc's NVS. The clock is
//! simulated: every tick is one polling interval after the last, so every
//! tick fetches, and a tick is synchronous, so each step knows exactly what
//! its request met. The steps rotate through good configs, `304`s, `500`s
//! and `403`s, resets and truncations mid-body, invalid bodies, stalls and
//! slow bodies past the read timeout, a forced redirect loop between two
//! stand-ins, a should-redirect (ignored: the base url is custom), and a
//! reboot: the client is dropped and a new one boots from the storage while
//! the CDN already has a newer config but fails the first request.
//!
//! It checks that every read (a burst after every tick) comes whole from one
//! good config and versions only move forward; that a fault never replaces
//! the last good config; that each fault is reported exactly once, with its
//! event id, and nothing else is reported; that the storage is written once
//! per new config and never otherwise; that after a reboot the client serves
//! the last good config from the storage before any fetch succeeds; and that
//! the client's heap does not grow between the end of the warm-up and the
//! end of the run.
//!
//! `allocation-counter` counts the allocations of the test's thread, where
//! the client runs (connections, storage and all); the stand-in's own
//! threads are not counted, and the few calls into it from this thread are
//! left out (`opt_out`), so the figures are the client's.
//!
//! 30 s by default; `CONFIGCAT_SOAK_SECS` sets another duration. With the
//! figures:
//!
//! ```sh
//! cargo test -p configcat-embedded --release --test soak -- --nocapture
//! ```

// Marks the whole crate as test code, so that the workspace clippy.toml
// allowances for tests (unwrap, expect, panic, indexing) cover the helpers too.
#![cfg(test)]

#[path = "support/tcp_connection.rs"]
mod tcp_connection;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Write as _};
use std::rc::Rc;
use std::time::{Duration, Instant};

use allocation_counter::{measure, opt_out};
use configcat_cdn_stand_in::{
    CdnStandIn, Fault, VERSIONED_CONFIG_SETTINGS, holds_version, versioned_config,
};
use configcat_embedded::{
    Client, ClientOptions, EventId, Fetched, KeyValueStorage, LogLevel, LogSink, PollingMode,
    RefreshError, TransportErrorKind, User,
};
use embedded_svc::storage::{RawStorage, StorageBase};
use tcp_connection::{TcpConnection, TcpError};

const SDK_KEY: &str = "configcat-sdk-1/SOAK_TEST-012345678901/1234567890123456789012";
/// The simulated clock's start; each tick is one interval later.
const T0: u64 = 1_700_000_000_000;

/// The device's monotonic clock when the simulated wall clock reads `unix_ms`.
const fn mono(unix_ms: u64) -> configcat_embedded::Instant {
    configcat_embedded::Instant::from_millis(unix_ms - T0)
}
const INTERVAL_MS: u64 = 60_000;
/// The connection's connect and read timeout.
const TIMEOUT: Duration = Duration::from_millis(300);
const DEFAULT_SECS: u64 = 30;
const WARMUP_CYCLES: u32 = 3;
const MIN_MEASURED_CYCLES: u32 = 2;
/// Rounds of reads after every tick (three reads each).
const READ_ROUNDS_PER_TICK: u64 = 7;
/// Growth of the client's live heap from the end of the warm-up to the end
/// that still counts as "not growing". The counting is exact (one thread,
/// a deterministic script): only a version number with more digits makes a
/// config a few bytes longer. The number of live allocations must not grow
/// at all.
const HEAP_SLACK: i64 = 2 * 1024;
/// How long a stalled request hangs: past the read timeout.
const STALL: Duration = Duration::from_millis(600);

// ---- configs -------------------------------------------------------------

// ---- what the device brings -------------------------------------------------

fn connect() -> Result<TcpConnection, TcpError> {
    Ok(TcpConnection::new(TIMEOUT))
}

type Connect = fn() -> Result<TcpConnection, TcpError>;

/// A RAM stand-in for NVS: named blobs, with a write counter.
#[derive(Debug, Default)]
struct RamNvs {
    blobs: HashMap<String, Vec<u8>>,
    writes: u64,
}

/// The device's flash: one [`RamNvs`] that every boot's client opens again.
#[derive(Debug, Clone, Default)]
struct Flash(Rc<RefCell<RamNvs>>);

impl StorageBase for Flash {
    type Error = std::convert::Infallible;

    fn contains(&self, name: &str) -> Result<bool, Self::Error> {
        Ok(self.0.borrow().blobs.contains_key(name))
    }

    fn remove(&mut self, name: &str) -> Result<bool, Self::Error> {
        Ok(self.0.borrow_mut().blobs.remove(name).is_some())
    }
}

impl RawStorage for Flash {
    fn len(&self, name: &str) -> Result<Option<usize>, Self::Error> {
        Ok(self.0.borrow().blobs.get(name).map(Vec::len))
    }

    fn get_raw<'a>(&self, name: &str, buf: &'a mut [u8]) -> Result<Option<&'a [u8]>, Self::Error> {
        Ok(self.0.borrow().blobs.get(name).map(|blob| {
            let n = blob.len().min(buf.len());
            buf[..n].copy_from_slice(&blob[..n]);
            &buf[..n]
        }))
    }

    fn set_raw(&mut self, name: &str, buf: &[u8]) -> Result<bool, Self::Error> {
        let mut nvs = self.0.borrow_mut();
        nvs.writes += 1;
        match nvs.blobs.get_mut(name) {
            // Reused in place, as flash is: no allocation when the size fits.
            Some(blob) => {
                blob.clear();
                blob.extend_from_slice(buf);
            }
            None => {
                nvs.blobs.insert(name.to_owned(), buf.to_vec());
            }
        }
        Ok(true)
    }
}

/// Counts log events by id (warnings and errors; the evaluation log is off).
/// Fixed size: counting allocates nothing.
struct Counter {
    by_id: Box<[Cell<u64>]>,
    total: Cell<u64>,
}

impl Default for Counter {
    fn default() -> Self {
        Self {
            by_id: (0..10_000).map(|_| Cell::new(0)).collect(),
            total: Cell::new(0),
        }
    }
}

impl LogSink for Counter {
    fn enabled(&self, level: LogLevel) -> bool {
        level <= LogLevel::Warning
    }

    fn event(&self, _level: LogLevel, id: EventId, _message: fmt::Arguments<'_>) {
        let count = &self.by_id[usize::from(id.code())];
        count.set(count.get() + 1);
        self.total.set(self.total.get() + 1);
    }
}

impl Counter {
    fn get(&self, id: u16) -> u64 {
        self.by_id[usize::from(id)].get()
    }
}

type Device<'a> = Client<Connect, KeyValueStorage<Flash>, &'a Counter>;

/// Runs `f` without counting its allocations on this thread: calls into the
/// stand-in, whose memory is freed on its own threads.
fn quietly<T>(f: impl FnOnce() -> T) -> T {
    let mut out = None;
    opt_out(|| out = Some(f()));
    out.unwrap()
}

// ---- the driver --------------------------------------------------------------

struct Soak<'a> {
    home: &'a CdnStandIn,
    other: &'a CdnStandIn,
    home_url: &'a str,
    other_url: &'a str,
    counter: &'a Counter,
    flash: Flash,
    client: Option<Device<'a>>,
    now: u64,
    /// The version the client serves.
    version: i64,
    /// The newest version handed to the stand-in.
    published: i64,
    /// The time of the last fetch that brought a new config (the stored one).
    stored_at: u64,
    /// Fetches that brought a new config (each one is a storage write).
    new_configs: u64,
    reads: u64,
    ticks: u64,
    boots: u64,
    injected: BTreeMap<&'static str, u64>,
    /// Expected events per id.
    expected: BTreeMap<u16, u64>,
    user: User,
    invalid_bodies: &'a [Vec<u8>],
    next_invalid: usize,
}

impl<'a> Soak<'a> {
    fn client(&mut self) -> &mut Device<'a> {
        self.client.as_mut().unwrap()
    }

    fn client_ref(&self) -> &Device<'a> {
        self.client.as_ref().unwrap()
    }

    /// Reads the whole config three ways, [`READ_ROUNDS_PER_TICK`] times: each
    /// read is one complete config, of the version the client should serve.
    fn read_burst(&mut self) {
        let client = self.client_ref();
        for _ in 0..READ_ROUNDS_PER_TICK {
            let all = client.get_all_value_details(Some(&self.user));
            assert_eq!(all.len(), VERSIONED_CONFIG_SETTINGS, "{all:?}");
            for details in &all {
                let key = &*details.key;
                let id_ok = details
                    .variation_id
                    .as_deref()
                    .and_then(|id| id.rsplit_once('-'))
                    .is_some_and(|(_, tail)| tail.parse::<i64>().ok() == Some(self.version));
                assert!(
                    details
                        .value
                        .is_some_and(|value| holds_version(key, value, self.version))
                        && id_ok
                        && !details.is_default_value
                        && details.error.is_none(),
                    "{key}: {details:?} is not from version {}",
                    self.version
                );
            }
            let values = client.get_all_values(Some(&self.user));
            assert_eq!(values.len(), VERSIONED_CONFIG_SETTINGS, "{values:?}");
            for (key, value) in values {
                assert!(holds_version(key, value, self.version), "{key}: {value:?}");
            }
            assert_eq!(
                client.get_value("version", -1_i64, Some(&self.user)),
                self.version
            );
        }
        self.reads += READ_ROUNDS_PER_TICK * 3;
    }

    /// One tick, one polling interval after the last: it always fetches.
    /// Checks that it reported exactly the events `ids` (in any order), then
    /// reads.
    fn tick(&mut self, ids: &[u16]) -> Result<Fetched, RefreshError> {
        self.now += INTERVAL_MS;
        let before: Vec<u64> = ids.iter().map(|&id| self.counter.get(id)).collect();
        let total = self.counter.total.get();
        let now = self.now;
        let result = self
            .client()
            .tick(mono(now), now)
            .expect("every tick is due");
        self.ticks += 1;
        assert_eq!(
            self.counter.total.get() - total,
            ids.len() as u64,
            "events of a tick ({result:?}); expected {ids:?}"
        );
        for (&id, before) in ids.iter().zip(before) {
            assert_eq!(self.counter.get(id), before + 1, "event {id} ({result:?})");
            *self.expected.entry(id).or_default() += 1;
        }
        if result == Ok(Fetched::New) {
            self.new_configs += 1;
            self.stored_at = now;
        }
        self.read_burst();
        result
    }

    fn count(&mut self, kind: &'static str) {
        *self.injected.entry(kind).or_default() += 1;
    }

    /// Serves the next version with `p` pointing at `base_url`.
    fn publish(&mut self, base_url: &str, redirect: u8) {
        self.published += 1;
        let n = self.published;
        // The ETag it returns is dropped inside too: allocated uncounted,
        // it must not be freed counted.
        quietly(|| {
            drop(
                self.home
                    .set_config(&versioned_config(n, base_url, redirect)),
            )
        });
    }

    fn set_fault_for(&self, cdn: &CdnStandIn, fault: impl FnOnce() -> Fault, n: usize) {
        quietly(|| cdn.set_fault_for(fault(), n));
    }

    /// The published version is fetched.
    fn adopt(&mut self) {
        self.version = self.published;
        assert_eq!(self.tick(&[]), Ok(Fetched::New));
    }

    fn good(&mut self) {
        self.count("good config");
        self.publish(self.home_url, 0);
        self.adopt();
    }

    fn unchanged(&mut self) {
        self.count("304");
        assert_eq!(self.tick(&[]), Ok(Fetched::NotModified));
        assert_eq!(
            self.client_ref().fetch_time_ms(),
            Some(self.now),
            "confirmed"
        );
    }

    /// One request answered with `fault`: the tick fails with event `id`,
    /// and the client keeps its config. With `new_config`, the stand-in
    /// serves a new version too (a broken transfer of a new config must not
    /// replace the old one); the next tick adopts it.
    fn fault(
        &mut self,
        kind: &'static str,
        fault: impl FnOnce() -> Fault,
        id: u16,
        new_config: bool,
        failed: impl Fn(&RefreshError) -> bool,
    ) {
        self.count(kind);
        self.set_fault_for(self.home, fault, 1);
        if new_config {
            self.publish(self.home_url, 0);
        }
        let result = self.tick(&[id]);
        assert!(result.as_ref().is_err_and(&failed), "{kind}: {result:?}");
        if new_config {
            self.adopt();
        }
    }

    fn invalid_body(&mut self) {
        let bodies = self.invalid_bodies;
        let body = &bodies[self.next_invalid % bodies.len()];
        self.next_invalid += 1;
        self.fault(
            "invalid body",
            || Fault::Body(body.clone()),
            1105,
            false,
            |error| matches!(error, RefreshError::InvalidBody(_)),
        );
    }

    /// A forced redirect loop, as in the std soak: the third request ends
    /// the refresh with event 1104 and its config (the same version, `p`
    /// pointing away); the next tick goes away and is sent home.
    fn redirect_loop(&mut self) {
        self.count("redirect loop");
        let other_requests = self.other.request_count();
        let (version, other_url) = (self.version, self.other_url);
        let away = || Fault::Body(versioned_config(version, other_url, 2).into_bytes());
        self.set_fault_for(self.home, away, 2);
        assert_eq!(self.tick(&[1104]), Ok(Fetched::New));
        assert_eq!(self.other.request_count() - other_requests, 1);
        assert_eq!(self.tick(&[]), Ok(Fetched::New), "home again");
        assert_eq!(self.other.request_count() - other_requests, 2);
        assert_eq!(self.tick(&[]), Ok(Fetched::NotModified));
        assert_eq!(self.other.request_count() - other_requests, 2, "stays home");
    }

    /// A should-redirect to the other stand-in: ignored (custom base url).
    fn should_redirect(&mut self) {
        self.count("should-redirect (ignored)");
        let other_requests = self.other.request_count();
        self.publish(self.other_url, 1);
        self.adopt();
        assert_eq!(self.tick(&[]), Ok(Fetched::NotModified));
        assert_eq!(self.other.request_count(), other_requests, "not followed");
    }

    /// Power off and on: the new client serves the stored config before any
    /// fetch succeeds, although the CDN already has a newer one (and fails
    /// the first request).
    fn reboot(&mut self) {
        self.count("reboot");
        self.client = None;
        self.publish(self.home_url, 0);
        self.set_fault_for(self.home, || Fault::Status(503), 1);
        self.boot();
        let client = self.client_ref();
        assert_eq!(
            client.fetch_time_ms(),
            Some(self.stored_at),
            "the stored one"
        );
        // Stale: the next tick fetches.
        assert!(client.next_tick().unwrap() <= mono(self.now + INTERVAL_MS));
        self.read_burst();
        let result = self.tick(&[1101]);
        assert_eq!(result, Err(RefreshError::UnexpectedStatus { status: 503 }));
        self.adopt();
    }

    fn boot(&mut self) {
        let options = ClientOptions::default()
            .with_polling_mode(PollingMode::Auto {
                interval_ms: INTERVAL_MS,
                max_init_wait_ms: 0,
            })
            .with_base_url(self.home_url)
            .with_timeouts_ms(300, 300);
        let total = self.counter.total.get();
        self.client = Some(
            Client::new(
                SDK_KEY,
                options,
                connect as Connect,
                KeyValueStorage::new(self.flash.clone()),
                self.counter,
                mono(self.now),
                self.now,
            )
            .unwrap(),
        );
        assert_eq!(self.counter.total.get(), total, "booted quietly");
        self.boots += 1;
    }

    fn cycle(&mut self) {
        self.good();
        self.unchanged();
        self.unchanged();
        let status = |expected: RefreshError| move |error: &RefreshError| *error == expected;
        self.fault(
            "500",
            || Fault::Status(500),
            1101,
            false,
            status(RefreshError::UnexpectedStatus { status: 500 }),
        );
        self.fault(
            "403",
            || Fault::Status(403),
            1100,
            false,
            status(RefreshError::InvalidSdkKey { status: 403 }),
        );
        let transport = |expected: TransportErrorKind| move |error: &RefreshError| matches!(error, RefreshError::Transport { kind, .. } if *kind == expected);
        self.fault(
            "reset mid-body",
            || Fault::ResetMidBody,
            1103,
            true,
            transport(TransportErrorKind::Other),
        );
        self.fault(
            "truncated body",
            || Fault::TruncatedBody,
            1103,
            true,
            transport(TransportErrorKind::Other),
        );
        self.invalid_body();
        self.invalid_body();
        self.fault(
            "stall",
            || Fault::Stall(STALL),
            1102,
            true,
            transport(TransportErrorKind::TimedOut),
        );
        self.fault(
            "slow body",
            || Fault::SlowBody { chunk_delay: STALL },
            1102,
            false,
            transport(TransportErrorKind::TimedOut),
        );
        self.unchanged();
        self.good();
        self.redirect_loop();
        self.should_redirect();
        self.reboot();
    }
}

fn soak_duration() -> Duration {
    let secs = std::env::var("CONFIGCAT_SOAK_SECS")
        .ok()
        .and_then(|secs| secs.trim().parse().ok())
        .unwrap_or(DEFAULT_SECS);
    Duration::from_secs(secs)
}

#[test]
fn fault_soak() {
    let duration = soak_duration();
    let started = Instant::now();
    let home = CdnStandIn::start().unwrap();
    let other = CdnStandIn::start().unwrap();
    let (home_url, other_url) = (home.base_url(), other.base_url());
    // The other stand-in always sends the client home (forced), with a
    // config (version 0) that must never be served.
    other.set_fault(Fault::Body(versioned_config(0, &home_url, 2).into_bytes()));
    let half_config = versioned_config(1, &home_url, 0);
    let invalid_bodies = [
        b"{not json".to_vec(),
        Vec::new(),
        b"null".to_vec(),
        b"[]".to_vec(),
        br#"{"f":[]}"#.to_vec(),
        br#"{"f":"version"}"#.to_vec(),
        br#"{"p":{"u":42,"r":0},"f":{}}"#.to_vec(),
        half_config.as_bytes()[..half_config.len() / 2].to_vec(),
    ];
    let counter = Counter::default();
    let flash = Flash::default();
    let mut soak = None;
    // The client's heap after the warm-up: everything this thread holds
    // for it (the client, its stored blob, the books of this test).
    let warm_up = measure(|| {
        let mut warm = Soak {
            home: &home,
            other: &other,
            home_url: &home_url,
            other_url: &other_url,
            counter: &counter,
            flash: flash.clone(),
            client: None,
            now: T0,
            version: 0,
            published: 0,
            stored_at: 0,
            new_configs: 0,
            reads: 0,
            ticks: 0,
            boots: 0,
            injected: BTreeMap::new(),
            expected: BTreeMap::new(),
            user: User::new("device-42"),
            invalid_bodies: &invalid_bodies,
            next_invalid: 0,
        };
        warm.boot();
        warm.publish(&home_url, 0);
        warm.adopt();
        for _ in 0..WARMUP_CYCLES {
            warm.cycle();
        }
        soak = Some(warm);
    });
    let mut soak = soak.unwrap();
    let mut cycles = WARMUP_CYCLES;
    // From the end of the warm-up on: what the client holds more at the end.
    let steady = measure(|| {
        while cycles < WARMUP_CYCLES + MIN_MEASURED_CYCLES || started.elapsed() < duration {
            soak.cycle();
            cycles += 1;
        }
    });
    let elapsed = started.elapsed();

    let reported: BTreeMap<u16, u64> = (0..10_000_u16)
        .filter_map(|id| {
            let count = counter.get(id);
            (count > 0).then_some((id, count))
        })
        .collect();
    let baseline = warm_up.bytes_current;
    let end = baseline + steady.bytes_current;
    let peak = baseline + i64::try_from(steady.bytes_max).unwrap();
    let writes = flash.0.borrow().writes;
    let mut summary = format!(
        "soak (embedded client): {:.1} s, {cycles} cycles, {} ticks, {} configs, {} reads, {} boots, {writes} storage writes\n  injected:",
        elapsed.as_secs_f64(),
        soak.ticks,
        soak.published,
        soak.reads,
        soak.boots,
    );
    for (kind, count) in &soak.injected {
        write!(summary, " {kind} x{count};").unwrap();
    }
    summary.push_str("\n  reported:");
    for (id, count) in &reported {
        write!(summary, " [{id}] x{count};").unwrap();
    }
    write!(
        summary,
        "\n  client heap (this thread): {baseline} B live after warm-up, {end} B at the end ({:+} B), peak {peak} B after warm-up; live allocations {} after warm-up, {:+} at the end",
        steady.bytes_current,
        warm_up.count_current,
        steady.count_current,
    )
    .unwrap();
    eprintln!("{summary}");

    assert_eq!(
        reported, soak.expected,
        "each fault reported once, with its event id"
    );
    assert_eq!(
        writes, soak.new_configs,
        "the storage is written for new configs only"
    );
    assert!(
        steady.bytes_current < HEAP_SLACK,
        "the client's heap grew by {} B",
        steady.bytes_current
    );
    assert_eq!(
        steady.count_current, 0,
        "allocations outlived the cycle that made them"
    );
}
