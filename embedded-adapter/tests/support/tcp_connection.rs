//! A blocking `embedded_svc::http::client::Connection` over a plain
//! `std::net::TcpStream`: the host's stand-in for esp-idf-svc's
//! `EspHttpConnection`, so host tests and the host example drive the client
//! through the same trait a device does.
//!
//! Minimal HTTP/1.1 by design: `http://` URLs with an IP address or
//! `localhost`, one request per TCP connection (`Connection: close`), a body
//! delimited by `Content-Length` or by the end of the connection (no chunked
//! encoding). Like `EspHttpConnection`, it can be used for another request
//! once a response has been initiated, and it must not be asked to start one
//! while a request is half made. Test and example code only.

use std::fmt;
use std::io::{self, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use embedded_svc::http::client::Connection;
use embedded_svc::http::{Headers, Method, Status};
use embedded_svc::io::{ErrorKind, ErrorType, Read, Write};

/// Largest response head accepted.
const MAX_HEAD: usize = 16 * 1024;

/// An I/O failure, with the `embedded_io` kind the client classifies by.
#[derive(Debug)]
pub(crate) struct TcpError {
    kind: ErrorKind,
    message: String,
}

impl TcpError {
    fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl From<io::Error> for TcpError {
    fn from(error: io::Error) -> Self {
        let kind = match error.kind() {
            // A socket read timeout is `WouldBlock` on Unix, `TimedOut` on Windows.
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ErrorKind::TimedOut,
            io::ErrorKind::ConnectionRefused => ErrorKind::ConnectionRefused,
            io::ErrorKind::ConnectionReset => ErrorKind::ConnectionReset,
            io::ErrorKind::ConnectionAborted => ErrorKind::ConnectionAborted,
            io::ErrorKind::NotConnected => ErrorKind::NotConnected,
            io::ErrorKind::AddrNotAvailable => ErrorKind::AddrNotAvailable,
            io::ErrorKind::BrokenPipe => ErrorKind::BrokenPipe,
            io::ErrorKind::InvalidData => ErrorKind::InvalidData,
            _ => ErrorKind::Other,
        };
        Self::new(kind, error.to_string())
    }
}

impl fmt::Display for TcpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TcpError {}

impl embedded_svc::io::Error for TcpError {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
}

/// Status and headers of the current response.
#[derive(Debug, Default)]
pub(crate) struct ResponseHead {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Status for ResponseHead {
    fn status(&self) -> u16 {
        self.status
    }

    fn status_message(&self) -> Option<&'_ str> {
        None
    }
}

impl Headers for ResponseHead {
    fn header(&self, name: &str) -> Option<&'_ str> {
        self.headers
            .iter()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// The body of the current response: bytes read past the head first, then
/// the socket, up to `Content-Length` when there is one.
#[derive(Debug, Default)]
pub(crate) struct BodyReader {
    stream: Option<TcpStream>,
    buffered: Vec<u8>,
    position: usize,
    remaining: Option<u64>,
}

impl ErrorType for BodyReader {
    type Error = TcpError;
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, TcpError> {
        let allowed = self.remaining.map_or(buf.len(), |left| {
            buf.len().min(usize::try_from(left).unwrap_or(usize::MAX))
        });
        let Some(buf) = buf.get_mut(..allowed) else {
            return Ok(0);
        };
        if buf.is_empty() {
            return Ok(0);
        }
        let pending = self.buffered.get(self.position..).unwrap_or_default();
        let read = if pending.is_empty() {
            match &mut self.stream {
                Some(stream) => stream.read(buf)?,
                None => 0,
            }
        } else {
            let n = pending.len().min(buf.len());
            if let (Some(to), Some(from)) = (buf.get_mut(..n), pending.get(..n)) {
                to.copy_from_slice(from);
            }
            self.position += n;
            n
        };
        if let Some(left) = &mut self.remaining {
            *left = left.saturating_sub(read as u64);
        }
        Ok(read)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Request,
    Response,
}

/// The connection. See the module docs.
#[derive(Debug)]
pub(crate) struct TcpConnection {
    timeout: Duration,
    phase: Phase,
    head: ResponseHead,
    body: BodyReader,
}

impl TcpConnection {
    /// A connection whose connect, read and write timeouts are `timeout`.
    pub(crate) fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            phase: Phase::Idle,
            head: ResponseHead::default(),
            body: BodyReader::default(),
        }
    }

    fn open(&self, uri: &str) -> Result<(TcpStream, String, String), TcpError> {
        let rest = uri.strip_prefix("http://").ok_or_else(|| {
            TcpError::new(ErrorKind::Unsupported, format!("not an http:// URL: {uri}"))
        })?;
        let (authority, path) = rest.find('/').map_or((rest, "/"), |at| rest.split_at(at));
        let addresses: Vec<SocketAddr> = authority
            .to_socket_addrs()
            .map_err(|error| TcpError::new(ErrorKind::NotConnected, error.to_string()))?
            .collect();
        let mut last_error = TcpError::new(
            ErrorKind::NotConnected,
            format!("no address for {authority}"),
        );
        for address in addresses {
            match TcpStream::connect_timeout(&address, self.timeout) {
                Ok(stream) => {
                    stream.set_read_timeout(Some(self.timeout))?;
                    stream.set_write_timeout(Some(self.timeout))?;
                    return Ok((stream, authority.to_owned(), path.to_owned()));
                }
                Err(error) => last_error = error.into(),
            }
        }
        Err(last_error)
    }

    fn read_head(stream: &mut TcpStream) -> Result<(ResponseHead, Vec<u8>), TcpError> {
        let mut buffer = Vec::with_capacity(1024);
        let mut chunk = [0_u8; 1024];
        let end = loop {
            if let Some(at) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
                break at + 4;
            }
            if buffer.len() > MAX_HEAD {
                return Err(TcpError::new(
                    ErrorKind::InvalidData,
                    "response head too large",
                ));
            }
            let read = stream.read(&mut chunk)?;
            if read == 0 {
                return Err(TcpError::new(
                    ErrorKind::ConnectionAborted,
                    "the server closed the connection before a response",
                ));
            }
            buffer.extend_from_slice(chunk.get(..read).unwrap_or_default());
        };
        let rest = buffer.split_off(end);
        let text = String::from_utf8(buffer)
            .map_err(|_| TcpError::new(ErrorKind::InvalidData, "response head is not UTF-8"))?;
        let mut lines = text.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| TcpError::new(ErrorKind::InvalidData, "malformed status line"))?;
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
            .collect();
        Ok((ResponseHead { status, headers }, rest))
    }
}

