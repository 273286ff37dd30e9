//! The refresh state machine: when to fetch, what to fetch, what an answer means.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::cache_entry::CacheEntry;
use super::error::{RefreshError, TransportErrorKind};
use super::options::{
    DataGovernance, EU_ONLY_BASE_URL, GLOBAL_BASE_URL, PollingMode, RefreshOptions,
};
use super::time::Instant;
use crate::config::{Config, RedirectMode};
use crate::log_event::{EventId, LogLevel, LogSink, emit};
use crate::sdk_key::{MaskedKey, SdkKeyError, cache_key, is_proxy_key, validate_sdk_key};

/// The product name this SDK reports in its user-agent header.
pub const PRODUCT_NAME: &str = "OxideFlags";
/// How many requests one refresh may make when following redirects.
const MAX_REQUESTS_PER_REFRESH: u8 = 3;

/// A GET request the adapter should make.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FetchRequest {
    /// The full config URL.
    pub url: String,
    /// The `If-None-Match` value, when an ETag is known.
    pub if_none_match: Option<Box<str>>,
    /// The value of the `X-ConfigCat-UserAgent` header.
    pub user_agent: String,
}

impl FetchRequest {
    /// The request headers as name-value pairs.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, &str)> {
        core::iter::once(("X-ConfigCat-UserAgent", self.user_agent.as_str())).chain(
            self.if_none_match
                .as_deref()
                .map(|etag| ("If-None-Match", etag)),
        )
    }
}

/// What the transport received.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct FetchResponse<'a> {
    /// HTTP status code.
    pub status: u16,
    /// The `ETag` header, if any.
    pub etag: Option<&'a str>,
    /// The response body (empty when [`Refresher::wants_body`] says it is not wanted).
    pub body: &'a [u8],
}

impl<'a> FetchResponse<'a> {
    /// A response from its parts.
    #[must_use]
    pub const fn new(status: u16, etag: Option<&'a str>, body: &'a [u8]) -> Self {
        Self { status, etag, body }
    }
}

/// How a successful refresh ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fetched {
    /// A new config was downloaded.
    New,
    /// The server confirmed the config is unchanged (304).
    NotModified,
}

/// What a finished refresh asks the adapter to do.
#[derive(Debug)]
#[non_exhaustive]
pub struct RefreshUpdate {
    /// Whether the refresh succeeded, and how.
    pub result: Result<Fetched, RefreshError>,
    /// A new config to publish to readers (the config changed).
    pub new_config: Option<Config>,
    /// A payload to write to the config cache (a new config, or a newer fetch time).
    pub cache_payload: Option<String>,
}

impl RefreshUpdate {
    /// A refresh that failed with `error` and changes nothing.
    #[must_use]
    pub const fn failed(error: RefreshError) -> Self {
        Self {
            result: Err(error),
            new_config: None,
            cache_payload: None,
        }
    }
}

/// The next step after a response.
///
/// Not `#[non_exhaustive]`: adapters match it exhaustively, so a new step
/// fails their build instead of being dropped by a wildcard arm.
#[derive(Debug)]
pub enum FetchStep {
    /// Follow a redirect: make this request next.
    Fetch(FetchRequest),
    /// The refresh is over.
    Done(RefreshUpdate),
}

/// What is due when [`Refresher::poll_timeout`]'s deadline has come, as
/// [`Refresher::handle_timeout`] answers.
///
/// Not `#[non_exhaustive]`, like [`FetchStep`]: adapters handle every case.
#[derive(Debug)]
pub enum Due {
    /// Read the config cache and hand what it holds to
    /// [`Refresher::handle_cache_payload`] (an empty payload when it holds
    /// nothing or cannot be read), then call [`Refresher::handle_timeout`]
    /// again. Only asked for when the options say the cache has other
    /// writers to follow.
    ReadCache,
    /// Make this request and hand the answer to [`Refresher::handle_response`]
    /// or [`Refresher::handle_transport_error`].
    Fetch(FetchRequest),
    /// Max init wait ended before a config arrived (warning 4200 was
    /// logged): reads stop waiting, and the client is ready with what it has.
    InitWaitExpired,
}

/// How much flag data the client has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CacheState {
    /// No config yet.
    NoFlagData,
    /// Only local flag overrides (LocalOnly).
    LocalOverridesOnly,
    /// A config from the cache or an earlier fetch that is older than the polling mode allows.
    CachedDataOnly,
    /// A config fetched (or confirmed) within the polling interval or TTL.
    UpToDate,
}

/// Whether the client may use the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Network {
    Online,
    Offline,
}

/// What the refresher is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    /// The adapter was asked to read its cache ([`Due::ReadCache`]).
    ReadingCache,
    /// A fetch is in flight; redirects count as further requests.
    Fetching {
        requests: u8,
    },
}

/// Whether reads still wait for the first config (auto polling only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Init {
    Waiting { deadline: Instant },
    Ready,
}

/// The refresh state machine of one client: it says when to fetch and what
/// to make of the answers, for both adapters.
///
/// It performs no I/O and reads no clock. Time comes in as [`Instant`]s of
/// the adapter's monotonic clock (for every deadline) and, where
/// ConfigCat's cache format records it, as Unix milliseconds (`unix_ms`).
///
/// # The call protocol
///
/// - **Timers.** [`poll_timeout`](Self::poll_timeout) is the one deadline
///   the client has (the next poll, the end of max init wait, the next read
///   of a followed cache, or in lazy loading the config's expiry). When it
///   has come, call [`handle_timeout`](Self::handle_timeout) and do what it
///   answers ([`Due`]); ask for the deadline again after every call into the
///   refresher, since every input can move it. An auto-polling adapter
///   sleeps until the deadline ([`timer_driven`](Self::timer_driven)); in
///   lazy loading, a read that finds the deadline passed calls
///   `handle_timeout` itself. Calling it early, or twice, is harmless.
/// - **Fetches.** A [`Due::Fetch`] (or [`start_fetch`](Self::start_fetch),
///   for a forced refresh) puts one fetch in flight. Its answer goes to
///   [`handle_response`](Self::handle_response) (or
///   [`handle_owned_response`](Self::handle_owned_response)) or, when the
///   transport failed, [`handle_transport_error`](Self::handle_transport_error).
///   A response may ask for a redirect ([`FetchStep::Fetch`]): make that
///   request and hand its answer over the same way, until
///   [`FetchStep::Done`]. An answer handed over with no fetch in flight is an
///   error ([`RefreshError::NoFetchInFlight`]) and changes nothing.
/// - **Cache.** What the config cache holds goes to
///   [`handle_cache_payload`](Self::handle_cache_payload): at start, and
///   whenever [`Due::ReadCache`] asks. A finished refresh's
///   [`RefreshUpdate`] says what to publish and what to write back.
///
/// ```
/// use configcat_core::NoLog;
/// use configcat_core::refresh::{Due, FetchResponse, FetchStep, Instant, PollingMode, RefreshOptions, Refresher};
///
/// let mode = PollingMode::Auto { interval_ms: 60_000, max_init_wait_ms: 5_000 };
/// let start = Instant::from_millis(0);
/// let mut refresher = Refresher::new(
///     "configcat-sdk-1/TEST_KEY-0123456789012/1234567890123456789012",
///     RefreshOptions::new(mode),
///     start,
/// )?;
/// // The first poll is due at once.
/// assert_eq!(refresher.poll_timeout(), Some(start));
/// let Some(Due::Fetch(request)) = refresher.handle_timeout(start, &NoLog) else { unreachable!() };
/// assert!(request.url.ends_with("/config_v6.json"));
///
/// let now = Instant::from_millis(120);
/// let unix_ms = 1_700_000_000_000;
/// let body = br#"{"f":{"flag":{"t":0,"v":{"b":true}}}}"#;
/// let response = FetchResponse::new(200, Some("\"e1\""), body);
/// let FetchStep::Done(update) = refresher.handle_response(now, unix_ms, response, &NoLog) else { unreachable!() };
/// assert!(update.new_config.unwrap().get_value("flag", false, None, &NoLog));
/// assert!(update.cache_payload.unwrap().starts_with("1700000000000\n\"e1\"\n"));
/// // The next poll: one interval after this fetch.
/// assert_eq!(refresher.poll_timeout(), Some(Instant::from_millis(60_120)));
/// # Ok::<(), configcat_core::refresh::SdkKeyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Refresher {
    sdk_key: Box<str>,
    cache_key: String,
    options: RefreshOptions,
    /// Where requests go now (redirects change it).
    base_url: String,
    base_url_is_custom: bool,
    entry: Option<CacheEntry>,
    /// Until when `entry` counts as fresh. Set from the monotonic clock when
    /// the entry is learned, so a wall clock that steps cannot move it.
    fresh_until: Option<Instant>,
    network: Network,
    phase: Phase,
    init: Init,
    created_at: Instant,
    /// When the last fetch was started.
    last_attempt: Option<Instant>,
    /// When the cache was last read for a due refresh.
    last_cache_read: Option<Instant>,
}

