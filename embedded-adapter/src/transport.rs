//! HTTP over `embedded_svc::http::client::Connection`: sends the core's
//! request, hands back status, ETag and body. It decides nothing about what
//! they mean; a failure is only classified for the core
//! ([`TransportErrorKind`]).
//!
//! The connection's methods are called directly (`initiate_request`,
//! `initiate_response`, `status`, `header`, `read`), never through
//! `embedded_svc::http::client::Client::wrap`: `wrap` panics on a connection
//! that is still in its response phase, which is where a connection is left
//! after every exchange.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use configcat_core::refresh::{FetchRequest, Refresher, TransportErrorKind};
use embedded_svc::http::client::Connection;
use embedded_svc::http::{Headers as _, Method, Status as _};
use embedded_svc::io::ErrorKind;

/// Longest `ETag` header accepted. The CDN's are a few dozen bytes.
pub(crate) const MAX_ETAG_BYTES: usize = 256;

/// Request headers the core asks for: the user agent and `If-None-Match`.
const MAX_REQUEST_HEADERS: usize = 2;

/// Bytes asked of the connection per read when the length is not announced
/// (chunked transfer encoding).
const READ_CHUNK: usize = 1024;

/// Makes the HTTP connections the client fetches through.
///
/// The client asks for a connection when it is about to fetch and has none,
/// and drops the one it has after a failed exchange (a connection whose
/// request or response broke off is in no state to start another one:
/// esp-idf-svc's `EspHttpConnection` panics if asked to) and, unless
/// [`ClientOptions::keep_connection`](crate::ClientOptions::keep_connection)
/// is set, after every refresh, so that its buffers (and a TLS session's) are
/// not held between polls.
///
/// Any `FnMut() -> Result<C, E>` closure is a connector:
///
/// ```ignore
/// let connect = || EspHttpConnection::new(&http_configuration);
/// ```
pub trait Connector {
    /// The connection type made.
    type Connection: Connection;
    /// Why a connection could not be made.
    type Error: fmt::Display;

    /// Makes a new connection.
    ///
    /// # Errors
    /// The connection could not be made; the refresh then fails with
    /// [`TransportErrorKind::ConnectionFailed`].
    fn connect(&mut self) -> Result<Self::Connection, Self::Error>;
}

impl<F, C, E> Connector for F
where
    F: FnMut() -> Result<C, E>,
    C: Connection,
    E: fmt::Display,
{
    type Connection = C;
    type Error = E;

    fn connect(&mut self) -> Result<C, E> {
        self()
    }
}

/// What a finished exchange brought.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) status: u16,
    pub(crate) etag: Option<heapless::String<MAX_ETAG_BYTES>>,
    /// Read for 2xx statuses only: the core reads no other body.
    pub(crate) body: Vec<u8>,
}

/// A failed exchange, classified for the core.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) kind: TransportErrorKind,
    pub(crate) detail: String,
}

impl Failure {
    fn new(kind: TransportErrorKind, detail: String) -> Self {
        Self { kind, detail }
    }
}

/// Where an exchange failed; a failure before any response means no
/// connection could be made.
#[derive(Clone, Copy)]
enum Phase {
    Request,
    Response,
    Body,
}

/// Makes one GET request and reads its response, the body up to `max_body_bytes`.
pub(crate) fn exchange<C: Connection>(
    connection: &mut C,
    request: &FetchRequest,
    max_body_bytes: usize,
) -> Result<Received, Failure> {
    let mut headers: heapless::Vec<(&str, &str), MAX_REQUEST_HEADERS> = heapless::Vec::new();
    for header in request.headers() {
        headers.push(header).map_err(|_| {
            Failure::new(
                TransportErrorKind::Other,
                String::from("more request headers than the adapter sends"),
            )
        })?;
    }
    connection
        .initiate_request(Method::Get, &request.url, &headers)
        .map_err(|error| io_failure(&error, Phase::Request))?;
    connection
        .initiate_response()
        .map_err(|error| io_failure(&error, Phase::Response))?;
    let status = connection.status();
    // Copied out: the body is read through `&mut connection` next.
    let etag = match connection.header("ETag") {
        None => None,
        Some(etag) => Some(heapless::String::try_from(etag).map_err(|_| {
            Failure::new(
                TransportErrorKind::Other,
                format!("the ETag header is longer than {MAX_ETAG_BYTES} bytes"),
            )
        })?),
    };
    let body = if Refresher::wants_body(status) {
        let announced = connection
            .header("Content-Length")
            .and_then(|length| length.trim().parse::<usize>().ok());
        read_body(connection, announced, max_body_bytes)?
    } else {
        Vec::new()
    };
    Ok(Received { status, etag, body })
}

