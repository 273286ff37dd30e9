//! Fault soak: the std client against a misbehaving CDN for a bounded time.
//!
//! Eight reader threads read every flag in a loop while the client polls
//! every 50 ms (read timeout 1 s) and a driver makes the CDN stand-in
//! rotate through good configs, `304`s, `500`s and `403`s, resets and
//! truncations mid-body, invalid bodies (not JSON, JSON of the wrong shape),
//! stalls and slow bodies past the read timeout, a forced redirect loop
//! between two stand-ins, and a should-redirect (ignored: the base url is
//! custom). Each step waits for the event that ends it (a hook call, a log
//! record, a request reaching the stand-in), never for a fixed time.
//!
//! It checks that nothing panics (readers, hooks); that every read comes
//! whole from one good config, and the versions a reader sees only move
//! forward in the order they were published; that a fault never replaces
//! the last good config; that every fault is reported once, with its event
//! id (the number of injected faults of each kind equals the number of log
//! records of its id); that the heap does not grow between the end of the
//! warm-up and the end of the run; and that `close` returns promptly while a
//! request stalls.
//!
//! 60 s by default; `CONFIGCAT_SOAK_SECS` sets another duration (the run
//! ends at the first cycle boundary after it). With the figures:
//!
//! ```sh
//! cargo test -p configcat-std --release --test soak -- --nocapture
//! CONFIGCAT_SOAK_SECS=600 cargo test -p configcat-std --release --test soak -- --nocapture
//! ```

// clippy.toml allows these inside `#[test]` functions only; the helpers of
// this test crate fail a test the same way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use configcat_cdn_stand_in::{
    CdnStandIn, Fault, VERSIONED_CONFIG_SETTINGS, holds_version, versioned_config,
};
use configcat_std::{
    CacheState, Client, Config, EvaluationDetails, Hooks, OwnedValue, RefreshError, User,
};
use peak_alloc::PeakAlloc;

use common::{options, sdk_key};

/// Counts the live and peak heap bytes of the whole process (every thread).
#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

const READERS: usize = 8;
const POLL_INTERVAL: Duration = Duration::from_millis(50);
const DEFAULT_SECS: u64 = 60;
/// Cycles run before the heap's baseline is taken (threads, buffers and
/// caches have reached their working size by then).
const WARMUP_CYCLES: u32 = 3;
/// Cycles run after the baseline at least, whatever the duration.
const MIN_MEASURED_CYCLES: u32 = 2;
/// Growth of the live heap between the baseline and the end that still
/// counts as "not growing" (readers' thread-local views, a stand-in
/// connection thread finishing a stall, allocator-visible noise).
const HEAP_SLACK: i64 = 64 * 1024;
/// Upper bound for an awaited event (generous: only reached when failing).
const STEP_WAIT: Duration = Duration::from_secs(15);
/// How long a stalled request hangs: past the read timeout.
const STALL: Duration = Duration::from_millis(2_000);

/// The client's read timeout here: longer than the other tests' 300 ms, so a
/// healthy reply that a loaded CI machine delays for a while is not counted
/// as a timeout over a run of many thousands of requests.
const READ_TIMEOUT: Duration = Duration::from_millis(1_000);

// ---- configs -------------------------------------------------------------

/// The version of a whole-config read, or why it is not one complete config.
fn version_of_details(all: &[EvaluationDetails<Option<OwnedValue>>]) -> Result<i64, String> {
    let n = all
        .iter()
        .find(|details| details.key == "version")
        .and_then(|details| match details.value {
            Some(OwnedValue::Int(n)) => Some(n),
            _ => None,
        })
        .ok_or_else(|| format!("no version in {all:?}"))?;
    if all.len() != VERSIONED_CONFIG_SETTINGS {
        return Err(format!(
            "{} settings instead of {VERSIONED_CONFIG_SETTINGS}: {all:?}",
            all.len()
        ));
    }
    for details in all {
        let value_ok = details
            .value
            .as_ref()
            .is_some_and(|value| holds_version(&details.key, value.as_value(), n));
        let id_ok = details
            .variation_id
            .as_deref()
            .and_then(|id| id.rsplit_once('-'))
            .is_some_and(|(_, tail)| tail.parse::<i64>().ok() == Some(n));
        if !value_ok || !id_ok || details.is_default_value || details.error.is_some() {
            return Err(format!("{details:?} is not from version {n}: {all:?}"));
        }
    }
    Ok(n)
}

