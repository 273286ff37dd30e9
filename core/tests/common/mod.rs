//! Helpers shared by the integration tests: a capturing log sink, the two
//! hashes of ConfigCat's evaluation computed independently of the core, and
//! small builders for inline config JSON.
#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

use core::cell::RefCell;
use core::fmt;

use configcat_core::{Config, EventId, LogLevel, LogSink};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The Read-more tail of ConfigCat's user-object warnings.
pub(crate) const READ_MORE: &str = "Read more: https://configcat.com/docs/advanced/user-object/";

/// A log sink that records every event up to `max` severity.
pub(crate) struct Capture {
    max: LogLevel,
    records: RefCell<Vec<(LogLevel, EventId, String)>>,
}

impl Capture {
    /// Records errors and warnings (no evaluation log).
    pub(crate) const fn new() -> Self {
        Self::with_level(LogLevel::Warning)
    }

    /// Records everything up to and including `max`.
    pub(crate) const fn with_level(max: LogLevel) -> Self {
        Self {
            max,
            records: RefCell::new(Vec::new()),
        }
    }

    /// All records so far.
    pub(crate) fn records(&self) -> Vec<(LogLevel, EventId, String)> {
        self.records.borrow().clone()
    }

    /// Removes and returns all records.
    pub(crate) fn take(&self) -> Vec<(LogLevel, EventId, String)> {
        core::mem::take(&mut *self.records.borrow_mut())
    }

    /// `(level, numeric event id)` of every record.
    pub(crate) fn ids(&self) -> Vec<(LogLevel, u16)> {
        self.records
            .borrow()
            .iter()
            .map(|(level, id, _)| (*level, id.code()))
            .collect()
    }

    /// The records of one level, as `(numeric event id, message)`.
    pub(crate) fn at(&self, level: LogLevel) -> Vec<(u16, String)> {
        self.records
            .borrow()
            .iter()
            .filter(|(l, _, _)| *l == level)
            .map(|(_, id, message)| (id.code(), message.clone()))
            .collect()
    }

    pub(crate) fn warnings(&self) -> Vec<(u16, String)> {
        self.at(LogLevel::Warning)
    }

    pub(crate) fn errors(&self) -> Vec<(u16, String)> {
        self.at(LogLevel::Error)
    }
}

impl LogSink for Capture {
    fn enabled(&self, level: LogLevel) -> bool {
        level <= self.max
    }

    fn event(&self, level: LogLevel, id: EventId, message: fmt::Arguments<'_>) {
        self.records
            .borrow_mut()
            .push((level, id, message.to_string()));
    }
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// `hex(sha256(value + salt + context_salt))`: a confidential comparison value.
pub(crate) fn sha256_hex(value: &[u8], salt: &str, context_salt: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(value);
    hasher.update(salt.as_bytes());
    hasher.update(context_salt.as_bytes());
    hex(&hasher.finalize())
}

/// A confidential STARTS WITH / ENDS WITH item: `"<byte length>_<sha256 hex>"`.
pub(crate) fn hashed_affix(affix: &str, salt: &str, context_salt: &str) -> String {
    format!(
        "{}_{}",
        affix.len(),
        sha256_hex(affix.as_bytes(), salt, context_salt)
    )
}

/// The % option bucket: the first 7 hex digits of SHA-1(key + attribute), modulo 100.
pub(crate) fn bucket(setting_key: &str, attribute: &str) -> u32 {
    let mut hasher = Sha1::new();
    hasher.update(setting_key.as_bytes());
    hasher.update(attribute.as_bytes());
    let text = hex(&hasher.finalize());
    u32::from_str_radix(&text[..7], 16).unwrap() % 100
}

/// A JSON string literal.
pub(crate) fn js(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// A JSON array of strings.
pub(crate) fn js_list(items: &[&str]) -> String {
    serde_json::to_string(items).unwrap()
}

/// Parses a config that the test wrote, failing the test on an error.
pub(crate) fn parse(json: &str) -> Config {
    match Config::parse(json.as_bytes()) {
        Ok(config) => config,
        Err(error) => panic!(
            "test config does not parse: {error}\n{}",
            json.chars().take(300).collect::<String>()
        ),
    }
}
