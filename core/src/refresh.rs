//! The sans-IO refresh logic that both adapters drive.
//!
//! [`Refresher`] is told the time and what happened (a cache payload was read,
//! a response arrived, the transport failed) and says what to do next: which
//! URL to fetch with which headers, which cache payload to write, which config
//! to publish, and when to poll again. It performs no I/O and reads no clock,
//! so every protocol rule (polling, ETag, status codes, redirects, the shared
//! cache format, offline) is tested here with a fake clock and no sockets.
//!
//! Time is Unix milliseconds (`u64`) everywhere; calling a method with a time
//! earlier than a previous call is harmless (durations saturate at zero).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::config::{Config, RedirectMode};
use crate::config_json::ParseError;
use crate::log_event::{EventId, LogLevel, LogSink, emit};
use crate::sdk_key::{MaskedKey, SdkKeyError, cache_key, is_proxy_key, validate_sdk_key};

/// Base url of ConfigCat's global CDN.
pub const GLOBAL_BASE_URL: &str = "https://cdn-global.configcat.com";
/// Base url of ConfigCat's EU-only CDN.
pub const EU_ONLY_BASE_URL: &str = "https://cdn-eu.configcat.com";
/// The product name this SDK reports in its user-agent header.
pub const PRODUCT_NAME: &str = "OxideFlags";
/// How many requests one refresh may make when following redirects.
const MAX_REQUESTS_PER_REFRESH: u8 = 3;

/// When and how the config is refreshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PollingMode {
    /// Fetch in the background every `interval_ms`; reads wait at most
    /// `max_init_wait_ms` for the first config.
    Auto {
        /// Time between two fetches.
        interval_ms: u64,
        /// How long reads may wait for the first config.
        max_init_wait_ms: u64,
    },
    /// Fetch when a read finds the config older than `ttl_ms`.
    Lazy {
        /// How long a fetched config is used without asking again.
        ttl_ms: u64,
    },
    /// Fetch only when the application asks ([`Refresher::start_fetch`] on force refresh).
    Manual,
}

impl PollingMode {
    /// Auto polling with ConfigCat's defaults: every 60 s, wait up to 5 s for the first config.
    pub const AUTO_DEFAULT: Self = Self::Auto {
        interval_ms: 60_000,
        max_init_wait_ms: 5_000,
    };
    /// Lazy loading with ConfigCat's default TTL of 60 s.
    pub const LAZY_DEFAULT: Self = Self::Lazy { ttl_ms: 60_000 };

    /// The one-letter code of the user-agent header: `a`, `l` or `m`.
    #[must_use]
    pub const fn code(self) -> char {
        match self {
            Self::Auto { .. } => 'a',
            Self::Lazy { .. } => 'l',
            Self::Manual => 'm',
        }
    }
}

impl Default for PollingMode {
    fn default() -> Self {
        Self::AUTO_DEFAULT
    }
}

/// Which CDN region the config is served from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum DataGovernance {
    /// ConfigCat's global CDN (default).
    #[default]
    Global,
    /// Only CDN nodes in the European Union.
    EuOnly,
}

/// Everything the refresh logic needs to know about the client's setup.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshOptions {
    /// Polling mode.
    pub polling: PollingMode,
    /// CDN region, used unless `base_url` is set.
    pub data_governance: DataGovernance,
    /// A custom base url (a ConfigCat Proxy, a test server); redirects from
    /// the CDN are then only followed when forced.
    pub base_url: Option<String>,
    /// Start offline (no network until set online).
    pub offline: bool,
    /// Flag overrides are the only source: never fetch, skip SDK key validation.
    pub local_only: bool,
    /// The adapter's version, reported in the user-agent header.
    pub sdk_version: &'static str,
    /// The adapter's connect and read timeouts in ms, only for log messages.
    pub timeouts_ms: Option<(u64, u64)>,
    /// Whether an answer that only confirms the config (304, or 403/404)
    /// comes with a cache payload carrying the newer fetch time (default
    /// true). An adapter that writes the cache only when the config changes
    /// (flash wear) turns it off and saves a config-sized allocation per poll.
    pub confirmation_payloads: bool,
}

impl RefreshOptions {
    /// Options with this polling mode and defaults for the rest.
    #[must_use]
    pub fn new(polling: PollingMode) -> Self {
        Self {
            polling,
            ..Self::default()
        }
    }

    /// Sets the CDN region.
    #[must_use]
    pub const fn with_data_governance(mut self, data_governance: DataGovernance) -> Self {
        self.data_governance = data_governance;
        self
    }

    /// Sets a custom base url.
    #[must_use]
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Starts offline.
    #[must_use]
    pub const fn with_offline(mut self, offline: bool) -> Self {
        self.offline = offline;
        self
    }

    /// Uses local flag overrides only.
    #[must_use]
    pub const fn with_local_only(mut self, local_only: bool) -> Self {
        self.local_only = local_only;
        self
    }

    /// Sets the version reported in the user-agent header.
    #[must_use]
    pub const fn with_sdk_version(mut self, sdk_version: &'static str) -> Self {
        self.sdk_version = sdk_version;
        self
    }

    /// Sets the transport's timeouts, quoted in timeout messages.
    #[must_use]
    pub const fn with_timeouts_ms(mut self, connect_ms: u64, read_ms: u64) -> Self {
        self.timeouts_ms = Some((connect_ms, read_ms));
        self
    }

    /// Sets whether confirmations (304, 403/404) come with a cache payload.
    #[must_use]
    pub const fn with_confirmation_payloads(mut self, confirmation_payloads: bool) -> Self {
        self.confirmation_payloads = confirmation_payloads;
        self
    }
}

