//! An HTTP/1.1 client connection over the [`Net`]'s TCP socket, as an
//! `embedded_svc::http::client::Connection`: the embedded client's
//! transport, as esp-idf-svc's `EspHttpConnection` is on an ESP32.
//!
//! One request per TCP connection (`Connection: close`), plain `http://`
//! to an IPv4 literal (no DNS, no TLS). The request is written here; the
//! response head is parsed by `httparse`; the body is framed by
//! `Content-Length` or by the close. Chunked bodies are refused with an
//! error (the CDN stand-in, like ConfigCat's CDN for config files, sends a
//! length). Only QEMU's host alias [`GATEWAY`] is dialled: the firmware
//! cannot reach anything but the host's loopback.

use core::cell::RefCell;
use core::fmt;
use core::net::Ipv4Addr;
use core::ops::Range;

use embedded_svc::http::client::Connection;
use embedded_svc::http::{Headers, Method, Status};
use embedded_svc::io::{ErrorKind, ErrorType, Read, Write};

use super::clock;
use super::net::{GATEWAY, Net, NetError};

/// Room for the response head (status line and headers); the CDN's are
/// under 1 KiB.
const HEAD_BYTES: usize = 1536;
/// The head is read this much at a time, so at most this much of the body
/// comes with it (and is kept for the body's first read).
const HEAD_READ: usize = 256;
/// Room for the request head.
const REQUEST_BYTES: usize = 1024;
/// Response headers kept.
const MAX_HEADERS: usize = 24;
/// How long a close may take before the connection is reset.
const CLOSE_MS: u64 = 500;

/// Why an exchange failed; classified by [`ErrorKind`] for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpError {
    kind: ErrorKind,
    what: &'static str,
}

impl HttpError {
    const fn new(kind: ErrorKind, what: &'static str) -> Self {
        Self { kind, what }
    }

    fn net(error: NetError, during: &'static str) -> Self {
        let kind = match error {
            NetError::Refused => ErrorKind::ConnectionRefused,
            NetError::TimedOut => ErrorKind::TimedOut,
            NetError::NotConnected => ErrorKind::NotConnected,
            NetError::Stack => ErrorKind::Other,
        };
        let what = match (error, during) {
            (NetError::Refused, "connect") => "connect: connection refused",
            (NetError::TimedOut, "connect") => "connect: timed out",
            (NetError::Refused, _) => "connection reset",
            (NetError::TimedOut, _) => "read timed out",
            (NetError::NotConnected, _) => "the connection closed",
            (NetError::Stack, _) => "the TCP/IP stack refused the operation",
        };
        Self { kind, what }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what)
    }
}

impl core::error::Error for HttpError {}

impl embedded_svc::io::Error for HttpError {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
}

/// Status line and headers of the response, kept as ranges of the bytes read.
pub struct ResponseHead {
    bytes: [u8; HEAD_BYTES],
    status: u16,
    reason: Range<usize>,
    headers: heapless::Vec<(Range<usize>, Range<usize>), MAX_HEADERS>,
}

impl ResponseHead {
    fn text(&self, range: &Range<usize>) -> Option<&str> {
        core::str::from_utf8(self.bytes.get(range.clone())?).ok()
    }
}

impl Status for ResponseHead {
    fn status(&self) -> u16 {
        self.status
    }

    fn status_message(&self) -> Option<&'_ str> {
        self.text(&self.reason)
    }
}

impl Headers for ResponseHead {
    fn header(&self, name: &str) -> Option<&'_ str> {
        self.headers
            .iter()
            .find(|(n, _)| {
                self.bytes
                    .get(n.clone())
                    .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
            })
            .and_then(|(_, value)| self.text(value))
    }
}

/// The response body: bytes read with the head first, then the socket's.
pub struct Body<'n> {
    net: &'n RefCell<Net>,
    early: [u8; HEAD_READ],
    early_range: Range<usize>,
    /// Bytes still to come when the length is known.
    remaining: Option<u64>,
    read_timeout_ms: u64,
}

impl ErrorType for Body<'_> {
    type Error = HttpError;
}

impl Read for Body<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, HttpError> {
        let limit = match self.remaining {
            Some(0) => return Ok(0),
            Some(left) => buf.len().min(usize::try_from(left).unwrap_or(usize::MAX)),
            None => buf.len(),
        };
        let read = if self.early_range.is_empty() {
            let deadline = clock::uptime_ms() + self.read_timeout_ms;
            self.net
                .borrow_mut()
                .receive(&mut buf[..limit], deadline)
                .map_err(|e| HttpError::net(e, "read"))?
        } else {
            let n = self.early_range.len().min(limit);
            let start = self.early_range.start;
            buf[..n].copy_from_slice(&self.early[start..start + n]);
            self.early_range.start += n;
            n
        };
        if let Some(left) = self.remaining.as_mut() {
            *left -= read as u64;
        }
        Ok(read)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Request,
    Response,
}