impl Refresher {
    /// A refresher for this SDK key, created at `now`.
    ///
    /// # Errors
    /// The SDK key is malformed (not checked in local-only mode).
    pub fn new(sdk_key: &str, options: RefreshOptions, now: Instant) -> Result<Self, SdkKeyError> {
        if !options.local_only {
            validate_sdk_key(sdk_key, options.base_url.is_some())?;
        }
        let (base_url, base_url_is_custom) = match &options.base_url {
            Some(url) => (String::from(url.trim_end_matches('/')), true),
            None => (
                String::from(match options.data_governance {
                    DataGovernance::Global => GLOBAL_BASE_URL,
                    DataGovernance::EuOnly => EU_ONLY_BASE_URL,
                }),
                false,
            ),
        };
        let init = match options.polling {
            // Nothing to wait for when nothing will be fetched.
            PollingMode::Auto {
                max_init_wait_ms, ..
            } if max_init_wait_ms > 0 && !options.local_only && !options.offline => Init::Waiting {
                deadline: now.saturating_add_millis(max_init_wait_ms),
            },
            _ => Init::Ready,
        };
        Ok(Self {
            sdk_key: sdk_key.into(),
            cache_key: cache_key(sdk_key),
            network: if options.offline {
                Network::Offline
            } else {
                Network::Online
            },
            options,
            base_url,
            base_url_is_custom,
            entry: None,
            fresh_until: None,
            phase: Phase::Idle,
            init,
            created_at: now,
            last_attempt: None,
            last_cache_read: None,
        })
    }

    /// The key of this client's entry in the config cache.
    #[must_use]
    pub fn cache_key(&self) -> &str {
        &self.cache_key
    }

    /// The options the refresher was made with.
    #[must_use]
    pub const fn options(&self) -> &RefreshOptions {
        &self.options
    }

    /// The last good config's cache entry, if any. Its config text is empty
    /// after [`release_entry_text`](Self::release_entry_text).
    #[must_use]
    pub const fn entry(&self) -> Option<&CacheEntry> {
        self.entry.as_ref()
    }

    /// Drops the config text the refresher keeps, for an adapter whose
    /// storage holds it (a device short of heap: it saves a config's size
    /// between fetches and at the peak of the next one). The ETag and the
    /// fetch time stay; a confirmation (304) then brings no cache payload,
    /// since there is no text to build it from. The adapter restores the
    /// config from its storage if it needs the text again.
    pub fn release_entry_text(&mut self) {
        if let Some(entry) = &mut self.entry {
            entry.config_json = Box::default();
        }
    }

    /// Whether the client is offline.
    #[must_use]
    pub const fn is_offline(&self) -> bool {
        matches!(self.network, Network::Offline)
    }

    /// Whether a fetch is in flight.
    #[must_use]
    pub const fn is_fetching(&self) -> bool {
        matches!(self.phase, Phase::Fetching { .. })
    }

    /// Whether reads may stop waiting for the first config: a fetch
    /// finished, a fresh config came from the cache, or max init wait
    /// ended ([`Due::InitWaitExpired`]). Always true outside auto polling.
    #[must_use]
    pub const fn is_initialized(&self) -> bool {
        matches!(self.init, Init::Ready)
    }

    /// Whether [`poll_timeout`](Self::poll_timeout)'s deadlines are for a
    /// timer (auto polling that may fetch): an adapter runs one then. In
    /// lazy loading they are for reads, and in manual polling and local-only
    /// mode there are none.
    #[must_use]
    pub const fn timer_driven(&self) -> bool {
        matches!(self.options.polling, PollingMode::Auto { .. }) && !self.options.local_only
    }

    /// Whether a response with this status carries a body the refresher
    /// reads (a config: 200-204). For other statuses an adapter may skip
    /// reading the body and hand over an empty one.
    #[must_use]
    pub const fn wants_body(status: u16) -> bool {
        matches!(status, 200..=204)
    }

    /// Stops or resumes network use. Returns whether the state changed (and
    /// logs 5200 when it did).
    pub fn set_offline(&mut self, offline: bool, sink: &dyn LogSink) -> bool {
        let network = if offline {
            Network::Offline
        } else {
            Network::Online
        };
        if self.network == network {
            return false;
        }
        self.network = network;
        let mode = if offline { "OFFLINE" } else { "ONLINE" };
        emit(
            sink,
            LogLevel::Info,
            EventId::ClientStateChanged,
            format_args!("Switched to {mode} mode."),
        );
        true
    }

    /// How much flag data there is at `now`.
    #[must_use]
    pub fn cache_state(&self, now: Instant) -> CacheState {
        if self.options.local_only {
            return CacheState::LocalOverridesOnly;
        }
        if self.entry.is_none() {
            return CacheState::NoFlagData;
        }
        match (self.options.polling.period_ms(), self.fresh_until) {
            // Manual mode has no notion of expiry: data is as fresh as the application keeps it.
            (None, _) => CacheState::UpToDate,
            (Some(_), Some(fresh_until)) if fresh_until > now => CacheState::UpToDate,
            (Some(_), _) => CacheState::CachedDataOnly,
        }
    }

    // ---- the schedule --------------------------------------------------------

