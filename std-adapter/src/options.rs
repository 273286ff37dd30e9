//! Client options, mirroring the options of ConfigCat's SDKs.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use configcat_core::refresh::{DataGovernance, PollingMode, RefreshOptions};
use configcat_core::{OverrideBehaviour, OwnedValue, User};

use crate::cache::ConfigCache;
use crate::clock::Clock;
use crate::hooks::Hooks;

/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default read timeout.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default cap on a config download (ConfigCat configs are far smaller).
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// How a client is set up. Start from `ClientOptions::default()` and change
/// what you need:
///
/// ```
/// use configcat_std::{ClientOptions, DataGovernance, Hooks};
/// use std::time::Duration;
///
/// let options = ClientOptions::default()
///     .with_auto_polling(Duration::from_secs(30), Duration::from_secs(3))
///     .with_data_governance(DataGovernance::EuOnly)
///     .with_read_timeout(Duration::from_secs(5))
///     .with_hooks(Hooks::default().on_error(|message| eprintln!("{message}")));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientOptions {
    /// How the config is refreshed: polling mode (default: auto polling
    /// every 60 s, 5 s max init wait), CDN region or base url, offline
    /// start. The client sets the rest (its version, local-only from the
    /// overrides, following the cache, the timeouts quoted in messages).
    pub refresh: RefreshOptions,
    /// An external cache for the config (default: this process's memory only).
    pub cache: Option<Arc<dyn ConfigCache>>,
    /// TCP and TLS connect timeout.
    pub connect_timeout: Duration,
    /// Timeout waiting for the response and its body.
    pub read_timeout: Duration,
    /// An HTTP proxy.
    pub proxy: Option<ProxyOptions>,
    /// Local flag overrides.
    pub flag_overrides: Option<FlagOverrides>,
    /// The user evaluations use when none is passed.
    pub default_user: Option<User>,
    /// Callbacks.
    pub hooks: Hooks,
    /// Largest config download accepted.
    pub max_body_bytes: usize,
    /// Where time comes from (default: the system's clocks).
    pub clock: Clock,
    /// Lazy loading: a read that finds the config expired returns it at once
    /// and refreshes in the background, instead of waiting for the refresh
    /// (default false, as ConfigCat's SDKs do). For async code, where no
    /// read may block the executor's thread on the network.
    pub serve_stale: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            refresh: RefreshOptions::new(PollingMode::AUTO_DEFAULT),
            cache: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            proxy: None,
            flag_overrides: None,
            default_user: None,
            hooks: Hooks::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            clock: Clock::system(),
            serve_stale: false,
        }
    }
}

pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl ClientOptions {
    /// Sets the polling mode.
    #[must_use]
    pub const fn with_polling_mode(mut self, polling_mode: PollingMode) -> Self {
        self.refresh.polling = polling_mode;
        self
    }

    /// Auto polling: fetch every `poll_interval` in the background; reads wait
    /// at most `max_init_wait` for the first config.
    #[must_use]
    pub fn with_auto_polling(self, poll_interval: Duration, max_init_wait: Duration) -> Self {
        self.with_polling_mode(PollingMode::Auto {
            interval_ms: millis(poll_interval).max(1),
            max_init_wait_ms: millis(max_init_wait),
        })
    }

    /// Lazy loading: a read refreshes when the config is older than `cache_ttl`.
    #[must_use]
    pub fn with_lazy_loading(self, cache_ttl: Duration) -> Self {
        self.with_polling_mode(PollingMode::Lazy {
            ttl_ms: millis(cache_ttl).max(1),
        })
    }

    /// Manual polling: fetch only on `Client::force_refresh`.
    #[must_use]
    pub const fn with_manual_polling(self) -> Self {
        self.with_polling_mode(PollingMode::Manual)
    }

    /// Sets the config cache.
    #[must_use]
    pub fn with_cache(mut self, cache: Arc<dyn ConfigCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Sets a custom base url (a ConfigCat Proxy, or a test server).
    #[must_use]
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.refresh.base_url = Some(base_url.into());
        self
    }

    /// Sets the CDN region.
    #[must_use]
    pub const fn with_data_governance(mut self, data_governance: DataGovernance) -> Self {
        self.refresh.data_governance = data_governance;
        self
    }

    /// Sets the connect timeout.
    #[must_use]
    pub const fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the read timeout.
    #[must_use]
    pub const fn with_read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Sends requests through an HTTP proxy.
    #[must_use]
    pub fn with_proxy(mut self, proxy: ProxyOptions) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// Sets local flag overrides.
    #[must_use]
    pub fn with_flag_overrides(mut self, overrides: FlagOverrides) -> Self {
        self.flag_overrides = Some(overrides);
        self
    }

    /// Sets the default user.
    #[must_use]
    pub fn with_default_user(mut self, user: User) -> Self {
        self.default_user = Some(user);
        self
    }

    /// Sets the hooks.
    #[must_use]
    pub fn with_hooks(mut self, hooks: Hooks) -> Self {
        self.hooks = hooks;
        self
    }

    /// Starts offline (see `Client::set_online`).
    #[must_use]
    pub const fn with_offline(mut self, offline: bool) -> Self {
        self.refresh.offline = offline;
        self
    }

    /// Sets the largest config download accepted.
    #[must_use]
    pub const fn with_max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Sets where time comes from: [`Clock::system`] (the default), or a
    /// [`ManualClock`](crate::ManualClock)'s clock in tests.
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Lazy loading: serves an expired config at once and refreshes it in
    /// the background (see [`ClientOptions::serve_stale`]).
    #[must_use]
    pub const fn with_serve_stale(mut self, serve_stale: bool) -> Self {
        self.serve_stale = serve_stale;
        self
    }

    /// The polling mode.
    pub(crate) const fn polling_mode(&self) -> PollingMode {
        self.refresh.polling
    }

    /// Whether flags come only from the overrides: nothing is ever fetched.
    pub(crate) fn is_local_only(&self) -> bool {
        self.flag_overrides
            .as_ref()
            .is_some_and(|overrides| overrides.behaviour == OverrideBehaviour::LocalOnly)
    }

    /// Whether two option sets configure the same client (trait objects are
    /// compared by identity). Used to warn when a client is requested again
    /// with other options.
    pub(crate) fn same_as(&self, other: &Self) -> bool {
        let same_cache = match (&self.cache, &other.cache) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        same_cache
            && self.refresh == other.refresh
            && self.connect_timeout == other.connect_timeout
            && self.read_timeout == other.read_timeout
            && self.proxy == other.proxy
            && self.flag_overrides == other.flag_overrides
            && self.default_user == other.default_user
            && self.max_body_bytes == other.max_body_bytes
            && self.serve_stale == other.serve_stale
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("refresh", &self.refresh)
            .field("cache", &self.cache.as_ref().map(|_| "custom"))
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("proxy", &self.proxy)
            .field("flag_overrides", &self.flag_overrides)
            .field("default_user", &self.default_user)
            .field("hooks", &self.hooks)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("clock", &self.clock)
            .field("serve_stale", &self.serve_stale)
            .finish()
    }
}