/// One HTTP connection at a time over the device's TCP socket.
pub struct HttpConnection<'n> {
    net: &'n RefCell<Net>,
    phase: Phase,
    connect_timeout_ms: u64,
    head: ResponseHead,
    body: Body<'n>,
}

impl<'n> HttpConnection<'n> {
    /// A connection over `net`, with connect and read timeouts in ms.
    #[must_use]
    pub const fn new(net: &'n RefCell<Net>, connect_timeout_ms: u64, read_timeout_ms: u64) -> Self {
        Self {
            net,
            phase: Phase::Idle,
            connect_timeout_ms,
            head: ResponseHead {
                bytes: [0; HEAD_BYTES],
                status: 0,
                reason: 0..0,
                headers: heapless::Vec::new(),
            },
            body: Body {
                net,
                early: [0; HEAD_READ],
                early_range: 0..0,
                remaining: None,
                read_timeout_ms,
            },
        }
    }

    fn finish(&mut self) {
        if self.phase != Phase::Idle {
            self.net.borrow_mut().close(clock::uptime_ms() + CLOSE_MS);
            self.phase = Phase::Idle;
        }
    }

    /// Reads and parses the response head; what follows it starts the body.
    #[inline(never)]
    fn read_head(&mut self) -> Result<(), HttpError> {
        let mut filled = 0;
        loop {
            if filled == HEAD_BYTES {
                return Err(HttpError::new(
                    ErrorKind::InvalidData,
                    "the response head is longer than 1536 bytes",
                ));
            }
            let deadline = clock::uptime_ms() + self.body.read_timeout_ms;
            let chunk = (filled + HEAD_READ).min(HEAD_BYTES);
            let read = self
                .net
                .borrow_mut()
                .receive(&mut self.head.bytes[filled..chunk], deadline)
                .map_err(|e| HttpError::net(e, "read"))?;
            if read == 0 {
                return Err(HttpError::new(
                    ErrorKind::ConnectionAborted,
                    "the connection closed before the response head ended",
                ));
            }
            filled += read;
            if self.parse_head(filled)? {
                return Ok(());
            }
        }
    }

    /// Parses the first `filled` bytes; false while the head is incomplete.
    fn parse_head(&mut self, filled: usize) -> Result<bool, HttpError> {
        let mut parsed = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut parsed);
        let bytes = &self.head.bytes[..filled];
        let end = match response.parse(bytes) {
            Ok(httparse::Status::Complete(end)) => end,
            Ok(httparse::Status::Partial) => return Ok(false),
            Err(_) => {
                return Err(HttpError::new(
                    ErrorKind::InvalidData,
                    "malformed response head",
                ));
            }
        };
        let base = bytes.as_ptr() as usize;
        let range = |part: &[u8]| {
            let start = part.as_ptr() as usize - base;
            start..start + part.len()
        };
        self.head.status = response.code.unwrap_or(0);
        self.head.reason = response.reason.map_or(0..0, |r| range(r.as_bytes()));
        self.head.headers.clear();
        for header in response.headers.iter() {
            // Cannot fail: httparse fills at most MAX_HEADERS.
            let _ = self
                .head
                .headers
                .push((range(header.name.as_bytes()), range(header.value)));
        }
        let early = filled - end;
        self.body.early[..early].copy_from_slice(&self.head.bytes[end..filled]);
        self.body.early_range = 0..early;
        if self
            .head
            .header("Transfer-Encoding")
            .is_some_and(|v| !v.trim().eq_ignore_ascii_case("identity"))
        {
            return Err(HttpError::new(
                ErrorKind::Unsupported,
                "chunked response bodies are not supported",
            ));
        }
        self.body.remaining = if matches!(self.head.status, 100..=199 | 204 | 304) {
            Some(0)
        } else {
            self.head
                .header("Content-Length")
                .and_then(|v| v.trim().parse().ok())
        };
        Ok(true)
    }
}

impl Drop for HttpConnection<'_> {
    fn drop(&mut self) {
        self.finish();
    }
}

