//! The client: the config in memory, refreshes driven by the core's
//! [`Refresher`] when the application ticks it, the persistent cache.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use configcat_core::refresh::{
    CacheEntry, CacheState, Due, FetchRequest, FetchStep, Fetched, Instant, PollingMode,
    RefreshError, RefreshUpdate, Refresher, SdkKeyError, TransportErrorKind, emit,
    report_config_missing,
};
use configcat_core::{
    Config, EvaluationDetails, EventId, FlagError, FlagValue, LogLevel, LogSink, User, Value,
};

use crate::options::ClientOptions;
use crate::storage::{ConfigStorage, MAX_STORAGE_KEY_LEN, storage_key};
use crate::transport::{self, Connector};

/// A ConfigCat client for one SDK key, driven by the application's main loop.
///
/// - `K` makes HTTP connections ([`Connector`]; any
///   `FnMut() -> Result<C, E>` where `C` is an
///   `embedded_svc::http::client::Connection`),
/// - `S` keeps the last config across reboots ([`ConfigStorage`]),
/// - `L` receives the log events ([`LogSink`]).
///
/// Call [`Client::tick`] from your main loop or a timer with the time of
/// the device's monotonic clock (an [`Instant`]: milliseconds since boot)
/// and the wall clock's Unix milliseconds: it fetches when the polling mode
/// says a fetch is due and otherwise returns at once. [`Client::next_tick`]
/// says when that will be, so a device may sleep until then. Flag reads
/// ([`Client::get_value`] and friends) never touch the network; they
/// evaluate the config in memory. The client has no threads, reads no clock
/// and needs no atomics.
pub struct Client<K: Connector, S: ConfigStorage, L: LogSink> {
    refresher: Refresher,
    /// The parsed config: the only copy (the refresher keeps its JSON text).
    config: Option<Config>,
    connector: K,
    connection: Option<K::Connection>,
    storage: S,
    storage_key: heapless::String<MAX_STORAGE_KEY_LEN>,
    sink: L,
    max_body_bytes: usize,
    keep_connection: bool,
    default_user: Option<User>,
}

impl<K: Connector, S: ConfigStorage, L: LogSink> fmt::Debug for Client<K, S, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("refresher", &self.refresher)
            .field("has_config", &self.config.is_some())
            .field("storage_key", &self.storage_key.as_str())
            .field("max_body_bytes", &self.max_body_bytes)
            .field("keep_connection", &self.keep_connection)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "defmt")]
impl<K: Connector, S: ConfigStorage, L: LogSink> defmt::Format for Client<K, S, L> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "Client {{ offline: {}, has_config: {}, fetch_time_ms: {}, storage_key: {=str} }}",
            self.refresher.is_offline(),
            self.config.is_some(),
            self.fetch_time_ms(),
            self.storage_key.as_str(),
        );
    }
}

impl<K: Connector, S: ConfigStorage, L: LogSink> Client<K, S, L> {
    /// A client for `sdk_key`, created at `now` on the device's monotonic
    /// clock, when the wall clock reads `unix_ms`.
    ///
    /// It reads the persistent cache at once, so a device that boots offline
    /// serves its last config from the first read. A blob that cannot be
    /// read or is not a valid payload is ignored (event 2200). Nothing is
    /// fetched here: the first [`Client::tick`] does that.
    ///
    /// # Errors
    /// The SDK key is malformed.
    pub fn new(
        sdk_key: &str,
        options: ClientOptions,
        connector: K,
        storage: S,
        sink: L,
        now: Instant,
        unix_ms: u64,
    ) -> Result<Self, SdkKeyError> {
        let mut refresh_options = options
            .refresh
            .with_sdk_version(env!("CARGO_PKG_VERSION"))
            .with_local_only(false)
            // Only this client writes its storage: nothing to follow.
            .with_follow_cache(false)
            // The blob is written only when the config changes (flash wear), so
            // a 304 need not build a config-sized payload that nobody writes.
            .with_confirmation_payloads(false);
        if let PollingMode::Auto { interval_ms, .. } = refresh_options.polling {
            // Reads never wait on a device: there is no first config to wait for.
            refresh_options.polling = PollingMode::Auto {
                interval_ms,
                max_init_wait_ms: 0,
            };
        }
        let refresher = Refresher::new(sdk_key, refresh_options, now)?;
        let mut client = Self {
            storage_key: storage_key(refresher.cache_key()),
            refresher,
            config: None,
            connector,
            connection: None,
            storage,
            sink,
            max_body_bytes: options.max_body_bytes,
            keep_connection: options.keep_connection,
            default_user: options.default_user,
        };
        client.load_cache(now, unix_ms);
        Ok(client)
    }

