//! The persistent config cache: one blob in the shared-cache payload format
//! (`"<fetch time ms>\n<etag>\n<config json>"`), under a key of at most 15
//! characters so that it fits an NVS key.

use alloc::vec::Vec;
use core::convert::Infallible;
use core::fmt;

use embedded_svc::storage::RawStorage;

/// The longest key NVS (ESP-IDF's non-volatile storage) accepts.
pub const MAX_STORAGE_KEY_LEN: usize = 15;

/// The default largest blob [`KeyValueStorage`] reads back: twice the
/// default body limit, room for any payload the client can have written.
pub const DEFAULT_MAX_BLOB_BYTES: usize = 64 * 1024;

/// Where the client keeps its last config across reboots: one blob.
///
/// The client reads it once, when it is created, and writes it only when a
/// fetch brings a new config, never when the CDN answers `304 Not Modified`
/// (rewriting an unchanged config every poll wears flash out). `key` is the
/// client's [`storage key`](crate::Client::storage_key): at most
/// [`MAX_STORAGE_KEY_LEN`] lower-case hex digits; a storage that holds only
/// one blob may ignore it.
pub trait ConfigStorage {
    /// Why reading or writing failed.
    type Error: fmt::Display;

    /// The blob stored under `key`, `None` when there is none.
    ///
    /// # Errors
    /// The storage could not be read; the client logs event 2200 and starts
    /// without a cached config.
    fn load(&mut self, key: &str) -> Result<Option<Vec<u8>>, Self::Error>;

    /// Replaces the blob stored under `key`.
    ///
    /// # Errors
    /// The storage could not be written; the client logs event 2201 and keeps
    /// the new config in memory.
    fn store(&mut self, key: &str, blob: &[u8]) -> Result<(), Self::Error>;

    /// Whether a stored blob can be loaded again (true unless the storage
    /// throws blobs away, as [`NoStorage`] does). When it can, the client
    /// keeps no copy of the config text in RAM: the storage holds it.
    fn persists(&self) -> bool {
        true
    }
}

impl<S: ConfigStorage + ?Sized> ConfigStorage for &mut S {
    type Error = S::Error;

    fn load(&mut self, key: &str) -> Result<Option<Vec<u8>>, Self::Error> {
        (**self).load(key)
    }

    fn store(&mut self, key: &str, blob: &[u8]) -> Result<(), Self::Error> {
        (**self).store(key, blob)
    }

    fn persists(&self) -> bool {
        (**self).persists()
    }
}

/// No persistent cache: the device boots without flags until its first fetch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NoStorage;

impl ConfigStorage for NoStorage {
    type Error = Infallible;

    fn load(&mut self, _key: &str) -> Result<Option<Vec<u8>>, Self::Error> {
        Ok(None)
    }

    fn store(&mut self, _key: &str, _blob: &[u8]) -> Result<(), Self::Error> {
        Ok(())
    }

    fn persists(&self) -> bool {
        false
    }
}

/// A [`ConfigStorage`] over embedded-svc's key-value [`RawStorage`], which
/// esp-idf-svc's NVS storage implements:
///
/// ```ignore
/// let nvs = EspNvs::new(EspDefaultNvsPartition::take()?, "configcat", true)?;
/// let storage = KeyValueStorage::new(EspKeyValueStorage::new(nvs));
/// ```
///
/// A blob longer than its limit (a corrupted length) is not read: loading
/// fails, and the client logs it and starts without a cached config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValueStorage<R> {
    storage: R,
    max_blob_bytes: usize,
}

impl<R> KeyValueStorage<R> {
    /// Wraps `storage`, reading blobs of up to [`DEFAULT_MAX_BLOB_BYTES`].
    pub const fn new(storage: R) -> Self {
        Self {
            storage,
            max_blob_bytes: DEFAULT_MAX_BLOB_BYTES,
        }
    }

    /// Sets the largest blob read back.
    #[must_use]
    pub const fn with_max_blob_bytes(mut self, max_blob_bytes: usize) -> Self {
        self.max_blob_bytes = max_blob_bytes;
        self
    }

