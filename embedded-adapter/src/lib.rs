//! ConfigCat-compatible feature flags on ESP32-class microcontrollers.
//!
//! `#![no_std]` + `alloc`, no threads, no clock, no atomics (the ESP32-C3 has
//! no atomic read-modify-write; the crate's `clippy.toml` bans `Arc` and
//! atomics). The application calls [`Client::tick`] from its main loop with
//! the device's monotonic time (an [`Instant`], e.g. milliseconds since
//! boot) and the wall clock's Unix milliseconds; the client fetches when the
//! core's refresh logic says a fetch is due and otherwise returns at once,
//! and [`Client::next_tick`] says when that will be. Only the monotonic
//! clock schedules: a wall clock that SNTP sets or steps never stops polling
//! or causes a burst of fetches. Flag reads never touch the network.
//! HTTP goes through any blocking `embedded_svc::http::client::Connection`
//! (esp-idf-svc's `EspHttpConnection` plugs in unchanged), the last config is
//! kept across reboots in a [`ConfigStorage`] (esp-idf-svc's NVS through
//! [`KeyValueStorage`]), and every decision (polling, ETags, statuses,
//! redirects, the cache format) is `configcat-core`'s, shared with the std
//! adapter (`configcat-std`). Flags evaluate exactly as in ConfigCat's
//! official SDKs.
//!
//! This crate works with ConfigCat's service and config format but is not
//! ConfigCat's own Rust SDK (the `configcat` crate).
//!
//! ```
//! use configcat_embedded::{Client, ClientOptions, Instant, NoLog, NoStorage, User};
//! # use core::convert::Infallible;
//! # use embedded_svc::http::client::Connection;
//! # use embedded_svc::http::{Headers, Method, Status};
//! # use embedded_svc::io::{ErrorType, Read, Write};
//! # /// Answers every request with one config, as the CDN would.
//! # struct Canned { body: &'static [u8], at: usize, phase: u8 }
//! # fn canned_cdn() -> Result<Canned, Infallible> {
//! #     Ok(Canned { body: br#"{"p":{"s":"salt"},"f":{"ledEnabled":{"t":0,"v":{"b":true},"i":"v1"}}}"#, at: 0, phase: 0 })
//! # }
//! # impl Status for Canned {
//! #     fn status(&self) -> u16 { 200 }
//! #     fn status_message(&self) -> Option<&'_ str> { None }
//! # }
//! # impl Headers for Canned {
//! #     fn header(&self, name: &str) -> Option<&'_ str> {
//! #         name.eq_ignore_ascii_case("etag").then_some("\"v1\"")
//! #     }
//! # }
//! # impl ErrorType for Canned { type Error = Infallible; }
//! # impl Read for Canned {
//! #     fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
//! #         let rest = &self.body[self.at..];
//! #         let n = rest.len().min(buf.len());
//! #         buf[..n].copy_from_slice(&rest[..n]);
//! #         self.at += n;
//! #         Ok(n)
//! #     }
//! # }
//! # impl Write for Canned {
//! #     fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> { Ok(buf.len()) }
//! #     fn flush(&mut self) -> Result<(), Infallible> { Ok(()) }
//! # }
//! # impl Connection for Canned {
//! #     type Headers = Self;
//! #     type Read = Self;
//! #     type RawConnectionError = Infallible;
//! #     type RawConnection = Self;
//! #     fn initiate_request<'a>(&'a mut self, _: Method, _: &'a str, _: &'a [(&'a str, &'a str)]) -> Result<(), Infallible> {
//! #         self.phase = 1;
//! #         Ok(())
//! #     }
//! #     fn is_request_initiated(&self) -> bool { self.phase == 1 }
//! #     fn initiate_response(&mut self) -> Result<(), Infallible> { self.phase = 2; Ok(()) }
//! #     fn is_response_initiated(&self) -> bool { self.phase == 2 }
//! #     fn split(&mut self) -> (&Self::Headers, &mut Self::Read) { unimplemented!() }
//! #     fn raw_connection(&mut self) -> Result<&mut Self::RawConnection, Infallible> { unimplemented!() }
//! # }
//! # let mut uptime = 0_u64;
//! # let mut uptime_ms = || { uptime += 10; uptime };
//! # let unix_ms = || 1_700_000_000_000_u64;
//! // `connect` makes an HTTP connection: on ESP-IDF
//! // `|| EspHttpConnection::new(&configuration)`. In this example a canned
//! // one answers with a config, so that it runs anywhere.
//! let connect = canned_cdn;
//! let mut client = Client::new(
//!     "configcat-sdk-1/XXXXXXXXXXXXXXXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXX",
//!     ClientOptions::default(), // auto polling every 60 s
//!     connect,
//!     NoStorage, // or NVS through `KeyValueStorage`, to boot with the last config
//!     NoLog,     // or `LogFacadeSink` (feature `log`), `DefmtSink` (feature `defmt`)
//!     Instant::from_millis(uptime_ms()), // the monotonic clock: schedules the polls
//!     unix_ms(),                         // the wall clock: the stored fetch time
//! )?;
//! let device = User::new("device-42");
//! for _ in 0..3 {
//!     // The main loop: fetches only when a poll is due.
//!     client.tick(Instant::from_millis(uptime_ms()), unix_ms());
//!     let led_on = client.get_value("ledEnabled", false, Some(&device)); // never touches the network
//!     assert!(led_on);
//! }
//! # Ok::<(), configcat_embedded::SdkKeyError>(())
//! ```
//!
//! `cargo run -p configcat-embedded --example host_tick`, in this crate's
//! repository, runs ten simulated minutes of a device on the host against a
//! loopback stand-in of ConfigCat's CDN: a config change, a CDN outage and a
//! reboot with the CDN down. `examples/esp32/` there is a complete ESP-IDF
//! firmware (Wi-Fi, SNTP, NVS cache, a flag that switches an LED).
//!
//! # A tour
//!
//! ## On a device
//!
//! The same client, generic over the platform's connection and clock (this
//! is the shape of `examples/esp32`):
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
//! On ESP-IDF the pieces are esp-idf-svc's:
//!
//! ```rust,ignore
//! let connect = move || EspHttpConnection::new(&http_configuration);
//! let storage = KeyValueStorage::new(EspKeyValueStorage::new(EspNvs::new(partition, "configcat", true)?));
//! let mut client = Client::new(SDK_KEY, ClientOptions::default(), connect, storage, LogFacadeSink, uptime(), unix_ms())?;
//! ```
//!
//! ## Tick-driven polling
//!
//! Call [`Client::tick`]`(now, unix_ms)` from the main loop or a timer, with
//! the device's monotonic time ([`Instant`]) and the wall clock. It asks
//! the core whether a fetch is due (auto polling: the interval since the
//! last fetch or attempt; lazy loading: the TTL) and otherwise returns
//! `None` at once; a fetch follows redirects within the same tick and
//! returns `Some(result)`. [`Client::next_tick`] says when the next fetch
//! is due (a device may sleep until then); [`Client::refresh`] fetches now,
//! in any mode; [`Client::set_offline`] / [`Client::set_online`]. The polling
//! mode, data governance, base url, timeouts and body limit are
//! [`ClientOptions`].
//!
//! ## Reads
//!
//! [`Client::get_value`] with a `bool`, `i64`, `f64`, `&str` or `String`
//! default, [`Client::get_value_details`], [`Client::get_all_keys`],
//! [`Client::get_all_values`], [`Client::get_all_value_details`],
//! [`Client::get_key_and_value`] and a default user evaluate the config in
//! memory. A `&str` is borrowed from the config: no allocation.
//!
//! ## Transport
//!
//! Generic over the blocking `embedded_svc::http::client::Connection`
//! (embedded-svc 0.29), whose methods it calls directly (never
//! `Client::wrap`, which panics on a used connection). A [`Connector`] (any
//! `FnMut() -> Result<C, E>`) makes the connections: one per refresh by
//! default, dropped afterwards so TLS buffers are not held between polls
//! (`keep_connection` keeps it), and always dropped after a failed exchange
//! (esp-idf-svc's connection panics if reused mid-request). GET with
//! `If-None-Match` and `X-ConfigCat-UserAgent`; the body is read up to
//! `max_body_bytes` (32 KiB by default), into a buffer of exactly
//! `Content-Length` bytes when the length is announced. Every failure is
//! classified (timed out, connection failed, body too large, other) and
//! becomes a refresh error with ConfigCat's event id (1102, 1103); nothing
//! panics on what the network sends.
//!
//! ## Persistent cache
//!
//! A [`ConfigStorage`] trait for one blob (`load`, `store`), with
//! [`KeyValueStorage`] over embedded-svc's `RawStorage` (which esp-idf-svc's
//! NVS storage implements) and [`NoStorage`]. The blob is the shared-cache
//! payload (`"<fetch time ms>\n<etag>\n<config json>"`) under a
//! 15-character key, the first 15 hex digits of the shared cache key
//! `sha1("<sdk key>_config_v6.json_v2")` (NVS keys have at most 15
//! characters; derived from the SDK key, so firmware flashed with another
//! key never boots with the old key's flags). The client reads it once, at
//! creation, so a device that boots offline serves its last config; a blob
//! that is unreadable, truncated or not a payload is discarded with event
//! 2200. It is written only when a fetch brings a new config, never on a
//! `304` (rewriting it every 60 s would wear the flash out in about a year);
//! after a reboot the first poll therefore comes at once and is answered
//! with a `304`.
//!
//! ## Logging
//!
//! Through the core's [`LogSink`] with ConfigCat's event ids (the
//! repository's `docs/events.md` lists them): `LogFacadeSink` (feature
//! `log`, target `configcat`, like the std client) or `DefmtSink` (feature
//! `defmt`, with its own level, warnings by default, as defmt cannot be
//! asked at run time), or [`NoLog`] / your own sink. The evaluation log
//! (event 5000, info level) is a multi-line record per read, built only when
//! the sink wants info: with the `log` facade, keep the `configcat` target
//! at warn (esp-idf-svc's `EspLogger::set_target_level("configcat", LevelFilter::Warn)`,
//! or `RUST_LOG=info,configcat=warn` with `env_logger` on the host).
//!
//! # Memory
//!
//! The parsed config lives on the heap once (the client owns it; no `Rc`, no
//! copy per read). Its JSON text is not kept once the storage holds it: the
//! core keeps the ETag for `If-None-Match`, and a response without a usable
//! config restores the last one from the storage. Bounded data uses fixed-capacity
//! buffers: the request headers, the ETag (256 bytes) and the storage key.
//! Flag reads allocate nothing with logging off (text values are borrowed).
//!
//! For an N-byte config whose parsed form takes P bytes, and whose parsing
//! needs at most Q bytes of working memory (Q includes P; it is the parser's
//! high-water mark):
//!
//! - between fetches the client holds about **P** (with [`NoStorage`], which
//!   keeps nothing, the JSON text too: **N + P**);
//! - a fetch of a new config peaks at about **N + max(Q, P + N)**: the body
//!   buffer (exactly N when the response has a `Content-Length`) while the
//!   parser works, then the body kept as the config's JSON text (handed to
//!   the core without a copy), the parsed config and the N-byte cache
//!   payload; the text is released once the payload is stored;
//! - when it replaces an earlier config it peaks the same: the previous
//!   parsed config is released before the new one is parsed (and restored
//!   from the storage if the response brings no usable config);
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
//! (the repository's `docs/memory.md` has the latest figures, and
//! `docs/code-size.md` the code size: about 121 KiB of `.text` for the core
//! and this crate together, x86_64 at `opt-level = "z"`).
//!
//! # Cargo features
//!
//! - `defmt`: log events go to `DefmtSink`; `defmt::Format` for the public types.
//! - `log`: log events go to `LogFacadeSink` (the `log` facade, target `configcat`).
//!
//! Neither is on by default: pass [`NoLog`] or your own [`LogSink`].
//!
//! # Not supported (yet)
//!
//! - Flag overrides and hooks (the tick's return value tells about refreshes).
//! - Proxies: esp-idf-svc's HTTP connection has none (any other `Connection`
//!   may).
//! - Max init wait: reads never wait; before the first config they return
//!   the default (event 1000).
#![cfg_attr(docsrs, feature(doc_cfg))]
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
mod logging;
mod options;
mod storage;
mod transport;

pub use client::Client;
pub use configcat_core::refresh::{
    CacheState, DataGovernance, Fetched, Instant, PollingMode, RefreshError, RefreshOptions,
    SdkKeyError, TransportErrorKind,
};
// Every core type this crate's API names, so that this crate is the one
// dependency an application needs (`tests/one_crate.rs` names them all).
pub use configcat_core::{
    Config, EvaluationDetails, EventId, FlagError, FlagValue, LogLevel, LogSink,
    MatchedPercentageOption, MatchedTargetingRule, NoLog, OverrideBehaviour, OwnedValue,
    ParseError, ParseErrorKind, PercentageOption, Preferences, RedirectMode, Setting, SettingType,
    TargetingRule, User, UserValue, Value,
};
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
