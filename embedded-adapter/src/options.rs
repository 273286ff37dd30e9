//! How a [`Client`](crate::Client) is set up.

use alloc::string::String;

use configcat_core::{DataGovernance, PollingMode, User};

/// The default limit of a response body: 32 KiB. The largest config of
/// ConfigCat's conformance suites is 28 KiB; raise it for larger configs
/// (see the crate docs, "Memory", for the heap a fetch of an N-byte config
/// needs).
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024;

/// The client's options. Start from [`ClientOptions::default`] (auto polling
/// every 60 s, global CDN) and change what you need:
///
/// ```
/// use configcat_embedded::{ClientOptions, PollingMode};
///
/// let options = ClientOptions::default()
///     .with_polling_mode(PollingMode::Auto { interval_ms: 300_000, max_init_wait_ms: 0 })
///     .with_max_body_bytes(48 * 1024);
/// assert_eq!(options.max_body_bytes, 48 * 1024);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ClientOptions {
    /// When [`Client::tick`](crate::Client::tick) fetches: auto polling
    /// (every interval), lazy loading (when the config is older than the
    /// TTL), or manual (only [`Client::refresh`](crate::Client::refresh)).
    /// Reads never fetch, in any mode; max init wait has no meaning here.
    pub polling_mode: PollingMode,
    /// CDN region, used unless `base_url` is set.
    pub data_governance: DataGovernance,
    /// A custom base url (a ConfigCat Proxy, a test server).
    pub base_url: Option<String>,
    /// Start offline: no network use until [`Client::set_online`](crate::Client::set_online);
    /// reads use the cached config.
    pub offline: bool,
    /// Largest response body accepted; a larger one fails the refresh with
    /// [`TransportErrorKind::BodyTooLarge`](configcat_core::TransportErrorKind::BodyTooLarge).
    pub max_body_bytes: usize,
    /// Keep the HTTP connection between refreshes (for keep-alive). Off by
    /// default: a connection's buffers, and a TLS session's, are then only
    /// held while a refresh runs.
    pub keep_connection: bool,
    /// The user evaluations use when none is passed.
    pub default_user: Option<User>,
    /// The connection's connect and read timeouts in ms, only quoted in
    /// timeout messages (the timeouts themselves are the connection's).
    pub timeouts_ms: Option<(u64, u64)>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            polling_mode: PollingMode::default(),
            data_governance: DataGovernance::default(),
            base_url: None,
            offline: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            keep_connection: false,
            default_user: None,
            timeouts_ms: None,
        }
    }
}

impl ClientOptions {
    /// Sets the polling mode.
    #[must_use]
    pub const fn with_polling_mode(mut self, polling_mode: PollingMode) -> Self {
        self.polling_mode = polling_mode;
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

    /// Sets the largest response body accepted.
    #[must_use]
    pub const fn with_max_body_bytes(mut self, max_body_bytes: usize) -> Self {
        self.max_body_bytes = max_body_bytes;
        self
    }

    /// Keeps the HTTP connection between refreshes.
    #[must_use]
    pub const fn with_keep_connection(mut self, keep_connection: bool) -> Self {
        self.keep_connection = keep_connection;
        self
    }

    /// Sets the default user.
    #[must_use]
    pub fn with_default_user(mut self, user: User) -> Self {
        self.default_user = Some(user);
        self
    }

    /// Sets the timeouts quoted in timeout messages.
    #[must_use]
    pub const fn with_timeouts_ms(mut self, connect_ms: u64, read_ms: u64) -> Self {
        self.timeouts_ms = Some((connect_ms, read_ms));
        self
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for ClientOptions {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "ClientOptions {{ polling_mode: {}, base_url: {}, offline: {}, max_body_bytes: {}, keep_connection: {} }}",
            defmt::Debug2Format(&self.polling_mode),
            self.base_url.as_deref(),
            self.offline,
            self.max_body_bytes,
            self.keep_connection,
        );
    }
}
