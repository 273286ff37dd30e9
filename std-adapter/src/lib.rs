//! A ConfigCat-compatible feature-flag client for servers and desktops.
//!
//! Create one [`Client`] per SDK key, share it, and read flags from any
//! thread: in auto polling mode (the default) a background thread keeps the
//! config current and a read never waits on the network, except for the very
//! first config (at most the max init wait). Flags evaluate exactly as in
//! ConfigCat's official SDKs, checked against ConfigCat's cross-SDK
//! conformance suites. This crate moves bytes (HTTP with `ureq`, an optional
//! shared cache) and time (threads, timers); every decision about them is
//! `configcat-core`'s.
//!
//! This crate works with ConfigCat's service and config format but is not
//! ConfigCat's own Rust SDK (the `configcat` crate); its API is its own.
//!
//! ```no_run
//! use configcat_std::{Client, ClientOptions, User};
//!
//! fn main() -> Result<(), configcat_std::ClientError> {
//!     // Your SDK key, from ConfigCat's dashboard. One client per key, for the
//!     // life of the process: `Client::get` returns the same one again.
//!     let client = Client::get(
//!         "configcat-sdk-1/XXXXXXXXXXXXXXXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXX",
//!         ClientOptions::default(),
//!     )?;
//!     let user = User::new("#USER-IDENTIFIER#").with_email("jane@example.com");
//!     let enabled = client.get_value("isMyAwesomeFeatureEnabled", false, Some(&user));
//!     println!("isMyAwesomeFeatureEnabled: {enabled}");
//!     client.close();
//!     Ok(())
//! }
//! ```
//!
//! `Cargo.toml`: `configcat-std = "0.1"`. `cargo run --example quickstart`
//! in this crate's repository runs the same against a loopback stand-in of
//! ConfigCat's CDN, with no account and no network. Without an account you
//! can also try the client on values of your own (this example runs as it
//! is):
//!
//! ```
//! use configcat_std::{Client, ClientOptions, FlagOverrides, OverrideBehaviour, OwnedValue};
//!
//! let overrides = FlagOverrides::from_map(
//!     [("newCheckout", OwnedValue::Bool(true)), ("pageSize", OwnedValue::Int(50))],
//!     OverrideBehaviour::LocalOnly, // no network at all
//! );
//! let client = Client::get(
//!     "configcat-sdk-1/XXXXXXXXXXXXXXXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXX",
//!     ClientOptions::default().with_flag_overrides(overrides),
//! )?;
//! assert!(client.get_value("newCheckout", false, None));
//! assert_eq!(client.get_value("pageSize", 20_i64, None), 50);
//! client.close();
//! # Ok::<(), configcat_std::ClientError>(())
//! ```
//!
//! # A tour
//!
//! - [Reading flags](#reading-flags) and [the User Object](#the-user-object)
//! - [Options](#options) and [polling modes](#polling-modes)
//! - [Flag overrides](#flag-overrides), [hooks](#hooks), [online and offline](#online-and-offline)
//! - [Logging](#logging), with the `RUST_LOG` filter most services want
//! - [Caches](#caches), [Redis](#redis-feature-redis), [the ConfigCat Proxy](#behind-the-configcat-proxy)
//! - [OpenFeature](#openfeature-feature-openfeature), [async code](#async-code-tokio-axum)
//! - [Cargo features](#cargo-features), [differences from ConfigCat's SDKs](#differences-from-configcats-sdks)
//!
//! ## Reading flags
//!
//! - [`Client::get_value`]`(key, default, user)` returns the value as the
//!   default's type: `bool`, `i64`, `f64` or `String`, and a `String` for a
//!   `&str` default ([`FlagDefault`]). A setting of another
//!   type returns the default (with error 2001 logged); a whole number
//!   setting may be read as `f64`, a decimal one never as `i64`.
//! - [`Client::get_value_details`] also returns the variation id, whether
//!   the default was used and why ([`FlagError`]), the matched targeting
//!   rule and % option with their indices, the user and the config's fetch
//!   time ([`EvaluationDetails`]). The matched rule and option display as
//!   the evaluation log writes them ([`MatchedTargetingRule`],
//!   [`MatchedPercentageOption`]).
//! - [`Client::get_all_keys`], [`Client::get_all_values`] (a `BTreeMap`,
//!   ordered by key) and [`Client::get_all_value_details`];
//!   [`Client::for_each_value`] visits the same values in the config's order
//!   without allocating.
//! - [`Client::get_key_and_value`]: which flag and value carry a variation id.
//! - [`Client::set_default_user`] / [`Client::clear_default_user`]: the user
//!   for reads that pass `None`.
//!
//! A read never waits on the network in auto polling mode, except for the
//! very first config (at most the max init wait). Readers load an atomically
//! swapped snapshot of the config and never take a lock a refresh holds.
//! `Client` is `Send + Sync` and cheap to clone. [`Client::close`] stops its
//! background work without waiting for a request in flight (reads keep the
//! last config); [`Client::close_all`] closes every client.
//!
//! ## The User Object
//!
//! [`User::new`]`(identifier)` with `with_email`, `with_country` and
//! `with_custom(name, value)`. Custom values are text, numbers
//! (`with_custom("Age", 31)`), date-times ([`UserValue::DateTime`] in unix
//! seconds, or [`UserValue::from_unix_millis`]) or string lists
//! ([`UserValue::StringList`]), converted as ConfigCat's documentation of the
//! [User Object](https://configcat.com/docs/advanced/user-object/) describes.
//!
//! ```
//! use configcat_std::{User, UserValue};
//!
//! let user = User::new("42")
//!     .with_email("jane@example.com")
//!     .with_country("Hungary")
//!     .with_custom("Age", 31)
//!     .with_custom("Roles", UserValue::StringList(vec!["admin".into(), "beta".into()]));
//! ```
//!
//! ## Options
//!
//! Start from `ClientOptions::default()` and change what you need
//! ([`ClientOptions`] has the details):
//!
//! | option | default | meaning |
//! | --- | --- | --- |
//! | `with_auto_polling(interval, max_init_wait)` / `with_lazy_loading(ttl)` / `with_manual_polling()` | auto, 60 s, 5 s | [polling mode](#polling-modes) |
//! | `with_base_url(url)` | ConfigCat's CDN | a [ConfigCat Proxy](#behind-the-configcat-proxy) or another server; redirects from the CDN are then only followed when forced, and `configcat-proxy/...` SDK keys are accepted |
//! | `with_cache(Arc<dyn ConfigCache>)` | memory only | an external config [cache](#caches), shared with ConfigCat's other SDKs |
//! | `with_proxy(ProxyOptions::new("http://host:port").with_credentials(user, password))` | none | an HTTP proxy with Basic credentials ([`ProxyOptions`]; proxy environment variables are ignored) |
//! | `with_connect_timeout(d)` / `with_read_timeout(d)` | 10 s / 30 s | HTTP timeouts |
//! | `with_flag_overrides(FlagOverrides::from_file(path, behaviour))` / `FlagOverrides::from_map(...)` | none | local flag values, see [flag overrides](#flag-overrides) |
//! | `with_data_governance(DataGovernance::EuOnly)` | `Global` | which CDN region serves the config |
//! | `with_default_user(User)` | none | the user evaluations use when none is passed |
//! | `with_hooks(Hooks)` | none | callbacks, see [hooks](#hooks) |
//! | `with_offline(true)` | online | start without network access |
//! | `with_max_body_bytes(n)` | 16 MiB | largest config download accepted |
//!
//! An SDK key of the wrong form is an error ([`ClientError::InvalidSdkKey`]),
//! except in local-only override mode. Asking [`Client::get`] for a key that
//! already has a client returns that client, and logs warning 3000 if the
//! options differ.
//!
//! ## Polling modes
//!
//! - **Auto polling** (default): one background thread per client fetches
//!   every `interval`; `max_init_wait` bounds how long the first reads wait.
//! - **Lazy loading**: a read fetches when the config is older than `ttl`;
//!   concurrent readers share one fetch. After a failed fetch the next
//!   attempt is made one `ttl` later ([`Client::force_refresh`] can try
//!   sooner).
//! - **Manual polling**: only [`Client::force_refresh`] fetches.
//!
//! ```no_run
//! use configcat_std::{CacheState, Client, ClientOptions, Fetched};
//! use std::time::Duration;
//!
//! let options = ClientOptions::default().with_auto_polling(Duration::from_secs(30), Duration::from_secs(3));
//! let client = Client::get("configcat-sdk-1/XXXXXXXXXXXXXXXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXX", options)?;
//! if client.wait_for_ready(Duration::from_secs(3)) == CacheState::NoFlagData {
//!     eprintln!("no flags yet: reads return their defaults");
//! }
//! match client.force_refresh() {
//!     Ok(Fetched::New) => println!("a new config"),
//!     Ok(Fetched::NotModified) => println!("unchanged"),
//!     Ok(_) => {}
//!     Err(error) => eprintln!("refresh failed, the last config stays: {error}"),
//! }
//! # Ok::<(), configcat_std::ClientError>(())
//! ```
//!
//! [`Client::force_refresh`] returns [`Fetched`] or the [`RefreshError`]
//! that explains why not (offline, local-only, a wrong SDK key, an HTTP
//! status, a timeout, an invalid body). A failed refresh never replaces the
//! last good config. [`Client::wait_for_ready`] waits for the first config
//! and returns the [`CacheState`]: `NoFlagData`, `CachedDataOnly`,
//! `UpToDate` or `LocalOverridesOnly`.
//!
//! ## Flag overrides
//!
//! [`FlagOverrides::from_file`]`(path, behaviour)` reads the simple
//! `{"flags": {"key": value}}` format or a full config JSON v6 and reads the
//! file again whenever it changes on disk; [`FlagOverrides::from_map`]
//! takes values directly (see the second example above). Behaviours
//! ([`OverrideBehaviour`]): `LocalOnly` (no network at all),
//! `LocalOverRemote`, `RemoteOverLocal`. A missing or invalid file is logged
//! (1300, 1302) and the last good overrides stay.
//!
//! ## Hooks
//!
//! ```
//! use configcat_std::{ClientOptions, Hooks};
//!
//! let options = ClientOptions::default().with_hooks(
//!     Hooks::default()
//!         .on_client_ready(|state| println!("ready: {state:?}"))
//!         .on_config_changed(|config| println!("{} settings", config.keys().len()))
//!         .on_flag_evaluated(|details| println!("{} -> {:?}", details.key, details.value))
//!         .on_error(|message| eprintln!("configcat error: {message}")),
//! );
//! ```
//!
//! Hooks run on the thread that caused the event (the poller for
//! downloads), never under an internal lock, so a hook may call back into
//! the client. A panicking hook is caught and logged; the client carries on.
//!
//! ## Online and offline
//!
//! [`Client::set_offline`] stops all network use, [`Client::set_online`]
//! resumes it (auto polling fetches at once if the config is due),
//! [`Client::is_offline`] tells. `ClientOptions::offline(true)` starts
//! offline: with a shared [cache](#caches), such a client serves what an
//! online one wrote.
//!
//! ## Logging
//!
//! Everything goes to the [`log`](https://docs.rs/log) facade with target
//! `configcat` ([`LOG_TARGET`]), each message prefixed with ConfigCat's event
//! id (`[1001] Failed to evaluate setting ...`); the repository's
//! `docs/events.md` lists every id with what it means. The SDK key is never
//! logged in full.
//!
//! Event 5000, the evaluation log, is written at **info** level: a
//! multi-line record for every flag read, which explains how the value was
//! chosen. It is useful while debugging a targeting rule and noisy in a
//! service. With `env_logger` (or `tracing-subscriber`'s `EnvFilter`, which
//! reads the same syntax), keep your own info logs and only the SDK's
//! warnings and errors with:
//!
//! ```text
//! RUST_LOG=info,configcat=warn
//! ```
//!
//! The evaluation log is only built when info is enabled for the
//! `configcat` target, so with that filter (or with logging off) a read
//! does not format it, and evaluating a flag does not allocate.
//!
//! ## Caches
//!
//! [`ConfigCache`] has two methods, `read(key)` and `write(key, payload)`.
//! The client stores `"<fetch time ms>\n<etag>\n<config json>"` under
//! `hex(sha1("<sdk key>_config_v6.json_v2"))` ([`cache_key`]), the format and key of
//! ConfigCat's other SDKs, so one shared cache can serve clients in several
//! languages. The cache is read once per refresh decision (never per flag
//! read); a failing cache is logged (2200/2201) and the client keeps working
//! from memory. [`InMemoryCache`] is a ready implementation.
//!
//! One process needs nothing but the client: its config lives in memory,
//! and auto polling keeps it current. Once the same SDK key is used by many
//! instances (replicas of a service, workers, services in other languages),
//! each one downloads the config on its own, starts with no flags until its
//! first download, and needs network access to ConfigCat. A cache they all
//! share changes that:
//!
//! - an instance reads the shared entry before each poll and skips the
//!   download when another instance refreshed it within the poll interval;
//! - a new instance serves flags from the entry at once, before any download;
//! - an instance without network access (`with_offline(true)`) serves what an
//!   online one wrote: the entry is read when the client starts and, in auto
//!   polling mode, once per poll interval after that, so offline readers
//!   follow the online writer (the config-changed hook fires when they pick
//!   up a change).
//!
//! The repository's `.ci/cross_sdk_cache.sh` checks the sharing both ways
//! against ConfigCat's official Python SDK through Redis: each side reads
//! the entry the other wrote and evaluates 10 flags (rules on e-mail,
//! country, semver, numbers, a segment, a prerequisite flag, a hashed
//! comparison, % options) for 12 users to the same values and variation
//! ids, and the two SDKs' payloads are byte-identical after the fetch time.
//!
//! ## Redis (feature `redis`)
//!
//! ```toml
//! configcat-std = { version = "0.1", features = ["redis"] }
//! ```
//!
//! ```no_run
//! # #[cfg(feature = "redis")]
//! # fn example() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use configcat_std::{Client, ClientOptions, RedisCache};
//! use std::{sync::Arc, time::Duration};
//!
//! let cache = RedisCache::new("redis://redis.internal:6379/0")?
//!     .with_connect_timeout(Duration::from_millis(500))
//!     .with_response_timeout(Duration::from_millis(500));
//! let options = ClientOptions::default().with_cache(Arc::new(cache));
//! let client = Client::get("configcat-sdk-1/XXXXXXXXXXXXXXXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXX", options)?;
//! # Ok(()) }
//! ```
//!
//! `RedisCache` uses the `redis` crate's synchronous API with one
//! connection, opened on first use (creating it never fails because Redis is
//! down) and kept. Connect and response timeouts default to 1 s. A command
//! on a kept connection that fails (Redis restarted) is retried once on a new
//! connection; while Redis is down, each cache call fails within the connect
//! timeout, the client logs 2200 (read) or 2201 (write) and keeps serving the
//! config it has in memory, and it writes the entry again once Redis is back.
//! The client calls the cache once per refresh, on its poller thread in auto
//! polling mode, never per flag read. The tests run against real
//! `redis-server`s of their own: a writer and an offline reader in another
//! process, Redis restarted mid-run, Redis unreachable at start.
//!
//! ## Behind the ConfigCat Proxy
//!
//! The [ConfigCat Proxy](https://configcat.com/docs/advanced/proxy/proxy-overview/)
//! downloads the config once for all your instances and serves it in the
//! CDN's format. Point the client at it with `base_url`; the SDK key may
//! then be the Proxy's `configcat-proxy/<SDK id>` form, which keeps the real
//! key out of your instances:
//!
//! ```no_run
//! use configcat_std::{Client, ClientOptions};
//!
//! let options = ClientOptions::default().with_base_url("http://configcat-proxy.internal:8050");
//! let client = Client::get("configcat-proxy/my-service", options)?;
//! # Ok::<(), configcat_std::ClientError>(())
//! ```
//!
//! With a custom base url the CDN's redirect hint is only followed when
//! forced, as in ConfigCat's other SDKs. The Proxy and a shared cache
//! combine: instances behind the Proxy may still share a Redis entry to
//! start fast. (An HTTP *proxy* in front of the CDN is another thing:
//! `ClientOptions::proxy`, see [options](#options).)
//!
//! ## OpenFeature (feature `openfeature`)
//!
//! `ConfigCatProvider` makes the client an [OpenFeature](https://openfeature.dev)
//! provider for the `open-feature` crate (0.3, re-exported as
//! `configcat_std::open_feature`). This feature needs Rust 1.88 (its
//! dependency `time` does, from the release that fixes RUSTSEC-2026-0009).
//!
//! ```no_run
//! # #[cfg(feature = "openfeature")]
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use configcat_std::open_feature::{EvaluationContext, OpenFeature};
//! use configcat_std::{Client, ClientOptions, ConfigCatProvider};
//!
//! let client = Client::get("configcat-sdk-1/XXXXXXXXXXXXXXXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXX", ClientOptions::default())?;
//! let mut api = OpenFeature::singleton_mut().await;
//! api.set_provider(ConfigCatProvider::new(client)).await; // waits for the first config
//! let flags = api.create_client();
//! drop(api);
//!
//! let context = EvaluationContext::default()
//!     .with_targeting_key("#USER-IDENTIFIER#")
//!     .with_custom_field("Email", "jane@example.com")
//!     .with_custom_field("Age", 31);
//! let enabled = flags.get_bool_value("isMyAwesomeFeatureEnabled", Some(&context), None).await.unwrap_or(false);
//! # Ok(()) }
//! ```
//!
//! - **Types.** `get_bool_value`, `get_string_value`, `get_int_value` and
//!   `get_float_value` read settings of the same type (a whole number
//!   setting also as a float); `get_struct_value` reads a text setting
//!   holding a JSON object (integers stay integers, `null` members are left
//!   out).
//! - **Context → user.** The targeting key is the identifier; `Email` and
//!   `Country` the e-mail and country; other fields are custom attributes:
//!   text as text, integers and floats as numbers, bools as
//!   `"true"`/`"false"`, date-times as date-times, and a `Vec<String>` (or
//!   `Vec<&'static str>`, or a `UserValue`) wrapped with
//!   `EvaluationContextFieldValue::new_struct` as a string list.
//!   `ConfigCatProvider::user_from_context` shows the mapping.
//! - **Results.** The variant is the variation id. Reasons: `Split` when a %
//!   option chose the value, `TargetingMatch` when a targeting rule did,
//!   `Default` for the setting's own value. Errors: `ProviderNotReady` while
//!   the client has no config, `FlagNotFound`, `TypeMismatch`, `ParseError`
//!   (a structure whose text is not a JSON object), `General` with
//!   ConfigCat's message otherwise. The flag metadata carries
//!   `matched_targeting_rule_index`, `matched_percentage_option_index` and
//!   `fetch_time_unix_ms`.
//! - **Status.** `initialize` (run by `set_provider`) waits for the client's
//!   first config (at most 5 s, `with_init_timeout`) on a thread of its own,
//!   not blocking the async runtime; `status()` is `Ready` once the client
//!   has flag data, `NotReady` before, `STALE` after `close()` (the last
//!   config is still served, never refreshed).
//! - Evaluation calls the client's blocking API. With auto polling (the
//!   default) a read never waits on the network after the first config, so
//!   it is safe in async code; lazy loading would fetch on the reading task.
//!
//! ## Async code (tokio, axum)
//!
//! The client needs no async runtime, and nothing it does blocks an
//! executor's thread on the network when used this way:
//!
//! - **Await readiness** with [`Client::wait_for_ready_async`] (and a
//!   forced refresh with [`Client::force_refresh_async`]): futures that
//!   run the wait on a thread of their own, on any executor (tokio's
//!   `current_thread` and `multi_thread` runtimes, smol, `block_on`).
//! - **Then read.** In auto polling (the default) a read only loads the
//!   current config snapshot once the client is ready: call `get_value`
//!   straight from a handler.
//! - **Lazy loading**: turn on [`ClientOptions::with_serve_stale`], so that
//!   a read after the TTL returns the config it has at once and refreshes
//!   in the background. Without it (the default, as in ConfigCat's SDKs) a
//!   read after the TTL waits for the refresh.
//! - [`Client::close`] returns without waiting for a request in flight.
//!
//! ```no_run
//! use configcat_std::{CacheState, Client, ClientOptions};
//! use std::time::Duration;
//!
//! # async fn handler_setup() -> Result<(), configcat_std::ClientError> {
//! let client = Client::get("configcat-sdk-1/XXXXXXXXXXXXXXXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXX", ClientOptions::default())?;
//! if client.wait_for_ready_async(Duration::from_secs(5)).await == CacheState::NoFlagData {
//!     eprintln!("no flags yet: reads return their defaults");
//! }
//! // In a handler: never blocks on the network.
//! let enabled = client.get_value("isMyAwesomeFeatureEnabled", false, None);
//! # let _ = enabled;
//! # Ok(()) }
//! ```
//!
//! The repository's `examples/web` is an axum service built this way; its
//! test measures that a 10 ms heartbeat task on a `current_thread` runtime
//! never stalls for more than 25 ms while the CDN hangs, refuses
//! connections or stalls a refresh, or while the client closes.
//!
//! ## Cargo features
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `redis` | `RedisCache`, a [`ConfigCache`] in Redis ([above](#redis-feature-redis)) |
//! | `openfeature` | `ConfigCatProvider`, an OpenFeature provider ([above](#openfeature-feature-openfeature)); needs Rust 1.88 |
//!
//! Neither is on by default; the default build's minimum Rust version is 1.85.
//!
//! ## Differences from ConfigCat's SDKs
//!
//! - Typed reads: asking for another type than the setting's returns your
//!   default with an error, instead of the setting's value with warning
//!   4002.
//! - `force_refresh` returns a `Result`; `wait_for_ready` replaces polling
//!   `is_ready` style checks.
//! - Proxies are configured with one [`ProxyOptions`] (url plus
//!   credentials), not a scheme-to-url map; HTTPS to the CDN is tunnelled
//!   through it.
//! - Lazy loading waits one TTL before retrying a failed fetch, so a down
//!   CDN does not turn every read into a blocking request.
//!
//! Not supported (yet): config JSON v5 and older (the CDN serves v6 to this
//! SDK's url), and untyped flag-override maps (`null` or list values: map
//! overrides are typed).
#![cfg_attr(docsrs, feature(doc_cfg))]

mod cache;
mod client;
mod clock;
mod flag_default;
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
// Every core type this crate's API names, so that this crate is the one
// dependency an application needs (`tests/one_crate.rs` names them all).
/// What [`Client::wait_for_ready`] (and the client-ready hook) report: how
/// much flag data the client has to evaluate with.
///
/// ```
/// use configcat_std::{CacheState, Client, ClientOptions, FlagOverrides, OverrideBehaviour};
/// use std::time::Duration;
///
/// let overrides = FlagOverrides::from_map([("beta", true.into())], OverrideBehaviour::LocalOnly);
/// let client = Client::get(
///     "configcat-sdk-1/DOCTEST-CACHE-STATE-01/1234567890123456789012",
///     ClientOptions::default().with_flag_overrides(overrides),
/// )?;
/// match client.wait_for_ready(Duration::from_secs(5)) {
///     CacheState::NoFlagData => eprintln!("no flags yet: reads return their defaults"),
///     CacheState::CachedDataOnly => eprintln!("serving a cached config until a download succeeds"),
///     CacheState::UpToDate | CacheState::LocalOverridesOnly => {}
///     _ => {} // non-exhaustive: later versions may tell more
/// }
/// assert_eq!(client.wait_for_ready(Duration::ZERO), CacheState::LocalOverridesOnly);
/// client.close();
/// # Ok::<(), configcat_std::ClientError>(())
/// ```
pub use configcat_core::refresh::CacheState;
pub use configcat_core::refresh::{
    DataGovernance, Fetched, PollingMode, RefreshError, RefreshOptions, SdkKeyError,
    TransportErrorKind, cache_key,
};
pub use configcat_core::{
    Config, EventId, FlagError, FlagValue, LogLevel, LogSink, MatchedPercentageOption,
    MatchedTargetingRule, NoLog, OverrideBehaviour, OwnedValue, ParseError, ParseErrorKind,
    PercentageOption, Preferences, RedirectMode, Setting, SettingType, TargetingRule, User,
    UserValue, Value,
};
/// How a flag's value was reached, owned (the one details shape of
/// `configcat-core`, in the form that outlives the config it came from).
///
/// ```
/// use configcat_std::{Client, ClientOptions, FlagError, FlagOverrides, OverrideBehaviour};
///
/// let overrides = FlagOverrides::from_map([("pageSize", 50_i64.into())], OverrideBehaviour::LocalOnly);
/// let client = Client::get(
///     "configcat-sdk-1/DOCTEST-EVAL-DETAILS-1/1234567890123456789012",
///     ClientOptions::default().with_flag_overrides(overrides),
/// )?;
/// let details = client.get_value_details("pageSize", 10_i64, None);
/// assert_eq!((details.value, details.is_default_value), (50, false));
/// let wrong_type = client.get_value_details("pageSize", false, None);
/// assert!(wrong_type.is_default_value);
/// assert!(matches!(wrong_type.error, Some(FlagError::TypeMismatch { .. })));
/// client.close();
/// # Ok::<(), configcat_std::ClientError>(())
/// ```
pub type EvaluationDetails<T> = configcat_core::EvaluationDetails<'static, T>;
pub use flag_default::FlagDefault;
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

/// This crate's README's Rust snippets, compiled (and where they need no
/// network, run) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