impl Default for RefreshOptions {
    fn default() -> Self {
        Self {
            polling: PollingMode::default(),
            data_governance: DataGovernance::default(),
            base_url: None,
            offline: false,
            local_only: false,
            sdk_version: env!("CARGO_PKG_VERSION"),
            timeouts_ms: None,
            confirmation_payloads: true,
        }
    }
}

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
    /// The response body.
    pub body: &'a [u8],
}

impl<'a> FetchResponse<'a> {
    /// A response from its parts.
    #[must_use]
    pub const fn new(status: u16, etag: Option<&'a str>, body: &'a [u8]) -> Self {
        Self { status, etag, body }
    }
}

/// Classification of a transport failure, made by the adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connect or read timeout elapsed.
    TimedOut,
    /// No connection could be made (DNS, refused, TLS, proxy).
    ConnectionFailed,
    /// The response body was larger than the adapter accepts.
    BodyTooLarge,
    /// Anything else (reset mid-body, malformed HTTP, ...).
    Other,
}

/// Why a refresh did not bring a usable config.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefreshError {
    /// The client is offline.
    Offline,
    /// Flag overrides are local only; there is nothing to fetch.
    LocalOnly,
    /// The CDN answered 403 or 404: the SDK key is wrong (not transient).
    InvalidSdkKey {
        /// The status received.
        status: u16,
    },
    /// Any other unexpected status.
    UnexpectedStatus {
        /// The status received.
        status: u16,
    },
    /// The transport failed.
    Transport {
        /// What kind of failure.
        kind: TransportErrorKind,
        /// The adapter's description.
        detail: Box<str>,
    },
    /// A 200 response whose body is not a config JSON.
    InvalidBody(ParseError),
    /// A 200 response that promised a config that isn't there (no body).
    AlreadyFetching,
}

impl RefreshError {
    /// Whether trying again later may succeed (everything but a wrong key and local-only mode).
    #[must_use]
    pub const fn is_transient(&self) -> bool {
        !matches!(self, Self::InvalidSdkKey { .. } | Self::LocalOnly)
    }
}

impl fmt::Display for RefreshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Offline => f.write_str("Client is in offline mode, it cannot initiate HTTP calls."),
            Self::LocalOnly => f.write_str(
                "Client is configured to use the LocalOnly override behavior, which prevents synchronization with external cache and making HTTP requests.",
            ),
            Self::InvalidSdkKey { status } => write!(
                f,
                "Your SDK Key seems to be wrong. You can find the valid SDK Key at https://app.configcat.com/sdkkey. Received unexpected response: {status}"
            ),
            Self::UnexpectedStatus { status } => write!(
                f,
                "Unexpected HTTP response was received while trying to fetch config JSON: {status}"
            ),
            Self::Transport { kind: TransportErrorKind::TimedOut, detail } => {
                write!(f, "Request timed out while trying to fetch config JSON. {detail}")
            }
            Self::Transport { detail, .. } => write!(
                f,
                "Unexpected error occurred while trying to fetch config JSON. It is most likely due to a local network issue. Please make sure your application can reach the ConfigCat CDN servers (or your proxy server) over HTTP. ({detail})"
            ),
            Self::InvalidBody(error) => write!(
                f,
                "Fetching config JSON was successful but the HTTP response content was invalid. ({error})"
            ),
            Self::AlreadyFetching => f.write_str("A fetch is already in progress."),
        }
    }
}

impl core::error::Error for RefreshError {}

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
#[derive(Debug)]
#[non_exhaustive]
pub enum FetchStep {
    /// Follow a redirect: make this request next.
    Fetch(FetchRequest),
    /// The refresh is over.
    Done(RefreshUpdate),
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

/// The last good config as the shared cache stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    fetch_time_ms: u64,
    etag: Box<str>,
    config_json: Box<str>,
}

/// Why a cache payload was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CachePayloadError {
    /// Fewer than three newline-separated parts.
    MissingParts,
    /// The fetch time is not a whole number of milliseconds.
    InvalidFetchTime,
    /// The ETag part is empty.
    EmptyEtag,
    /// The config part is not a valid config JSON.
    InvalidConfig(ParseError),
}

impl fmt::Display for CachePayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingParts => f.write_str("Number of values is fewer than expected."),
            Self::InvalidFetchTime => f.write_str("Invalid fetch time."),
            Self::EmptyEtag => f.write_str("Empty eTag value."),
            Self::InvalidConfig(error) => write!(f, "Invalid config JSON: {error}"),
        }
    }
}

impl core::error::Error for CachePayloadError {}

impl CacheEntry {
    /// An entry for a config fetched at `fetch_time_ms` with this ETag.
    #[must_use]
    pub fn new(fetch_time_ms: u64, etag: &str, config_json: &str) -> Self {
        Self {
            fetch_time_ms,
            etag: etag.into(),
            config_json: config_json.into(),
        }
    }

    /// When the config was fetched or last confirmed, in Unix milliseconds.
    #[must_use]
    pub const fn fetch_time_ms(&self) -> u64 {
        self.fetch_time_ms
    }

    /// The ETag the CDN gave the config.
    #[must_use]
    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// The config JSON text.
    #[must_use]
    pub fn config_json(&self) -> &str {
        &self.config_json
    }

    /// The shared-cache payload: `"<fetch time ms>\n<etag>\n<config json>"`.
    ///
    /// ```
    /// use configcat_core::CacheEntry;
    ///
    /// let entry = CacheEntry::new(1686756435844, "\"abc\"", "{\"f\":{}}");
    /// assert_eq!(entry.payload(), "1686756435844\n\"abc\"\n{\"f\":{}}");
    /// let (parsed, _config) = CacheEntry::parse_payload(&entry.payload()).unwrap();
    /// assert_eq!(parsed, entry);
    /// ```
    #[must_use]
    pub fn payload(&self) -> String {
        format!(
            "{}\n{}\n{}",
            self.fetch_time_ms, self.etag, self.config_json
        )
    }