/// The version of a `get_all_values` read, or why it is not one complete config.
fn version_of_values(values: &BTreeMap<String, OwnedValue>) -> Result<i64, String> {
    let Some(OwnedValue::Int(n)) = values.get("version") else {
        return Err(format!("no version in {values:?}"));
    };
    if values.len() != VERSIONED_CONFIG_SETTINGS
        || !values
            .iter()
            .all(|(key, value)| holds_version(key, value.as_value(), *n))
    {
        return Err(format!("not one complete config: {values:?}"));
    }
    Ok(*n)
}

// ---- what the hooks and the logger saw -------------------------------------

/// Everything the hooks and the logger observed, under one lock, so that the
/// driver can wait for any of it on one condvar. Fixed size: recording
/// allocates nothing, so it does not show in the heap figures.
struct Seen {
    /// Log records of target `configcat` per event id (all ids are < 10000).
    by_id: [u64; 10_000],
    /// Records of target `configcat` without an `[id]` prefix (a hook panicked).
    without_id: u64,
    /// Records at error level.
    error_records: u64,
    /// Calls of the error hook.
    error_hook_calls: u64,
    /// Calls of the client-ready hook.
    ready_calls: u64,
    /// Calls of the config-changed hook.
    changes: u64,
    /// The version of the last config announced by the config-changed hook.
    version: i64,
    /// Whether that config's `p.u` is the client's own base url.
    points_home: bool,
    /// The first broken expectation found on another thread.
    failure: Option<String>,
}

static SEEN: Mutex<Seen> = Mutex::new(Seen {
    by_id: [0; 10_000],
    without_id: 0,
    error_records: 0,
    error_hook_calls: 0,
    ready_calls: 0,
    changes: 0,
    version: 0,
    points_home: false,
    failure: None,
});
static SEEN_CHANGED: Condvar = Condvar::new();

/// The newest version the driver has handed to the stand-in.
static PUBLISHED: AtomicI64 = AtomicI64::new(0);

/// The client, for the error hook (set once the client exists).
static CLIENT: OnceLock<Client> = OnceLock::new();

fn seen() -> MutexGuard<'static, Seen> {
    SEEN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Updates what was seen and wakes the driver.
fn note(update: impl FnOnce(&mut Seen)) {
    update(&mut seen());
    SEEN_CHANGED.notify_all();
}

/// Notes a broken expectation (the first one is kept) for the driver.
fn fail(message: String) {
    note(|seen| {
        seen.failure.get_or_insert(message);
    });
}

/// Waits until `done` holds for what was seen, failing the test after
/// [`STEP_WAIT`] or as soon as another thread noted a failure.
fn wait_until(what: &str, done: impl Fn(&Seen) -> bool) {
    let deadline = Instant::now() + STEP_WAIT;
    let mut guard = seen();
    loop {
        if let Some(failure) = &guard.failure {
            panic!("while waiting for {what}: {failure}");
        }
        if done(&guard) {
            return;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "timed out waiting for {what}");
        guard = SEEN_CHANGED
            .wait_timeout(guard, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

/// Counts the `configcat` records at warning level and above by event id.
/// Info (the evaluation log) stays off, as in production with a quiet logger.
struct CountingLogger;

impl log::Log for CountingLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target() == configcat_std::LOG_TARGET && metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut prefix = Prefix::default();
        let _ = write!(prefix, "{}", record.args());
        let id = prefix.event_id();
        let is_error = record.level() == log::Level::Error;
        note(|seen| {
            match id.and_then(|id| seen.by_id.get_mut(usize::from(id))) {
                Some(count) => *count += 1,
                None => seen.without_id += 1,
            }
            if is_error {
                seen.error_records += 1;
            }
        });
    }

    fn flush(&self) {}
}

/// The first bytes of a formatted message, kept without allocating.
#[derive(Default)]
struct Prefix {
    bytes: [u8; 8],
    len: usize,
}

impl fmt::Write for Prefix {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for &byte in text.as_bytes() {
            if self.len == self.bytes.len() {
                break;
            }
            self.bytes[self.len] = byte;
            self.len += 1;
        }
        Ok(())
    }
}

impl Prefix {
    /// The id of a `[1234] ...` message.
    fn event_id(&self) -> Option<u16> {
        let text = std::str::from_utf8(&self.bytes[..self.len]).ok()?;
        let (id, _) = text.strip_prefix('[')?.split_once(']')?;
        id.parse().ok()
    }
}

