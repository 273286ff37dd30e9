//! Callbacks the client calls when something happens.
//!
//! Hooks are never called while the client holds an internal lock, so a hook
//! may call back into the client. A hook that panics is caught: the panic is
//! logged and the client (and its poller thread) carries on.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use configcat_core::Config;
use configcat_core::refresh::CacheState;

use crate::EvaluationDetails;
use crate::logging::LOG_TARGET;

type ReadyHook = Arc<dyn Fn(CacheState) + Send + Sync>;
type ConfigChangedHook = Arc<dyn Fn(&Config) + Send + Sync>;
type FlagEvaluatedHook =
    Arc<dyn Fn(&EvaluationDetails<Option<configcat_core::OwnedValue>>) + Send + Sync>;
type ErrorHook = Arc<dyn Fn(&str) + Send + Sync>;

/// The client's hooks; set them in [`crate::ClientOptions::hooks`].
///
/// ```
/// use configcat_std::Hooks;
///
/// let hooks = Hooks::default()
///     .on_client_ready(|state| println!("ready: {state:?}"))
///     .on_config_changed(|config| println!("{} settings", config.keys().len()))
///     .on_flag_evaluated(|details| println!("{} = {:?}", details.key, details.value))
///     .on_error(|message| eprintln!("configcat: {message}"));
/// ```
#[derive(Clone, Default)]
pub struct Hooks {
    client_ready: Vec<ReadyHook>,
    config_changed: Vec<ConfigChangedHook>,
    flag_evaluated: Vec<FlagEvaluatedHook>,
    error: Vec<ErrorHook>,
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("client_ready", &self.client_ready.len())
            .field("config_changed", &self.config_changed.len())
            .field("flag_evaluated", &self.flag_evaluated.len())
            .field("error", &self.error.len())
            .finish()
    }
}

impl Hooks {
    /// Called once, when the client has its first config or gave up waiting
    /// for it, with how much flag data it has.
    #[must_use]
    pub fn on_client_ready(mut self, hook: impl Fn(CacheState) + Send + Sync + 'static) -> Self {
        self.client_ready.push(Arc::new(hook));
        self
    }

    /// Called with the new config whenever a different config is published
    /// (downloaded, read from the cache, or an override file changed).
    #[must_use]
    pub fn on_config_changed(mut self, hook: impl Fn(&Config) + Send + Sync + 'static) -> Self {
        self.config_changed.push(Arc::new(hook));
        self
    }

    /// Called after every flag evaluation with its details.
    #[must_use]
    pub fn on_flag_evaluated(
        mut self,
        hook: impl Fn(&EvaluationDetails<Option<configcat_core::OwnedValue>>) + Send + Sync + 'static,
    ) -> Self {
        self.flag_evaluated.push(Arc::new(hook));
        self
    }

    /// Called with the message of every error the client reports.
    #[must_use]
    pub fn on_error(mut self, hook: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.error.push(Arc::new(hook));
        self
    }

    pub(crate) fn ready(&self, state: CacheState) {
        for hook in &self.client_ready {
            guarded("client ready", || hook(state));
        }
    }

    pub(crate) fn config_changed(&self, config: &Config) {
        for hook in &self.config_changed {
            guarded("config changed", || hook(config));
        }
    }

    pub(crate) fn has_flag_evaluated_hooks(&self) -> bool {
        !self.flag_evaluated.is_empty()
    }

    pub(crate) fn flag_evaluated(
        &self,
        details: &EvaluationDetails<Option<configcat_core::OwnedValue>>,
    ) {
        for hook in &self.flag_evaluated {
            guarded("flag evaluated", || hook(details));
        }
    }

    pub(crate) fn has_error_hooks(&self) -> bool {
        !self.error.is_empty()
    }

    pub(crate) fn error(&self, message: &str) {
        for hook in &self.error {
            guarded("error", || hook(message));
        }
    }
}

/// Runs a hook, containing a panic so it cannot take the client down.
fn guarded(name: &str, hook: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(hook)).is_err() {
        log::error!(target: LOG_TARGET, "A {name} hook panicked; the client carries on.");
    }
}
