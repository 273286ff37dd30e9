//! A loopback-only HTTP forward proxy.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crate::base64;
use crate::http::{self, RequestHead};
use crate::server::{ConnGuard, IO_TIMEOUT, Server, ServerCtx, lock};

/// Connect timeout towards a target.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The `Proxy-Authorization` value for Basic credentials:
/// `Basic base64(user:password)`.
pub fn basic_authorization(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::encode(format!("{user}:{password}").as_bytes())
    )
}

#[derive(Debug, Default)]
struct Log {
    authorizations: Vec<Option<String>>,
    targets: Vec<String>,
}

#[derive(Debug)]
struct Shared {
    credentials: Option<(String, String)>,
    log: Mutex<Log>,
}

/// An HTTP forward proxy on `127.0.0.1` that only ever connects to
/// `127.0.0.1` / `localhost` targets.
///
/// It handles one request per client connection:
/// - `CONNECT host:port`: answers `HTTP/1.1 200 Connection established` and
///   pipes bytes both ways; a half-close from either side is passed on, and
///   the tunnel ends when both directions have ended (or on an error).
/// - absolute-form requests (`GET http://host:port/path HTTP/1.1`): forwards
///   the request in origin-form with `Connection: close` and without the
///   `Proxy-Authorization` / `Proxy-Connection` headers, then relays the
///   target's response byte for byte.
///
/// Answers: `407` (with `Proxy-Authenticate: Basic`) when credentials are
/// required and the request lacks them or has wrong ones; `403` for a target
/// other than `127.0.0.1` / `localhost`; `400` for origin-form or malformed
/// requests; `502` when the target cannot be reached. A connection or tunnel
/// on which nothing moves for 60 s is closed. Dropping the proxy closes every
/// connection and tunnel at once and joins its threads.
#[derive(Debug)]
pub struct HttpProxy {
    shared: Arc<Shared>,
    server: Server,
}

impl HttpProxy {
    /// Starts a forward proxy on `127.0.0.1:0`. With
    /// `credentials = Some((user, password))` every request must carry
    /// `Proxy-Authorization: Basic base64(user:password)`, or it is answered
    /// with `407`.
    pub fn start(credentials: Option<(String, String)>) -> io::Result<Self> {
        let shared = Arc::new(Shared {
            credentials,
            log: Mutex::new(Log::default()),
        });
        let handler_shared = Arc::clone(&shared);
        let server = Server::start(
            "http-proxy",
            Arc::new(move |stream, ctx: &Arc<ServerCtx>| serve(&handler_shared, stream, ctx)),
        )?;
        Ok(Self { shared, server })
    }

    /// The proxy URL to configure a client with: `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// The number of proxy requests received so far (`CONNECT` or
    /// absolute-form, refused ones included; requests made inside a tunnel
    /// are not seen by the proxy).
    pub fn request_count(&self) -> usize {
        lock(&self.shared.log).authorizations.len()
    }

    /// The `Proxy-Authorization` values received, one per request in
    /// arrival order (`None` for a request without one).
    pub fn authorizations(&self) -> Vec<Option<String>> {
        lock(&self.shared.log).authorizations.clone()
    }

    /// The request line of each proxy request, in arrival order, e.g.
    /// `CONNECT 127.0.0.1:4242` or `GET http://127.0.0.1:4242/path`.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.shared.log).targets.clone()
    }
}

fn serve(shared: &Shared, mut client: TcpStream, ctx: &Arc<ServerCtx>) {
    let Ok(Some((head, rest))) = http::read_head(&mut client) else {
        return;
    };
    let authorization = head.header("proxy-authorization").map(str::to_owned);
    {
        let mut log = lock(&shared.log);
        log.targets.push(format!("{} {}", head.method, head.target));
        log.authorizations.push(authorization.clone());
    }
    if let Some((user, password)) = &shared.credentials {
        if !authorized(authorization.as_deref(), user, password) {
            let _ = discard_and_reply(
                &mut client,
                &head,
                rest.len(),
                407,
                &[("Proxy-Authenticate", "Basic realm=\"cdn-stand-in\"")],
                "proxy authentication required\n",
            );
            return;
        }
    }
    let _ = if head.method.eq_ignore_ascii_case("CONNECT") {
        tunnel(client, &head, &rest, ctx)
    } else {
        forward(&mut client, &head, &rest, ctx)
    };
}

