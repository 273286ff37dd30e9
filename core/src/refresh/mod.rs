//! For adapter authors: the sans-IO refresh logic that both adapters drive,
//! and the pieces an adapter needs around it.
//!
//! An application that only evaluates configs needs nothing from here. An
//! adapter (a client for a platform) creates one [`Refresher`] per client and
//! follows its call protocol (see its docs): it sleeps until
//! [`Refresher::poll_timeout`], calls [`Refresher::handle_timeout`], moves the
//! bytes it is asked to move (HTTP, the config cache) and hands the results
//! back. Every protocol rule (polling, ETags, status codes, redirects, the
//! shared cache format, offline, max init wait) lives here and is tested with
//! a fake clock and no sockets; adapters differ only in transport, clock,
//! timer and storage.
//!
//! Time is the adapter's monotonic clock ([`Instant`]) for every deadline;
//! wall-clock Unix milliseconds come in only where ConfigCat's cache format
//! records a fetch time.

mod cache_entry;
mod error;
mod machine;
mod options;
mod time;

pub use cache_entry::{CacheEntry, CachePayloadError};
pub use error::{RefreshError, TransportErrorKind};
pub use machine::{
    CacheState, Due, FetchRequest, FetchResponse, FetchStep, Fetched, PRODUCT_NAME, RefreshUpdate,
    Refresher,
};
pub use options::{DataGovernance, EU_ONLY_BASE_URL, GLOBAL_BASE_URL, PollingMode, RefreshOptions};
pub use time::Instant;

pub use crate::log_event::{emit, report_config_missing};
pub use crate::sdk_key::{SdkKeyError, cache_key, is_proxy_key, validate_sdk_key};