/// `http://a.b.c.d[:port]/path` → (address, port, authority, path).
fn split_url(uri: &str) -> Result<(Ipv4Addr, u16, &str, &str), HttpError> {
    let rest = uri.strip_prefix("http://").ok_or(HttpError::new(
        ErrorKind::Unsupported,
        "only http:// URLs are supported",
    ))?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |at| rest.split_at(at));
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse()
                .map_err(|_| HttpError::new(ErrorKind::InvalidInput, "bad port in the URL"))?,
        ),
        None => (authority, 80),
    };
    let address = host.parse().map_err(|_| {
        HttpError::new(
            ErrorKind::InvalidInput,
            "the URL's host must be an IPv4 address (no DNS here)",
        )
    })?;
    Ok((address, port, authority, path))
}

/// Appends to a fixed request buffer.
struct RequestWriter {
    bytes: [u8; REQUEST_BYTES],
    len: usize,
}

impl RequestWriter {
    fn put(&mut self, parts: &[&str]) -> Result<(), HttpError> {
        for part in parts {
            let end = self.len + part.len();
            let to = self.bytes.get_mut(self.len..end).ok_or(HttpError::new(
                ErrorKind::InvalidInput,
                "the request head is longer than 1024 bytes",
            ))?;
            to.copy_from_slice(part.as_bytes());
            self.len = end;
        }
        Ok(())
    }
}

impl Status for HttpConnection<'_> {
    fn status(&self) -> u16 {
        self.head.status()
    }

    fn status_message(&self) -> Option<&'_ str> {
        self.head.status_message()
    }
}

impl Headers for HttpConnection<'_> {
    fn header(&self, name: &str) -> Option<&'_ str> {
        self.head.header(name)
    }
}

impl ErrorType for HttpConnection<'_> {
    type Error = HttpError;
}

impl Read for HttpConnection<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, HttpError> {
        if self.phase != Phase::Response {
            return Err(HttpError::new(ErrorKind::Other, "no response to read"));
        }
        self.body.read(buf)
    }
}

impl Write for HttpConnection<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, HttpError> {
        if self.phase != Phase::Request {
            return Err(HttpError::new(ErrorKind::Other, "no request to write"));
        }
        let deadline = clock::uptime_ms() + self.body.read_timeout_ms;
        self.net
            .borrow_mut()
            .send_all(buf, deadline)
            .map_err(|e| HttpError::net(e, "write"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), HttpError> {
        Ok(())
    }
}

impl<'n> Connection for HttpConnection<'n> {
    type Headers = ResponseHead;
    type Read = Body<'n>;
    type RawConnectionError = HttpError;
    type RawConnection = Self;

    #[inline(never)]
    fn initiate_request<'a>(
        &'a mut self,
        method: Method,
        uri: &'a str,
        headers: &'a [(&'a str, &'a str)],
    ) -> Result<(), HttpError> {
        self.finish();
        let (address, port, authority, path) = split_url(uri)?;
        if address != GATEWAY {
            return Err(HttpError::new(
                ErrorKind::AddrNotAvailable,
                "only QEMU's host alias 10.0.2.2 is reachable",
            ));
        }
        let mut request = RequestWriter {
            bytes: [0; REQUEST_BYTES],
            len: 0,
        };
        let method = match method {
            Method::Get => "GET",
            Method::Head => "HEAD",
            _ => {
                return Err(HttpError::new(
                    ErrorKind::Unsupported,
                    "only GET and HEAD are supported",
                ));
            }
        };
        request.put(&[method, " ", path, " HTTP/1.1\r\nHost: ", authority, "\r\n"])?;
        for (name, value) in headers {
            request.put(&[name, ": ", value, "\r\n"])?;
        }
        request.put(&["Connection: close\r\n\r\n"])?;
        let deadline = clock::uptime_ms() + self.connect_timeout_ms;
        let mut net = self.net.borrow_mut();
        net.connect(address, port, deadline)
            .map_err(|e| HttpError::net(e, "connect"))?;
        self.phase = Phase::Request;
        let deadline = clock::uptime_ms() + self.body.read_timeout_ms;
        net.send_all(&request.bytes[..request.len], deadline)
            .map_err(|e| HttpError::net(e, "write"))
    }

    fn is_request_initiated(&self) -> bool {
        self.phase == Phase::Request
    }

    fn initiate_response(&mut self) -> Result<(), HttpError> {
        if self.phase != Phase::Request {
            return Err(HttpError::new(ErrorKind::Other, "no request was sent"));
        }
        self.read_head()?;
        self.phase = Phase::Response;
        Ok(())
    }

    fn is_response_initiated(&self) -> bool {
        self.phase == Phase::Response
    }

    fn split(&mut self) -> (&Self::Headers, &mut Self::Read) {
        (&self.head, &mut self.body)
    }

    fn raw_connection(&mut self) -> Result<&mut Self::RawConnection, HttpError> {
        Err(HttpError::new(
            ErrorKind::Unsupported,
            "no raw access to the connection",
        ))
    }
}