/// Whether a `Proxy-Authorization` value carries exactly `user:password`.
fn authorized(value: Option<&str>, user: &str, password: &str) -> bool {
    let Some((scheme, token)) = value.and_then(|v| v.trim().split_once(' ')) else {
        return false;
    };
    scheme.eq_ignore_ascii_case("basic")
        && base64::decode(token.trim())
            .is_some_and(|decoded| decoded == format!("{user}:{password}").as_bytes())
}

/// Why a target is not served.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// Not loopback: 403.
    Forbidden,
    /// Unparseable: 400.
    Malformed,
}

/// Resolves an authority (`host[:port]`) to a loopback address, refusing
/// every host other than `127.0.0.1` and `localhost`.
fn loopback_target(authority: &str, default_port: Option<u16>) -> Result<SocketAddr, Refusal> {
    if authority.contains('@') {
        return Err(Refusal::Malformed);
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or(Refusal::Malformed)?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(port) => port.parse::<u16>().map_err(|_| Refusal::Malformed)?,
        None => default_port.ok_or(Refusal::Malformed)?,
    };
    if host.is_empty() {
        return Err(Refusal::Malformed);
    }
    if host != "127.0.0.1" && !host.eq_ignore_ascii_case("localhost") {
        return Err(Refusal::Forbidden);
    }
    if port == 0 {
        return Err(Refusal::Malformed);
    }
    Ok(SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)))
}

fn refuse(
    client: &mut TcpStream,
    head: &RequestHead,
    already: usize,
    refusal: &Refusal,
) -> io::Result<()> {
    let (status, text) = match refusal {
        Refusal::Forbidden => (
            403,
            "the stand-in proxy only reaches 127.0.0.1 / localhost\n",
        ),
        Refusal::Malformed => (400, "malformed proxy request target\n"),
    };
    discard_and_reply(client, head, already, status, &[], text)
}

/// Reads the rest of any request body (so closing does not reset the
/// connection), then replies with a short text.
fn discard_and_reply(
    client: &mut TcpStream,
    head: &RequestHead,
    already: usize,
    status: u16,
    headers: &[(&str, &str)],
    text: &str,
) -> io::Result<()> {
    if !head.method.eq_ignore_ascii_case("CONNECT") {
        http::discard_body(client, head, already)?;
    }
    http::write_text(client, status, headers, text)
}

/// Connects to `addr`, registering the stream for shutdown.
fn connect(addr: SocketAddr, ctx: &Arc<ServerCtx>) -> io::Result<(TcpStream, ConnGuard)> {
    let target = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
    let _ = target.set_nodelay(true);
    target.set_read_timeout(Some(IO_TIMEOUT))?;
    target.set_write_timeout(Some(IO_TIMEOUT))?;
    let guard = ctx
        .register(&target)
        .ok_or_else(|| io::Error::new(io::ErrorKind::Interrupted, "proxy shutting down"))?;
    Ok((target, guard))
}

fn tunnel(
    mut client: TcpStream,
    head: &RequestHead,
    rest: &[u8],
    ctx: &Arc<ServerCtx>,
) -> io::Result<()> {
    let addr = match loopback_target(&head.target, None) {
        Ok(addr) => addr,
        Err(refusal) => return refuse(&mut client, head, rest.len(), &refusal),
    };
    let Ok((mut target, _guard)) = connect(addr, ctx) else {
        return http::write_text(&mut client, 502, &[], "cannot reach the target\n");
    };
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    client.flush()?;
    if !rest.is_empty() {
        target.write_all(rest)?;
    }
    let upstream = (client.try_clone()?, target.try_clone()?);
    let up = thread::Builder::new()
        .name("http-proxy-tunnel".to_owned())
        .spawn(move || {
            let (mut from, mut to) = upstream;
            pipe(&mut from, &mut to);
        });
    pipe(&mut target, &mut client);
    match up {
        Ok(up) => {
            let _ = up.join();
        }
        Err(_) => {
            let _ = client.shutdown(Shutdown::Both);
            let _ = target.shutdown(Shutdown::Both);
        }
    }
    Ok(())
}

