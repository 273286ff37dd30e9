//! `configcat-std`: a ConfigCat-compatible feature-flag client for servers
//! and desktops.
//!
//! Create one [`Client`] per SDK key ([`Client::get`] returns the same
//! instance for the same key), read flags from any thread, and never worry
//! about the network: in auto polling mode a background thread keeps the config
//! current and reads never wait on it (except up to the max init wait for the
//! very first config). Evaluation is done by `configcat-core`, exactly as in
//! ConfigCat's official SDKs; this crate moves bytes (HTTP with ureq, the
//! optional external cache) and time (threads, timers), and every decision
//! about them is the core's.
//!
//! Logging goes to the `log` facade with target `configcat`, each message
//! prefixed with ConfigCat's event id (`[1001] ...`); the evaluation log is
//! written at info level, and only built when that level is enabled.

mod cache;
mod client;
mod clock;
mod details;
mod hooks;
mod logging;
mod off_thread;
#[cfg(feature = "openfeature")]
mod openfeature;
mod options;
mod read_view;
#[cfg(feature = "redis")]
mod redis_cache;
mod transport;

pub use cache::{CacheError, ConfigCache, InMemoryCache};
pub use client::{Client, ClientError};
pub use clock::{Clock, ManualClock};
pub use configcat_core::refresh::{
    CacheState, DataGovernance, Fetched, PollingMode, RefreshError, SdkKeyError, TransportErrorKind,
};
pub use configcat_core::{
    Config, EvaluationError, OverrideBehaviour, OwnedValue, SettingType, User, UserValue, Value,
};
pub use details::{EvaluationDetails, FlagError};
pub use hooks::Hooks;
pub use logging::LOG_TARGET;
pub use off_thread::OffThread;
/// The OpenFeature SDK this crate's provider is built for (feature `openfeature`).
#[cfg(feature = "openfeature")]
pub use open_feature;
#[cfg(feature = "openfeature")]
pub use openfeature::ConfigCatProvider;
pub use options::{
    ClientOptions, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY_BYTES, DEFAULT_READ_TIMEOUT,
    FlagOverrides, ProxyOptions,
};

#[cfg(feature = "redis")]
pub use redis_cache::{DEFAULT_REDIS_CONNECT_TIMEOUT, DEFAULT_REDIS_RESPONSE_TIMEOUT, RedisCache};

/// The README's Rust snippets, compiled (and where they need no network, run) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
