//! `configcat-embedded`: ConfigCat-compatible feature flags on ESP32-class
//! microcontrollers.
//!
//! `#![no_std]` + `alloc`, no threads, no clock, no atomics. The application
//! calls [`Client::tick`] from its main loop with the device's monotonic
//! time (an [`Instant`], e.g. milliseconds since boot) and the wall clock's
//! Unix milliseconds; the client fetches when the core's refresh logic says
//! a fetch is due and otherwise returns at once, and [`Client::next_tick`]
//! says when that will be. Only the monotonic clock schedules: a wall clock
//! that SNTP sets or steps never stops polling or causes a burst of fetches.
//! Flag reads never touch the network.
//! HTTP goes through any blocking `embedded_svc::http::client::Connection`
//! (esp-idf-svc's `EspHttpConnection` plugs in unchanged), the last config is
//! kept across reboots in a [`ConfigStorage`] (esp-idf-svc's NVS through
//! [`KeyValueStorage`]), and every decision (polling, ETags, statuses,
//! redirects, the cache format) is `configcat-core`'s, shared with the std
//! adapter.
//!
//! ```no_run
//! use configcat_embedded::{Client, ClientOptions, Instant, NoLog, NoStorage, User};
//! use embedded_svc::http::client::Connection;
//!
//! /// `connect` makes an HTTP connection (on ESP-IDF:
//! /// `|| EspHttpConnection::new(&configuration)`), `uptime_ms` reads the
//! /// device's monotonic timer and `unix_ms` its wall clock (0 before SNTP).
//! fn run<C: Connection>(
//!     connect: impl FnMut() -> Result<C, C::Error>,
//!     uptime_ms: impl Fn() -> u64,
//!     unix_ms: impl Fn() -> u64,
//! ) -> Result<(), configcat_embedded::SdkKeyError> {
//!     let now = || Instant::from_millis(uptime_ms());
//!     let mut client = Client::new(
//!         "configcat-sdk-1/XXXXXXXXXXXXXXXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXX",
//!         ClientOptions::default(),
//!         connect,
//!         NoStorage,
//!         NoLog,
//!         now(),
//!         unix_ms(),
//!     )?;
//!     let user = User::new("device-42");
//!     loop {
//!         client.tick(now(), unix_ms());
//!         let greeting: &str = client.get_value("greeting", "hello", Some(&user));
//!         let led_on = client.get_value("ledEnabled", false, Some(&user));
//!         # let _ = (greeting, led_on);
//!         # break Ok(());
//!     }
//! }
//! ```
//!
//! # Memory
//!
//! The parsed config lives on the heap once (the client owns it; no `Rc`, no
//! copy per read), next to its JSON text, which the core keeps to answer
//! `If-None-Match` and to write the cache. Bounded data uses fixed-capacity
//! buffers: the request headers, the ETag (256 bytes) and the storage key.
//! Flag reads allocate nothing with logging off (text values are borrowed).
//!
//! For an N-byte config whose parsed form takes P bytes, and whose parsing
//! needs at most Q bytes of working memory (Q includes P; it is the parser's
//! high-water mark):
//!
//! - between fetches the client holds about **N + P**;
//! - a fetch of a new config peaks at about **N + max(Q, P + N)**: the body
//!   buffer (exactly N when the response has a `Content-Length`) while the
//!   parser works, then the body kept as the config's JSON text (handed to
//!   the core without a copy), the parsed config and the N-byte cache payload;
//! - when it replaces an earlier config, the previous JSON text (about N)
//!   is still there while the new one is parsed; the previous parsed config
//!   is not: it is released before the new one is parsed (and re-parsed from
//!   its JSON if the response brings no usable config);
//! - a `304 Not Modified` poll allocates only the request (about 200 bytes);
//! - booting from the stored blob peaks like a fetch (the blob instead of
//!   the body).
//!
//! The connection's own buffers (and TLS's) come on top; by default the
//! connection is dropped after each refresh. The test that measures these
//! figures with a counting allocator, for the largest config of ConfigCat's
//! conformance suites (`matrix_comparators_v6.json`, N = 28,627 bytes),
//! checks them against the model and prints them:
//! `cargo test -p configcat-embedded --release --test peak_heap -- --nocapture`
//! (the README's "Embedded" section has the latest).
//!
//! # Cargo features
//!
//! - `defmt`: log events go to `DefmtSink`; `defmt::Format` for the public types.
//! - `log`: log events go to `LogFacadeSink` (the `log` facade, target `configcat`).
//!
//! Neither is on by default: pass [`NoLog`] or your own [`LogSink`].
#![no_std]
#![forbid(unsafe_code)]
// Import discipline for a no_std crate.
#![warn(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::alloc_instead_of_core
)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod client;
mod details;
mod logging;
mod options;
mod storage;
mod transport;

pub use client::Client;
pub use configcat_core::refresh::{
    CacheState, DataGovernance, Fetched, Instant, PollingMode, RefreshError, RefreshOptions,
    SdkKeyError, TransportErrorKind,
};
pub use configcat_core::{
    Config, EvaluationError, EventId, FlagValue, LogLevel, LogSink, NoLog, OwnedValue,
    PercentageOption, SettingType, TargetingRule, User, UserValue, Value,
};
pub use details::{EvaluationDetails, FlagError};
#[cfg(feature = "defmt")]
pub use logging::DefmtSink;
#[cfg(feature = "log")]
pub use logging::{LOG_TARGET, LogFacadeSink};
pub use options::{ClientOptions, DEFAULT_MAX_BODY_BYTES};
pub use storage::{
    ConfigStorage, DEFAULT_MAX_BLOB_BYTES, KeyValueStorage, KeyValueStorageError,
    MAX_STORAGE_KEY_LEN, NoStorage,
};
pub use transport::Connector;
