//! The client: thread-safe reads of an atomically swapped config snapshot,
//! refreshes driven by the core's [`Refresher`], and the per-SDK-key registry.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, SystemTime};

use configcat_core::refresh::{
    CacheEntry, CacheState, Due, FetchRequest, FetchResponse, FetchStep, Fetched, PollingMode,
    RefreshError, RefreshUpdate, Refresher, SdkKeyError, TransportErrorKind, emit,
    report_config_missing,
};
use configcat_core::{
    Config, EventId, FlagError, FlagValue, LogLevel, LogSink, NoLog, OverrideBehaviour, OwnedValue,
    User, Value,
};

use crate::EvaluationDetails;
use crate::flag_default::FlagDefault;

use crate::clock::{Clock, Wake};
use crate::logging::{DeferredSink, FacadeSink};
use crate::off_thread::OffThread;
use crate::options::{ClientOptions, OverrideSource, millis};
use crate::read_view::{Published, Snapshot};
use crate::transport::Transport;

/// How often an override file is checked for changes.
const OVERRIDE_FILE_CHECK_INTERVAL: Duration = Duration::from_millis(200);

/// How long `close` waits for background threads to notice it. Threads that
/// are not inside an HTTP request end within microseconds; one inside a
/// request is not waited for.
const CLOSE_GRACE: Duration = Duration::from_millis(250);

/// Why a client could not be created.
///
/// ```
/// use configcat_std::{Client, ClientError, ClientOptions, ProxyOptions};
///
/// match Client::get("my-sdk-key", ClientOptions::default()) {
///     Err(ClientError::InvalidSdkKey(error)) => eprintln!("check the SDK key: {error}"),
///     Err(error) => eprintln!("{error}"),
///     Ok(client) => client.close(),
/// }
/// let proxy = ClientOptions::default().with_proxy(ProxyOptions::new("not a url"));
/// let refused = Client::get("configcat-sdk-1/DOCTEST-CLIENT-ERROR-1/1234567890123456789012", proxy);
/// assert!(matches!(refused, Err(ClientError::InvalidProxy(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientError {
    /// The SDK key has an invalid form.
    InvalidSdkKey(SdkKeyError),
    /// The proxy options cannot be used.
    InvalidProxy(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidSdkKey(error) => error.fmt(f),
            Self::InvalidProxy(reason) => f.write_str(reason),
        }
    }
}

impl std::error::Error for ClientError {}

/// A ConfigCat client for one SDK key. Cheap to clone and share between
/// threads; all clones are the same client.
///
/// ```no_run
/// use configcat_std::{Client, ClientOptions, User};
///
/// let client = Client::get("configcat-sdk-1/XXXXXXXXXXXXXXXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXX", ClientOptions::default())?;
/// let user = User::new("435170f4-8a8b-4b67-a723-505ac7cdea92").with_email("jane@example.com");
/// if client.get_value("isMyAwesomeFeatureEnabled", false, Some(&user)) {
///     // ...
/// }
/// client.close();
/// # Ok::<(), configcat_std::ClientError>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

struct State {
    refresher: Refresher,
    remote: Option<Arc<Config>>,
    local: Option<Arc<Config>>,
    /// Number of finished fetches; waiters for an in-flight fetch watch it.
    generation: u64,
    last_result: Result<Fetched, RefreshError>,
    ready_reported: bool,
    /// Set once the overrides and the cache are loaded (see `Client::start`).
    started: bool,
    /// What the timer thread handed to the I/O thread, not yet taken.
    job: Option<Job>,
}

/// Work the timer thread hands to the I/O thread, so that the timer keeps
/// its deadlines (the end of max init wait) while a request stalls.
enum Job {
    ReadCache,
    Fetch(FetchRequest),
}

struct Inner {
    sdk_key: String,
    options: ClientOptions,
    /// The snapshot, the default user and whether the client is closed, for readers.
    published: Published,
    state: Mutex<State>,
    /// Signalled when a fetch finishes, a job is handed over, on close,
    /// when going online and when a manual clock moves.
    changed: Condvar,
    clock: Clock,
    transport: Transport,
    /// Set once reads may stop waiting for the first config.
    initialized: AtomicBool,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// The background threads still running, and how many of them are
    /// inside an HTTP request; `thread_ended` is signalled whenever one ends.
    running_threads: Mutex<Running>,
    thread_ended: Condvar,
    /// The thread that created the client and runs `Client::start`.
    starter: ThreadId,
}

#[derive(Default)]
struct Running {
    threads: usize,
    in_requests: usize,
}

thread_local! {
    /// Set on the client's background threads: their requests are counted
    /// so that `close` does not wait for them.
    static BACKGROUND: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Counts a background thread's request while it lasts.
struct InRequest<'a>(Option<&'a Mutex<Running>>);

impl<'a> InRequest<'a> {
    fn enter(running: &'a Mutex<Running>) -> Self {
        if !BACKGROUND.with(std::cell::Cell::get) {
            return Self(None);
        }
        lock(running).in_requests += 1;
        Self(Some(running))
    }
}

impl Drop for InRequest<'_> {
    fn drop(&mut self) {
        if let Some(running) = self.0 {
            let mut running = lock(running);
            running.in_requests = running.in_requests.saturating_sub(1);
        }
    }
}