/// Reads the body into one buffer of exactly the announced length (so a
/// known-length body of N bytes costs N bytes of heap, never more), or, for
/// a body of unknown length, one that grows up to `limit` + 1 bytes.
fn read_body<C: Connection>(
    connection: &mut C,
    announced: Option<usize>,
    limit: usize,
) -> Result<Vec<u8>, Failure> {
    if let Some(length) = announced.filter(|&length| length > limit) {
        return Err(too_large(limit, Some(length)));
    }
    // One byte past the limit tells a body that is too large from one that fits exactly.
    let capacity = announced.unwrap_or_else(|| limit.saturating_add(1));
    let mut body = Vec::new();
    if let Some(length) = announced {
        reserve(&mut body, length)?;
    }
    loop {
        let filled = body.len();
        let room = capacity.saturating_sub(filled);
        if room == 0 {
            break;
        }
        let want = if announced.is_some() {
            room
        } else {
            if body.capacity() <= filled {
                // Grow by doubling, at least a chunk, never past the limit + 1.
                let target = filled
                    .saturating_mul(2)
                    .max(filled.saturating_add(READ_CHUNK))
                    .min(capacity);
                reserve(&mut body, target.saturating_sub(filled))?;
            }
            room.min(body.capacity().saturating_sub(filled))
        };
        body.resize(filled.saturating_add(want), 0);
        let buffer = body.get_mut(filled..).unwrap_or_default();
        let read = connection
            .read(buffer)
            .map_err(|error| io_failure(&error, Phase::Body))?;
        body.truncate(filled.saturating_add(read.min(want)));
        if read == 0 {
            break;
        }
    }
    match announced {
        Some(length) if body.len() < length => Err(Failure::new(
            TransportErrorKind::Other,
            format!(
                "the connection closed after {} of {length} body bytes",
                body.len()
            ),
        )),
        None if body.len() > limit => Err(too_large(limit, None)),
        _ => Ok(body),
    }
}

fn reserve(body: &mut Vec<u8>, additional: usize) -> Result<(), Failure> {
    body.try_reserve_exact(additional).map_err(|_| {
        Failure::new(
            TransportErrorKind::Other,
            format!("out of memory for a {additional}-byte body buffer"),
        )
    })
}

fn too_large(limit: usize, announced: Option<usize>) -> Failure {
    let detail = match announced {
        Some(length) => format!("the body of {length} bytes exceeds the limit of {limit} bytes"),
        None => format!("the body exceeds the limit of {limit} bytes"),
    };
    Failure::new(TransportErrorKind::BodyTooLarge, detail)
}

/// Classifies an I/O error by its kind and by where it happened.
///
/// Some connections report every failure as `ErrorKind::Other`
/// (esp-idf-svc's `EspIOError` does); their error text is then searched for
/// the usual words for a timeout (`ESP_ERR_HTTP_EAGAIN` is ESP-IDF's read
/// timeout), so the log still says "timed out" rather than "network issue".
fn io_failure<E: embedded_svc::io::Error>(error: &E, phase: Phase) -> Failure {
    let detail = format!("{error}");
    let kind = match error.kind() {
        ErrorKind::TimedOut => TransportErrorKind::TimedOut,
        _ if mentions_timeout(&detail) => TransportErrorKind::TimedOut,
        ErrorKind::ConnectionRefused | ErrorKind::NotConnected | ErrorKind::AddrNotAvailable => {
            TransportErrorKind::ConnectionFailed
        }
        _ => match phase {
            Phase::Request => TransportErrorKind::ConnectionFailed,
            Phase::Response | Phase::Body => TransportErrorKind::Other,
        },
    };
    Failure::new(kind, detail)
}

