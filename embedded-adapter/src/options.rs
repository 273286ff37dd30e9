//! How a [`Client`](crate::Client) is set up.

use configcat_core::User;
use configcat_core::refresh::{DataGovernance, PollingMode, RefreshOptions};

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
    /// How the config is refreshed: polling mode, CDN region or base url,
    /// offline start, the timeouts quoted in messages. The client sets the
    /// rest (its version, local-only, how it writes its cache).
    ///
    /// [`Client::tick`](crate::Client::tick) fetches in auto polling (every
    /// interval) and lazy loading (when the config is older than the TTL);
    /// in manual polling only [`Client::refresh`](crate::Client::refresh)
    /// does. Reads never fetch, in any mode, and never wait: max init wait
    /// has no meaning here.
    pub refresh: RefreshOptions,
    /// Largest response body accepted; a larger one fails the refresh with
    /// [`TransportErrorKind::BodyTooLarge`](crate::TransportErrorKind::BodyTooLarge).
    pub max_body_bytes: usize,
    /// Keep the HTTP connection between refreshes (for keep-alive). Off by
    /// default: a connection's buffers, and a TLS session's, are then only
    /// held while a refresh runs.
    pub keep_connection: bool,
    /// The user evaluations use when none is passed.
    pub default_user: Option<User>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            refresh: RefreshOptions::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            keep_connection: false,
            default_user: None,
        }
    }
}

impl ClientOptions {
    /// Sets the polling mode.
    #[must_use]
    pub const fn with_polling_mode(mut self, polling_mode: PollingMode) -> Self {
        self.refresh.polling = polling_mode;
        self
    }

    /// Sets the CDN region.
    #[must_use]
    pub const fn with_data_governance(mut self, data_governance: DataGovernance) -> Self {
        self.refresh.data_governance = data_governance;
        self
    }

    /// Sets a custom base url (a ConfigCat Proxy, a test server).
    #[must_use]
    pub fn with_base_url(mut self, base_url: impl Into<alloc::string::String>) -> Self {
        self.refresh.base_url = Some(base_url.into());
        self
    }

    /// Starts offline: no network use until
    /// [`Client::set_online`](crate::Client::set_online); reads use the cached config.
    #[must_use]
    pub const fn with_offline(mut self, offline: bool) -> Self {
        self.refresh.offline = offline;
        self
    }

    /// Sets the connection's connect and read timeouts in ms, only quoted in
    /// timeout messages (the timeouts themselves are the connection's).
    #[must_use]
    pub const fn with_timeouts_ms(mut self, connect_ms: u64, read_ms: u64) -> Self {
        self.refresh.timeouts_ms = Some((connect_ms, read_ms));
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
}

#[cfg(feature = "defmt")]
impl defmt::Format for ClientOptions {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "ClientOptions {{ polling_mode: {}, base_url: {}, offline: {}, max_body_bytes: {}, keep_connection: {} }}",
            defmt::Debug2Format(&self.refresh.polling),
            self.refresh.base_url.as_deref(),
            self.refresh.offline,
            self.max_body_bytes,
            self.keep_connection,
        );
    }
}