fn registry() -> &'static Mutex<HashMap<String, Client>> {
    static REGISTRY: OnceLock<Mutex<HashMap<String, Client>>> = OnceLock::new();
    REGISTRY.get_or_init(Mutex::default)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking hook never runs under these locks; recover rather than propagate.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Wake for Inner {
    fn wake(&self) {
        // Under the lock: a waiter between its check and its wait cannot miss it.
        let _state = lock(&self.state);
        self.changed.notify_all();
    }
}

impl Client {
    /// The client for this SDK key: the existing one if there is one (logging
    /// warning 3000 when `options` differ from its options), otherwise a new
    /// one, which starts polling at once in auto polling mode. A client that
    /// another thread is still creating is returned once it has loaded its
    /// flag overrides and cache.
    ///
    /// # Errors
    /// The SDK key has an invalid form, or the proxy options cannot be used.
    pub fn get(sdk_key: &str, options: ClientOptions) -> Result<Self, ClientError> {
        let mut clients = lock(registry());
        if let Some(existing) = clients.get(sdk_key) {
            if !existing.inner.options.same_as(&options) {
                let sink = FacadeSink {
                    hooks: &existing.inner.options.hooks,
                };
                emit(
                    &sink,
                    LogLevel::Warning,
                    EventId::ClientAlreadyCreated,
                    format_args!(
                        "There is an existing client instance for the specified SDK Key. No new client instance will be created and the specified options are ignored. Returning the existing client instance."
                    ),
                );
            }
            let existing = existing.clone();
            drop(clients);
            existing.wait_until_started();
            return Ok(existing);
        }
        let client = Self::create(sdk_key, options)?;
        clients.insert(sdk_key.to_owned(), client.clone());
        drop(clients);
        client.start();
        Ok(client)
    }

    fn create(sdk_key: &str, options: ClientOptions) -> Result<Self, ClientError> {
        let refresh_options = options
            .refresh
            .clone()
            .with_local_only(options.is_local_only())
            .with_follow_cache(options.cache.is_some())
            .with_sdk_version(env!("CARGO_PKG_VERSION"))
            .with_timeouts_ms(
                millis(options.connect_timeout),
                millis(options.read_timeout),
            );
        let clock = options.clock.clone();
        let refresher = Refresher::new(sdk_key, refresh_options, clock.now())
            .map_err(ClientError::InvalidSdkKey)?;
        let transport = Transport::new(
            options.connect_timeout,
            options.read_timeout,
            options.proxy.as_ref(),
            options.max_body_bytes,
        )
        .map_err(ClientError::InvalidProxy)?;
        let initialized = refresher.is_initialized();
        let snapshot = Snapshot {
            refresh_due: refresher.poll_timeout(),
            ..Snapshot::default()
        };
        let inner = Inner {
            sdk_key: sdk_key.to_owned(),
            published: Published::new(snapshot, options.default_user.clone()),
            state: Mutex::new(State {
                refresher,
                remote: None,
                local: None,
                generation: 0,
                last_result: Ok(Fetched::NotModified),
                ready_reported: false,
                started: false,
                job: None,
            }),
            changed: Condvar::new(),
            clock,
            transport,
            initialized: AtomicBool::new(initialized),
            threads: Mutex::new(Vec::new()),
            running_threads: Mutex::new(Running::default()),
            thread_ended: Condvar::new(),
            starter: std::thread::current().id(),
            options,
        };
        let inner = Arc::new(inner);
        let waiter: Arc<dyn Wake> = inner.clone();
        inner.clock.subscribe(Arc::downgrade(&waiter));
        Ok(Self { inner })
    }

    /// Loads overrides and the cache, then starts the background threads.
    fn start(&self) {
        let inner = &self.inner;
        // Marks the client started when the data is loaded (or loading panicked).
        let started = StartedGuard(self);
        // Taken before the first read, so a change made while the client
        // starts is seen by the watcher instead of being taken as the baseline.
        let mut file_stamp_at_start = None;
        if let Some(overrides) = &inner.options.flag_overrides {
            let local = match &overrides.source {
                OverrideSource::Map(values) => Some(Config::from_values(values.iter().cloned())),
                OverrideSource::File(path) => {
                    file_stamp_at_start = file_stamp(path);
                    self.read_override_file(path)
                }
            };
            let mut state = lock(&inner.state);
            state.local = local.map(Arc::new);
            let changed = self.publish(&mut state);
            drop(state);
            if let Some(config) = changed {
                inner.options.hooks.config_changed(&config);
            }
        }
        // A cached config serves reads at once, even before the first fetch.
        self.read_cache();
        drop(started);
        let mut threads = Vec::new();
        if lock(&inner.state).refresher.timer_driven() {
            threads.push(self.spawn_background(Self::timer_loop));
            threads.push(self.spawn_background(Self::io_loop));
        }
        if let Some(OverrideSource::File(path)) =
            inner.options.flag_overrides.as_ref().map(|o| &o.source)
        {
            let path = path.clone();
            threads.push(self.spawn_background(move |client: &Self| {
                client.watch_override_file(&path, file_stamp_at_start);
            }));
        }
        lock(&inner.threads).extend(threads);
        self.report_ready_if_due();
    }

