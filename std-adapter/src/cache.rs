//! The config cache: where the client keeps the last config between refreshes
//! and across processes.

use std::collections::HashMap;
use std::sync::Mutex;

/// Error type of cache implementations.
pub type CacheError = Box<dyn std::error::Error + Send + Sync>;

/// A store for the config payload, shared with ConfigCat's other SDKs.
///
/// The client reads and writes one entry: under the key
/// `hex(sha1("<sdk key>_config_v6.json_v2"))`, the payload
/// `"<fetch time ms>\n<etag>\n<config json>"`. Any SDK of any language using
/// the same store and SDK key can read what this one writes, and the other way
/// round. The client reads the cache once per refresh decision (a poll, a
/// lazy-loading expiry, a force refresh), never per flag read.
///
/// ```
/// use configcat_std::{CacheError, ConfigCache};
/// use std::{collections::HashMap, sync::Mutex};
///
/// #[derive(Default)]
/// struct MyCache(Mutex<HashMap<String, String>>);
///
/// impl ConfigCache for MyCache {
///     fn read(&self, key: &str) -> Result<Option<String>, CacheError> {
///         Ok(self.0.lock().map_err(|_| "poisoned")?.get(key).cloned())
///     }
///     fn write(&self, key: &str, payload: &str) -> Result<(), CacheError> {
///         self.0.lock().map_err(|_| "poisoned")?.insert(key.to_owned(), payload.to_owned());
///         Ok(())
///     }
/// }
/// ```
pub trait ConfigCache: Send + Sync {
    /// The payload stored under `key`, if any.
    ///
    /// # Errors
    /// The store could not be read; the client logs 2200 and carries on with what it has.
    fn read(&self, key: &str) -> Result<Option<String>, CacheError>;

    /// Stores `payload` under `key`.
    ///
    /// # Errors
    /// The store could not be written; the client logs 2201 and carries on.
    fn write(&self, key: &str, payload: &str) -> Result<(), CacheError>;
}

/// A cache in this process's memory; share one `Arc` between clients to let
/// them see each other's configs.
#[derive(Debug, Default)]
pub struct InMemoryCache {
    entries: Mutex<HashMap<String, String>>,
}

impl InMemoryCache {
    /// An empty cache.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl ConfigCache for InMemoryCache {
    fn read(&self, key: &str) -> Result<Option<String>, CacheError> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(entries.get(key).cloned())
    }

    fn write(&self, key: &str, payload: &str) -> Result<(), CacheError> {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.insert(key.to_owned(), payload.to_owned());
        Ok(())
    }
}