    // ---- refreshing --------------------------------------------------------

    /// Call this from the main loop (or a timer) with the time of the
    /// device's monotonic clock and the wall clock's Unix milliseconds. When
    /// a refresh is due (auto polling: the interval has passed since the last
    /// fetch or attempt; lazy loading: the config is older than the TTL), it
    /// fetches the config, following redirects, and returns how the refresh
    /// went; otherwise it returns `None` at once. Calling it more often than
    /// needed is harmless.
    ///
    /// A fetch blocks for as long as the connection takes (its own timeouts
    /// bound it). Only the monotonic clock schedules; the wall clock is only
    /// recorded as the stored config's fetch time, so one that is not yet set
    /// (before SNTP) or that steps does not stop or hasten polling.
    pub fn tick(&mut self, now: Instant, unix_ms: u64) -> Option<Result<Fetched, RefreshError>> {
        if self.refresher.poll_timeout()? > now {
            return None;
        }
        match self.refresher.handle_timeout(now, &self.sink)? {
            Due::Fetch(request) => Some(self.run_refresh(now, unix_ms, request)),
            // Not asked for (nothing else writes the storage), but harmless.
            Due::ReadCache => {
                self.load_cache(now, unix_ms);
                None
            }
            Due::InitWaitExpired => None,
        }
    }

    /// When [`Client::tick`] has something to do next (`None`: nothing is
    /// scheduled, in manual polling or offline). A device may sleep until
    /// then; a tick before it returns at once.
    #[must_use]
    pub fn next_tick(&self) -> Option<Instant> {
        self.refresher.poll_timeout()
    }

    /// Fetches the config now, whatever the polling mode ("force refresh").
    ///
    /// # Errors
    /// Why the refresh failed: offline, a wrong SDK key, an HTTP status or a
    /// transport error, an invalid config. The last good config stays in use.
    pub fn refresh(&mut self, now: Instant, unix_ms: u64) -> Result<Fetched, RefreshError> {
        let request = self.refresher.start_fetch(now, &self.sink)?;
        self.run_refresh(now, unix_ms, request)
    }

    fn run_refresh(
        &mut self,
        now: Instant,
        unix_ms: u64,
        request: FetchRequest,
    ) -> Result<Fetched, RefreshError> {
        let update = self.fetch(now, unix_ms, request);
        if !self.keep_connection {
            self.connection = None;
        }
        self.apply(update)
    }

    /// Runs the HTTP exchanges of one refresh, following redirects.
    fn fetch(&mut self, now: Instant, unix_ms: u64, mut request: FetchRequest) -> RefreshUpdate {
        loop {
            let mut connection = match self.connection.take() {
                Some(connection) => connection,
                None => match self.connector.connect() {
                    Ok(connection) => connection,
                    Err(error) => {
                        return self.refresher.handle_transport_error(
                            TransportErrorKind::ConnectionFailed,
                            &format!("{error}"),
                            &self.sink,
                        );
                    }
                },
            };
            let step = match transport::exchange(&mut connection, &request, self.max_body_bytes) {
                Ok(received) => {
                    // Kept for a redirect's next request (and, with `keep_connection`,
                    // the next refresh). After a failure it is dropped instead (below):
                    // a connection whose exchange broke off cannot start another.
                    self.connection = Some(connection);
                    if Refresher::wants_body(received.status) {
                        // Nobody reads while we fetch (`&mut self`): release the old
                        // config before the new one is parsed, so the two never
                        // share the heap. `restore_config` re-parses it if the
                        // response brings no usable config.
                        self.config = None;
                    }
                    self.refresher.handle_owned_response(
                        now,
                        unix_ms,
                        received.status,
                        received.etag.as_deref(),
                        received.body,
                        &self.sink,
                    )
                }
                Err(failure) => FetchStep::Done(self.refresher.handle_transport_error(
                    failure.kind,
                    &failure.detail,
                    &self.sink,
                )),
            };
            match step {
                FetchStep::Fetch(next) => request = next,
                FetchStep::Done(update) => return update,
            }
        }
    }