    /// Runs `work` on a thread of its own, counted in `running_threads`
    /// until it ends (a panic included), so `close` can wait for it.
    fn spawn_background(&self, work: impl FnOnce(&Self) + Send + 'static) -> JoinHandle<()> {
        struct Counted(Arc<Inner>);
        impl Drop for Counted {
            fn drop(&mut self) {
                let mut running = lock(&self.0.running_threads);
                running.threads = running.threads.saturating_sub(1);
                drop(running);
                self.0.thread_ended.notify_all();
            }
        }
        lock(&self.inner.running_threads).threads += 1;
        let client = self.clone();
        std::thread::spawn(move || {
            BACKGROUND.with(|background| background.set(true));
            let _counted = Counted(Arc::clone(&client.inner));
            work(&client);
        })
    }

    /// A client another thread is still starting is returned by `get` only
    /// once its overrides and cache are loaded, so its first read sees them.
    /// The starting thread itself (a hook calling `get`) does not wait.
    fn wait_until_started(&self) {
        if self.inner.starter == std::thread::current().id() {
            return;
        }
        let mut state = lock(&self.inner.state);
        while !state.started && !self.is_closed() {
            state = self
                .inner
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn sink(&self) -> FacadeSink<'_> {
        FacadeSink {
            hooks: &self.inner.options.hooks,
        }
    }

    // ---- reading ---------------------------------------------------------

    /// The value of a flag or setting for `user` (or the default user), or
    /// `default` when it cannot be evaluated.
    ///
    /// The default's type is the type the setting is read as ([`FlagDefault`]):
    /// `bool`, `i64`, `f64`, `String` or `&str`, and the value comes back as
    /// that type (a `String` for a `&str` default). Asking for a type the
    /// setting does not hold returns `default` (an `i64` setting may be read
    /// as `f64`).
    ///
    /// ```
    /// use configcat_std::{Client, ClientOptions, FlagOverrides, OverrideBehaviour};
    ///
    /// let overrides = FlagOverrides::from_map(
    ///     [("greeting", "Szia".into()), ("pageSize", 50_i64.into())],
    ///     OverrideBehaviour::LocalOnly,
    /// );
    /// let client = Client::get(
    ///     "configcat-sdk-1/DOCTEST-GET-VALUE-0001/1234567890123456789012",
    ///     ClientOptions::default().with_flag_overrides(overrides),
    /// )?;
    /// let greeting: String = client.get_value("greeting", "hello", None);
    /// assert_eq!(greeting, "Szia");
    /// assert_eq!(client.get_value("pageSize", 20_i64, None), 50);
    /// assert_eq!(client.get_value("pageSize", 20.0, None), 50.0); // a whole number as f64
    /// assert_eq!(client.get_value("missing", "hello", None), "hello");
    /// assert!(!client.get_value("greeting", false, None)); // text is not a bool: the default
    /// client.close();
    /// # Ok::<(), configcat_std::ClientError>(())
    /// ```
    pub fn get_value<T: FlagDefault>(
        &self,
        key: &str,
        mut default: T,
        user: Option<&User>,
    ) -> T::Output {
        if self.inner.options.hooks.has_flag_evaluated_hooks() {
            return self.get_value_through_details(key, default, user);
        }
        self.ensure_fresh();
        let facade = self.sink();
        // Nothing would be recorded: the core's cheapest path, no sink calls.
        let sink: &dyn LogSink = if facade.is_silent() { &NoLog } else { &facade };
        // The closure holds only references: a `bool` default copied in
        // with its environment made every read stall on a narrow store.
        let default = &mut default;
        self.inner.published.read(|snapshot, default_user| {
            let default = core::mem::take(default).lend();
            match &snapshot.effective {
                Some(config) => {
                    T::finish(config.get_value(key, default, user.or(default_user), sink))
                }
                None => {
                    self.report_config_missing(key, Some(default.as_value()));
                    T::finish(default)
                }
            }
        })
    }

    /// `get_value` when hooks want every evaluation's details. Out of line:
    /// inlined, the details' frame and spills were paid by every read.
    #[inline(never)]
    fn get_value_through_details<T: FlagDefault>(
        &self,
        key: &str,
        default: T,
        user: Option<&User>,
    ) -> T::Output {
        self.get_value_details(key, default, user).value
    }

    /// Evaluates like [`Client::get_value`] and tells how the value was reached.
    pub fn get_value_details<T: FlagDefault>(
        &self,
        key: &str,
        default: T,
        user: Option<&User>,
    ) -> EvaluationDetails<T::Output> {
        self.ensure_fresh();
        let details = self.inner.published.read(|snapshot, default_user| {
            let user = user.or(default_user);
            let default = default.lend();
            let details = match &snapshot.effective {
                Some(config) => {
                    let mut details = config.get_value_details(key, default, user, &self.sink());
                    details.fetch_time_ms = snapshot.fetch_time_ms;
                    details
                }
                None => {
                    self.report_config_missing(key, Some(default.as_value()));
                    configcat_core::EvaluationDetails::defaulted(
                        key,
                        default,
                        FlagError::ConfigJsonMissing,
                    )
                }
            };
            with_user(details.map(T::finish), user).into_owned()
        });
        if self.inner.options.hooks.has_flag_evaluated_hooks() {
            let owned = details.map_ref(|value| Some(value.as_value().to_owned_value()));
            self.inner.options.hooks.flag_evaluated(&owned);
        }
        details
    }

    /// The keys of all settings (empty when there is no config yet).
    #[must_use]
    pub fn get_all_keys(&self) -> Vec<String> {
        self.ensure_fresh();
        self.inner.published.read(|snapshot, _| {
            snapshot
                .effective
                .as_ref()
                .map(|config| config.keys().map(str::to_owned).collect())
                .unwrap_or_default()
        })
    }

    /// The values of all settings for `user` (or the default user), ordered
    /// by key. Settings that fail to evaluate are left out (and logged).
    ///
    /// A sorted map: the same config and user give the same iteration order
    /// (for logs, diffs and serialisation), and building it hashes nothing.
    /// [`Client::for_each_value`] visits the same values without building it.
    #[must_use]
    pub fn get_all_values(&self, user: Option<&User>) -> BTreeMap<String, OwnedValue> {
        // Collected, then built in one go: `BTreeMap`'s bulk build sorts a
        // list once instead of searching the tree for every insert. The
        // list is sized by the config in hand: growing it reallocated and
        // copied it three times for 16 settings, 4 % of the call.
        let values = self.fold_values(user, Vec::with_capacity, |values, key, value| {
            values.push((key.to_owned(), value.to_owned_value()));
        });
        BTreeMap::from_iter(values)
    }

    /// Calls `f` with the key and value of every setting for `user` (or the
    /// default user), in the config's order. Settings that fail to evaluate
    /// are left out (and logged), as in [`Client::get_all_values`].
    ///
    /// Nothing is allocated for the values: text is lent from the config for
    /// the length of the call. For exporting every flag (to a front end, a
    /// log line) without an intermediate map.
    ///
    /// ```
    /// use configcat_std::{Client, ClientOptions, FlagOverrides, OverrideBehaviour, Value};
    ///
    /// let overrides = FlagOverrides::from_map(
    ///     [("dark_mode", true.into()), ("greeting", "hi".into())],
    ///     OverrideBehaviour::LocalOnly,
    /// );
    /// let client = Client::get(
    ///     "configcat-sdk-1/DOCTEST-FOR-EACH-VALUE/1234567890123456789012",
    ///     ClientOptions::default().with_flag_overrides(overrides),
    /// )?;
    /// let mut line = String::new();
    /// client.for_each_value(None, |key, value| {
    ///     if let Value::Bool(on) = value {
    ///         line.push_str(&format!("{key}={on} "));
    ///     }
    /// });
    /// assert_eq!(line, "dark_mode=true ");
    /// client.close();
    /// # Ok::<(), configcat_std::ClientError>(())
    /// ```
    pub fn for_each_value(&self, user: Option<&User>, mut f: impl FnMut(&str, Value<'_>)) {
        self.fold_values(user, |_| (), |(), key, value| f(key, value));
    }

    /// Every setting's value folded into an accumulator that `start` makes
    /// once the number of settings is known; what `for_each_value` and
    /// `get_all_values` share.
    fn fold_values<A>(
        &self,
        user: Option<&User>,
        start: impl FnOnce(usize) -> A,
        mut add: impl FnMut(&mut A, &str, Value<'_>),
    ) -> A {
        if self.inner.options.hooks.has_flag_evaluated_hooks() {
            // The hooks want every evaluation's details.
            let all = self.get_all_value_details(user);
            let mut accumulator = start(all.len());
            for details in &all {
                if let Some(value) = &details.value {
                    add(&mut accumulator, &details.key, value.as_value());
                }
            }
            return accumulator;
        }
        self.ensure_fresh();
        self.inner.published.read(|snapshot, default_user| {
            let Some(config) = &snapshot.effective else {
                self.report_config_missing("<all>", None);
                return start(0);
            };
            let mut accumulator = start(config.settings().len());
            let facade = self.sink();
            let sink: &dyn LogSink = if facade.is_silent() { &NoLog } else { &facade };
            config.for_each_value(user.or(default_user), sink, |key, value| {
                if let Ok(value) = value {
                    add(&mut accumulator, key, value);
                }
            });
            accumulator
        })
    }

    /// The details of every setting's evaluation for `user` (or the default user).
    #[must_use]
    pub fn get_all_value_details(
        &self,
        user: Option<&User>,
    ) -> Vec<EvaluationDetails<Option<OwnedValue>>> {
        self.ensure_fresh();
        let all = self.inner.published.read(|snapshot, default_user| {
            let user = user.or(default_user);
            let Some(config) = &snapshot.effective else {
                self.report_config_missing("<all>", None);
                return Vec::new();
            };
            config
                .evaluate_all(user, &self.sink())
                .into_iter()
                .map(|mut details| {
                    details.fetch_time_ms = snapshot.fetch_time_ms;
                    with_user(details, user)
                        .map(|value| value.map(|value| value.to_owned_value()))
                        .into_owned()
                })
                .collect::<Vec<_>>()
        });
        if self.inner.options.hooks.has_flag_evaluated_hooks() {
            for details in &all {
                self.inner.options.hooks.flag_evaluated(details);
            }
        }
        all
    }

    /// The key and value carrying this variation id.
    #[must_use]
    pub fn get_key_and_value(&self, variation_id: &str) -> Option<(String, OwnedValue)> {
        self.ensure_fresh();
        self.inner.published.read(|snapshot, _| {
            snapshot
                .effective
                .as_ref()?
                .key_and_value_for_variation_id(variation_id)
                .map(|(key, value)| (key.to_owned(), value.to_owned_value()))
        })
    }

    /// Sets the user evaluations use when none is passed.
    pub fn set_default_user(&self, user: User) {
        self.inner.published.store_default_user(Some(user));
    }

    /// Clears the default user.
    pub fn clear_default_user(&self) {
        self.inner.published.store_default_user(None);
    }

    fn report_config_missing(&self, key: &str, default: Option<Value<'_>>) {
        report_config_missing(&self.sink(), key, default);
    }

    // ---- refreshing --------------------------------------------------------

    /// Makes reads current: waits for the first config in auto polling (at
    /// most max init wait), refreshes when expired in lazy loading.
    #[inline]
    fn ensure_fresh(&self) {
        match self.inner.options.polling_mode() {
            PollingMode::Auto { .. } if !self.inner.initialized.load(Ordering::Acquire) => {
                self.wait_until_initialized(None);
            }
            PollingMode::Lazy { .. } => self.refresh_if_expired(),
            _ => {}
        }
    }

    /// Lazy loading: a read at or after the refresher's deadline runs what is
    /// due (a cache read, a fetch) on the reading thread.
    fn refresh_if_expired(&self) {
        if self.refresh_is_due() {
            if self.inner.options.serve_stale {
                self.refresh_in_background();
            } else {
                self.run_due();
            }
        }
    }

    /// Whether the refresher's published deadline has come: a read before it
    /// need not look at the refresher (no lock).
    fn refresh_is_due(&self) -> bool {
        let due = self
            .inner
            .published
            .read(|snapshot, _| snapshot.refresh_due);
        due.is_some_and(|due| due <= self.inner.clock.now())
    }

    /// Lazy loading with `serve_stale`: what is due runs on a thread of its
    /// own while the read goes on with the config there is. The refresher
    /// hands a due refresh to one caller only, so one thread runs per expiry.
    fn refresh_in_background(&self) {
        let deferred = DeferredSink::default();
        let due = lock(&self.inner.state)
            .refresher
            .handle_timeout(self.inner.clock.now(), &deferred);
        deferred.replay(&self.sink());
        let work: Box<dyn FnOnce(&Self) + Send> = match due {
            Some(Due::ReadCache) => Box::new(|client: &Self| {
                client.read_cache();
                client.run_due();
            }),
            Some(Due::Fetch(request)) => Box::new(move |client: &Self| {
                let _ = client.run_fetch(request);
            }),
            Some(Due::InitWaitExpired) | None => return,
        };
        drop(self.spawn_background(work));
    }

    /// Runs what the refresher says is due now, on this thread; shares a
    /// fetch another thread has in flight instead of starting one.
    fn run_due(&self) {
        loop {
            let deferred = DeferredSink::default();
            let mut state = lock(&self.inner.state);
            let due = state
                .refresher
                .handle_timeout(self.inner.clock.now(), &deferred);
            if due.is_none() && state.refresher.is_fetching() {
                state = self.wait_for_fetch_in_flight(state);
            }
            drop(state);
            deferred.replay(&self.sink());
            match due {
                Some(Due::ReadCache) => self.read_cache(),
                Some(Due::Fetch(request)) => {
                    let _ = self.run_fetch(request);
                    return;
                }
                Some(Due::InitWaitExpired) => self.report_ready_if_due(),
                None => return,
            }
        }
    }

    /// Waits until the fetch in flight ends (or the client closes): a caller
    /// shares it instead of starting another.
    fn wait_for_fetch_in_flight<'a>(
        &self,
        mut state: MutexGuard<'a, State>,
    ) -> MutexGuard<'a, State> {
        let generation = state.generation;
        while state.generation == generation && !self.is_closed() {
            state = self
                .inner
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state
    }

    /// Blocks until the refresher counts as initialized (or `timeout` passes;
    /// without one, the timer thread ends the wait at max init wait).
    fn wait_until_initialized(&self, timeout: Option<Duration>) {
        let give_up_at = timeout.map(|timeout| std::time::Instant::now() + timeout);
        let mut state = lock(&self.inner.state);
        while !state.refresher.is_initialized() && !self.is_closed() {
            state = match give_up_at {
                None => self
                    .inner
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(give_up_at) => {
                    let left = give_up_at.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    self.inner
                        .changed
                        .wait_timeout(state, left)
                        .map_or_else(|poison| poison.into_inner().0, |(guard, _)| guard)
                }
            };
        }
        let initialized = state.refresher.is_initialized();
        drop(state);
        if initialized {
            self.report_ready_if_due();
        }
    }

    /// Calls the client-ready hook once, when the client is initialized.
    fn report_ready_if_due(&self) {
        let mut state = lock(&self.inner.state);
        if state.ready_reported || !state.refresher.is_initialized() {
            return;
        }
        state.ready_reported = true;
        let cache_state = state.refresher.cache_state(self.inner.clock.now());
        drop(state);
        self.inner.initialized.store(true, Ordering::Release);
        self.inner.changed.notify_all();
        self.inner.options.hooks.ready(cache_state);
    }

    /// Waits until the client has its first config (or gave up waiting for
    /// it, after max init wait in auto polling), at most `timeout`, and tells
    /// how much flag data it has.
    pub fn wait_for_ready(&self, timeout: Duration) -> CacheState {
        if matches!(self.inner.options.polling_mode(), PollingMode::Lazy { .. }) {
            // A waiting call: the refresh runs here (or a background one is
            // waited for), with `serve_stale` too.
            if self.refresh_is_due() {
                self.run_due();
            }
        }
        self.wait_until_initialized(Some(timeout));
        lock(&self.inner.state)
            .refresher
            .cache_state(self.inner.clock.now())
    }

    /// Fetches the config now, whatever the polling mode. A fetch already in
    /// flight is shared: this waits for it and returns its result.
    ///
    /// # Errors
    /// Why the refresh failed: offline, local-only overrides, a wrong SDK key,
    /// an HTTP or transport error, an invalid config. The last good config stays in use.
    pub fn force_refresh(&self) -> Result<Fetched, RefreshError> {
        let deferred = DeferredSink::default();
        let mut state = lock(&self.inner.state);
        if state.refresher.is_fetching() {
            return self.wait_for_fetch_in_flight(state).last_result.clone();
        }
        let started = state
            .refresher
            .start_fetch(self.inner.clock.now(), &deferred);
        drop(state);
        deferred.replay(&self.sink());
        self.run_fetch(started?)
    }

    /// [`Client::wait_for_ready`] for async code: a future that resolves to
    /// the same [`CacheState`], without blocking the executor's thread.
    /// Runtime-agnostic (the wait runs on a thread of its own).
    pub fn wait_for_ready_async(&self, timeout: Duration) -> OffThread<CacheState> {
        let client = self.clone();
        OffThread::new(move || client.wait_for_ready(timeout))
    }

    /// [`Client::force_refresh`] for async code: a future that resolves to
    /// the same result, without blocking the executor's thread.
    /// Runtime-agnostic (the refresh runs on a thread of its own).
    pub fn force_refresh_async(&self) -> OffThread<Result<Fetched, RefreshError>> {
        let client = self.clone();
        OffThread::new(move || client.force_refresh())
    }

    /// Reads the external cache and adopts a newer config from it. The
    /// refresher hears of every read, an empty or failed one too.
    fn read_cache(&self) {
        let cache = &self.inner.options.cache;
        let key = lock(&self.inner.state).refresher.cache_key().to_owned();
        let payload = match cache.as_ref().map(|cache| cache.read(&key)) {
            Some(Ok(payload)) => payload,
            Some(Err(error)) => {
                emit(
                    &self.sink(),
                    LogLevel::Error,
                    EventId::CacheReadFailed,
                    format_args!("Error occurred while reading the cache. {error}"),
                );
                None
            }
            None => None,
        };
        let deferred = DeferredSink::default();
        let mut state = lock(&self.inner.state);
        let adopted = state.refresher.handle_cache_payload(
            self.inner.clock.now(),
            self.inner.clock.unix_ms(),
            payload.as_deref().unwrap_or_default(),
            &deferred,
        );
        if let Some(config) = adopted {
            state.remote = Some(Arc::new(config));
        }
        // Publish even without a change: the fetch time and the deadline may have moved.
        let changed = self.publish(&mut state);
        drop(state);
        self.inner.changed.notify_all();
        deferred.replay(&self.sink());
        if let Some(config) = changed {
            self.inner.options.hooks.config_changed(&config);
        }
        self.report_ready_if_due();
    }

    /// Runs a refresh whose request the refresher made, and publishes it.
    fn run_fetch(&self, request: FetchRequest) -> Result<Fetched, RefreshError> {
        let deferred = DeferredSink::default();
        let update = self.fetch(request, &deferred);
        let (result, changed) = self.apply(update, &deferred);
        deferred.replay(&self.sink());
        if let Some(config) = changed {
            self.inner.options.hooks.config_changed(&config);
        }
        self.report_ready_if_due();
        result
    }

    /// Runs the HTTP exchange of a refresh, following redirects; no lock is
    /// held while waiting on the network.
    fn fetch(&self, mut request: FetchRequest, sink: &dyn LogSink) -> RefreshUpdate {
        loop {
            let in_request = InRequest::enter(&self.inner.running_threads);
            let result = self.inner.transport.get(&request);
            drop(in_request);
            let mut state = lock(&self.inner.state);
            if self.is_closed() {
                // `close` did not wait for this request: end the refresh quietly, publishing nothing.
                return state.refresher.handle_transport_error(
                    TransportErrorKind::Other,
                    "the client was closed during the request",
                    &NoLog,
                );
            }
            let step = match result {
                Ok(response) => state.refresher.handle_response(
                    self.inner.clock.now(),
                    self.inner.clock.unix_ms(),
                    FetchResponse::new(response.status, response.etag.as_deref(), &response.body),
                    sink,
                ),
                Err(failure) => FetchStep::Done(state.refresher.handle_transport_error(
                    failure.kind,
                    &failure.detail,
                    sink,
                )),
            };
            drop(state);
            match step {
                FetchStep::Fetch(next) => request = next,
                FetchStep::Done(update) => return update,
            }
        }
    }

    /// Publishes a finished refresh: new config, cache write, waiters woken.
    /// Returns the refresh's result and the new config, if it changed.
    fn apply(
        &self,
        update: RefreshUpdate,
        sink: &dyn LogSink,
    ) -> (Result<Fetched, RefreshError>, Option<Arc<Config>>) {
        let mut state = lock(&self.inner.state);
        if let Some(config) = update.new_config {
            state.remote = Some(Arc::new(config));
        }
        let changed = self.publish(&mut state);
        state.generation = state.generation.wrapping_add(1);
        state.last_result = update.result.clone();
        let key = state.refresher.cache_key().to_owned();
        drop(state);
        self.inner.changed.notify_all();
        if let (Some(cache), Some(payload)) = (&self.inner.options.cache, &update.cache_payload) {
            if let Err(error) = cache.write(&key, payload) {
                emit(
                    sink,
                    LogLevel::Error,
                    EventId::CacheWriteFailed,
                    format_args!("Error occurred while writing the cache. {error}"),
                );
            }
        }
        (update.result, changed)
    }

    /// Swaps in a new snapshot from the state; returns the new effective
    /// config when it is a different config than before.
    fn publish(&self, state: &mut State) -> Option<Arc<Config>> {
        let behaviour = self
            .inner
            .options
            .flag_overrides
            .as_ref()
            .map(|overrides| overrides.behaviour);
        let effective = match (behaviour, &state.remote, &state.local) {
            (Some(OverrideBehaviour::LocalOnly), _, local) => local.clone(),
            (Some(behaviour), Some(remote), Some(local)) => {
                Some(Arc::new(Config::merge(remote, local, behaviour)))
            }
            (_, Some(remote), None) | (None, Some(remote), _) => Some(Arc::clone(remote)),
            (_, None, local) => local.clone(),
        };
        let previous = self.inner.published.snapshot();
        let is_new = match (&previous.effective, &effective) {
            (Some(before), Some(after)) => !Arc::ptr_eq(before, after) && **before != **after,
            (None, Some(_)) => true,
            _ => false,
        };
        let effective = if is_new {
            effective
        } else {
            previous.effective.clone()
        };
        let snapshot = Snapshot {
            fetch_time_ms: state.refresher.entry().map(CacheEntry::fetch_time_ms),
            refresh_due: state.refresher.poll_timeout(),
            effective: effective.clone(),
        };
        self.inner.published.store_snapshot(snapshot);
        if is_new { effective } else { None }
    }

    // ---- background work ------------------------------------------------

    /// Auto polling's timer: sleeps until the refresher's deadline and does
    /// what is due then, handing I/O to the I/O thread so that a stalled
    /// request never delays a deadline.
    fn timer_loop(&self) {
        let mut state = lock(&self.inner.state);
        loop {
            if self.is_closed() {
                return;
            }
            let deferred = DeferredSink::default();
            let due = if state.job.is_none() {
                state
                    .refresher
                    .handle_timeout(self.inner.clock.now(), &deferred)
            } else {
                None
            };
            match due {
                Some(Due::ReadCache) => state.job = Some(Job::ReadCache),
                Some(Due::Fetch(request)) => state.job = Some(Job::Fetch(request)),
                Some(Due::InitWaitExpired) => {
                    drop(state);
                    deferred.replay(&self.sink());
                    self.report_ready_if_due();
                    state = lock(&self.inner.state);
                    continue;
                }
                None => {}
            }
            if state.job.is_some() {
                self.inner.changed.notify_all();
            }
            let deadline = state.refresher.poll_timeout();
            state = self
                .inner
                .clock
                .wait_until(&self.inner.changed, state, deadline);
        }
    }

    /// Auto polling's I/O: runs the cache reads and fetches the timer hands over.
    fn io_loop(&self) {
        loop {
            let mut state = lock(&self.inner.state);
            let job = loop {
                if self.is_closed() {
                    return;
                }
                if let Some(job) = state.job.take() {
                    break job;
                }
                state = self
                    .inner
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            };
            drop(state);
            match job {
                Job::ReadCache => self.read_cache(),
                Job::Fetch(request) => {
                    let _ = self.run_fetch(request);
                }
            }
        }
    }

    fn read_override_file(&self, path: &PathBuf) -> Option<Config> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) => {
                emit(
                    &self.sink(),
                    LogLevel::Error,
                    EventId::LocalFileNotFound,
                    format_args!(
                        "Cannot find the local config file '{}'. This is the path your application passed to `FlagOverrides::from_file` in its `ClientOptions`. Read more: https://docs.rs/configcat-std/latest/configcat_std/#flag-overrides ({error})",
                        path.display()
                    ),
                );
                return None;
            }
        };
        match Config::parse_overrides(&bytes) {
            Ok(config) => Some(config),
            Err(error) => {
                emit(
                    &self.sink(),
                    LogLevel::Error,
                    EventId::LocalFileInvalid,
                    format_args!(
                        "Failed to decode JSON from the local config file '{}'. {error}",
                        path.display()
                    ),
                );
                None
            }
        }
    }

    /// Re-reads the override file whenever its modification time or size changes.
    fn watch_override_file(&self, path: &PathBuf, mut last: Option<FileStamp>) {
        loop {
            {
                let state = lock(&self.inner.state);
                if self.is_closed() {
                    return;
                }
                let (guard, _) = self
                    .inner
                    .changed
                    .wait_timeout(state, OVERRIDE_FILE_CHECK_INTERVAL)
                    .unwrap_or_else(PoisonError::into_inner);
                drop(guard);
            }
            if self.is_closed() {
                return;
            }
            let current = file_stamp(path);
            if current == last {
                continue;
            }
            last = current;
            // A file being rewritten may be empty or half written: keep the old overrides then.
            let Some(config) = self.read_override_file(path) else {
                continue;
            };
            let mut state = lock(&self.inner.state);
            state.local = Some(Arc::new(config));
            let changed = self.publish(&mut state);
            drop(state);
            if let Some(config) = changed {
                self.inner.options.hooks.config_changed(&config);
            }
        }
    }

    // ---- lifecycle ---------------------------------------------------------

    /// Stops network use (no polling, no fetching) until [`Client::set_online`].
    pub fn set_offline(&self) {
        let deferred = DeferredSink::default();
        lock(&self.inner.state)
            .refresher
            .set_offline(true, &deferred);
        deferred.replay(&self.sink());
        self.inner.changed.notify_all();
    }

    /// Resumes network use; auto polling fetches at once if the config is due.
    pub fn set_online(&self) {
        let deferred = DeferredSink::default();
        lock(&self.inner.state)
            .refresher
            .set_offline(false, &deferred);
        deferred.replay(&self.sink());
        self.inner.changed.notify_all();
    }

    /// Whether the client is offline.
    #[must_use]
    pub fn is_offline(&self) -> bool {
        lock(&self.inner.state).refresher.is_offline()
    }

    /// Stops the client's background work and removes it from the registry;
    /// reads keep working on the last config.
    ///
    /// Returns promptly, without waiting for an HTTP request in flight (which
    /// may take up to the connect plus read timeout): the background threads
    /// end at once unless one is inside such a request; that one is left to
    /// end on its own, and its result is dropped, never published.
    pub fn close(&self) {
        {
            let mut clients = lock(registry());
            if clients
                .get(&self.inner.sdk_key)
                .is_some_and(|client| Arc::ptr_eq(&client.inner, &self.inner))
            {
                clients.remove(&self.inner.sdk_key);
            }
        }
        {
            // Taking the state lock orders the flag with waiters' checks.
            let _state = lock(&self.inner.state);
            // Threads' cached views would otherwise keep its config alive.
            self.inner.published.close();
        }
        self.inner.changed.notify_all();
        let threads = std::mem::take(&mut *lock(&self.inner.threads));
        // A hook on a background thread may call `close`: that thread is still running.
        let own = usize::from(
            threads
                .iter()
                .any(|thread| thread.thread().id() == std::thread::current().id()),
        );
        // Threads inside a request are not waited for: they detach.
        let running = lock(&self.inner.running_threads);
        let (running, _) = self
            .inner
            .thread_ended
            .wait_timeout_while(running, CLOSE_GRACE, |running| {
                running.threads > own + running.in_requests
            })
            .unwrap_or_else(PoisonError::into_inner);
        drop(running);
        for thread in threads {
            // The rest are inside a request and detach: they check `closed` before publishing.
            if thread.is_finished() {
                let _ = thread.join();
            }
        }
    }

    /// Closes every client in the registry.
    pub fn close_all() {
        let clients: Vec<Self> = lock(registry()).values().cloned().collect();
        for client in clients {
            client.close();
        }
    }

    /// Whether [`Client::close`] was called.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.inner.published.is_closed()
    }
}