    /// The next time the refresher needs [`handle_timeout`](Self::handle_timeout),
    /// or `None` when nothing is scheduled (manual polling, local-only,
    /// offline without a cache to follow, a fetch in flight once the client
    /// is initialized). A deadline in the past is due at once.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let init = match self.init {
            Init::Waiting { deadline } => Some(deadline),
            Init::Ready => None,
        };
        match (init, self.refresh_due()) {
            (Some(init), Some(refresh)) => Some(init.min(refresh)),
            (init, refresh) => init.or(refresh),
        }
    }

    /// When a refresh is due: the config's expiry, spaced one period after
    /// the last attempt; offline with a cache to follow, one period after the
    /// last read of it.
    fn refresh_due(&self) -> Option<Instant> {
        if self.options.local_only || self.phase != Phase::Idle {
            return None;
        }
        let period = self.options.polling.period_ms()?;
        match self.network {
            Network::Offline if self.options.follow_cache => Some(
                self.last_cache_read
                    .map_or(self.created_at, |read| read.saturating_add_millis(period)),
            ),
            Network::Offline => None,
            Network::Online => {
                let expires = self.fresh_until.unwrap_or(self.created_at);
                let retry = self.last_attempt.map_or(self.created_at, |attempt| {
                    attempt.saturating_add_millis(period)
                });
                Some(expires.max(retry))
            }
        }
    }

    /// Says what is due at `now`, if anything: call it when
    /// [`poll_timeout`](Self::poll_timeout)'s deadline has come. One thing
    /// at a time: after doing it, ask for the deadline again.
    pub fn handle_timeout(&mut self, now: Instant, sink: &dyn LogSink) -> Option<Due> {
        if let Init::Waiting { deadline } = self.init {
            if now >= deadline {
                self.init = Init::Ready;
                let waited = deadline.saturating_millis_since(self.created_at);
                emit(
                    sink,
                    LogLevel::Warning,
                    EventId::InitWaitExpired,
                    format_args!(
                        "`max_init_wait` for the very first fetch reached ({waited}ms). Returning cached config."
                    ),
                );
                return Some(Due::InitWaitExpired);
            }
        }
        let due = self.refresh_due()?;
        if now < due {
            return None;
        }
        if self.options.follow_cache && self.last_cache_read.is_none_or(|read| read < due) {
            self.last_cache_read = Some(now);
            self.phase = Phase::ReadingCache;
            return Some(Due::ReadCache);
        }
        if self.is_offline() {
            return None;
        }
        Some(Due::Fetch(self.begin_fetch(now)))
    }

    // ---- fetching --------------------------------------------------------------

    /// Starts a refresh now, whatever the schedule says (a forced refresh):
    /// the request to make.
    ///
    /// # Errors
    /// Offline (logs 3200), local-only (logs 3202), or a fetch is already in flight.
    pub fn start_fetch(
        &mut self,
        now: Instant,
        sink: &dyn LogSink,
    ) -> Result<FetchRequest, RefreshError> {
        if self.options.local_only {
            emit(
                sink,
                LogLevel::Warning,
                EventId::LocalOnlyRefreshIgnored,
                format_args!("{}", RefreshError::LocalOnly),
            );
            return Err(RefreshError::LocalOnly);
        }
        if self.is_offline() {
            emit(
                sink,
                LogLevel::Warning,
                EventId::ClientOffline,
                format_args!("{}", RefreshError::Offline),
            );
            return Err(RefreshError::Offline);
        }
        if self.is_fetching() {
            return Err(RefreshError::AlreadyFetching);
        }
        Ok(self.begin_fetch(now))
    }

    fn begin_fetch(&mut self, now: Instant) -> FetchRequest {
        self.phase = Phase::Fetching { requests: 1 };
        self.last_attempt = Some(now);
        self.request()
    }

    fn request(&self) -> FetchRequest {
        FetchRequest {
            url: format!(
                "{}/configuration-files/{}/config_v6.json",
                self.base_url, self.sdk_key
            ),
            if_none_match: self
                .entry
                .as_ref()
                .map(|entry| entry.etag.clone())
                .filter(|etag| !etag.is_empty()),
            user_agent: format!(
                "ConfigCat-{PRODUCT_NAME}/{}-{}",
                self.options.polling.code(),
                self.options.sdk_version
            ),
        }
    }

    /// Takes the response to the request in flight, received at `now` (the
    /// wall clock then reading `unix_ms`, the fetch time the cache records).
    pub fn handle_response(
        &mut self,
        now: Instant,
        unix_ms: u64,
        response: FetchResponse<'_>,
        sink: &dyn LogSink,
    ) -> FetchStep {
        let body = Body::Borrowed(response.body);
        self.handle_body(now, unix_ms, response.status, response.etag, body, sink)
    }

    /// Takes the response to the request in flight like
    /// [`handle_response`](Self::handle_response), but takes the body by
    /// value: a new config's JSON is then kept without copying it, so a
    /// memory-tight device needs one body-sized buffer less at the peak of a fetch.
    pub fn handle_owned_response(
        &mut self,
        now: Instant,
        unix_ms: u64,
        status: u16,
        etag: Option<&str>,
        body: Vec<u8>,
        sink: &dyn LogSink,
    ) -> FetchStep {
        self.handle_body(now, unix_ms, status, etag, Body::Owned(body), sink)
    }

    fn handle_body(
        &mut self,
        now: Instant,
        unix_ms: u64,
        status: u16,
        etag: Option<&str>,
        body: Body<'_>,
        sink: &dyn LogSink,
    ) -> FetchStep {
        let Phase::Fetching { requests } = self.phase else {
            return FetchStep::Done(RefreshUpdate::failed(RefreshError::NoFetchInFlight));
        };
        if Self::wants_body(status) {
            return self.handle_config(now, unix_ms, etag, body, requests, sink);
        }
        FetchStep::Done(match status {
            304 => {
                let payload = self.confirm_entry(now, unix_ms);
                self.finish();
                RefreshUpdate {
                    result: Ok(Fetched::NotModified),
                    new_config: None,
                    cache_payload: payload,
                }
            }
            403 | 404 => {
                // A wrong key will not fix itself: treat the config we have as confirmed
                // so polling does not hammer the CDN, and say so.
                let payload = self.confirm_entry(now, unix_ms);
                let mut update = self.fail(RefreshError::InvalidSdkKey { status }, sink);
                update.cache_payload = payload;
                update
            }
            status => self.fail(RefreshError::UnexpectedStatus { status }, sink),
        })
    }

    fn handle_config(
        &mut self,
        now: Instant,
        unix_ms: u64,
        etag: Option<&str>,
        body: Body<'_>,
        requests: u8,
        sink: &dyn LogSink,
    ) -> FetchStep {
        // UTF-8 is checked once, here; the parser reads the checked text.
        let parsed = match body.into_text() {
            Ok(text) => Config::parse_text(text.as_str()).map(|config| (config, text)),
            Err(bytes) => Err(Config::parse_error_of(bytes.bytes())),
        };
        let (config, text) = match parsed {
            Ok(parsed) => parsed,
            Err(error) => {
                return FetchStep::Done(self.fail(RefreshError::InvalidBody(error), sink));
            }
        };
        if let Some(next) = self.redirect(&config, requests, sink) {
            self.phase = Phase::Fetching {
                requests: requests.saturating_add(1),
            };
            return FetchStep::Fetch(next);
        }
        // The old entry goes before the payload is built: one config text less at the peak.
        self.entry = Some(CacheEntry {
            fetch_time_ms: unix_ms,
            etag: storable_etag(etag).into(),
            config_json: text.into_boxed_str(),
        });
        self.fresh_until = self.fresh_for_a_period(now, 0);
        let payload = self.entry.as_ref().map(CacheEntry::payload);
        self.finish();
        FetchStep::Done(RefreshUpdate {
            result: Ok(Fetched::New),
            new_config: Some(config),
            cache_payload: payload,
        })
    }

    /// Takes the failure of the request in flight.
    pub fn handle_transport_error(
        &mut self,
        kind: TransportErrorKind,
        detail: &str,
        sink: &dyn LogSink,
    ) -> RefreshUpdate {
        if !self.is_fetching() {
            return RefreshUpdate::failed(RefreshError::NoFetchInFlight);
        }
        let error = RefreshError::transport(kind, detail, self.options.timeouts_ms);
        self.fail(error, sink)
    }

    fn fail(&mut self, error: RefreshError, sink: &dyn LogSink) -> RefreshUpdate {
        let id = match &error {
            RefreshError::InvalidSdkKey { .. } => EventId::FetchFailedInvalidSdkKey,
            RefreshError::UnexpectedStatus { .. } => EventId::FetchFailedUnexpectedStatus,
            RefreshError::Transport {
                kind: TransportErrorKind::TimedOut,
                ..
            } => EventId::FetchTimedOut,
            RefreshError::InvalidBody(_) => EventId::FetchReceivedInvalidConfig,
            _ => EventId::FetchFailedTransport,
        };
        emit(sink, LogLevel::Error, id, format_args!("{error}"));
        self.finish();
        RefreshUpdate::failed(error)
    }

    fn finish(&mut self) {
        self.phase = Phase::Idle;
        self.init = Init::Ready;
    }

    /// Bumps the fetch time of the current config; the payload to store, if there is a config.
    fn confirm_entry(&mut self, now: Instant, unix_ms: u64) -> Option<String> {
        let entry = self.entry.as_mut()?;
        entry.fetch_time_ms = unix_ms;
        self.fresh_until = self.fresh_for_a_period(now, 0);
        let entry = self.entry.as_ref()?;
        // A released text would make a payload without its config.
        (self.options.confirmation_payloads && !entry.config_json.is_empty())
            .then(|| entry.payload())
    }

    /// Until when a config `age_ms` old at `now` stays fresh.
    fn fresh_for_a_period(&self, now: Instant, age_ms: u64) -> Option<Instant> {
        let period = self.options.polling.period_ms().unwrap_or(0);
        Some(now.saturating_add_millis(period.saturating_sub(age_ms)))
    }

    /// Applies the config's redirect instruction. Returns the request to make
    /// next when the refresh must follow it.
    fn redirect(
        &mut self,
        config: &Config,
        requests: u8,
        sink: &dyn LogSink,
    ) -> Option<FetchRequest> {
        if is_proxy_key(&self.sdk_key) {
            return None;
        }
        let preferences = config.preferences();
        let target = preferences.base_url()?.trim_end_matches('/');
        if target.is_empty() || target == self.base_url {
            return None;
        }
        let mode = preferences.redirect().unwrap_or_default();
        if self.base_url_is_custom && mode != RedirectMode::ForceRedirect {
            return None;
        }
        // Later requests go to the config's base url, whatever the mode.
        self.base_url = String::from(target);
        if mode == RedirectMode::NoRedirect {
            return None;
        }
        if mode == RedirectMode::ShouldRedirect {
            emit(
                sink,
                LogLevel::Warning,
                EventId::DataGovernanceMismatch,
                format_args!(
                    "The `data_governance` option specified at the client initialization is not in sync with the preferences on the ConfigCat Dashboard. Read more: https://configcat.com/docs/advanced/data-governance/"
                ),
            );
        }
        if requests >= MAX_REQUESTS_PER_REFRESH {
            emit(
                sink,
                LogLevel::Error,
                EventId::RedirectLoop,
                format_args!(
                    "Redirection loop encountered while trying to fetch config JSON (SDK Key {}). Please contact us at https://configcat.com/support/",
                    MaskedKey(&self.sdk_key)
                ),
            );
            return None;
        }
        Some(self.request())
    }

    // ---- the cache ---------------------------------------------------------------

    /// Takes a payload read from the config cache at `now` (the wall clock
    /// then reading `unix_ms`, to tell the payload's age); an empty payload
    /// when the cache held nothing or could not be read. Returns the config
    /// when it differs from the current one (another process, or a previous
    /// run, stored a newer config), to be published to readers.
    pub fn handle_cache_payload(
        &mut self,
        now: Instant,
        unix_ms: u64,
        payload: &str,
        sink: &dyn LogSink,
    ) -> Option<Config> {
        if self.phase == Phase::ReadingCache {
            self.phase = Phase::Idle;
        }
        if self.options.local_only || payload.is_empty() {
            return None;
        }
        if self
            .entry
            .as_ref()
            .is_some_and(|entry| entry.is_payload(payload))
        {
            return None;
        }
        match CacheEntry::parse_payload(payload) {
            Ok((entry, config)) => self.adopt(now, unix_ms, entry, config),
            Err(error) => {
                emit(
                    sink,
                    LogLevel::Error,
                    EventId::CacheReadFailed,
                    format_args!("Error occurred while reading the cache. {error}"),
                );
                None
            }
        }
    }

    /// Makes a cached entry current when it is at least as new as the
    /// current one; the config when it differs from the current one.
    fn adopt(
        &mut self,
        now: Instant,
        unix_ms: u64,
        entry: CacheEntry,
        config: Config,
    ) -> Option<Config> {
        // By the ETag, as the CDN means it; by the text too, so an entry
        // written with a reused ETag cannot leave readers on a config
        // other than the one kept (and written back) as current.
        let changed = self.entry.as_ref().is_none_or(|current| {
            current.etag != entry.etag || current.config_json != entry.config_json
        });
        let newer = self
            .entry
            .as_ref()
            .is_none_or(|current| entry.fetch_time_ms >= current.fetch_time_ms);
        if !newer {
            return None;
        }
        // A fetch time ahead of the wall clock counts as age zero: a clock
        // behind the writer's delays a refresh by one period at most.
        let age_ms = unix_ms.saturating_sub(entry.fetch_time_ms);
        self.fresh_until = self.fresh_for_a_period(now, age_ms);
        self.entry = Some(entry);
        if self.cache_state(now) == CacheState::UpToDate {
            self.init = Init::Ready;
        }
        changed.then_some(config)
    }
}

