//! The last good config in ConfigCat's shared-cache format.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use core::fmt;

use crate::config::Config;
use crate::config_json::ParseError;

/// The last good config as the shared cache stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    pub(super) fetch_time_ms: u64,
    pub(super) etag: Box<str>,
    pub(super) config_json: Box<str>,
}

/// Why a cache payload was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CachePayloadError {
    /// Fewer than three newline-separated parts.
    MissingParts,
    /// The fetch time is not a whole number of milliseconds.
    InvalidFetchTime,
    /// The ETag part is empty.
    EmptyEtag,
    /// The config part is not a valid config JSON.
    InvalidConfig(ParseError),
}

impl fmt::Display for CachePayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingParts => f.write_str("Number of values is fewer than expected."),
            Self::InvalidFetchTime => f.write_str("Invalid fetch time."),
            Self::EmptyEtag => f.write_str("Empty eTag value."),
            Self::InvalidConfig(error) => write!(f, "Invalid config JSON: {error}"),
        }
    }
}

impl core::error::Error for CachePayloadError {}

impl CacheEntry {
    /// An entry for a config fetched at `fetch_time_ms` (Unix milliseconds) with this ETag.
    #[must_use]
    pub fn new(fetch_time_ms: u64, etag: &str, config_json: &str) -> Self {
        Self {
            fetch_time_ms,
            etag: etag.into(),
            config_json: config_json.into(),
        }
    }

    /// When the config was fetched or last confirmed, in Unix milliseconds.
    #[must_use]
    pub const fn fetch_time_ms(&self) -> u64 {
        self.fetch_time_ms
    }

    /// The ETag the CDN gave the config.
    #[must_use]
    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// The config JSON text.
    #[must_use]
    pub fn config_json(&self) -> &str {
        &self.config_json
    }

    /// The shared-cache payload: `"<fetch time ms>\n<etag>\n<config json>"`.
    ///
    /// ```
    /// use configcat_core::refresh::CacheEntry;
    ///
    /// let entry = CacheEntry::new(1686756435844, "\"abc\"", "{\"f\":{}}");
    /// assert_eq!(entry.payload(), "1686756435844\n\"abc\"\n{\"f\":{}}");
    /// let (parsed, _config) = CacheEntry::parse_payload(&entry.payload())?;
    /// assert_eq!(parsed, entry);
    /// # Ok::<(), configcat_core::refresh::CachePayloadError>(())
    /// ```
    #[must_use]
    pub fn payload(&self) -> String {
        format!(
            "{}\n{}\n{}",
            self.fetch_time_ms, self.etag, self.config_json
        )
    }

    /// Reads a shared-cache payload, parsing its config.
    ///
    /// # Errors
    /// The payload is truncated, malformed, or holds an invalid config.
    pub fn parse_payload(payload: &str) -> Result<(Self, Config), CachePayloadError> {
        let mut parts = payload.splitn(3, '\n');
        let (Some(time), Some(etag), Some(json)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CachePayloadError::MissingParts);
        };
        let fetch_time_ms = parse_fetch_time(time).ok_or(CachePayloadError::InvalidFetchTime)?;
        if etag.is_empty() {
            return Err(CachePayloadError::EmptyEtag);
        }
        let config = Config::parse(json.as_bytes()).map_err(CachePayloadError::InvalidConfig)?;
        Ok((Self::new(fetch_time_ms, etag, json), config))
    }

    /// Whether `payload` is this entry's payload, without building it.
    pub(super) fn is_payload(&self, payload: &str) -> bool {
        let mut parts = payload.splitn(3, '\n');
        let time = parts.next().and_then(parse_fetch_time);
        time == Some(self.fetch_time_ms)
            && parts.next() == Some(&*self.etag)
            && parts.next() == Some(&*self.config_json)
    }
}

/// Other SDKs write the fetch time as an integer; accept a fraction too (ignored).
fn parse_fetch_time(text: &str) -> Option<u64> {
    let whole = text.split_once('.').map_or(text, |(whole, _)| whole);
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    whole.parse().ok()
}
