//! Diagnostics: ConfigCat's numbered log events and the sink they go to.
//!
//! The core never prints. Everything it has to say goes through a
//! [`LogSink`] that the caller injects; the std adapter forwards to the `log`
//! facade, the embedded adapter to `defmt`. Messages are handed over as
//! [`core::fmt::Arguments`], so nothing is formatted (or allocated) unless the
//! sink decides to write the record.

use core::fmt;

/// Severity of a log event, ordered from most to least severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum LogLevel {
    /// Something failed: a value could not be evaluated or fetched.
    Error,
    /// Something is probably misconfigured, but evaluation went on.
    Warning,
    /// Normal operation worth knowing about, including the evaluation log.
    Info,
    /// Details for debugging the SDK itself.
    Debug,
}

impl LogLevel {
    /// The upper-case name used in ConfigCat's log texts (`ERROR`, `WARNING`, `INFO`, `DEBUG`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Error => "ERROR",
            Self::Warning => "WARNING",
            Self::Info => "INFO",
            Self::Debug => "DEBUG",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// ConfigCat's numeric log event ids, shared by all official SDKs.
///
/// The discriminant is the id itself: `EventId::EvaluationLog as u16 == 5000`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
#[non_exhaustive]
pub enum EventId {
    /// No config JSON is available yet, so the default value is returned.
    ConfigJsonMissing = 1000,
    /// The requested setting key does not exist in the config.
    SettingKeyMissing = 1001,
    /// An error occurred while collecting values or keys.
    EvaluationCollectionFailed = 1002,
    /// The local flag-override file could not be read.
    LocalFileNotFound = 1300,
    /// The local flag-override file is not valid JSON of a supported format.
    LocalFileInvalid = 1302,
    /// The config could not be fetched: the SDK key is wrong (HTTP 403 or 404).
    FetchFailedInvalidSdkKey = 1100,
    /// The config could not be fetched: unexpected HTTP status.
    FetchFailedUnexpectedStatus = 1101,
    /// The config could not be fetched: the request timed out.
    FetchTimedOut = 1102,
    /// The config could not be fetched: transport-level failure.
    FetchFailedTransport = 1103,
    /// The redirect instructions of the config form a loop.
    RedirectLoop = 1104,
    /// The fetched body is not a valid config JSON.
    FetchReceivedInvalidConfig = 1105,
    /// Evaluating a setting failed; the default value was returned.
    EvaluationFailed = 2001,
    /// The config cache could not be read.
    CacheReadFailed = 2200,
    /// The config cache could not be written.
    CacheWriteFailed = 2201,
    /// A client for this SDK key already exists with other options.
    ClientAlreadyCreated = 3000,
    /// A User Object is needed by targeting rules or % options but none was given.
    UserObjectMissing = 3001,
    /// The data governance setting does not match the account's.
    DataGovernanceMismatch = 3002,
    /// A user attribute needed by a condition or % options is missing.
    UserAttributeMissing = 3003,
    /// A user attribute has a value the comparator cannot use.
    UserAttributeInvalid = 3004,
    /// A non-text user attribute was converted to text for a text comparator.
    UserAttributeConverted = 3005,
    /// The client is offline, so a refresh was not attempted.
    ClientOffline = 3200,
    /// A local-only override makes a refresh pointless.
    LocalOnlyRefreshIgnored = 3202,
    /// Max init wait ended before the first config arrived: reads go on with what there is.
    InitWaitExpired = 4200,
    /// The client was closed or its state changed (online/offline).
    ClientStateChanged = 5200,
    /// The evaluation log of one flag evaluation.
    EvaluationLog = 5000,
}

impl EventId {
    /// The numeric id, e.g. `5000`.
    #[must_use]
    pub const fn code(self) -> u16 {
        self as u16
    }
}

/// Receiver of the core's log events.
///
/// Implement it once per platform. `enabled` is asked before anything
/// expensive is prepared: in particular the evaluation log (event 5000) is
/// only built when `enabled(LogLevel::Info)` is true.
///
/// ```
/// use configcat_core::{EventId, LogLevel, LogSink};
/// use core::fmt;
///
/// struct Stderr;
/// impl LogSink for Stderr {
///     fn enabled(&self, level: LogLevel) -> bool {
///         level <= LogLevel::Warning
///     }
///     fn event(&self, level: LogLevel, id: EventId, message: fmt::Arguments<'_>) {
///         eprintln!("{level} [{}] {message}", id.code());
///     }
/// }
/// ```
pub trait LogSink {
    /// Whether events of this level would be recorded.
    fn enabled(&self, level: LogLevel) -> bool;
    /// Records one event. Only called when `enabled(level)` returned true.
    fn event(&self, level: LogLevel, id: EventId, message: fmt::Arguments<'_>);
}

/// A sink that records nothing; with it evaluation does no logging work at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLog;

impl LogSink for NoLog {
    fn enabled(&self, _level: LogLevel) -> bool {
        false
    }
    fn event(&self, _level: LogLevel, _id: EventId, _message: fmt::Arguments<'_>) {}
}

impl<S: LogSink + ?Sized> LogSink for &S {
    fn enabled(&self, level: LogLevel) -> bool {
        (**self).enabled(level)
    }
    fn event(&self, level: LogLevel, id: EventId, message: fmt::Arguments<'_>) {
        (**self).event(level, id, message);
    }
}

/// Sends one event if the sink wants its level (the adapters' events too).
pub fn emit(sink: &dyn LogSink, level: LogLevel, id: EventId, message: fmt::Arguments<'_>) {
    if sink.enabled(level) {
        sink.event(level, id, message);
    }
}

/// Reports 1000: a setting was read before any config was there (no fetch,
/// cache or override has delivered one yet), so `default` is returned.
pub fn report_config_missing(sink: &dyn LogSink, key: &str, default: Option<crate::Value<'_>>) {
    struct Shown<'a>(Option<crate::Value<'a>>);
    impl fmt::Display for Shown<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.map_or(Ok(()), |value| value.fmt(f))
        }
    }
    emit(
        sink,
        LogLevel::Error,
        EventId::ConfigJsonMissing,
        format_args!(
            "Config JSON is not present when evaluating setting '{key}'. Returning the `default_value` parameter that you specified in your application: '{}'.",
            Shown(default)
        ),
    );
}
