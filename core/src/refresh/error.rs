//! Why a refresh did not bring a usable config.

use alloc::boxed::Box;
use alloc::format;
use core::fmt;

use crate::config_json::ParseError;

/// Classification of a transport failure, made by the adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connect or read timeout elapsed.
    TimedOut,
    /// No connection could be made (DNS, refused, TLS, proxy).
    ConnectionFailed,
    /// The response body was larger than the adapter accepts.
    BodyTooLarge,
    /// Anything else (reset mid-body, malformed HTTP, ...).
    Other,
}

/// Why a refresh did not bring a usable config.
///
/// ```
/// use configcat_core::refresh::RefreshError;
///
/// let error = RefreshError::InvalidSdkKey { status: 404 };
/// assert!(!error.is_transient(), "a wrong key does not fix itself");
/// assert!(error.to_string().starts_with("Your SDK Key seems to be wrong."));
/// assert!(RefreshError::UnexpectedStatus { status: 503 }.is_transient());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefreshError {
    /// The client is offline.
    Offline,
    /// Flag overrides are local only; there is nothing to fetch.
    LocalOnly,
    /// The CDN answered 403 or 404: the SDK key is wrong (not transient).
    InvalidSdkKey {
        /// The status received.
        status: u16,
    },
    /// Any other unexpected status.
    UnexpectedStatus {
        /// The status received.
        status: u16,
    },
    /// The transport failed.
    Transport {
        /// What kind of failure.
        kind: TransportErrorKind,
        /// The adapter's description.
        detail: Box<str>,
    },
    /// A 2xx response whose body is not a config JSON.
    InvalidBody(ParseError),
    /// A fetch was asked for while another one is in flight.
    AlreadyFetching,
    /// A response (or a transport failure) was handed over while no fetch
    /// was in flight: the adapter called the refresher out of order.
    NoFetchInFlight,
}

impl RefreshError {
    /// Whether trying again later may succeed (everything but a wrong key and local-only mode).
    #[must_use]
    pub const fn is_transient(&self) -> bool {
        !matches!(self, Self::InvalidSdkKey { .. } | Self::LocalOnly)
    }

    /// A transport failure of this kind, with the timeouts quoted when it is a timeout.
    pub(super) fn transport(
        kind: TransportErrorKind,
        detail: &str,
        timeouts_ms: Option<(u64, u64)>,
    ) -> Self {
        let detail: Box<str> = match (kind, timeouts_ms) {
            (TransportErrorKind::TimedOut, Some((connect, read))) => format!(
                "Timeout values: [connect: {}s, read: {}s] ({detail})",
                SecondsText(connect),
                SecondsText(read)
            )
            .into(),
            _ => detail.into(),
        };
        Self::Transport { kind, detail }
    }
}

impl fmt::Display for RefreshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Offline => f.write_str("Client is in offline mode, it cannot initiate HTTP calls."),
            Self::LocalOnly => f.write_str(
                "Client is configured to use the LocalOnly override behavior, which prevents synchronization with external cache and making HTTP requests.",
            ),
            Self::InvalidSdkKey { status } => write!(
                f,
                "Your SDK Key seems to be wrong. You can find the valid SDK Key at https://app.configcat.com/sdkkey. Received unexpected response: {status}"
            ),
            Self::UnexpectedStatus { status } => write!(
                f,
                "Unexpected HTTP response was received while trying to fetch config JSON: {status}"
            ),
            Self::Transport { kind: TransportErrorKind::TimedOut, detail } => {
                write!(f, "Request timed out while trying to fetch config JSON. {detail}")
            }
            Self::Transport { detail, .. } => write!(
                f,
                "Unexpected error occurred while trying to fetch config JSON. It is most likely due to a local network issue. Please make sure your application can reach the ConfigCat CDN servers (or your proxy server) over HTTP. ({detail})"
            ),
            Self::InvalidBody(error) => write!(
                f,
                "Fetching config JSON was successful but the HTTP response content was invalid. ({error})"
            ),
            Self::AlreadyFetching => f.write_str("A fetch is already in progress."),
            Self::NoFetchInFlight => f.write_str(
                "A response was handed to the refresher while no fetch was in flight.",
            ),
        }
    }
}

impl core::error::Error for RefreshError {}

/// Milliseconds as seconds with up to three decimals and no trailing zeros (`10`, `0.5`).
struct SecondsText(u64);

impl fmt::Display for SecondsText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, millis) = (self.0 / 1000, self.0 % 1000);
        if millis == 0 {
            return write!(f, "{whole}");
        }
        let fraction = format!("{millis:03}");
        write!(f, "{whole}.{}", fraction.trim_end_matches('0'))
    }
}