    /// Reads a shared-cache payload, parsing its config.
    ///
    /// # Errors
    /// The payload is truncated, malformed, or holds an invalid config.
    pub fn parse_payload(payload: &str) -> Result<(Self, Config), CachePayloadError> {
        let mut parts = payload.splitn(3, '\n');
        let (Some(time), Some(etag), Some(json)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CachePayloadError::MissingParts);
        };
        let fetch_time_ms = parse_fetch_time(time).ok_or(CachePayloadError::InvalidFetchTime)?;
        if etag.is_empty() {
            return Err(CachePayloadError::EmptyEtag);
        }
        let config = Config::parse(json.as_bytes()).map_err(CachePayloadError::InvalidConfig)?;
        Ok((Self::new(fetch_time_ms, etag, json), config))
    }
}

/// Other SDKs write the fetch time as an integer; accept a fraction too (ignored).
fn parse_fetch_time(text: &str) -> Option<u64> {
    let whole = text.split_once('.').map_or(text, |(whole, _)| whole);
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    whole.parse().ok()
}

/// The refresh state machine of one client.
///
/// ```
/// use configcat_core::{FetchResponse, FetchStep, NoLog, PollingMode, RefreshOptions, Refresher};
///
/// let options = RefreshOptions::new(PollingMode::Manual);
/// let mut refresher = Refresher::new("configcat-sdk-1/TEST_KEY-0123456789012/1234567890123456789012", options, 0)?;
/// let request = refresher.start_fetch(1_000, &NoLog).unwrap();
/// assert_eq!(
///     request.url,
///     "https://cdn-global.configcat.com/configuration-files/configcat-sdk-1/TEST_KEY-0123456789012/1234567890123456789012/config_v6.json"
/// );
/// let body = br#"{"f":{"flag":{"t":0,"v":{"b":true}}}}"#;
/// let FetchStep::Done(update) = refresher.handle_response(1_050, FetchResponse::new(200, Some("\"e1\""), body), &NoLog) else {
///     unreachable!()
/// };
/// let config = update.new_config.unwrap();
/// assert!(config.get_value("flag", false, None, &NoLog));
/// assert_eq!(update.cache_payload.unwrap(), format!("1050\n\"e1\"\n{}", std::str::from_utf8(body).unwrap()));
/// # Ok::<(), configcat_core::SdkKeyError>(())
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
    offline: bool,
    started_at_ms: u64,
    initialized: bool,
    last_attempt_ms: Option<u64>,
    /// When the external cache was last read while offline (shared-cache readers).
    last_offline_cache_read_ms: Option<u64>,
    /// Requests made so far by the refresh in flight, `None` when idle.
    in_flight: Option<u8>,
}