fn mentions_timeout(text: &str) -> bool {
    [&b"timeout"[..], b"timed out", b"eagain"]
        .iter()
        .any(|word| {
            text.as_bytes()
                .windows(word.len())
                .any(|window| window.eq_ignore_ascii_case(word))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::borrow::ToOwned;
    use alloc::vec;
    use configcat_core::refresh::Instant;
    use core::convert::Infallible;
    use embedded_svc::http::{Headers, Status};
    use embedded_svc::io::{ErrorType, Read, Write};

    /// Serves a body a few bytes per read, with or without `Content-Length`.
    struct Fake {
        etag: String,
        length: Option<String>,
        body: Vec<u8>,
        position: usize,
        per_read: usize,
        requested: Vec<(String, String)>,
    }

    impl Fake {
        fn new(body: &[u8], announce: bool) -> Self {
            Self {
                etag: "\"e\"".to_owned(),
                length: announce.then(|| format!("{}", body.len())),
                body: body.to_vec(),
                position: 0,
                per_read: 7,
                requested: Vec::new(),
            }
        }
    }

    impl Status for Fake {
        fn status(&self) -> u16 {
            200
        }
        fn status_message(&self) -> Option<&'_ str> {
            None
        }
    }

    impl Headers for Fake {
        fn header(&self, name: &str) -> Option<&'_ str> {
            match name {
                "ETag" => Some(&self.etag),
                "Content-Length" => self.length.as_deref(),
                _ => None,
            }
        }
    }

    impl ErrorType for Fake {
        type Error = Infallible;
    }

    impl Read for Fake {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
            let rest = &self.body[self.position..];
            let n = rest.len().min(buf.len()).min(self.per_read);
            buf[..n].copy_from_slice(&rest[..n]);
            self.position += n;
            Ok(n)
        }
    }

    impl Write for Fake {
        fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> Result<(), Infallible> {
            Ok(())
        }
    }

    impl Connection for Fake {
        type Headers = Self;
        type Read = Self;
        type RawConnectionError = Infallible;
        type RawConnection = Self;

        fn initiate_request<'a>(
            &'a mut self,
            _method: Method,
            _uri: &'a str,
            headers: &'a [(&'a str, &'a str)],
        ) -> Result<(), Infallible> {
            self.requested = headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect();
            Ok(())
        }
        fn is_request_initiated(&self) -> bool {
            false
        }
        fn initiate_response(&mut self) -> Result<(), Infallible> {
            Ok(())
        }
        fn is_response_initiated(&self) -> bool {
            true
        }
        fn split(&mut self) -> (&Self::Headers, &mut Self::Read) {
            unimplemented!()
        }
        fn raw_connection(&mut self) -> Result<&mut Self::RawConnection, Infallible> {
            unimplemented!()
        }
    }

    fn request() -> FetchRequest {
        let mut refresher = Refresher::new(
            "configcat-sdk-1/TEST_KEY-0123456789012/1234567890123456789012",
            configcat_core::refresh::RefreshOptions::default(),
            Instant::ZERO,
        )
        .unwrap();
        refresher
            .start_fetch(Instant::ZERO, &configcat_core::NoLog)
            .unwrap()
    }

    #[test]
    fn bodies_of_unknown_length_are_read_up_to_the_limit() {
        let body = vec![b'x'; 3000];
        for announce in [false, true] {
            let mut fake = Fake::new(&body, announce);
            let received = exchange(&mut fake, &request(), 3000).unwrap();
            assert_eq!(received.body, body);
            assert_eq!(received.etag.as_deref(), Some("\"e\""));
            assert!(received.body.capacity() <= 3001, "never past the limit + 1");
            assert_eq!(fake.requested[0].0, "X-ConfigCat-UserAgent");

            let mut fake = Fake::new(&body, announce);
            let failure = exchange(&mut fake, &request(), 2999).err().unwrap();
            assert_eq!(failure.kind, TransportErrorKind::BodyTooLarge, "{announce}");
        }
        let mut fake = Fake::new(&body, true);
        let received = exchange(&mut fake, &request(), 3000).unwrap();
        assert_eq!(
            received.body.capacity(),
            3000,
            "an announced length is reserved exactly"
        );
    }

    #[test]
    fn a_body_shorter_than_announced_fails() {
        let mut fake = Fake::new(b"{\"f\":{}}", true);
        fake.length = Some("100".to_owned());
        let failure = exchange(&mut fake, &request(), 1000).err().unwrap();
        assert_eq!(failure.kind, TransportErrorKind::Other);
        assert!(
            failure.detail.contains("after 8 of 100"),
            "{}",
            failure.detail
        );
    }

    #[test]
    fn an_overlong_etag_fails_rather_than_being_cut() {
        let mut fake = Fake::new(b"{}", true);
        fake.etag = "e".repeat(MAX_ETAG_BYTES + 1);
        let failure = exchange(&mut fake, &request(), 1000).err().unwrap();
        assert_eq!(failure.kind, TransportErrorKind::Other);
    }

    #[test]
    fn timeouts_are_recognised_in_error_texts() {
        assert!(mentions_timeout("ESP_ERR_HTTP_EAGAIN"));
        assert!(mentions_timeout("read timed out"));
        assert!(mentions_timeout("connect Timeout"));
        assert!(!mentions_timeout("ESP_ERR_HTTP_CONNECT"));
    }
}