    /// Publishes a finished refresh and writes the cache when the config changed.
    fn apply(&mut self, update: RefreshUpdate) -> Result<Fetched, RefreshError> {
        let RefreshUpdate {
            result,
            new_config,
            cache_payload,
            ..
        } = update;
        match new_config {
            Some(config) => {
                self.config = Some(config);
                // Only a new config is written. Writing a 304's (or a 403/404's)
                // newer fetch time would rewrite the same blob every poll and wear
                // the flash out; the refresher is told not to build such payloads.
                // The cost: after a reboot the stored fetch time is older, so the
                // first poll comes sooner, and is answered with a 304.
                if let Some(payload) = cache_payload {
                    self.store_cache(payload.as_bytes());
                }
            }
            None => {
                drop(cache_payload);
                self.restore_config();
            }
        }
        result
    }

    /// Parses the last good config again after a fetch that released it and
    /// brought none (an invalid body, a redirect that failed): from the
    /// refresher's text, or from the storage when the refresher released it.
    fn restore_config(&mut self) {
        if self.config.is_some() {
            return;
        }
        let kept = self
            .refresher
            .entry()
            .map(|entry| entry.config_json())
            .filter(|json| !json.is_empty());
        if let Some(json) = kept {
            self.config = Config::parse(json.as_bytes()).ok();
            return;
        }
        let Ok(Some(blob)) = self.storage.load(&self.storage_key) else {
            return;
        };
        self.config = core::str::from_utf8(&blob)
            .ok()
            .and_then(|payload| CacheEntry::parse_payload(payload).ok())
            .map(|(_, config)| config);
    }

    /// Hands what the storage holds to the refresher (nothing, when it
    /// cannot be read: the refresher is told either way).
    fn load_cache(&mut self, now: Instant, unix_ms: u64) {
        let blob = match self.storage.load(&self.storage_key) {
            Ok(blob) => blob,
            Err(error) => {
                self.cache_read_failed(format_args!("{error}"));
                None
            }
        };
        let payload = match blob.as_deref().map(core::str::from_utf8) {
            Some(Ok(payload)) => payload,
            Some(Err(_)) => {
                self.cache_read_failed(format_args!("The stored payload is not UTF-8 text."));
                ""
            }
            None => "",
        };
        // Logs 2200 itself when the payload is truncated or malformed.
        if let Some(config) = self
            .refresher
            .handle_cache_payload(now, unix_ms, payload, &self.sink)
        {
            self.config = Some(config);
            self.release_text_if_stored();
        }
    }

    fn cache_read_failed(&self, reason: fmt::Arguments<'_>) {
        emit(
            &self.sink,
            LogLevel::Error,
            EventId::CacheReadFailed,
            format_args!("Error occurred while reading the cache. {reason}"),
        );
    }

    fn store_cache(&mut self, payload: &[u8]) {
        match self.storage.store(&self.storage_key, payload) {
            Ok(()) => self.release_text_if_stored(),
            Err(error) => emit(
                &self.sink,
                LogLevel::Error,
                EventId::CacheWriteFailed,
                format_args!("Error occurred while writing the cache. {error}"),
            ),
        }
    }

    /// The storage holds the config text: the refresher need not keep a
    /// copy (a config's size of heap, between fetches and at the next peak).
    fn release_text_if_stored(&mut self) {
        if self.storage.persists() {
            self.refresher.release_entry_text();
        }
    }

    // ---- reading -------------------------------------------------------------

    /// The value of a flag or setting for `user` (or the default user), or
    /// `default` when it cannot be evaluated. `T` is `bool`, `i64`, `f64`,
    /// `&str` (borrowed from the config, no allocation) or `String`; asking
    /// for a type the setting does not hold returns `default` (an `i64`
    /// setting may be read as `f64`).
    pub fn get_value<'a, T: FlagValue<'a>>(
        &'a self,
        key: &str,
        default: T,
        user: Option<&User>,
    ) -> T {
        let user = user.or(self.default_user.as_ref());
        match &self.config {
            Some(config) => config.get_value(key, default, user, &self.sink),
            None => {
                self.report_config_missing(key, Some(default.as_value()));
                default
            }
        }
    }