impl Refresher {
    /// A refresher for this SDK key, created at `now_ms`.
    ///
    /// # Errors
    /// The SDK key is malformed (not checked in local-only mode).
    pub fn new(sdk_key: &str, options: RefreshOptions, now_ms: u64) -> Result<Self, SdkKeyError> {
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
        Ok(Self {
            sdk_key: sdk_key.into(),
            cache_key: cache_key(sdk_key),
            offline: options.offline,
            // Nothing to wait for when nothing will be fetched.
            initialized: options.local_only
                || options.offline
                || !matches!(options.polling, PollingMode::Auto { .. }),
            options,
            base_url,
            base_url_is_custom,
            entry: None,
            started_at_ms: now_ms,
            last_attempt_ms: None,
            last_offline_cache_read_ms: None,
            in_flight: None,
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

    /// The last good config's cache entry, if any.
    #[must_use]
    pub const fn entry(&self) -> Option<&CacheEntry> {
        self.entry.as_ref()
    }

    /// Whether the client is offline.
    #[must_use]
    pub const fn is_offline(&self) -> bool {
        self.offline
    }

    /// Stops or resumes network use. Returns whether the state changed (and
    /// logs 5200 when it did).
    pub fn set_offline(&mut self, offline: bool, sink: &dyn LogSink) -> bool {
        if self.offline == offline {
            return false;
        }
        self.offline = offline;
        let mode = if offline { "OFFLINE" } else { "ONLINE" };
        emit(
            sink,
            LogLevel::Info,
            EventId::ClientStateChanged,
            format_args!("Switched to {mode} mode."),
        );
        true
    }

    /// Whether reads may stop waiting for the first config: a fetch finished,
    /// a fresh config came from the cache, or the max init wait elapsed.
    #[must_use]
    pub fn is_initialized(&self, now_ms: u64) -> bool {
        self.initialized
            || self
                .init_deadline_ms()
                .is_some_and(|deadline| now_ms >= deadline)
    }

    /// When auto polling stops making reads wait (start + max init wait); `None` in other modes.
    #[must_use]
    pub fn init_deadline_ms(&self) -> Option<u64> {
        match self.options.polling {
            PollingMode::Auto {
                max_init_wait_ms, ..
            } => Some(self.started_at_ms.saturating_add(max_init_wait_ms)),
            _ => None,
        }
    }

    /// How much flag data there is at `now_ms`.
    #[must_use]
    pub fn cache_state(&self, now_ms: u64) -> CacheState {
        if self.options.local_only {
            return CacheState::LocalOverridesOnly;
        }
        let Some(entry) = &self.entry else {
            return CacheState::NoFlagData;
        };
        let max_age = match self.options.polling {
            PollingMode::Auto { interval_ms, .. } => Some(interval_ms),
            PollingMode::Lazy { ttl_ms } => Some(ttl_ms),
            PollingMode::Manual => None,
        };
        match max_age {
            Some(max_age) if entry.fetch_time_ms.saturating_add(max_age) > now_ms => {
                CacheState::UpToDate
            }
            // Manual mode has no notion of expiry: data is as fresh as the application keeps it.
            None => CacheState::UpToDate,
            Some(_) => CacheState::CachedDataOnly,
        }
    }

    /// Takes a payload read from the config cache. Returns the config when it
    /// differs from the current one (another process, or a previous run,
    /// stored a newer config), to be published to readers.
    pub fn handle_cache_payload(
        &mut self,
        now_ms: u64,
        payload: &str,
        sink: &dyn LogSink,
    ) -> Option<Config> {
        if self.options.local_only || payload.is_empty() {
            return None;
        }
        if self
            .entry
            .as_ref()
            .is_some_and(|entry| same_payload(entry, payload))
        {
            return None;
        }
        match CacheEntry::parse_payload(payload) {
            Ok((entry, config)) => {
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
                self.entry = Some(entry);
                if self.cache_state(now_ms) == CacheState::UpToDate {
                    self.initialized = true;
                }
                changed.then_some(config)
            }
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

    /// Whether the client ever has something to do on its own schedule (a
    /// poll, a cache read while offline, the end of max init wait): auto
    /// polling, unless local-only. An offline client may go online later.
    /// Adapters that run a background task for it need none otherwise.
    #[must_use]
    pub const fn runs_in_background(&self) -> bool {
        matches!(self.options.polling, PollingMode::Auto { .. }) && !self.options.local_only
    }

    /// When an offline auto-polling client with an external cache should read
    /// that cache next (ConfigCat's shared-cache pattern: one online writer,
    /// many offline readers follow it once per poll interval). `None` when
    /// online (polling reads the cache anyway), in other modes, or local-only.
    #[must_use]
    pub fn next_offline_cache_read_ms(&self) -> Option<u64> {
        let PollingMode::Auto { interval_ms, .. } = self.options.polling else {
            return None;
        };
        if !self.offline || self.options.local_only {
            return None;
        }
        Some(
            self.last_offline_cache_read_ms
                .map_or(self.started_at_ms, |last| last.saturating_add(interval_ms)),
        )
    }

    /// Records that the adapter read its external cache while offline at `now_ms`.
    pub const fn offline_cache_read(&mut self, now_ms: u64) {
        self.last_offline_cache_read_ms = Some(now_ms);
    }

    /// When auto polling should fetch next (`None`: not auto polling, offline,
    /// local-only, or a fetch is in flight). Sleep until then.
    #[must_use]
    pub fn next_poll_ms(&self) -> Option<u64> {
        let PollingMode::Auto { interval_ms, .. } = self.options.polling else {
            return None;
        };
        if self.offline || self.options.local_only || self.in_flight.is_some() {
            return None;
        }
        let fresh_until = self
            .entry
            .as_ref()
            .map(|entry| entry.fetch_time_ms.saturating_add(interval_ms));
        let retry_at = self
            .last_attempt_ms
            .map(|attempt| attempt.saturating_add(interval_ms));
        Some(match (fresh_until, retry_at) {
            (Some(fresh), Some(retry)) => fresh.max(retry),
            (Some(fresh), None) => fresh,
            (None, Some(retry)) => retry,
            (None, None) => self.started_at_ms,
        })
    }

    /// Whether a read in lazy mode must fetch first (no config, or older than
    /// the TTL). After a failed attempt, the next is made one TTL later.
    #[must_use]
    pub fn lazy_fetch_due(&self, now_ms: u64) -> bool {
        let PollingMode::Lazy { ttl_ms } = self.options.polling else {
            return false;
        };
        if self.offline || self.options.local_only || self.in_flight.is_some() {
            return false;
        }
        let expired = self
            .entry
            .as_ref()
            .is_none_or(|entry| entry.fetch_time_ms.saturating_add(ttl_ms) <= now_ms);
        let may_retry = self
            .last_attempt_ms
            .is_none_or(|attempt| attempt.saturating_add(ttl_ms) <= now_ms);
        expired && may_retry
    }

    /// The earliest time [`Refresher::lazy_fetch_due`] can become true; a
    /// reader that checks the time against it needs no lock until then.
    /// `None` when lazy loading will not fetch (other mode, offline, local-only).
    #[must_use]
    pub fn lazy_due_at_ms(&self) -> Option<u64> {
        let PollingMode::Lazy { ttl_ms } = self.options.polling else {
            return None;
        };
        if self.offline || self.options.local_only {
            return None;
        }
        let expires = self
            .entry
            .as_ref()
            .map_or(0, |entry| entry.fetch_time_ms.saturating_add(ttl_ms));
        let retry = self
            .last_attempt_ms
            .map_or(0, |attempt| attempt.saturating_add(ttl_ms));
        Some(expires.max(retry))
    }

    /// Whether a fetch is in flight.
    #[must_use]
    pub const fn is_fetching(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Starts a refresh: the request to make. Used by auto polling when
    /// [`Refresher::next_poll_ms`] is due, by lazy reads, and by force refresh.
    ///
    /// # Errors
    /// Offline (logs 3200), local-only (logs 3202), or a fetch is already in flight.
    pub fn start_fetch(
        &mut self,
        now_ms: u64,
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
        if self.offline {
            emit(
                sink,
                LogLevel::Warning,
                EventId::ClientOffline,
                format_args!("{}", RefreshError::Offline),
            );
            return Err(RefreshError::Offline);
        }
        if self.in_flight.is_some() {
            return Err(RefreshError::AlreadyFetching);
        }
        self.in_flight = Some(1);
        self.last_attempt_ms = Some(now_ms);
        Ok(self.request())
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

    /// Takes the response to the request in flight.
    pub fn handle_response(
        &mut self,
        now_ms: u64,
        response: FetchResponse<'_>,
        sink: &dyn LogSink,
    ) -> FetchStep {
        self.handle_body(
            now_ms,
            response.status,
            response.etag,
            Body::Borrowed(response.body),
            sink,
        )
    }

    /// Takes the response to the request in flight like
    /// [`Refresher::handle_response`], but takes the body by value: a new
    /// config's JSON is then kept without copying it, so a memory-tight device
    /// needs one body-sized buffer less at the peak of a fetch.
    pub fn handle_owned_response(
        &mut self,
        now_ms: u64,
        status: u16,
        etag: Option<&str>,
        body: Vec<u8>,
        sink: &dyn LogSink,
    ) -> FetchStep {
        self.handle_body(now_ms, status, etag, Body::Owned(body), sink)
    }

    fn handle_body(
        &mut self,
        now_ms: u64,
        status: u16,
        etag: Option<&str>,
        body: Body<'_>,
        sink: &dyn LogSink,
    ) -> FetchStep {
        let requests_made = self.in_flight.unwrap_or(1);
        match status {
            200..=204 => {
                let config = match Config::parse(body.bytes()) {
                    Ok(config) => config,
                    Err(error) => {
                        return FetchStep::Done(self.fail(RefreshError::InvalidBody(error), sink));
                    }
                };
                if let Some(next) = self.redirect(&config, requests_made, sink) {
                    self.in_flight = Some(requests_made.saturating_add(1));
                    return FetchStep::Fetch(next);
                }
                // The old entry goes before the payload is built: one config text less at the peak.
                self.entry = Some(CacheEntry {
                    fetch_time_ms: now_ms,
                    etag: storable_etag(etag).into(),
                    config_json: body.into_text(),
                });
                let payload = self.entry.as_ref().map(CacheEntry::payload);
                self.finish();
                FetchStep::Done(RefreshUpdate {
                    result: Ok(Fetched::New),
                    new_config: Some(config),
                    cache_payload: payload,
                })
            }
            304 => {
                let payload = self.confirm_entry(now_ms);
                self.finish();
                FetchStep::Done(RefreshUpdate {
                    result: Ok(Fetched::NotModified),
                    new_config: None,
                    cache_payload: payload,
                })
            }
            status @ (403 | 404) => {
                // A wrong key will not fix itself: treat the config we have as confirmed
                // so polling does not hammer the CDN, and say so.
                let payload = self.confirm_entry(now_ms);
                let mut update = self.fail(RefreshError::InvalidSdkKey { status }, sink);
                update.cache_payload = payload;
                FetchStep::Done(update)
            }
            status => FetchStep::Done(self.fail(RefreshError::UnexpectedStatus { status }, sink)),
        }
    }

    /// Takes the failure of the request in flight.
    pub fn handle_transport_error(
        &mut self,
        kind: TransportErrorKind,
        detail: &str,
        sink: &dyn LogSink,
    ) -> RefreshUpdate {
        let detail: Box<str> = match (kind, self.options.timeouts_ms) {
            (TransportErrorKind::TimedOut, Some((connect, read))) => format!(
                "Timeout values: [connect: {}s, read: {}s] ({detail})",
                SecondsText(connect),
                SecondsText(read)
            )
            .into(),
            _ => detail.into(),
        };
        self.fail(RefreshError::Transport { kind, detail }, sink)
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
        RefreshUpdate {
            result: Err(error),
            new_config: None,
            cache_payload: None,
        }
    }

    fn finish(&mut self) {
        self.in_flight = None;
        self.initialized = true;
    }

    /// Bumps the fetch time of the current config; the payload to store, if there is a config.
    fn confirm_entry(&mut self, now_ms: u64) -> Option<String> {
        let entry = self.entry.as_mut()?;
        entry.fetch_time_ms = now_ms;
        self.options.confirmation_payloads.then(|| entry.payload())
    }

    /// Applies the config's redirect instruction. Returns the request to make
    /// next when the refresh must follow it.
    fn redirect(
        &mut self,
        config: &Config,
        requests_made: u8,
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
                    "The `dataGovernance` parameter specified at the client initialization is not in sync with the preferences on the ConfigCat Dashboard. Read more: https://configcat.com/docs/advanced/data-governance/"
                ),
            );
        }
        if requests_made >= MAX_REQUESTS_PER_REFRESH {
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
}

/// A response body, borrowed from the adapter or handed over to be kept.
enum Body<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
}

impl Body<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Self::Borrowed(bytes) => bytes,
            Self::Owned(bytes) => bytes,
        }
    }

    /// The body as text; an owned UTF-8 body is reused, not copied.
    fn into_text(self) -> Box<str> {
        match self {
            Self::Borrowed(bytes) => String::from_utf8_lossy(bytes).into(),
            Self::Owned(bytes) => String::from_utf8(bytes).map_or_else(
                |error| String::from_utf8_lossy(error.as_bytes()).into(),
                String::into_boxed_str,
            ),
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

fn same_payload(entry: &CacheEntry, payload: &str) -> bool {
    let mut parts = payload.splitn(3, '\n');
    let time = parts.next().and_then(parse_fetch_time);
    time == Some(entry.fetch_time_ms)
        && parts.next() == Some(&*entry.etag)
        && parts.next() == Some(&*entry.config_json)
}

/// Milliseconds as seconds with up to three decimals and no trailing zeros (`10`, `0.5`).
struct SecondsText(u64);

impl fmt::Display for SecondsText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, millis) = (self.0 / 1000, self.0 % 1000);
        if millis == 0 {
            return write!(f, "{whole}");
        }
        let fraction = format!("{millis:03}");
        write!(f, "{whole}.{}", fraction.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec::Vec;
    use core::cell::RefCell;

    const KEY: &str = "configcat-sdk-1/TEST_KEY-0123456789012/1234567890123456789012";
    const CONFIG_A: &[u8] = br#"{"f":{"flag":{"t":1,"v":{"s":"a"}}}}"#;
    const CONFIG_B: &[u8] = br#"{"f":{"flag":{"t":1,"v":{"s":"b"}}}}"#;

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

    fn refresher(options: RefreshOptions) -> Refresher {
        Refresher::new(KEY, options, 1_000).unwrap()
    }

    fn done(step: FetchStep) -> RefreshUpdate {
        match step {
            FetchStep::Done(update) => update,
            FetchStep::Fetch(request) => panic!("unexpected follow-up request {request:?}"),
        }
    }

    fn fetch_ok(refresher: &mut Refresher, now: u64, etag: &str, body: &[u8]) -> RefreshUpdate {
        refresher.start_fetch(now, &NoLog).unwrap();
        done(refresher.handle_response(now, FetchResponse::new(200, Some(etag), body), &NoLog))
    }

    fn text_of(config: &Config) -> &str {
        config.get_value("flag", "", None, &NoLog)
    }

    use crate::log_event::NoLog;

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
        assert_eq!(
            Refresher::new("nope", RefreshOptions::default(), 0).unwrap_err(),
            SdkKeyError::Malformed
        );
        assert!(Refresher::new("nope", RefreshOptions::default().with_local_only(true), 0).is_ok());
        assert_eq!(
            Refresher::new("configcat-proxy/x", RefreshOptions::default(), 0).unwrap_err(),
            SdkKeyError::ProxyKeyWithoutBaseUrl
        );
        assert!(
            Refresher::new(
                "configcat-proxy/x",
                RefreshOptions::default().with_base_url("http://proxy"),
                0
            )
            .is_ok()
        );
    }

    #[test]
    fn etag_round_trip_and_not_modified_bumps_fetch_time() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
        let first = fetch_ok(&mut r, 2_000, "\"v1\"", CONFIG_A);
        assert_eq!(first.result, Ok(Fetched::New));
        assert_eq!(text_of(first.new_config.as_ref().unwrap()), "a");
        assert_eq!(
            first.cache_payload.as_deref(),
            Some("2000\n\"v1\"\n{\"f\":{\"flag\":{\"t\":1,\"v\":{\"s\":\"a\"}}}}")
        );

        let request = r.start_fetch(3_000, &NoLog).unwrap();
        assert_eq!(request.if_none_match.as_deref(), Some("\"v1\""));
        assert!(
            request
                .headers()
                .any(|(name, value)| name == "If-None-Match" && value == "\"v1\"")
        );
        let update = done(r.handle_response(3_000, FetchResponse::new(304, None, b""), &NoLog));
        assert_eq!(update.result, Ok(Fetched::NotModified));
        assert!(update.new_config.is_none());
        assert!(update.cache_payload.unwrap().starts_with("3000\n\"v1\"\n"));
        assert_eq!(r.entry().unwrap().fetch_time_ms(), 3_000);
    }

    #[test]
    fn not_modified_without_a_config_writes_nothing() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
        r.start_fetch(2_000, &NoLog).unwrap();
        let update = done(r.handle_response(2_000, FetchResponse::new(304, None, b""), &NoLog));
        assert_eq!(update.result, Ok(Fetched::NotModified));
        assert!(update.cache_payload.is_none());
    }

    #[test]
    fn owned_bodies_become_the_entry_without_a_copy() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
        r.start_fetch(2_000, &NoLog).unwrap();
        let body = CONFIG_A.to_vec();
        let address = body.as_ptr();
        let update = done(r.handle_owned_response(2_000, 200, Some("\"v1\""), body, &NoLog));
        assert_eq!(update.result, Ok(Fetched::New));
        assert_eq!(text_of(update.new_config.as_ref().unwrap()), "a");
        let json = core::str::from_utf8(CONFIG_A).unwrap();
        assert_eq!(
            update.cache_payload.unwrap(),
            alloc::format!("2000\n\"v1\"\n{json}")
        );
        let entry = r.entry().unwrap();
        assert_eq!(entry.config_json(), json);
        assert_eq!(entry.config_json().as_ptr(), address, "kept, not copied");
        r.start_fetch(3_000, &NoLog).unwrap();
        let update = done(r.handle_owned_response(3_000, 304, None, Vec::new(), &NoLog));
        assert_eq!(update.result, Ok(Fetched::NotModified));
        assert_eq!(r.entry().unwrap().fetch_time_ms(), 3_000);
    }