/// A response body, borrowed from the adapter or handed over to be kept.
enum Body<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
}

impl<'a> Body<'a> {
    fn bytes(&self) -> &[u8] {
        match self {
            Self::Borrowed(bytes) => bytes,
            Self::Owned(bytes) => bytes,
        }
    }

    /// The body as text, checked as UTF-8 (the one check it gets); the body
    /// back when it is not UTF-8.
    fn into_text(self) -> Result<Text<'a>, Self> {
        match self {
            Self::Borrowed(bytes) => core::str::from_utf8(bytes)
                .map(Text::Borrowed)
                .map_err(|_| Self::Borrowed(bytes)),
            Self::Owned(bytes) => String::from_utf8(bytes)
                .map(Text::Owned)
                .map_err(|error| Self::Owned(error.into_bytes())),
        }
    }
}

/// A body checked as UTF-8.
enum Text<'a> {
    Borrowed(&'a str),
    Owned(String),
}

impl Text<'_> {
    fn as_str(&self) -> &str {
        match self {
            Self::Borrowed(text) => text,
            Self::Owned(text) => text,
        }
    }

    /// The text to keep; an owned body is reused, not copied.
    fn into_boxed_str(self) -> Box<str> {
        match self {
            Self::Borrowed(text) => text.into(),
            Self::Owned(text) => text.into_boxed_str(),
        }
    }
}