/// Hooks that record into [`SEEN`] and check what they are handed.
fn hooks(home_url: String) -> Hooks {
    Hooks::default()
        .on_client_ready(|state| {
            if state != CacheState::UpToDate {
                fail(format!("ready with {state:?}"));
            }
            note(|seen| seen.ready_calls += 1);
        })
        .on_config_changed(move |config: &Config| {
            let nolog = &configcat_std::NoLog;
            let n = config.get_value("version", -1_i64, None, nolog);
            let name: String = config.get_value("name", String::new(), None, nolog);
            let published = PUBLISHED.load(Ordering::Acquire);
            let points_home = config.preferences().base_url() == Some(home_url.as_str());
            note(|seen| {
                if name != format!("config-{n}") || config.keys().len() != VERSIONED_CONFIG_SETTINGS {
                    seen.failure
                        .get_or_insert(format!("changed to an incomplete config {n}: {name}"));
                }
                // The same version again is the redirect loop's config being
                // replaced by the home config of the same version.
                if n < seen.version || n > published {
                    seen.failure.get_or_insert(format!(
                        "changed to version {n} after {} (published: {published})",
                        seen.version
                    ));
                }
                seen.changes += 1;
                seen.version = n;
                seen.points_home = points_home;
            });
        })
        .on_error(|message| {
            // An error is reported after its refresh ended: whatever failed,
            // the client serves the config it served before (the last one
            // announced by the config-changed hook, which a refresh that
            // changes the config calls after reporting its errors).
            if let Some(client) = CLIENT.get() {
                let served = client.get_value("version", -1_i64, None);
                let announced = seen().version;
                if served != announced {
                    fail(format!(
                        "after the error '{message}' the client serves version {served}, not {announced}"
                    ));
                }
            }
            note(|seen| seen.error_hook_calls += 1);
        })
}

// ---- readers ---------------------------------------------------------------

/// Lets the driver park the readers (to take a quiet heap figure) and stop them.
#[derive(Default)]
struct Gate {
    pause: AtomicBool,
    done: AtomicBool,
    parked: Mutex<usize>,
    changed: Condvar,
}

