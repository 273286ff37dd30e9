//! What the refresh logic is told about the client's setup.

use alloc::string::String;

/// Base url of ConfigCat's global CDN.
pub const GLOBAL_BASE_URL: &str = "https://cdn-global.configcat.com";
/// Base url of ConfigCat's EU-only CDN.
pub const EU_ONLY_BASE_URL: &str = "https://cdn-eu.configcat.com";

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
    /// Fetch only when the application asks (force refresh).
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

    /// How long a config stays fresh: the poll interval or the TTL, at
    /// least 1 ms so that a schedule always moves forward; `None` in
    /// manual polling, where nothing expires.
    pub(crate) const fn period_ms(self) -> Option<u64> {
        match self {
            Self::Auto { interval_ms, .. } => Some(if interval_ms == 0 { 1 } else { interval_ms }),
            Self::Lazy { ttl_ms } => Some(if ttl_ms == 0 { 1 } else { ttl_ms }),
            Self::Manual => None,
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
/// Both adapters' client options embed one.
///
/// ```
/// use configcat_core::refresh::{DataGovernance, PollingMode, RefreshOptions};
///
/// let options = RefreshOptions::new(PollingMode::LAZY_DEFAULT)
///     .with_data_governance(DataGovernance::EuOnly)
///     .with_base_url("http://127.0.0.1:8080");
/// assert_eq!(options.base_url.as_deref(), Some("http://127.0.0.1:8080"));
/// ```
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
    /// Whether the config cache is shared with other writers (other
    /// processes, ConfigCat's SDKs in other languages), so that it is read
    /// before every due refresh and, offline, once per period (default
    /// false: only this client writes it).
    pub follow_cache: bool,
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

    /// Sets the polling mode.
    #[must_use]
    pub const fn with_polling_mode(mut self, polling: PollingMode) -> Self {
        self.polling = polling;
        self
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

    /// Sets whether the config cache has other writers to follow.
    #[must_use]
    pub const fn with_follow_cache(mut self, follow_cache: bool) -> Self {
        self.follow_cache = follow_cache;
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
            follow_cache: false,
        }
    }
}