    #[test]
    fn confirmations_can_come_without_a_payload() {
        let options = RefreshOptions::new(PollingMode::Manual).with_confirmation_payloads(false);
        let mut r = refresher(options);
        fetch_ok(&mut r, 2_000, "\"v1\"", CONFIG_A);
        for status in [304, 403] {
            r.start_fetch(3_000, &NoLog).unwrap();
            let update =
                done(r.handle_response(3_000, FetchResponse::new(status, None, b""), &NoLog));
            assert!(update.cache_payload.is_none(), "status {status}");
            assert_eq!(r.entry().unwrap().fetch_time_ms(), 3_000, "still confirmed");
        }
    }

    #[test]
    fn wrong_sdk_key_is_not_transient_and_confirms_the_old_config() {
        for status in [403, 404] {
            let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
            fetch_ok(&mut r, 2_000, "\"v1\"", CONFIG_A);
            let sink = Capture::default();
            r.start_fetch(5_000, &sink).unwrap();
            let update =
                done(r.handle_response(5_000, FetchResponse::new(status, None, b"nope"), &sink));
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
            assert!(update.cache_payload.unwrap().starts_with("5000\n"));
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
        let cases: [(u16, &[u8], u16); 4] = [
            (500, b"", 1101),
            (200, b"{not json", 1105),
            (200, br#"{"f":[]}"#, 1105),
            (429, b"", 1101),
        ];
        for (status, body, id) in cases {
            let sink = Capture::default();
            r.start_fetch(3_000, &sink).unwrap();
            let update = done(r.handle_response(
                3_000,
                FetchResponse::new(status, Some("\"v2\""), body),
                &sink,
            ));
            assert!(update.result.as_ref().unwrap_err().is_transient());
            assert!(update.new_config.is_none() && update.cache_payload.is_none());
            assert_eq!(sink.ids(), [id], "status {status}");
            assert_eq!(r.entry().unwrap().etag(), "\"v1\"");
            assert_eq!(r.entry().unwrap().fetch_time_ms(), 2_000);
        }
    }

    #[test]
    fn transport_errors_are_classified_and_logged() {
        let mut r =
            refresher(RefreshOptions::new(PollingMode::Manual).with_timeouts_ms(10_000, 1_500));
        let sink = Capture::default();
        r.start_fetch(2_000, &sink).unwrap();
        let update =
            r.handle_transport_error(TransportErrorKind::TimedOut, "read timed out", &sink);
        let message = update.result.unwrap_err().to_string();
        assert!(
            message.contains("Timeout values: [connect: 10s, read: 1.5s]"),
            "{message}"
        );
        r.start_fetch(2_000, &sink).unwrap();
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

    fn redirecting_config(url: &str, mode: u8, value: &str) -> String {
        alloc::format!(
            r#"{{"p":{{"u":"{url}","r":{mode}}},"f":{{"flag":{{"t":1,"v":{{"s":"{value}"}}}}}}}}"#
        )
    }

    #[test]
    fn should_redirect_warns_and_fetches_from_the_new_url() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
        let sink = Capture::default();
        r.start_fetch(2_000, &sink).unwrap();
        let body = redirecting_config("https://cdn-eu.configcat.com", 1, "global");
        let FetchStep::Fetch(next) = r.handle_response(
            2_000,
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
            2_100,
            FetchResponse::new(200, Some("e2"), body.as_bytes()),
            &sink,
        ));
        assert_eq!(text_of(update.new_config.as_ref().unwrap()), "eu");
        // Later refreshes start at the new base url.
        assert!(
            r.start_fetch(3_000, &NoLog)
                .unwrap()
                .url
                .starts_with("https://cdn-eu.configcat.com/")
        );
    }

    #[test]
    fn no_redirect_moves_later_requests_only() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
        r.start_fetch(2_000, &NoLog).unwrap();
        let body = redirecting_config("https://cdn-eu.configcat.com", 0, "x");
        let update = done(r.handle_response(
            2_000,
            FetchResponse::new(200, Some("e"), body.as_bytes()),
            &NoLog,
        ));
        assert_eq!(update.result, Ok(Fetched::New));
        assert!(
            r.start_fetch(3_000, &NoLog)
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
            r.start_fetch(2_000, &NoLog).unwrap();
            let body = redirecting_config("http://127.0.0.1:10", mode, "x");
            let step = r.handle_response(
                2_000,
                FetchResponse::new(200, Some("e"), body.as_bytes()),
                &NoLog,
            );
            assert_eq!(matches!(step, FetchStep::Fetch(_)), follows, "mode {mode}");
        }
    }