impl Status for TcpConnection {
    fn status(&self) -> u16 {
        self.head.status()
    }

    fn status_message(&self) -> Option<&'_ str> {
        None
    }
}

impl Headers for TcpConnection {
    fn header(&self, name: &str) -> Option<&'_ str> {
        self.head.header(name)
    }
}

impl ErrorType for TcpConnection {
    type Error = TcpError;
}

impl Read for TcpConnection {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, TcpError> {
        if self.phase != Phase::Response {
            return Err(TcpError::new(ErrorKind::Other, "no response to read"));
        }
        self.body.read(buf)
    }
}

impl Write for TcpConnection {
    fn write(&mut self, _buf: &[u8]) -> Result<usize, TcpError> {
        Err(TcpError::new(
            ErrorKind::Unsupported,
            "request bodies are not supported",
        ))
    }

    fn flush(&mut self) -> Result<(), TcpError> {
        Ok(())
    }
}

impl Connection for TcpConnection {
    type Headers = ResponseHead;
    type Read = BodyReader;
    type RawConnectionError = TcpError;
    type RawConnection = Self;

    fn initiate_request<'a>(
        &'a mut self,
        method: Method,
        uri: &'a str,
        headers: &'a [(&'a str, &'a str)],
    ) -> Result<(), TcpError> {
        if self.phase == Phase::Request {
            return Err(TcpError::new(
                ErrorKind::Other,
                "a request is already initiated",
            ));
        }
        self.phase = Phase::Idle;
        self.body = BodyReader::default();
        if method != Method::Get {
            return Err(TcpError::new(
                ErrorKind::Unsupported,
                "only GET is supported",
            ));
        }
        let (mut stream, authority, path) = self.open(uri)?;
        let mut request =
            format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes())?;
        self.body.stream = Some(stream);
        self.phase = Phase::Request;
        Ok(())
    }

    fn is_request_initiated(&self) -> bool {
        self.phase == Phase::Request
    }

    fn initiate_response(&mut self) -> Result<(), TcpError> {
        if self.phase != Phase::Request {
            return Err(TcpError::new(ErrorKind::Other, "no request initiated"));
        }
        let stream = self
            .body
            .stream
            .as_mut()
            .ok_or_else(|| TcpError::new(ErrorKind::NotConnected, "not connected"))?;
        let (head, rest) = Self::read_head(stream)?;
        self.body.remaining = head
            .header("Content-Length")
            .and_then(|length| length.parse().ok());
        self.body.buffered = rest;
        self.body.position = 0;
        self.head = head;
        self.phase = Phase::Response;
        Ok(())
    }

    fn is_response_initiated(&self) -> bool {
        self.phase == Phase::Response
    }

    fn split(&mut self) -> (&Self::Headers, &mut Self::Read) {
        (&self.head, &mut self.body)
    }

    fn raw_connection(&mut self) -> Result<&mut Self::RawConnection, TcpError> {
        Err(TcpError::new(ErrorKind::Unsupported, "no raw connection"))
    }
}