/// The ETag to keep: none when it would break the newline-separated cache
/// payload (no real HTTP header holds a line break, but the adapter's
/// transport is not ours to trust).
fn storable_etag(etag: Option<&str>) -> &str {
    etag.filter(|etag| !etag.contains(['\n', '\r']))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_event::NoLog;
    use crate::refresh::CachePayloadError;
    use alloc::string::ToString;
    use alloc::vec::Vec;
    use core::cell::RefCell;
    use core::fmt;

    const KEY: &str = "configcat-sdk-1/TEST_KEY-0123456789012/1234567890123456789012";
    const CONFIG_A: &[u8] = br#"{"f":{"flag":{"t":1,"v":{"s":"a"}}}}"#;
    const CONFIG_B: &[u8] = br#"{"f":{"flag":{"t":1,"v":{"s":"b"}}}}"#;
    /// The wall clock when the monotonic clock reads 0 (most tests keep them in step).
    const UNIX_AT_ZERO: u64 = 1_700_000_000_000;

    #[derive(Default)]
    struct Capture(RefCell<Vec<(LogLevel, u16, String)>>);

    impl LogSink for Capture {
        fn enabled(&self, _level: LogLevel) -> bool {
            true
        }
        fn event(&self, level: LogLevel, id: EventId, message: fmt::Arguments<'_>) {
            self.0
                .borrow_mut()
                .push((level, id.code(), message.to_string()));
        }
    }

    impl Capture {
        fn ids(&self) -> Vec<u16> {
            self.0.borrow().iter().map(|(_, id, _)| *id).collect()
        }
    }

    const fn at(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    const fn unix(ms: u64) -> u64 {
        UNIX_AT_ZERO + ms
    }

    fn refresher(options: RefreshOptions) -> Refresher {
        Refresher::new(KEY, options, at(1_000)).unwrap()
    }

    fn auto(interval_ms: u64, max_init_wait_ms: u64) -> RefreshOptions {
        RefreshOptions::new(PollingMode::Auto {
            interval_ms,
            max_init_wait_ms,
        })
    }

    fn done(step: FetchStep) -> RefreshUpdate {
        match step {
            FetchStep::Done(update) => update,
            FetchStep::Fetch(request) => panic!("unexpected follow-up request {request:?}"),
        }
    }

    fn respond(
        r: &mut Refresher,
        now: u64,
        status: u16,
        etag: Option<&str>,
        body: &[u8],
    ) -> FetchStep {
        r.handle_response(
            at(now),
            unix(now),
            FetchResponse::new(status, etag, body),
            &NoLog,
        )
    }

    fn fetch_ok(r: &mut Refresher, now: u64, etag: &str, body: &[u8]) -> RefreshUpdate {
        r.start_fetch(at(now), &NoLog).unwrap();
        done(respond(r, now, 200, Some(etag), body))
    }

    fn payload(fetch_time_ms: u64, etag: &str, body: &[u8]) -> String {
        CacheEntry::new(fetch_time_ms, etag, core::str::from_utf8(body).unwrap()).payload()
    }

    fn text_of(config: &Config) -> &str {
        config.get_value("flag", "", None, &NoLog)
    }

    /// What `handle_timeout` answers, by name.
    fn due(r: &mut Refresher, now: u64) -> &'static str {
        match r.handle_timeout(at(now), &NoLog) {
            None => "nothing",
            Some(Due::ReadCache) => "read cache",
            Some(Due::Fetch(_)) => "fetch",
            Some(Due::InitWaitExpired) => "init wait expired",
        }
    }

    // ---- requests ----------------------------------------------------------

    #[test]
    fn builds_urls_for_each_region_and_custom_base_url() {
        let global = refresher(RefreshOptions::default()).request();
        assert_eq!(
            global.url,
            alloc::format!(
                "https://cdn-global.configcat.com/configuration-files/{KEY}/config_v6.json"
            )
        );
        let eu = refresher(RefreshOptions::default().with_data_governance(DataGovernance::EuOnly))
            .request();
        assert!(
            eu.url
                .starts_with("https://cdn-eu.configcat.com/configuration-files/")
        );
        let custom =
            refresher(RefreshOptions::default().with_base_url("http://127.0.0.1:8080/")).request();
        assert_eq!(
            custom.url,
            alloc::format!("http://127.0.0.1:8080/configuration-files/{KEY}/config_v6.json")
        );
    }

    #[test]
    fn user_agent_names_product_mode_and_version() {
        for (mode, letter) in [
            (PollingMode::AUTO_DEFAULT, 'a'),
            (PollingMode::LAZY_DEFAULT, 'l'),
            (PollingMode::Manual, 'm'),
        ] {
            let request = refresher(RefreshOptions::new(mode).with_sdk_version("1.2.3")).request();
            assert_eq!(
                request.user_agent,
                alloc::format!("ConfigCat-OxideFlags/{letter}-1.2.3")
            );
            let headers: Vec<_> = request.headers().collect();
            assert_eq!(
                headers,
                [("X-ConfigCat-UserAgent", request.user_agent.as_str())]
            );
        }
    }

    #[test]
    fn rejects_bad_keys_unless_local_only() {
        let new = |key, options| Refresher::new(key, options, Instant::ZERO);
        assert_eq!(
            new("nope", RefreshOptions::default()).unwrap_err(),
            SdkKeyError::Malformed
        );
        assert!(new("nope", RefreshOptions::default().with_local_only(true)).is_ok());
        assert_eq!(
            new("configcat-proxy/x", RefreshOptions::default()).unwrap_err(),
            SdkKeyError::ProxyKeyWithoutBaseUrl
        );
        assert!(
            new(
                "configcat-proxy/x",
                RefreshOptions::default().with_base_url("http://proxy")
            )
            .is_ok()
        );
    }

    // ---- responses ---------------------------------------------------------

    #[test]
    fn etag_round_trip_and_not_modified_bumps_fetch_time() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
        let first = fetch_ok(&mut r, 2_000, "\"v1\"", CONFIG_A);
        assert_eq!(first.result, Ok(Fetched::New));
        assert_eq!(text_of(first.new_config.as_ref().unwrap()), "a");
        assert_eq!(
            first.cache_payload.as_deref(),
            Some(
                alloc::format!(
                    "{}\n\"v1\"\n{{\"f\":{{\"flag\":{{\"t\":1,\"v\":{{\"s\":\"a\"}}}}}}}}",
                    unix(2_000)
                )
                .as_str()
            )
        );

        let request = r.start_fetch(at(3_000), &NoLog).unwrap();
        assert_eq!(request.if_none_match.as_deref(), Some("\"v1\""));
        assert!(
            request
                .headers()
                .any(|(name, value)| name == "If-None-Match" && value == "\"v1\"")
        );
        let update = done(respond(&mut r, 3_000, 304, None, b""));
        assert_eq!(update.result, Ok(Fetched::NotModified));
        assert!(update.new_config.is_none());
        assert!(
            update
                .cache_payload
                .unwrap()
                .starts_with(&alloc::format!("{}\n\"v1\"\n", unix(3_000)))
        );
        assert_eq!(r.entry().unwrap().fetch_time_ms(), unix(3_000));
    }

    #[test]
    fn not_modified_without_a_config_writes_nothing() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
        r.start_fetch(at(2_000), &NoLog).unwrap();
        let update = done(respond(&mut r, 2_000, 304, None, b""));
        assert_eq!(update.result, Ok(Fetched::NotModified));
        assert!(update.cache_payload.is_none());
    }

    #[test]
    fn owned_bodies_become_the_entry_without_a_copy() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
        r.start_fetch(at(2_000), &NoLog).unwrap();
        let body = CONFIG_A.to_vec();
        let address = body.as_ptr();
        let update = done(r.handle_owned_response(
            at(2_000),
            unix(2_000),
            200,
            Some("\"v1\""),
            body,
            &NoLog,
        ));
        assert_eq!(update.result, Ok(Fetched::New));
        assert_eq!(text_of(update.new_config.as_ref().unwrap()), "a");
        let json = core::str::from_utf8(CONFIG_A).unwrap();
        assert_eq!(
            update.cache_payload.unwrap(),
            alloc::format!("{}\n\"v1\"\n{json}", unix(2_000))
        );
        let entry = r.entry().unwrap();
        assert_eq!(entry.config_json(), json);
        assert_eq!(entry.config_json().as_ptr(), address, "kept, not copied");
        r.start_fetch(at(3_000), &NoLog).unwrap();
        let update =
            done(r.handle_owned_response(at(3_000), unix(3_000), 304, None, Vec::new(), &NoLog));
        assert_eq!(update.result, Ok(Fetched::NotModified));
        assert_eq!(r.entry().unwrap().fetch_time_ms(), unix(3_000));
    }

    #[test]
    fn a_released_text_keeps_the_etag_and_never_makes_an_empty_payload() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
        fetch_ok(&mut r, 2_000, "\"v1\"", CONFIG_A);
        r.release_entry_text();
        let entry = r.entry().unwrap();
        assert_eq!((entry.etag(), entry.config_json()), ("\"v1\"", ""));
        let request = r.start_fetch(at(3_000), &NoLog).unwrap();
        assert_eq!(request.if_none_match.as_deref(), Some("\"v1\""));
        let update = done(respond(&mut r, 3_000, 304, None, b""));
        assert_eq!(update.result, Ok(Fetched::NotModified));
        assert!(
            update.cache_payload.is_none(),
            "no payload without the text"
        );
        assert_eq!(r.entry().unwrap().fetch_time_ms(), unix(3_000));
        let update = fetch_ok(&mut r, 4_000, "\"v2\"", CONFIG_B);
        assert_eq!(text_of(update.new_config.as_ref().unwrap()), "b");
        assert!(
            update
                .cache_payload
                .unwrap()
                .ends_with(core::str::from_utf8(CONFIG_B).unwrap())
        );
    }

    #[test]
    fn confirmations_can_come_without_a_payload() {
        let options = RefreshOptions::new(PollingMode::Manual).with_confirmation_payloads(false);
        let mut r = refresher(options);
        fetch_ok(&mut r, 2_000, "\"v1\"", CONFIG_A);
        for status in [304, 403] {
            r.start_fetch(at(3_000), &NoLog).unwrap();
            let update = done(respond(&mut r, 3_000, status, None, b""));
            assert!(update.cache_payload.is_none(), "status {status}");
            assert_eq!(
                r.entry().unwrap().fetch_time_ms(),
                unix(3_000),
                "still confirmed"
            );
        }
    }

    #[test]
    fn wrong_sdk_key_is_not_transient_and_confirms_the_old_config() {
        for status in [403, 404] {
            let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
            fetch_ok(&mut r, 2_000, "\"v1\"", CONFIG_A);
            let sink = Capture::default();
            r.start_fetch(at(5_000), &sink).unwrap();
            let update = done(r.handle_response(
                at(5_000),
                unix(5_000),
                FetchResponse::new(status, None, b"nope"),
                &sink,
            ));
            let error = update.result.unwrap_err();
            assert_eq!(error, RefreshError::InvalidSdkKey { status });
            assert!(!error.is_transient());
            assert_eq!(sink.ids(), [1100]);
            assert!(
                sink.0.borrow()[0]
                    .2
                    .contains("Your SDK Key seems to be wrong")
            );
            assert!(update.new_config.is_none());
            assert!(
                update
                    .cache_payload
                    .unwrap()
                    .starts_with(&alloc::format!("{}\n", unix(5_000)))
            );
            assert_eq!(
                r.entry().unwrap().config_json(),
                core::str::from_utf8(CONFIG_A).unwrap()
            );
        }
    }

    #[test]
    fn server_errors_and_invalid_bodies_keep_the_last_good_config() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
        fetch_ok(&mut r, 2_000, "\"v1\"", CONFIG_A);
        let cases: [(u16, &[u8], u16); 6] = [
            (500, b"", 1101),
            (200, b"{not json", 1105),
            (200, br#"{"f":[]}"#, 1105),
            (204, b"", 1105),
            (206, CONFIG_B, 1101),
            (429, b"", 1101),
        ];
        for (status, body, id) in cases {
            let sink = Capture::default();
            r.start_fetch(at(3_000), &sink).unwrap();
            let update = done(r.handle_response(
                at(3_000),
                unix(3_000),
                FetchResponse::new(status, Some("\"v2\""), body),
                &sink,
            ));
            assert!(update.result.as_ref().unwrap_err().is_transient());
            assert!(update.new_config.is_none() && update.cache_payload.is_none());
            assert_eq!(sink.ids(), [id], "status {status}");
            assert_eq!(r.entry().unwrap().etag(), "\"v1\"");
            assert_eq!(r.entry().unwrap().fetch_time_ms(), unix(2_000));
        }
    }

    #[test]
    fn a_body_that_is_not_utf8_is_an_invalid_body_and_changes_nothing() {
        for owned in [false, true] {
            let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
            fetch_ok(&mut r, 2_000, "\"v1\"", CONFIG_A);
            r.start_fetch(at(3_000), &NoLog).unwrap();
            let body = b"{\"f\":{\"flag\":{\"t\":1,\"v\":{\"s\":\"\xff\"}}}}";
            let update = done(if owned {
                r.handle_owned_response(
                    at(3_000),
                    unix(3_000),
                    200,
                    Some("e2"),
                    body.to_vec(),
                    &NoLog,
                )
            } else {
                respond(&mut r, 3_000, 200, Some("e2"), body)
            });
            let Err(RefreshError::InvalidBody(error)) = update.result else {
                panic!("{:?}", update.result);
            };
            assert_eq!((error.line(), error.column()), (1, 31), "{error}");
            assert_eq!(r.entry().unwrap().etag(), "\"v1\"");
        }
    }

    #[test]
    fn the_body_is_wanted_for_200_to_204_only() {
        let wanted: Vec<u16> = (100..600).filter(|&s| Refresher::wants_body(s)).collect();
        assert_eq!(wanted, [200, 201, 202, 203, 204]);
        // Every wanted status is read as a config, as ConfigCat's SDKs do.
        for status in wanted {
            let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
            r.start_fetch(at(2_000), &NoLog).unwrap();
            let update = done(respond(&mut r, 2_000, status, Some("e"), CONFIG_A));
            assert_eq!(update.result, Ok(Fetched::New), "status {status}");
        }
    }

    #[test]
    fn transport_errors_are_classified_and_logged() {
        let mut r =
            refresher(RefreshOptions::new(PollingMode::Manual).with_timeouts_ms(10_000, 1_500));
        let sink = Capture::default();
        r.start_fetch(at(2_000), &sink).unwrap();
        let update =
            r.handle_transport_error(TransportErrorKind::TimedOut, "read timed out", &sink);
        let message = update.result.unwrap_err().to_string();
        assert!(
            message.contains("Timeout values: [connect: 10s, read: 1.5s]"),
            "{message}"
        );
        r.start_fetch(at(2_000), &sink).unwrap();
        let update =
            r.handle_transport_error(TransportErrorKind::ConnectionFailed, "refused", &sink);
        assert!(matches!(
            update.result,
            Err(RefreshError::Transport {
                kind: TransportErrorKind::ConnectionFailed,
                ..
            })
        ));
        assert_eq!(sink.ids(), [1102, 1103]);
        assert!(!r.is_fetching());
    }

    #[test]
    fn answers_without_a_fetch_in_flight_are_errors_and_change_nothing() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
        fetch_ok(&mut r, 2_000, "\"v1\"", CONFIG_A);
        let sink = Capture::default();
        let update = done(r.handle_response(
            at(3_000),
            unix(3_000),
            FetchResponse::new(200, Some("\"v2\""), CONFIG_B),
            &sink,
        ));
        assert_eq!(update.result, Err(RefreshError::NoFetchInFlight));
        assert!(update.new_config.is_none() && update.cache_payload.is_none());
        let update = r.handle_transport_error(TransportErrorKind::Other, "late", &sink);
        assert_eq!(update.result, Err(RefreshError::NoFetchInFlight));
        assert_eq!(r.entry().unwrap().etag(), "\"v1\"", "the config stays");
        assert_eq!(r.entry().unwrap().fetch_time_ms(), unix(2_000));
        assert!(sink.ids().is_empty());
        // A second fetch while one is in flight is refused.
        r.start_fetch(at(4_000), &NoLog).unwrap();
        assert_eq!(
            r.start_fetch(at(4_000), &NoLog),
            Err(RefreshError::AlreadyFetching)
        );
    }

    // ---- redirects ---------------------------------------------------------

    fn redirecting_config(url: &str, mode: u8, value: &str) -> String {
        alloc::format!(
            r#"{{"p":{{"u":"{url}","r":{mode}}},"f":{{"flag":{{"t":1,"v":{{"s":"{value}"}}}}}}}}"#
        )
    }

    #[test]
    fn should_redirect_warns_and_fetches_from_the_new_url() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
        let sink = Capture::default();
        r.start_fetch(at(2_000), &sink).unwrap();
        let body = redirecting_config("https://cdn-eu.configcat.com", 1, "global");
        let FetchStep::Fetch(next) = r.handle_response(
            at(2_000),
            unix(2_000),
            FetchResponse::new(200, Some("e"), body.as_bytes()),
            &sink,
        ) else {
            panic!("expected a redirect");
        };
        assert!(
            next.url
                .starts_with("https://cdn-eu.configcat.com/configuration-files/")
        );
        assert_eq!(sink.ids(), [3002]);
        let body = redirecting_config("https://cdn-eu.configcat.com", 0, "eu");
        let update = done(r.handle_response(
            at(2_100),
            unix(2_100),
            FetchResponse::new(200, Some("e2"), body.as_bytes()),
            &sink,
        ));
        assert_eq!(text_of(update.new_config.as_ref().unwrap()), "eu");
        // Later refreshes start at the new base url.
        assert!(
            r.start_fetch(at(3_000), &NoLog)
                .unwrap()
                .url
                .starts_with("https://cdn-eu.configcat.com/")
        );
    }

    #[test]
    fn no_redirect_moves_later_requests_only() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
        r.start_fetch(at(2_000), &NoLog).unwrap();
        let body = redirecting_config("https://cdn-eu.configcat.com", 0, "x");
        let update = done(respond(&mut r, 2_000, 200, Some("e"), body.as_bytes()));
        assert_eq!(update.result, Ok(Fetched::New));
        assert!(
            r.start_fetch(at(3_000), &NoLog)
                .unwrap()
                .url
                .starts_with("https://cdn-eu.configcat.com/")
        );
    }

    #[test]
    fn custom_base_url_follows_only_forced_redirects() {
        for (mode, follows) in [(1, false), (2, true)] {
            let mut r = refresher(
                RefreshOptions::new(PollingMode::Manual).with_base_url("http://127.0.0.1:9"),
            );
            r.start_fetch(at(2_000), &NoLog).unwrap();
            let body = redirecting_config("http://127.0.0.1:10", mode, "x");
            let step = respond(&mut r, 2_000, 200, Some("e"), body.as_bytes());
            assert_eq!(matches!(step, FetchStep::Fetch(_)), follows, "mode {mode}");
        }
    }

    #[test]
    fn redirect_loops_stop_after_three_requests() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
        let sink = Capture::default();
        r.start_fetch(at(2_000), &sink).unwrap();
        let urls = [
            "https://a.example",
            "https://b.example",
            "https://a.example",
        ];
        let mut requests = 1;
        let first = redirecting_config(urls[0], 2, "0");
        let mut step = r.handle_response(
            at(2_000),
            unix(2_000),
            FetchResponse::new(200, Some("e"), first.as_bytes()),
            &sink,
        );
        while let FetchStep::Fetch(_) = step {
            let body = redirecting_config(urls[requests % 3], 2, &requests.to_string());
            requests += 1;
            step = r.handle_response(
                at(2_000),
                unix(2_000),
                FetchResponse::new(200, Some("e"), body.as_bytes()),
                &sink,
            );
        }
        assert_eq!(requests, 3);
        assert_eq!(sink.ids(), [1104]);
        let update = done(step);
        assert_eq!(update.result, Ok(Fetched::New));
        assert_eq!(text_of(update.new_config.as_ref().unwrap()), "2");
        let message = &sink.0.borrow()[0].2;
        assert!(
            !message.contains("TEST_KEY-0123456789012"),
            "the key is masked: {message}"
        );
    }

    #[test]
    fn proxy_keys_never_redirect() {
        let mut r = Refresher::new(
            "configcat-proxy/my-proxy-key",
            RefreshOptions::new(PollingMode::Manual).with_base_url("http://127.0.0.1:9"),
            Instant::ZERO,
        )
        .unwrap();
        r.start_fetch(at(2_000), &NoLog).unwrap();
        let body = redirecting_config("https://cdn-global.configcat.com", 2, "x");
        let step = respond(&mut r, 2_000, 200, Some("e"), body.as_bytes());
        assert!(matches!(step, FetchStep::Done(_)));
    }

    // ---- the schedule ------------------------------------------------------

    #[test]
    fn auto_polling_fetches_at_once_then_every_interval() {
        let mut r = refresher(auto(10_000, 3_000));
        assert!(r.timer_driven());
        assert_eq!(r.poll_timeout(), Some(at(1_000)), "first fetch right away");
        assert_eq!(due(&mut r, 1_000), "fetch");
        assert_eq!(
            r.poll_timeout(),
            Some(at(4_000)),
            "only the end of max init wait while the fetch is in flight"
        );
        assert_eq!(due(&mut r, 3_999), "nothing");
        r.handle_transport_error(TransportErrorKind::Other, "reset", &NoLog);
        assert!(
            r.is_initialized(),
            "a finished fetch initializes, even a failed one"
        );
        assert_eq!(
            r.poll_timeout(),
            Some(at(11_000)),
            "retry one interval after the attempt"
        );
        assert_eq!(due(&mut r, 10_999), "nothing", "early calls are harmless");
        assert_eq!(due(&mut r, 11_000), "fetch");
        done(respond(&mut r, 11_200, 200, Some("e"), CONFIG_A));
        assert_eq!(
            r.poll_timeout(),
            Some(at(21_200)),
            "one interval after the answer"
        );
        assert_eq!(r.cache_state(at(21_199)), CacheState::UpToDate);
        assert_eq!(r.cache_state(at(21_200)), CacheState::CachedDataOnly);
        assert!(r.set_offline(true, &NoLog));
        assert_eq!(r.poll_timeout(), None);
        assert_eq!(due(&mut r, 40_000), "nothing");
        assert_eq!(
            r.start_fetch(at(40_000), &NoLog),
            Err(RefreshError::Offline)
        );
        assert!(r.set_offline(false, &NoLog));
        assert_eq!(r.poll_timeout(), Some(at(21_200)), "overdue: at once");
        assert_eq!(due(&mut r, 40_000), "fetch");
    }

    #[test]
    fn max_init_wait_expires_once_with_a_warning() {
        let mut r = refresher(auto(10_000, 3_000));
        let sink = Capture::default();
        assert!(
            r.handle_timeout(at(1_000), &sink)
                .is_some_and(|d| matches!(d, Due::Fetch(_)))
        );
        assert!(!r.is_initialized());
        assert!(r.handle_timeout(at(3_999), &sink).is_none());
        assert!(matches!(
            r.handle_timeout(at(4_000), &sink),
            Some(Due::InitWaitExpired)
        ));
        assert!(r.is_initialized());
        assert_eq!(sink.ids(), [4200]);
        assert_eq!(
            sink.0.borrow()[0].2,
            "`max_init_wait` for the very first fetch reached (3000ms). Returning cached config."
        );
        assert_eq!(
            r.poll_timeout(),
            None,
            "nothing more while the fetch is in flight"
        );
        assert!(r.handle_timeout(at(9_000), &sink).is_none());
        assert_eq!(sink.ids(), [4200], "said once");
        // The fetch still lands.
        let update = done(respond(&mut r, 9_500, 200, Some("e"), CONFIG_A));
        assert_eq!(update.result, Ok(Fetched::New));
    }

    #[test]
    fn nothing_to_wait_for_without_auto_polling_or_network() {
        for options in [
            RefreshOptions::new(PollingMode::LAZY_DEFAULT),
            RefreshOptions::new(PollingMode::Manual),
            auto(10_000, 0),
            auto(10_000, 3_000).with_offline(true),
            auto(10_000, 3_000).with_local_only(true),
        ] {
            let r = Refresher::new(KEY, options.clone(), at(0)).unwrap();
            assert!(r.is_initialized(), "{options:?}");
        }
    }

    #[test]
    fn a_fresh_cache_entry_delays_the_first_poll_and_initializes() {
        let mut r = refresher(auto(10_000, 3_000));
        // Written 500 ms before the refresher started, by the wall clock.
        let cached = payload(unix(500), "e", CONFIG_A);
        let config = r
            .handle_cache_payload(at(1_000), unix(1_000), &cached, &NoLog)
            .unwrap();
        assert_eq!(text_of(&config), "a");
        assert!(r.is_initialized());
        assert_eq!(r.poll_timeout(), Some(at(10_500)));
        assert_eq!(r.cache_state(at(1_000)), CacheState::UpToDate);
        assert_eq!(r.cache_state(at(10_500)), CacheState::CachedDataOnly);
    }

    #[test]
    fn an_expired_cache_entry_serves_reads_but_does_not_initialize() {
        let mut r = refresher(auto(10_000, 3_000));
        let cached = payload(unix(0) - 60_000, "e", CONFIG_A);
        assert!(
            r.handle_cache_payload(at(1_000), unix(1_000), &cached, &NoLog)
                .is_some()
        );
        assert!(!r.is_initialized());
        assert_eq!(r.cache_state(at(1_000)), CacheState::CachedDataOnly);
        assert_eq!(due(&mut r, 1_000), "fetch");
    }

    #[test]
    fn lazy_loading_is_due_when_expired_and_spaces_out_retries() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Lazy { ttl_ms: 5_000 }));
        assert!(!r.timer_driven(), "reads drive lazy loading");
        assert!(r.is_initialized());
        assert_eq!(r.poll_timeout(), Some(at(1_000)));
        assert_eq!(due(&mut r, 1_000), "fetch");
        assert_eq!(r.poll_timeout(), None, "one fetch at a time");
        assert_eq!(due(&mut r, 1_000), "nothing");
        done(respond(&mut r, 1_000, 500, None, b""));
        assert_eq!(
            r.poll_timeout(),
            Some(at(6_000)),
            "no retry within a TTL of a failure"
        );
        assert_eq!(due(&mut r, 5_999), "nothing");
        assert_eq!(due(&mut r, 6_000), "fetch");
        done(respond(&mut r, 6_000, 200, Some("e"), CONFIG_A));
        assert_eq!(r.poll_timeout(), Some(at(11_000)));
        assert_eq!(due(&mut r, 10_999), "nothing");
        assert_eq!(due(&mut r, 11_000), "fetch");
    }

    #[test]
    fn manual_polling_and_local_only_have_no_schedule() {
        let mut manual = refresher(RefreshOptions::new(PollingMode::Manual));
        assert!(!manual.timer_driven());
        assert_eq!(manual.poll_timeout(), None);
        fetch_ok(&mut manual, 2_000, "e", CONFIG_A);
        assert_eq!(manual.poll_timeout(), None);
        assert_eq!(manual.cache_state(at(u64::MAX)), CacheState::UpToDate);

        let mut local = Refresher::new(
            "any",
            auto(1_000, 1_000)
                .with_local_only(true)
                .with_follow_cache(true),
            at(0),
        )
        .unwrap();
        assert!(!local.timer_driven());
        assert_eq!(local.poll_timeout(), None);
        assert_eq!(due(&mut local, 1_000_000), "nothing");
        assert_eq!(
            local.start_fetch(at(1_000), &NoLog),
            Err(RefreshError::LocalOnly)
        );
        assert_eq!(local.cache_state(at(1_000)), CacheState::LocalOverridesOnly);
        assert!(
            local
                .handle_cache_payload(at(0), unix(0), "1\ne\n{}", &NoLog)
                .is_none()
        );
    }

    #[test]
    fn a_followed_cache_is_read_before_every_due_fetch() {
        let mut r = refresher(auto(10_000, 0).with_follow_cache(true));
        assert_eq!(due(&mut r, 1_000), "read cache");
        assert_eq!(r.poll_timeout(), None, "nothing until the cache was read");
        assert!(
            r.handle_cache_payload(at(1_000), unix(1_000), "", &NoLog)
                .is_none()
        );
        assert_eq!(r.poll_timeout(), Some(at(1_000)), "still due");
        assert_eq!(due(&mut r, 1_000), "fetch");
        done(respond(&mut r, 1_000, 200, Some("e1"), CONFIG_A));
        assert_eq!(r.poll_timeout(), Some(at(11_000)));

        // Another process fetched a newer config 2 s before the next poll.
        assert_eq!(due(&mut r, 11_000), "read cache");
        let written = payload(unix(9_000), "e2", CONFIG_B);
        let config = r
            .handle_cache_payload(at(11_000), unix(11_000), &written, &NoLog)
            .unwrap();
        assert_eq!(text_of(&config), "b");
        assert_eq!(
            r.poll_timeout(),
            Some(at(19_000)),
            "fresh for the rest of its interval: no fetch now"
        );
        assert_eq!(due(&mut r, 11_000), "nothing");
        // An empty or unreadable cache: the fetch goes ahead.
        assert_eq!(due(&mut r, 19_000), "read cache");
        r.handle_cache_payload(at(19_000), unix(19_000), "", &NoLog);
        assert_eq!(due(&mut r, 19_000), "fetch");
    }

    #[test]
    fn offline_readers_follow_the_cache_once_per_period() {
        for mode in [
            PollingMode::Auto {
                interval_ms: 10_000,
                max_init_wait_ms: 0,
            },
            PollingMode::Lazy { ttl_ms: 10_000 },
        ] {
            let options = RefreshOptions::new(mode)
                .with_offline(true)
                .with_follow_cache(true);
            let mut r = refresher(options);
            assert_eq!(r.poll_timeout(), Some(at(1_000)), "read at once");
            assert_eq!(due(&mut r, 1_000), "read cache");
            r.handle_cache_payload(at(1_000), unix(1_000), "", &NoLog);
            assert_eq!(r.poll_timeout(), Some(at(11_000)));
            assert_eq!(due(&mut r, 10_999), "nothing");
            assert_eq!(due(&mut r, 11_000), "read cache", "never a fetch");
            r.handle_cache_payload(at(11_000), unix(11_000), "", &NoLog);
            assert!(r.set_offline(false, &NoLog));
            assert_eq!(
                due(&mut r, 11_000),
                "fetch",
                "online: the cache was read since the fetch fell due"
            );
        }
        let without_cache = refresher(auto(10_000, 0).with_offline(true));
        assert_eq!(
            without_cache.poll_timeout(),
            None,
            "offline, nothing to follow"
        );
    }

    #[test]
    fn offline_and_local_only_never_fetch() {
        let mut r = refresher(RefreshOptions::new(PollingMode::AUTO_DEFAULT).with_offline(true));
        let sink = Capture::default();
        assert!(r.is_initialized());
        assert_eq!(r.poll_timeout(), None);
        assert_eq!(r.start_fetch(at(1_000), &sink), Err(RefreshError::Offline));
        assert!(!r.set_offline(true, &sink));
        assert!(r.set_offline(false, &sink));
        assert_eq!(r.poll_timeout(), Some(at(1_000)));
        assert_eq!(sink.ids(), [3200, 5200]);
    }

    #[test]
    fn a_zero_period_still_moves_the_schedule_forward() {
        let mut r = refresher(auto(0, 0).with_follow_cache(true).with_offline(true));
        assert_eq!(due(&mut r, 1_000), "read cache");
        r.handle_cache_payload(at(1_000), unix(1_000), "", &NoLog);
        assert_eq!(r.poll_timeout(), Some(at(1_001)));
        assert_eq!(due(&mut r, 1_000), "nothing");
    }

    // ---- wall-clock steps --------------------------------------------------

    /// Runs an auto-polling refresher (1 s interval) for `seconds` of
    /// monotonic time, answering every fetch with 304 at once; the wall clock
    /// steps by `step_ms` after the first 4 s. Returns the times of the fetches.
    fn poll_through_a_wall_clock_step(step_ms: i64, follow_cache: bool) -> Vec<u64> {
        let mut r = refresher(auto(1_000, 0).with_follow_cache(follow_cache));
        let mut cache = String::new();
        let mut fetches = Vec::new();
        let wall = |now: u64| {
            let unix = unix(now);
            if now >= 5_000 {
                unix.saturating_add_signed(step_ms)
            } else {
                unix
            }
        };
        let mut now = 1_000;
        loop {
            let Some(deadline) = r.poll_timeout() else {
                panic!("polling stopped at {now}");
            };
            now = now.max(deadline.as_millis());
            if now > 17_000 {
                return fetches;
            }
            match r.handle_timeout(at(now), &NoLog) {
                Some(Due::ReadCache) => {
                    r.handle_cache_payload(at(now), wall(now), &cache, &NoLog);
                }
                Some(Due::Fetch(_)) => {
                    fetches.push(now);
                    let (status, body) = if fetches.len() == 1 {
                        (200, CONFIG_A)
                    } else {
                        (304, &b""[..])
                    };
                    let update = done(r.handle_response(
                        at(now),
                        wall(now),
                        FetchResponse::new(status, Some("e"), body),
                        &NoLog,
                    ));
                    if let Some(payload) = update.cache_payload {
                        cache = payload;
                    }
                }
                Some(Due::InitWaitExpired) | None => {}
            }
        }
    }

    #[test]
    fn a_wall_clock_step_neither_stops_polling_nor_causes_a_fetch_storm() {
        let expected: Vec<u64> = (1..=17).map(|s| s * 1_000).collect();
        for step_ms in [-3_600_000, 86_400_000] {
            for follow_cache in [false, true] {
                assert_eq!(
                    poll_through_a_wall_clock_step(step_ms, follow_cache),
                    expected,
                    "step {step_ms} ms, follow cache {follow_cache}"
                );
            }
        }
    }

    #[test]
    fn a_cached_fetch_time_ahead_of_the_wall_clock_delays_at_most_one_period() {
        let mut r = refresher(auto(10_000, 0));
        // Written by a process whose clock is a day ahead of ours.
        let written = payload(unix(1_000) + 86_400_000, "e", CONFIG_A);
        r.handle_cache_payload(at(1_000), unix(1_000), &written, &NoLog);
        assert_eq!(r.poll_timeout(), Some(at(11_000)));
        // And one a day behind: expired, fetched at once.
        let mut r = refresher(auto(10_000, 0));
        let written = payload(unix(1_000) - 86_400_000, "e", CONFIG_A);
        r.handle_cache_payload(at(1_000), unix(1_000), &written, &NoLog);
        assert_eq!(r.poll_timeout(), Some(at(1_000)));
    }

    // ---- the cache ---------------------------------------------------------

    #[test]
    fn cache_payloads_are_adopted_only_when_newer_and_different() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
        let a = payload(5_000, "ea", CONFIG_A);
        let b = payload(6_000, "eb", CONFIG_B);
        let older = payload(4_000, "eo", CONFIG_B);
        let read = |r: &mut Refresher, payload: &str| {
            r.handle_cache_payload(at(10_000), 10_000, payload, &NoLog)
        };
        assert!(read(&mut r, &a).is_some());
        assert!(read(&mut r, &a).is_none(), "same payload");
        assert!(read(&mut r, &older).is_none(), "older payload");
        assert_eq!(text_of(&read(&mut r, &b).unwrap()), "b");
        let bumped = payload(7_000, "eb", CONFIG_B);
        assert!(read(&mut r, &bumped).is_none(), "same etag: no change");
        assert_eq!(
            r.entry().unwrap().fetch_time_ms(),
            7_000,
            "but the fetch time is taken"
        );
    }

    #[test]
    fn corrupt_cache_payloads_are_reported_and_ignored() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
        let sink = Capture::default();
        for payload in ["garbage", "x\ne\n{}", "1\n\n{}", "1\ne\n{\"f\":", "1\ne"] {
            assert!(
                r.handle_cache_payload(at(0), 0, payload, &sink).is_none(),
                "{payload}"
            );
        }
        assert_eq!(sink.ids(), [2200, 2200, 2200, 2200, 2200]);
        assert!(r.entry().is_none());
        assert!(matches!(
            CacheEntry::parse_payload("1\n\n{}"),
            Err(CachePayloadError::EmptyEtag)
        ));
        assert!(matches!(
            CacheEntry::parse_payload("x\ne\n{}"),
            Err(CachePayloadError::InvalidFetchTime)
        ));
        assert!(matches!(
            CacheEntry::parse_payload("1\ne"),
            Err(CachePayloadError::MissingParts)
        ));
        assert!(matches!(
            CacheEntry::parse_payload("1\ne\n[]"),
            Err(CachePayloadError::InvalidConfig(_))
        ));
        assert!(CacheEntry::parse_payload("1686756435844.5\ne\n{}").is_ok());
    }
}