impl Gate {
    fn parked(&self) -> MutexGuard<'_, usize> {
        self.parked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Called by a reader that saw `pause`: waits until resumed or done.
    fn park(&self) {
        let mut parked = self.parked();
        *parked += 1;
        self.changed.notify_all();
        while self.pause.load(Ordering::Acquire) && !self.done.load(Ordering::Acquire) {
            parked = self
                .changed
                .wait(parked)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *parked -= 1;
    }

    /// Parks every reader; returns once all are parked.
    fn pause_all(&self) {
        self.pause.store(true, Ordering::Release);
        let deadline = Instant::now() + STEP_WAIT;
        let mut parked = self.parked();
        while *parked < READERS {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "readers did not park: {}", *parked);
            parked = self
                .changed
                .wait_timeout(parked, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn resume_all(&self) {
        let _parked = self.parked();
        self.pause.store(false, Ordering::Release);
        self.changed.notify_all();
    }

    fn stop(&self) {
        let _parked = self.parked();
        self.done.store(true, Ordering::Release);
        self.changed.notify_all();
    }
}

/// What one reader did.
struct ReaderReport {
    reads: u64,
    versions_seen: u64,
}

/// Reads the whole config three ways per round and checks each read: one
/// complete version, never older than the previous read, never newer than
/// the newest published.
fn reader(index: usize, client: &Client, gate: &Gate) -> ReaderReport {
    let user = User::new(format!("reader-{index}"));
    let mut last = 0_i64;
    let mut report = ReaderReport {
        reads: 0,
        versions_seen: 0,
    };
    let check = |n: Result<i64, String>, last: i64| -> i64 {
        let n = n.unwrap_or_else(|why| {
            fail(format!("reader {index}: {why}"));
            panic!("reader {index}: {why}");
        });
        let published = PUBLISHED.load(Ordering::Acquire);
        if n < last || n > published {
            let why = format!("reader {index}: version {n} after {last} (published: {published})");
            fail(why.clone());
            panic!("{why}");
        }
        n
    };
    while !gate.done.load(Ordering::Acquire) {
        if gate.pause.load(Ordering::Acquire) {
            gate.park();
            continue;
        }
        let n = check(
            version_of_details(&client.get_all_value_details(Some(&user))),
            last,
        );
        let n = check(version_of_values(&client.get_all_values(Some(&user))), n);
        let n = check(Ok(client.get_value("version", -1_i64, Some(&user))), n);
        if n != last {
            report.versions_seen += 1;
        }
        last = n;
        report.reads += 3;
        // Eight spinning readers on a small machine would starve the
        // stand-in's threads: let them in.
        thread::yield_now();
    }
    report
}

// ---- the driver ------------------------------------------------------------

/// The fault script and its books.
struct Driver {
    home: CdnStandIn,
    other: CdnStandIn,
    client: Client,
    gate: Arc<Gate>,
    /// The version the client serves (or is about to, within a step).
    version: i64,
    injected: BTreeMap<&'static str, u64>,
    /// Expected log records per event id.
    expected: BTreeMap<u16, u64>,
    invalid_bodies: Vec<Vec<u8>>,
    next_invalid: usize,
}

impl Driver {
    fn home_url(&self) -> String {
        self.home.base_url()
    }

    fn other_url(&self) -> String {
        self.other.base_url()
    }

    fn served_version(&self) -> i64 {
        self.client.get_value("version", -1_i64, None)
    }

    fn fetch_time(&self) -> u64 {
        self.client
            .get_value_details("version", 0_i64, None)
            .fetch_time_ms
            .unwrap()
    }

    fn count(&mut self, kind: &'static str, id: Option<u16>) -> u64 {
        *self.injected.entry(kind).or_default() += 1;
        id.map_or(0, |id| {
            let expected = self.expected.entry(id).or_default();
            *expected += 1;
            *expected
        })
    }

    /// Serves the next version with `p` pointing at `base_url`.
    fn publish(&mut self, base_url: &str, redirect: u8) {
        self.version += 1;
        PUBLISHED.store(self.version, Ordering::Release);
        self.home
            .set_config(&versioned_config(self.version, base_url, redirect));
    }

    fn wait_for_home_version(&self) {
        let version = self.version;
        wait_until(&format!("version {version} from home"), |seen| {
            seen.version == version && seen.points_home
        });
    }

    fn wait_for_requests(&self, cdn: &CdnStandIn, more: usize) {
        let target = cdn.request_count() + more;
        assert!(
            cdn.wait_for_requests(target, STEP_WAIT),
            "polling stopped: {} requests, waited for {target}",
            cdn.request_count()
        );
    }

    /// A new good config: the client adopts it.
    fn good(&mut self) {
        self.count("good config", None);
        self.publish(&self.home_url(), 0);
        self.wait_for_home_version();
    }

    /// Two polls answered `304`: the config stays, its fetch time moves on.
    fn unchanged(&mut self) {
        let (before, changes) = (self.fetch_time(), seen().changes);
        // The first two have been answered once the third one arrives.
        self.wait_for_requests(&self.home, 3);
        *self.injected.entry("304").or_default() += 2;
        assert!(self.fetch_time() > before, "a 304 confirms the config");
        assert_eq!(self.served_version(), self.version);
        assert_eq!(seen().changes, changes, "a 304 changes nothing");
    }

    /// One request answered with `fault`, reported as event `id`. With
    /// `new_config`, the stand-in serves a new version from the same moment
    /// (a broken transfer of a new config must not replace the old one);
    /// the poll after the fault adopts it.
    fn fault(&mut self, kind: &'static str, fault: Fault, id: u16, new_config: bool) {
        let want = self.count(kind, Some(id));
        let before = self.version;
        self.home.set_fault_for(fault, 1);
        if new_config {
            self.publish(&self.home_url(), 0);
        }
        wait_until(&format!("report {want} of event {id} ({kind})"), |seen| {
            seen.by_id[usize::from(id)] >= want
        });
        if new_config {
            self.wait_for_home_version();
        } else {
            // Nothing else can change the config now: the stand-in serves `before`.
            assert_eq!(self.served_version(), before, "after {kind}");
        }
        assert_eq!(seen().by_id[usize::from(id)], want, "{kind} reported once");
    }

    fn invalid_body(&mut self) {
        let body = self.invalid_bodies[self.next_invalid % self.invalid_bodies.len()].clone();
        self.next_invalid += 1;
        self.fault("invalid body", Fault::Body(body), 1105, false);
    }

    /// A forced redirect loop: home's config sends the client to the other
    /// stand-in, whose config sends it back, and home's again away. The
    /// third request ends the refresh: event 1104, and the config of the
    /// last response (the same version) is used, as ConfigCat's SDKs do;
    /// later requests go to the other stand-in, which sends the client home.
    fn redirect_loop(&mut self) {
        let want = self.count("redirect loop", Some(1104));
        let (changes, other_requests) = (seen().changes, self.other.request_count());
        let away = versioned_config(self.version, &self.other_url(), 2);
        self.home.set_fault_for(Fault::Body(away.into_bytes()), 2);
        wait_until("the redirect loop report", |seen| seen.by_id[1104] >= want);
        let version = self.version;
        wait_until("the client back home", |seen| {
            seen.changes >= changes + 2 && seen.version == version && seen.points_home
        });
        assert_eq!(seen().changes, changes + 2, "loop config, then home config");
        assert_eq!(seen().by_id[1104], want, "the loop reported once");
        assert_eq!(
            self.other.request_count() - other_requests,
            2,
            "one request away in the loop, one on the way home"
        );
    }

    /// A should-redirect to the other stand-in: ignored, the base url is
    /// custom (ConfigCat's SDKs follow only forced redirects then).
    fn should_redirect(&mut self) {
        self.count("should-redirect (ignored)", None);
        let other_requests = self.other.request_count();
        self.publish(&self.other_url(), 1);
        let version = self.version;
        wait_until(&format!("version {version} pointing away"), |seen| {
            seen.version == version && !seen.points_home
        });
        self.wait_for_requests(&self.home, 2);
        assert_eq!(self.other.request_count(), other_requests, "not followed");
        assert_eq!(self.served_version(), version);
    }

    fn cycle(&mut self) {
        self.good();
        self.unchanged();
        self.fault("500", Fault::Status(500), 1101, false);
        self.fault("403", Fault::Status(403), 1100, false);
        self.fault("reset mid-body", Fault::ResetMidBody, 1103, true);
        self.fault("truncated body", Fault::TruncatedBody, 1103, true);
        self.invalid_body();
        self.invalid_body();
        self.fault("stall", Fault::Stall(STALL), 1102, true);
        let slow = Fault::SlowBody {
            chunk_delay: READ_TIMEOUT * 2,
        };
        self.fault("slow body", slow, 1102, false);
        self.unchanged();
        self.good();
        self.redirect_loop();
        self.should_redirect();
    }

    /// Parks the readers and takes the client offline, once no request is
    /// in flight: a quiet moment, the same in every cycle. Returns the live
    /// heap then.
    fn quiet_heap(&mut self) -> usize {
        self.gate.pause_all();
        self.client.set_offline();
        // Waits for a poll in flight, then reports Offline (event 3200).
        let mut attempts = 0;
        while self.client.force_refresh() != Err(RefreshError::Offline) {
            attempts += 1;
            assert!(attempts < 5, "force_refresh never reported Offline");
        }
        *self.expected.entry(3200).or_default() += 1;
        // The stand-ins' request records would grow with every request.
        self.home.forget_requests();
        self.other.forget_requests();
        HEAP.current_usage()
    }

    /// Back online (polling at once), readers reading.
    fn resume(&self) {
        self.client.set_online();
        self.gate.resume_all();
    }
}

fn soak_duration() -> Duration {
    let secs = std::env::var("CONFIGCAT_SOAK_SECS")
        .ok()
        .and_then(|secs| secs.trim().parse().ok())
        .unwrap_or(DEFAULT_SECS);
    Duration::from_secs(secs)
}

fn signed(bytes: usize) -> i64 {
    i64::try_from(bytes).unwrap()
}

#[test]
fn fault_soak() {
    let duration = soak_duration();
    static LOGGER: CountingLogger = CountingLogger;
    log::set_logger(&LOGGER).unwrap();
    log::set_max_level(log::LevelFilter::Warn);

    let home = CdnStandIn::start().unwrap();
    let other = CdnStandIn::start().unwrap();
    // The other stand-in always sends the client home (forced), with a
    // config (version 0) that must never be served.
    other.set_fault(Fault::Body(
        versioned_config(0, &home.base_url(), 2).into_bytes(),
    ));
    PUBLISHED.store(1, Ordering::Release);
    home.set_config(&versioned_config(1, &home.base_url(), 0));

    let started = Instant::now();
    let client = Client::get(
        &sdk_key("fault_soak"),
        options(&home)
            .with_auto_polling(POLL_INTERVAL, Duration::from_secs(5))
            .with_read_timeout(READ_TIMEOUT)
            .with_hooks(hooks(home.base_url())),
    )
    .unwrap();
    assert_eq!(client.wait_for_ready(STEP_WAIT), CacheState::UpToDate);
    assert_eq!(client.get_value("version", -1_i64, None), 1);
    assert!(CLIENT.set(client.clone()).is_ok());

    let gate = Arc::new(Gate::default());
    let readers: Vec<_> = (0..READERS)
        .map(|index| {
            let (client, gate) = (client.clone(), Arc::clone(&gate));
            thread::spawn(move || reader(index, &client, &gate))
        })
        .collect();

    let half_config = versioned_config(1, &home.base_url(), 0);
    let invalid_bodies = vec![
        b"{not json".to_vec(),
        Vec::new(),
        b"null".to_vec(),
        b"[]".to_vec(),
        br#"{"f":[]}"#.to_vec(),
        br#"{"f":"version"}"#.to_vec(),
        br#"{"p":{"u":42,"r":0},"f":{}}"#.to_vec(),
        half_config.as_bytes()[..half_config.len() / 2].to_vec(),
    ];
    let mut driver = Driver {
        home,
        other,
        client: client.clone(),
        gate: Arc::clone(&gate),
        version: 1,
        injected: BTreeMap::new(),
        expected: BTreeMap::new(),
        invalid_bodies,
        next_invalid: 0,
    };

    let mut cycles = 0;
    let mut baseline = None;
    while baseline.is_none()
        || cycles < WARMUP_CYCLES + MIN_MEASURED_CYCLES
        || started.elapsed() < duration
    {
        driver.cycle();
        cycles += 1;
        if cycles == WARMUP_CYCLES {
            baseline = Some(driver.quiet_heap());
            HEAP.reset_peak_usage();
            driver.resume();
        }
    }
    let baseline = baseline.unwrap();
    let end = driver.quiet_heap();
    let peak = HEAP.peak_usage();

    // Close while a request stalls: close does not wait for it (nor for the
    // read timeout), and the request's end is neither published nor
    // reported. The client is offline: its first request once online stalls.
    driver.count("stall (at close)", None);
    driver
        .home
        .set_fault_for(Fault::Stall(Duration::from_secs(30)), 1);
    let requests = driver.home.request_count();
    driver.resume();
    assert!(driver.home.wait_for_requests(requests + 1, STEP_WAIT));
    let closing = Instant::now();
    client.close();
    let close_took = closing.elapsed();
    // Reads go on after close, on the last config.
    assert_eq!(client.get_value("version", -1_i64, None), driver.version);
    gate.stop();
    let mut reads = 0;
    let mut versions_seen = 0;
    for reader in readers {
        let report = reader.join().expect("a reader panicked");
        assert!(report.reads > 0);
        reads += report.reads;
        versions_seen += report.versions_seen;
    }
    let elapsed = started.elapsed();
    let Driver {
        home,
        other,
        version,
        injected,
        expected,
        ..
    } = driver;
    drop((home, other));

    let seen = seen();
    let reported: BTreeMap<u16, u64> = (0..10_000_u16)
        .filter_map(|id| {
            let count = seen.by_id[usize::from(id)];
            (count > 0).then_some((id, count))
        })
        .collect();
    let mut summary = format!(
        "soak (std client): {:.1} s, {cycles} cycles, {version} configs, {reads} reads by {READERS} readers ({versions_seen} version changes seen)\n  injected:",
        elapsed.as_secs_f64()
    );
    for (kind, count) in &injected {
        write!(summary, " {kind} x{count};").unwrap();
    }
    summary.push_str("\n  reported:");
    for (id, count) in &reported {
        write!(summary, " [{id}] x{count};").unwrap();
    }
    summary.push_str("\n  expected:");
    for (id, count) in &expected {
        write!(summary, " [{id}] x{count};").unwrap();
    }
    write!(
        summary,
        "\n  heap: {baseline} B live after warm-up, {end} B at the end ({:+} B), peak {peak} B after warm-up\n  close during a stall: {close_took:?}",
        signed(end) - signed(baseline),
    )
    .unwrap();
    eprintln!("{summary}");

    assert_eq!(seen.failure, None);
    assert_eq!(
        seen.without_id, 0,
        "records without an event id (a hook panicked?)"
    );
    assert_eq!(
        reported, expected,
        "each fault reported once, with its event id"
    );
    assert_eq!(
        seen.error_hook_calls, seen.error_records,
        "every error record reached the error hook"
    );
    assert_eq!(seen.ready_calls, 1, "ready reported once");
    assert!(
        signed(end) - signed(baseline) < HEAP_SLACK,
        "the heap grew from {baseline} B to {end} B"
    );
    assert!(close_took < READ_TIMEOUT / 2, "close took {close_took:?}");
}