    /// Evaluates like [`Client::get_value`] and tells how the value was reached.
    pub fn get_value_details<'a, T: FlagValue<'a>>(
        &'a self,
        key: &str,
        default: T,
        user: Option<&User>,
    ) -> EvaluationDetails<'a, T> {
        let user = user.or(self.default_user.as_ref());
        match &self.config {
            Some(config) => {
                let mut details = config.get_value_details(key, default, user, &self.sink);
                details.fetch_time_ms = self.fetch_time_ms();
                details
            }
            None => {
                self.report_config_missing(key, Some(default.as_value()));
                EvaluationDetails::defaulted(
                    String::from(key),
                    default,
                    FlagError::ConfigJsonMissing,
                )
            }
        }
    }

    /// The keys of all settings, in config order (none before the first config).
    pub fn get_all_keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.config.iter().flat_map(Config::keys)
    }

    /// The values of all settings for `user` (or the default user), in
    /// config order. Settings that fail to evaluate are left out (and logged).
    #[must_use]
    pub fn get_all_values(&self, user: Option<&User>) -> Vec<(&str, Value<'_>)> {
        let user = user.or(self.default_user.as_ref());
        let Some(config) = &self.config else {
            self.report_config_missing("<all>", None);
            return Vec::new();
        };
        let mut values = Vec::with_capacity(config.settings().len());
        config.for_each_value(user, &self.sink, |key, value| {
            if let Ok(value) = value {
                values.push((key, value));
            }
        });
        values
    }

    /// The details of every setting's evaluation for `user` (or the default user).
    #[must_use]
    pub fn get_all_value_details(
        &self,
        user: Option<&User>,
    ) -> Vec<EvaluationDetails<'_, Option<Value<'_>>>> {
        let user = user.or(self.default_user.as_ref());
        let Some(config) = &self.config else {
            self.report_config_missing("<all>", None);
            return Vec::new();
        };
        let fetch_time_ms = self.fetch_time_ms();
        let mut all = config.evaluate_all(user, &self.sink);
        for details in &mut all {
            details.fetch_time_ms = fetch_time_ms;
        }
        all
    }

    /// The key and value that carry this variation id.
    #[must_use]
    pub fn get_key_and_value(&self, variation_id: &str) -> Option<(&str, Value<'_>)> {
        self.config
            .as_ref()?
            .key_and_value_for_variation_id(variation_id)
    }

    fn report_config_missing(&self, key: &str, default: Option<Value<'_>>) {
        report_config_missing(&self.sink, key, default);
    }

    /// The parsed config in use, if any.
    #[must_use]
    pub const fn config(&self) -> Option<&Config> {
        self.config.as_ref()
    }

    /// When the config in use was fetched (or last confirmed by the CDN), in
    /// Unix milliseconds.
    #[must_use]
    pub fn fetch_time_ms(&self) -> Option<u64> {
        self.refresher.entry().map(CacheEntry::fetch_time_ms)
    }

    /// How much flag data the client has at `now` (the device's monotonic clock).
    #[must_use]
    pub fn cache_state(&self, now: Instant) -> CacheState {
        self.refresher.cache_state(now)
    }

    // ---- settings --------------------------------------------------------------

    /// Sets the user evaluations use when none is passed.
    pub fn set_default_user(&mut self, user: User) {
        self.default_user = Some(user);
    }

    /// Clears the default user.
    pub fn clear_default_user(&mut self) {
        self.default_user = None;
    }

    /// Stops network use (ticks and refreshes do not fetch) until
    /// [`Client::set_online`]; reads keep using the config in memory.
    pub fn set_offline(&mut self) {
        self.refresher.set_offline(true, &self.sink);
        self.connection = None;
    }

    /// Resumes network use; the next tick fetches if a fetch is due.
    pub fn set_online(&mut self) {
        self.refresher.set_offline(false, &self.sink);
    }

    /// Whether the client is offline.
    #[must_use]
    pub const fn is_offline(&self) -> bool {
        self.refresher.is_offline()
    }

    /// The key the config is stored under: the first 15 hex digits of the
    /// shared cache key of the SDK key (NVS keys have at most 15 characters).
    #[must_use]
    pub fn storage_key(&self) -> &str {
        &self.storage_key
    }

    /// The storage.
    pub const fn storage(&self) -> &S {
        &self.storage
    }

    /// The storage, mutably.
    pub const fn storage_mut(&mut self) -> &mut S {
        &mut self.storage
    }

    /// The log sink.
    pub const fn sink(&self) -> &L {
        &self.sink
    }
}