    /// The wrapped storage.
    pub const fn get_ref(&self) -> &R {
        &self.storage
    }

    /// The wrapped storage, mutably.
    pub const fn get_mut(&mut self) -> &mut R {
        &mut self.storage
    }

    /// Unwraps the storage.
    pub fn into_inner(self) -> R {
        self.storage
    }
}

#[cfg(feature = "defmt")]
impl<R> defmt::Format for KeyValueStorage<R> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "KeyValueStorage {{ max_blob_bytes: {} }}",
            self.max_blob_bytes
        );
    }
}

/// Why a [`KeyValueStorage`] could not read or write the blob.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyValueStorageError<E> {
    /// The underlying storage failed.
    Storage(E),
    /// The stored blob is longer than the limit.
    TooLarge {
        /// The stored length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// No memory for a buffer of the blob's length.
    OutOfMemory {
        /// The stored length.
        len: usize,
    },
}

impl<E: fmt::Debug> fmt::Display for KeyValueStorageError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Storage(error) => write!(f, "storage error: {error:?}"),
            Self::TooLarge { len, max } => write!(
                f,
                "the stored blob of {len} bytes is larger than the limit of {max} bytes"
            ),
            Self::OutOfMemory { len } => {
                write!(f, "out of memory for the stored blob of {len} bytes")
            }
        }
    }
}

impl<E: fmt::Debug> core::error::Error for KeyValueStorageError<E> {}

#[cfg(feature = "defmt")]
impl<E: fmt::Debug> defmt::Format for KeyValueStorageError<E> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{}", defmt::Display2Format(self));
    }
}

impl<R: RawStorage> ConfigStorage for KeyValueStorage<R> {
    type Error = KeyValueStorageError<R::Error>;

    fn load(&mut self, key: &str) -> Result<Option<Vec<u8>>, Self::Error> {
        let Some(len) = self
            .storage
            .len(key)
            .map_err(KeyValueStorageError::Storage)?
        else {
            return Ok(None);
        };
        if len > self.max_blob_bytes {
            return Err(KeyValueStorageError::TooLarge {
                len,
                max: self.max_blob_bytes,
            });
        }
        let mut blob = Vec::new();
        blob.try_reserve_exact(len)
            .map_err(|_| KeyValueStorageError::OutOfMemory { len })?;
        blob.resize(len, 0);
        let read = self
            .storage
            .get_raw(key, &mut blob)
            .map_err(KeyValueStorageError::Storage)?
            .map(<[u8]>::len);
        Ok(read.map(|read| {
            blob.truncate(read);
            blob
        }))
    }

    fn store(&mut self, key: &str, blob: &[u8]) -> Result<(), Self::Error> {
        self.storage
            .set_raw(key, blob)
            .map(|_| ())
            .map_err(KeyValueStorageError::Storage)
    }
}

/// The storage key of an SDK key: the first [`MAX_STORAGE_KEY_LEN`] hex
/// digits of the shared cache key (`sha1("<sdk key>_config_v6.json_v2")`).
///
/// Derived from the SDK key rather than fixed, so that firmware flashed with
/// another SDK key never boots with the old key's flags; 60 bits of a hash
/// do not collide in one device's storage.
pub(crate) fn storage_key(cache_key: &str) -> heapless::String<MAX_STORAGE_KEY_LEN> {
    let mut key = heapless::String::new();
    for digit in cache_key.chars().take(MAX_STORAGE_KEY_LEN) {
        // Cannot fail: at most MAX_STORAGE_KEY_LEN characters are pushed.
        let _ = key.push(digit);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_keys_fit_nvs() {
        let cache_key = configcat_core::refresh::cache_key(
            "configcat-sdk-1/TEST_KEY-0123456789012/1234567890123456789012",
        );
        let key = storage_key(&cache_key);
        assert_eq!(key.len(), MAX_STORAGE_KEY_LEN);
        assert!(cache_key.starts_with(key.as_str()));
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
