//! Helpers shared by the std client's integration tests: unique SDK keys,
//! small configs, client options with short timeouts, a capturing logger,
//! temp files and channel-based hooks.
//!
//! Every test binary includes this module with `mod common;` and uses only
//! part of it.
#![allow(dead_code)]

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use configcat_cdn_stand_in::CdnStandIn;
use configcat_std::{ClientOptions, Hooks};

/// Upper bound for waiting on an event that is expected to happen (generous:
/// a test only waits this long when it is about to fail).
pub(crate) const WAIT: Duration = Duration::from_secs(5);

/// Read timeout of the clients under test.
pub(crate) const READ_TIMEOUT: Duration = Duration::from_millis(300);

/// Connect timeout of the clients under test.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_millis(300);

/// Poll interval of auto-polling clients under test.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// A valid SDK key unique to `test_name`: `configcat-sdk-1/<name>/<hash>`,
/// both parts exactly 22 characters of `[A-Za-z0-9_-]`. The client registry
/// is process-global, so every test needs its own key.
pub(crate) fn sdk_key(test_name: &str) -> String {
    let name: String = test_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut hasher = DefaultHasher::new();
    test_name.hash(&mut hasher);
    let hash = format!("{:016x}", hasher.finish());
    format!("configcat-sdk-1/{}/{}", fit(&name), fit(&hash))
}

/// Pads with `0` or truncates to the 22 characters of an SDK key part.
fn fit(part: &str) -> String {
    let mut part: String = part.chars().take(22).collect();
    while part.len() < 22 {
        part.push('0');
    }
    part
}

/// A config JSON v6 whose preferences point at `base_url` with no redirect,
/// holding `settings` (the `"f"` member's content, without braces).
pub(crate) fn config_with(base_url: &str, settings: &str) -> String {
    format!(r#"{{"p":{{"u":"{base_url}","r":0,"s":"salt"}},"f":{{{settings}}}}}"#)
}

/// A config with one text setting `key` holding `value`, variation id `v-<value>`.
pub(crate) fn text_config(base_url: &str, key: &str, value: &str) -> String {
    config_with(
        base_url,
        &format!(r#""{key}":{{"t":1,"v":{{"s":"{value}"}},"i":"v-{value}"}}"#),
    )
}

/// A config with `p.u` / `p.r` set for redirect tests, and one text setting `flag`.
pub(crate) fn redirecting_config(target: &str, mode: u8, value: &str) -> String {
    format!(
        r#"{{"p":{{"u":"{target}","r":{mode},"s":"salt"}},"f":{{"flag":{{"t":1,"v":{{"s":"{value}"}},"i":"v-{value}"}}}}}}"#
    )
}

/// Options for a client of `cdn`: its base url and short timeouts, manual
/// polling (tests choose another mode where they need one).
pub(crate) fn options(cdn: &CdnStandIn) -> ClientOptions {
    ClientOptions::default()
        .with_base_url(cdn.base_url())
        .with_connect_timeout(CONNECT_TIMEOUT)
        .with_read_timeout(READ_TIMEOUT)
        .with_manual_polling()
}

/// Auto-polling options for a client of `cdn` (100 ms interval, 2 s max init wait).
pub(crate) fn auto_options(cdn: &CdnStandIn) -> ClientOptions {
    options(cdn).with_auto_polling(POLL_INTERVAL, Duration::from_secs(2))
}

/// Runs `work` on a thread of its own and returns what it returns; fails
/// the test if it has not returned within [`WAIT`]. A hang detector, not a
/// timing: the tests use it where the wrong behaviour blocks for longer
/// than `WAIT` (a stalled request with a longer read timeout).
pub(crate) fn within_wait<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || sender.send(work()));
    receiver
        .recv_timeout(WAIT)
        .unwrap_or_else(|_| panic!("still blocked after {WAIT:?}"))
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis(),
    )
    .unwrap_or(u64::MAX)
}

/// The shared-cache payload `"<fetch time ms>\n<etag>\n<config json>"`.
pub(crate) fn cache_payload(fetch_time_ms: u64, etag: &str, config_json: &str) -> String {
    format!("{fetch_time_ms}\n{etag}\n{config_json}")
}

/// Hooks that send the value of text setting `key` to a channel whenever the
/// config changes (`"<missing>"` when the new config lacks it).
pub(crate) fn changed_values(key: &'static str) -> (Hooks, Receiver<String>) {
    let (sender, receiver) = mpsc::channel();
    let sender = Mutex::new(sender);
    let hooks = Hooks::default().on_config_changed(move |config| {
        let value = config.get_value(key, "<missing>".to_owned(), None, &configcat_std::NoLog);
        if let Ok(sender) = sender.lock() {
            let _ = sender.send(value);
        }
    });
    (hooks, receiver)
}

/// Receives from `receiver` until `wanted` arrives (within [`WAIT`]);
/// whether it did.
pub(crate) fn wait_for_value(receiver: &Receiver<String>, wanted: &str) -> bool {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match receiver.recv_timeout(left) {
            Ok(value) if value == wanted => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
}

/// A path under the system temp dir unique to this test and process run.
pub(crate) fn temp_file(test_name: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!(
        "configcat-std-test-{test_name}-{}-{}-{n}.json",
        std::process::id(),
        now_ms()
    ))
}

/// Removes a temp file when dropped.
pub(crate) struct TempFile(pub(crate) PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

// ---- log capture --------------------------------------------------------

/// One record written to the `log` facade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogRecord {
    pub(crate) level: log::Level,
    pub(crate) target: String,
    pub(crate) message: String,
}

/// A `log::Log` keeping every record in memory.
#[derive(Default)]
pub(crate) struct CaptureLogger {
    records: Mutex<Vec<LogRecord>>,
}

impl log::Log for CaptureLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Info
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let entry = LogRecord {
            level: record.level(),
            target: record.target().to_owned(),
            message: record.args().to_string(),
        };
        if let Ok(mut records) = self.records.lock() {
            records.push(entry);
        }
    }

    fn flush(&self) {}
}

impl CaptureLogger {
    /// The records whose message contains `needle` (tests run in parallel
    /// within a binary: filter by something unique to the test).
    pub(crate) fn matching(&self, needle: &str) -> Vec<LogRecord> {
        self.records
            .lock()
            .map(|records| {
                records
                    .iter()
                    .filter(|record| record.message.contains(needle))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Installs the capturing logger for this test binary (once) at info level.
pub(crate) fn logs() -> &'static CaptureLogger {
    static LOGGER: OnceLock<&'static CaptureLogger> = OnceLock::new();
    LOGGER.get_or_init(|| {
        let logger: &'static CaptureLogger = Box::leak(Box::default());
        if log::set_logger(logger).is_ok() {
            log::set_max_level(log::LevelFilter::Info);
        }
        logger
    })
}