/// Copies `from` to `to` until `from` ends; passes an end of stream on as a
/// half-close, and an error as a full close of both sides.
fn pipe(from: &mut TcpStream, to: &mut TcpStream) {
    let mut buf = [0u8; 8192];
    loop {
        match from.read(&mut buf) {
            Ok(0) => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => {
                let sent = buf
                    .get(..n)
                    .map_or(Ok(()), |data| to.write_all(data).and_then(|()| to.flush()));
                if sent.is_err() {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

/// Splits an absolute-form `http://authority/path` target.
fn split_absolute(target: &str) -> Option<(&str, &str)> {
    let scheme_end = target.find("://")?;
    let scheme = target.get(..scheme_end)?;
    if !scheme.eq_ignore_ascii_case("http") {
        return None;
    }
    let after = target.get(scheme_end + 3..)?;
    let path_start = after.find(['/', '?']).unwrap_or(after.len());
    let authority = after.get(..path_start)?;
    let path = after.get(path_start..)?;
    Some((authority, path))
}

fn forward(
    client: &mut TcpStream,
    head: &RequestHead,
    rest: &[u8],
    ctx: &Arc<ServerCtx>,
) -> io::Result<()> {
    let Some((authority, path)) = split_absolute(&head.target) else {
        return refuse(client, head, rest.len(), &Refusal::Malformed);
    };
    let addr = match loopback_target(authority, Some(80)) {
        Ok(addr) => addr,
        Err(refusal) => return refuse(client, head, rest.len(), &refusal),
    };
    if head.header("transfer-encoding").is_some() {
        return http::write_text(
            client,
            501,
            &[],
            "chunked request bodies are not supported\n",
        );
    }
    let Ok((mut target, _guard)) = connect(addr, ctx) else {
        http::discard_body(client, head, rest.len())?;
        return http::write_text(client, 502, &[], "cannot reach the target\n");
    };

    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let mut out = format!("{} {path} HTTP/1.1\r\n", head.method);
    if head.header("host").is_none() {
        out.push_str(&format!("host: {authority}\r\n"));
    }
    for (name, value) in &head.headers {
        if matches!(
            name.as_str(),
            "proxy-authorization" | "proxy-connection" | "connection" | "keep-alive"
        ) {
            continue;
        }
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("connection: close\r\n\r\n");
    target.write_all(out.as_bytes())?;

    let length = head.content_length()?;
    let already = u64::try_from(rest.len()).unwrap_or(u64::MAX);
    let in_head = rest
        .get(
            ..usize::try_from(length)
                .unwrap_or(usize::MAX)
                .min(rest.len()),
        )
        .unwrap_or_default();
    target.write_all(in_head)?;
    io::copy(
        &mut client.take(length.saturating_sub(already)),
        &mut target,
    )?;
    target.flush()?;

    io::copy(&mut target, client)?;
    client.flush()
}

#[cfg(test)]
mod tests {
    use super::{Refusal, authorized, basic_authorization, loopback_target, split_absolute};

    #[test]
    fn targets() {
        assert!(loopback_target("127.0.0.1:8080", None).is_ok());
        assert!(loopback_target("LOCALHOST:8080", None).is_ok());
        assert_eq!(
            loopback_target("localhost", Some(80)).map(|a| a.port()),
            Ok(80)
        );
        assert_eq!(loopback_target("localhost", None), Err(Refusal::Malformed));
        assert_eq!(
            loopback_target("example.com:443", None),
            Err(Refusal::Forbidden)
        );
        assert_eq!(
            loopback_target("127.0.0.2:443", None),
            Err(Refusal::Forbidden)
        );
        assert_eq!(loopback_target("[::1]:443", None), Err(Refusal::Forbidden));
        assert_eq!(
            loopback_target("u@127.0.0.1:1", None),
            Err(Refusal::Malformed)
        );
        assert_eq!(
            loopback_target("127.0.0.1:x", None),
            Err(Refusal::Malformed)
        );
    }

    #[test]
    fn absolute_form() {
        assert_eq!(
            split_absolute("http://127.0.0.1:1/a/b?c"),
            Some(("127.0.0.1:1", "/a/b?c"))
        );
        assert_eq!(split_absolute("HTTP://h"), Some(("h", "")));
        assert_eq!(split_absolute("https://h/"), None);
        assert_eq!(split_absolute("/a"), None);
    }

    #[test]
    fn basic_auth() {
        let value = basic_authorization("user", "p:ss");
        assert!(authorized(Some(&value), "user", "p:ss"));
        assert!(authorized(Some("basic dXNlcjpwOnNz"), "user", "p:ss"));
        assert!(!authorized(Some(&value), "user", "pass"));
        assert!(!authorized(Some("Bearer dXNlcjpwOnNz"), "user", "p:ss"));
        assert!(!authorized(None, "user", "p:ss"));
    }
}
