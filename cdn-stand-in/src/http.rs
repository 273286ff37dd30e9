//! The little HTTP/1.1 both servers need: reading a request head and writing
//! a response head.

use std::io::{self, Read, Write};

/// Largest request head accepted (request line plus headers).
const MAX_HEAD: usize = 64 * 1024;

/// A parsed request line and header block.
#[derive(Debug, Clone)]
pub(crate) struct RequestHead {
    pub(crate) method: String,
    /// The request target exactly as sent (origin-form, absolute-form or
    /// authority-form).
    pub(crate) target: String,
    /// Header names lower-cased, values trimmed, in arrival order.
    pub(crate) headers: Vec<(String, String)>,
}

impl RequestHead {
    /// The first value of header `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The declared request body length (0 without `Content-Length`).
    pub(crate) fn content_length(&self) -> io::Result<u64> {
        self.header("content-length").map_or(Ok(0), |v| {
            v.parse()
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length"))
        })
    }
}

/// The first value of header `name` (case-insensitive) in `headers`.
pub(crate) fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Reads one request head from `stream`.
///
/// Returns the head and whatever bytes were read past its end (the start of
/// a body, or of tunnelled data), or `Ok(None)` if the peer closed the
/// connection before sending anything.
pub(crate) fn read_head(stream: &mut impl Read) -> io::Result<Option<(RequestHead, Vec<u8>)>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    let mut scanned = 0;
    loop {
        if let Some(end) = head_end(&buf, scanned) {
            let rest = buf.split_off(end);
            return parse_head(&buf).map(|head| Some((head, rest)));
        }
        scanned = buf.len().saturating_sub(3);
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}

/// The index just past the first `\r\n\r\n` at or after `from`.
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| from + p + 4)
}

fn parse_head(raw: &[u8]) -> io::Result<RequestHead> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let text = std::str::from_utf8(raw).map_err(|_| bad("request head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ').filter(|p| !p.is_empty());
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("malformed request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(bad("unsupported HTTP version"));
    }
    let mut headers = Vec::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad("malformed header"))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    Ok(RequestHead {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
    })
}

/// Reads and discards the rest of the request body (`already` bytes of it
/// were read with the head), so closing the socket afterwards is a normal
/// close rather than a reset caused by unread data.
pub(crate) fn discard_body(
    stream: &mut impl Read,
    head: &RequestHead,
    already: usize,
) -> io::Result<()> {
    let remaining = head
        .content_length()?
        .saturating_sub(u64::try_from(already).unwrap_or(u64::MAX));
    let copied = io::copy(&mut stream.take(remaining), &mut io::sink())?;
    if copied < remaining {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

/// The reason phrase for `status`.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Whether a response with `status` never carries a body.
pub(crate) fn status_has_no_body(status: u16) -> bool {
    (100..200).contains(&status) || status == 204 || status == 304
}

/// A response head: status line, `headers`, `Content-Length` (when given)
/// and `Connection: close`.
pub(crate) fn response_head(
    status: u16,
    headers: &[(&str, &str)],
    content_length: Option<usize>,
) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    if let Some(len) = content_length {
        head.push_str("Content-Length: ");
        head.push_str(&len.to_string());
        head.push_str("\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    head.into_bytes()
}

/// Writes a complete response with `body` (omitted for bodiless statuses).
pub(crate) fn write_response(
    w: &mut impl Write,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<()> {
    if status_has_no_body(status) {
        w.write_all(&response_head(status, headers, None))?;
    } else {
        let mut out = response_head(status, headers, Some(body.len()));
        out.extend_from_slice(body);
        w.write_all(&out)?;
    }
    w.flush()
}

/// Writes a short `text/plain` response.
pub(crate) fn write_text(
    w: &mut impl Write,
    status: u16,
    extra_headers: &[(&str, &str)],
    text: &str,
) -> io::Result<()> {
    let mut headers = vec![("Content-Type", "text/plain; charset=utf-8")];
    headers.extend_from_slice(extra_headers);
    write_response(w, status, &headers, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::read_head;

    #[test]
    fn parses_head_and_keeps_rest() {
        let raw = b"GET /a?b HTTP/1.1\r\nHost: x\r\nIf-None-Match:  \"v1\" \r\n\r\nBODY";
        let (head, rest) = read_head(&mut &raw[..]).unwrap().unwrap();
        assert_eq!(head.method, "GET");
        assert_eq!(head.target, "/a?b");
        assert_eq!(head.header("if-none-match"), Some("\"v1\""));
        assert_eq!(head.header("HOST"), Some("x"));
        assert_eq!(rest, b"BODY");
    }

    #[test]
    fn rejects_malformed() {
        assert!(read_head(&mut &b"GET /\r\n\r\n"[..]).is_err());
        assert!(read_head(&mut &b"GET / HTTP/1.1\r\nHost"[..]).is_err());
        assert!(read_head(&mut &b""[..]).unwrap().is_none());
    }
}