    #[test]
    fn redirect_loops_stop_after_three_requests() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
        let sink = Capture::default();
        r.start_fetch(2_000, &sink).unwrap();
        let urls = [
            "https://a.example",
            "https://b.example",
            "https://a.example",
        ];
        let mut requests = 1;
        let mut step = r.handle_response(
            2_000,
            FetchResponse::new(
                200,
                Some("e"),
                redirecting_config(urls[0], 2, "0").as_bytes(),
            ),
            &sink,
        );
        while let FetchStep::Fetch(_) = step {
            let body = redirecting_config(urls[requests % 3], 2, &requests.to_string());
            requests += 1;
            step = r.handle_response(
                2_000,
                FetchResponse::new(200, Some("e"), body.as_bytes()),
                &sink,
            );
        }
        assert_eq!(requests, 3);
        assert_eq!(sink.ids(), [1104]);
        let FetchStep::Done(update) = step else {
            unreachable!()
        };
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
            0,
        )
        .unwrap();
        r.start_fetch(2_000, &NoLog).unwrap();
        let body = redirecting_config("https://cdn-global.configcat.com", 2, "x");
        let step = r.handle_response(
            2_000,
            FetchResponse::new(200, Some("e"), body.as_bytes()),
            &NoLog,
        );
        assert!(matches!(step, FetchStep::Done(_)));
    }

    #[test]
    fn auto_polling_schedule() {
        let mode = PollingMode::Auto {
            interval_ms: 10_000,
            max_init_wait_ms: 3_000,
        };
        let mut r = refresher(RefreshOptions::new(mode));
        assert_eq!(r.next_poll_ms(), Some(1_000), "first fetch right away");
        assert!(!r.is_initialized(2_000));
        assert!(r.is_initialized(4_000), "max init wait elapsed");
        r.start_fetch(1_000, &NoLog).unwrap();
        assert_eq!(r.next_poll_ms(), None, "nothing while a fetch is in flight");
        r.handle_transport_error(TransportErrorKind::Other, "reset", &NoLog);
        assert!(
            r.is_initialized(1_500),
            "a finished fetch initializes, even a failed one"
        );
        assert_eq!(
            r.next_poll_ms(),
            Some(11_000),
            "retry one interval after the attempt"
        );
        fetch_ok(&mut r, 11_000, "e", CONFIG_A);
        assert_eq!(r.next_poll_ms(), Some(21_000));
        assert_eq!(r.cache_state(20_999), CacheState::UpToDate);
        assert_eq!(r.cache_state(21_000), CacheState::CachedDataOnly);
        assert!(r.set_offline(true, &NoLog));
        assert_eq!(r.next_poll_ms(), None);
        assert_eq!(r.start_fetch(30_000, &NoLog), Err(RefreshError::Offline));
    }

    #[test]
    fn a_fresh_cache_entry_delays_the_first_poll_and_initializes() {
        let mode = PollingMode::Auto {
            interval_ms: 10_000,
            max_init_wait_ms: 3_000,
        };
        let mut r = refresher(RefreshOptions::new(mode));
        let payload = CacheEntry::new(500, "e", core::str::from_utf8(CONFIG_A).unwrap()).payload();
        let config = r.handle_cache_payload(1_000, &payload, &NoLog).unwrap();
        assert_eq!(text_of(&config), "a");
        assert!(r.is_initialized(1_000));
        assert_eq!(r.next_poll_ms(), Some(10_500));
        assert_eq!(r.cache_state(1_000), CacheState::UpToDate);
    }

    #[test]
    fn cache_payloads_are_adopted_only_when_newer_and_different() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Manual));
        let a = CacheEntry::new(5_000, "ea", core::str::from_utf8(CONFIG_A).unwrap()).payload();
        let b = CacheEntry::new(6_000, "eb", core::str::from_utf8(CONFIG_B).unwrap()).payload();
        let older = CacheEntry::new(4_000, "eo", core::str::from_utf8(CONFIG_B).unwrap()).payload();
        assert!(r.handle_cache_payload(10_000, &a, &NoLog).is_some());
        assert!(
            r.handle_cache_payload(10_000, &a, &NoLog).is_none(),
            "same payload"
        );
        assert!(
            r.handle_cache_payload(10_000, &older, &NoLog).is_none(),
            "older payload"
        );
        assert_eq!(
            text_of(&r.handle_cache_payload(10_000, &b, &NoLog).unwrap()),
            "b"
        );
        let bumped =
            CacheEntry::new(7_000, "eb", core::str::from_utf8(CONFIG_B).unwrap()).payload();
        assert!(
            r.handle_cache_payload(10_000, &bumped, &NoLog).is_none(),
            "same etag: no change"
        );
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
                r.handle_cache_payload(0, payload, &sink).is_none(),
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

    #[test]
    fn lazy_loading_fetches_when_expired_and_spaces_out_retries() {
        let mut r = refresher(RefreshOptions::new(PollingMode::Lazy { ttl_ms: 5_000 }));
        assert!(r.is_initialized(1_000));
        assert!(r.lazy_fetch_due(1_000));
        r.start_fetch(1_000, &NoLog).unwrap();
        assert!(!r.lazy_fetch_due(1_000), "one fetch at a time");
        r.handle_response(1_000, FetchResponse::new(500, None, b""), &NoLog);
        assert!(
            !r.lazy_fetch_due(5_999),
            "no retry within a TTL of a failure"
        );
        assert!(r.lazy_fetch_due(6_000));
        fetch_ok(&mut r, 6_000, "e", CONFIG_A);
        assert!(!r.lazy_fetch_due(10_999));
        assert!(r.lazy_fetch_due(11_000));
        assert_eq!(r.lazy_due_at_ms(), Some(11_000));
    }

    #[test]
    fn offline_readers_follow_the_cache_once_per_interval() {
        let mode = PollingMode::Auto {
            interval_ms: 10_000,
            max_init_wait_ms: 0,
        };
        let mut r = refresher(RefreshOptions::new(mode).with_offline(true));
        assert_eq!(r.next_offline_cache_read_ms(), Some(1_000), "read at once");
        r.offline_cache_read(1_000);
        assert_eq!(r.next_offline_cache_read_ms(), Some(11_000));
        assert!(r.set_offline(false, &NoLog));
        assert_eq!(
            r.next_offline_cache_read_ms(),
            None,
            "online polling reads the cache itself"
        );
        let lazy = refresher(RefreshOptions::new(PollingMode::LAZY_DEFAULT).with_offline(true));
        assert_eq!(lazy.next_offline_cache_read_ms(), None);
    }

    #[test]
    fn offline_and_local_only_never_fetch() {
        let mut r = refresher(RefreshOptions::new(PollingMode::AUTO_DEFAULT).with_offline(true));
        let sink = Capture::default();
        assert!(r.is_initialized(1_000));
        assert_eq!(r.next_poll_ms(), None);
        assert_eq!(r.start_fetch(1_000, &sink), Err(RefreshError::Offline));
        assert!(!r.set_offline(true, &sink));
        assert!(r.set_offline(false, &sink));
        assert_eq!(r.next_poll_ms(), Some(1_000));
        assert_eq!(sink.ids(), [3200, 5200]);

        let mut local =
            Refresher::new("any", RefreshOptions::default().with_local_only(true), 0).unwrap();
        assert_eq!(
            local.start_fetch(1_000, &NoLog),
            Err(RefreshError::LocalOnly)
        );
        assert_eq!(local.cache_state(1_000), CacheState::LocalOverridesOnly);
        assert!(local.handle_cache_payload(0, "1\ne\n{}", &NoLog).is_none());
        assert!(!local.runs_in_background());
        assert!(r.runs_in_background());
        let lazy = refresher(RefreshOptions::new(PollingMode::Lazy { ttl_ms: 1_000 }));
        assert!(!lazy.runs_in_background());
    }
}