/// Sets `State::started` and wakes `Client::wait_until_started` when dropped.
struct StartedGuard<'a>(&'a Client);

impl Drop for StartedGuard<'_> {
    fn drop(&mut self) {
        lock(&self.0.inner.state).started = true;
        self.0.inner.changed.notify_all();
    }
}

/// The details with the user they were evaluated for, lent for as long as
/// the details borrow anything (they are made owned right after).
fn with_user<'a, T>(
    mut details: configcat_core::EvaluationDetails<'a, T>,
    user: Option<&'a User>,
) -> configcat_core::EvaluationDetails<'a, T> {
    details.user = user.map(std::borrow::Cow::Borrowed);
    details
}

/// What tells an override file changed: its modification time and size.
type FileStamp = (Option<SystemTime>, u64);

fn file_stamp(path: &PathBuf) -> Option<FileStamp> {
    std::fs::metadata(path)
        .ok()
        .map(|meta| (meta.modified().ok(), meta.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::FlagOverrides;

    fn background_threads(client: &Client) -> usize {
        lock(&client.inner.running_threads).threads
    }

    #[test]
    fn only_a_client_that_may_fetch_runs_a_poller() -> Result<(), ClientError> {
        let local = Client::get(
            "configcat-sdk-1/UNIT-TEST-LOCAL-ONLY-1/1234567890123456789012",
            ClientOptions::default().with_flag_overrides(FlagOverrides::from_map(
                [("flag", true.into())],
                OverrideBehaviour::LocalOnly,
            )),
        )?;
        assert_eq!(background_threads(&local), 0);
        assert!(local.get_value("flag", false, None));
        local.close();

        // Offline, it may go online later: its poller waits for that.
        let remote = Client::get(
            "configcat-sdk-1/UNIT-TEST-POLL-THREAD1/1234567890123456789012",
            ClientOptions::default()
                .with_flag_overrides(FlagOverrides::from_map(
                    [("flag", true.into())],
                    OverrideBehaviour::LocalOverRemote,
                ))
                .with_offline(true),
        )?;
        assert_eq!(background_threads(&remote), 2, "a timer and its I/O thread");
        assert!(remote.get_value("flag", false, None));
        remote.close();
        // Its end is awaited (close gives threads only a short grace).
        let running = lock(&remote.inner.running_threads);
        let (running, _) = remote
            .inner
            .thread_ended
            .wait_timeout_while(running, Duration::from_secs(10), |running| {
                running.threads > 0
            })
            .unwrap_or_else(PoisonError::into_inner);
        assert_eq!(running.threads, 0);
        Ok(())
    }
}