/// An HTTP proxy and its credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyOptions {
    url: String,
    credentials: Option<(String, String)>,
}

impl fmt::Debug for ProxyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the password.
        f.debug_struct("ProxyOptions")
            .field("url", &self.url)
            .field("username", &self.credentials.as_ref().map(|(user, _)| user))
            .finish()
    }
}

impl ProxyOptions {
    /// A proxy at `url` (`http://host:port`).
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            credentials: None,
        }
    }

    /// Sends these credentials to the proxy (Basic authentication).
    #[must_use]
    pub fn with_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.credentials = Some((username.into(), password.into()));
        self
    }

    pub(crate) fn to_ureq(&self) -> Result<ureq::Proxy, String> {
        let url = self.url.trim_end_matches('/');
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("proxy url must start with http:// ({url})"))?;
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>()
                    .map_err(|_| format!("invalid proxy port in {url}"))?,
            ),
            None => (rest, 80),
        };
        let mut builder = ureq::Proxy::builder(ureq::ProxyProtocol::Http)
            .host(host)
            .port(port);
        if let Some((username, password)) = &self.credentials {
            builder = builder.username(username).password(password);
        }
        builder
            .build()
            .map_err(|error| format!("invalid proxy {url}: {error}"))
    }
}

/// Local flag overrides: a file or a map, and how they combine with the remote config.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagOverrides {
    pub(crate) source: OverrideSource,
    pub(crate) behaviour: OverrideBehaviour,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OverrideSource {
    File(PathBuf),
    Map(Vec<(String, OwnedValue)>),
}

impl FlagOverrides {
    /// Overrides read from a JSON file: the simple `{"flags": {...}}` format
    /// or a full config JSON v6. The file is read again whenever it changes on disk.
    #[must_use]
    pub fn from_file(path: impl Into<PathBuf>, behaviour: OverrideBehaviour) -> Self {
        Self {
            source: OverrideSource::File(path.into()),
            behaviour,
        }
    }

    /// Overrides from key-value pairs.
    ///
    /// ```
    /// use configcat_std::{FlagOverrides, OverrideBehaviour, OwnedValue};
    ///
    /// let overrides = FlagOverrides::from_map(
    ///     [("newCheckout", OwnedValue::Bool(true)), ("pageSize", OwnedValue::Int(50))],
    ///     OverrideBehaviour::LocalOverRemote,
    /// );
    /// ```
    #[must_use]
    pub fn from_map<K: Into<String>>(
        values: impl IntoIterator<Item = (K, OwnedValue)>,
        behaviour: OverrideBehaviour,
    ) -> Self {
        let values = values
            .into_iter()
            .map(|(key, value)| (key.into(), value))
            .collect();
        Self {
            source: OverrideSource::Map(values),
            behaviour,
        }
    }

    /// How the overrides combine with the remote config.
    #[must_use]
    pub const fn behaviour(&self) -> OverrideBehaviour {
        self.behaviour
    }
}
