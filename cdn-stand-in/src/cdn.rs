//! The CDN stand-in.

use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::http::{self, RequestHead};
use crate::server::{self, Server, ServerCtx, lock};

/// Bytes per write of [`Fault::SlowBody`].
const SLOW_CHUNK: usize = 4;

/// How long [`Fault::ResetMidBody`] waits after sending half the body before
/// resetting, so the half reaches the client before the reset does.
const RESET_GRACE: Duration = Duration::from_millis(50);

/// The ETag sent with a [`Fault::Body`] response; it never equals the ETag
/// of a config set with [`CdnStandIn::set_config`].
const FAULT_BODY_ETAG: &str = "\"fault-body\"";

/// A misbehaviour injected by [`CdnStandIn::set_fault`] or
/// [`CdnStandIn::set_fault_for`].
///
/// A fault replaces the normal answer to every request, whatever its path.
/// The body faults ([`SlowBody`](Self::SlowBody),
/// [`ResetMidBody`](Self::ResetMidBody),
/// [`TruncatedBody`](Self::TruncatedBody)) deliver the current config as a
/// `200` with its ETag, ignoring `If-None-Match`, so there is always a body
/// to break; with no config set they deliver the `404` text instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Respond with this status and a short `text/plain` body.
    Status(u16),
    /// Respond `200` with exactly these bytes (for example invalid JSON) and
    /// the ETag `"fault-body"`.
    Body(Vec<u8>),
    /// Read the request, send nothing for this long, then close the
    /// connection (a dropped stand-in ends the stall at once).
    Stall(Duration),
    /// Respond `200` with the current config, sending the head at once and
    /// then the body 4 bytes at a time, waiting `chunk_delay` before each
    /// chunk.
    SlowBody {
        /// The pause before each 4-byte chunk of the body.
        chunk_delay: Duration,
    },
    /// Send a head announcing the full `Content-Length`, half the body, and
    /// then reset the connection (an abortive close: `SO_LINGER` 0, so the
    /// client sees a TCP RST).
    ResetMidBody,
    /// Send a head announcing the full `Content-Length`, half the body, and
    /// then close the connection normally (a FIN).
    TruncatedBody,
}

/// A request received by the stand-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The request method, e.g. `GET`.
    pub method: String,
    /// The request target as sent, e.g.
    /// `/configuration-files/<sdk key>/config_v6.json` (with any query).
    pub path: String,
    /// The headers in arrival order: names lower-cased, values trimmed.
    pub headers: Vec<(String, String)>,
}

impl RecordedRequest {
    /// The first value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        http::find_header(&self.headers, name)
    }
}

#[derive(Debug, Clone)]
struct ServedConfig {
    body: Vec<u8>,
    etag: String,
}

#[derive(Debug)]
struct ActiveFault {
    fault: Fault,
    /// `None`: until cleared; `Some(n)`: for `n` more requests.
    remaining: Option<usize>,
}

#[derive(Debug, Default)]
struct State {
    config: Option<ServedConfig>,
    versions: u64,
    fault: Option<ActiveFault>,
    requests: Vec<RecordedRequest>,
    /// Requests dropped from `requests` by [`CdnStandIn::forget_requests`];
    /// they still count.
    forgotten: usize,
}

impl State {
    /// Requests received so far, forgotten ones included.
    fn request_count(&self) -> usize {
        self.forgotten + self.requests.len()
    }

    /// The fault for the request being served, counting it down.
    fn take_fault(&mut self) -> Option<Fault> {
        let active = self.fault.as_mut()?;
        let fault = active.fault.clone();
        if let Some(left) = active.remaining.as_mut() {
            *left = left.saturating_sub(1);
            if *left == 0 {
                self.fault = None;
            }
        }
        Some(fault)
    }
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    /// Notified whenever a request is recorded.
    requests_changed: Condvar,
}

/// A stand-in for ConfigCat's CDN on `127.0.0.1`.
///
/// It serves the config set with [`set_config`](Self::set_config) at every
/// `/configuration-files/<sdk key>/config_v6.json` path (the SDK key may
/// contain `/`, as `configcat-sdk-1/…/…` keys do) to `GET` and `HEAD`
/// requests, with an ETag, and answers `304 Not Modified` when
/// `If-None-Match` holds the current ETag. Other paths, and config paths
/// while no config is set, get `404`; other methods get `405`. Every
/// response closes the connection.
///
/// Every request is recorded (see [`requests`](Self::requests)), and a
/// [`Fault`] can replace the normal answers. Dropping the stand-in closes
/// all connections (ending stalls and slow bodies at once) and joins its
/// threads.
#[derive(Debug)]
pub struct CdnStandIn {
    shared: Arc<Shared>,
    server: Server,
}

impl CdnStandIn {
    /// Binds `127.0.0.1:0` (never any other address) and serves in
    /// background threads.
    pub fn start() -> io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let handler_shared = Arc::clone(&shared);
        let server = Server::start(
            "cdn-stand-in",
            Arc::new(move |stream, ctx: &Arc<ServerCtx>| serve(&handler_shared, stream, ctx)),
        )?;
        Ok(Self { shared, server })
    }

    /// The base URL to configure a client with: `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// The full config URL for `sdk_key`:
    /// `<base_url>/configuration-files/<sdk_key>/config_v6.json`.
    pub fn config_url(&self, sdk_key: &str) -> String {
        format!(
            "{}/configuration-files/{sdk_key}/config_v6.json",
            self.base_url()
        )
    }

    /// Serves `json` (any text, valid JSON or not) at every config path from
    /// now on, under a fresh ETag, which is returned: `"v1"` for the first
    /// call, `"v2"` for the next and so on (quotes included).
    pub fn set_config(&self, json: &str) -> String {
        let mut state = lock(&self.shared.state);
        state.versions += 1;
        let etag = format!("\"v{}\"", state.versions);
        state.config = Some(ServedConfig {
            body: json.as_bytes().to_vec(),
            etag: etag.clone(),
        });
        etag
    }

    /// Stops serving a config: config paths get `404` again.
    pub fn clear_config(&self) {
        lock(&self.shared.state).config = None;
    }

    /// The ETag of the config being served, if any.
    pub fn current_etag(&self) -> Option<String> {
        lock(&self.shared.state)
            .config
            .as_ref()
            .map(|c| c.etag.clone())
    }

    /// Answers every request with `fault` until [`clear_fault`](Self::clear_fault)
    /// (or another `set_fault*`) is called.
    pub fn set_fault(&self, fault: Fault) {
        lock(&self.shared.state).fault = Some(ActiveFault {
            fault,
            remaining: None,
        });
    }

    /// Answers just the next `n` requests with `fault`, then serves normally
    /// again. `n == 0` clears any fault.
    pub fn set_fault_for(&self, fault: Fault, n: usize) {
        lock(&self.shared.state).fault = (n > 0).then_some(ActiveFault {
            fault,
            remaining: Some(n),
        });
    }

    /// Goes back to serving normally.
    pub fn clear_fault(&self) {
        lock(&self.shared.state).fault = None;
    }

    /// The number of requests received so far, on any path (a request counts
    /// once its head has been read, before it is answered). Forgotten
    /// requests still count.
    pub fn request_count(&self) -> usize {
        lock(&self.shared.state).request_count()
    }

    /// The requests received so far (since the last
    /// [`forget_requests`](Self::forget_requests)), in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.state).requests.clone()
    }

    /// Drops the recorded requests and their memory; they still count in
    /// [`request_count`](Self::request_count) and
    /// [`wait_for_requests`](Self::wait_for_requests). For long runs that
    /// measure the heap of the process: the record would grow with every
    /// request.
    pub fn forget_requests(&self) {
        let mut state = lock(&self.shared.state);
        state.forgotten += state.requests.len();
        state.requests = Vec::new();
    }

    /// Blocks until at least `n` requests have been received or `timeout`
    /// has passed; returns whether `n` was reached.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut state = lock(&self.shared.state);
        loop {
            if state.request_count() >= n {
                return true;
            }
            let left = server::remaining(deadline);
            if left.is_zero() {
                return false;
            }
            state = server::wait_timeout(&self.shared.requests_changed, state, left);
        }
    }
}

/// Serves one connection: one request, one response, close.
fn serve(shared: &Shared, mut stream: TcpStream, ctx: &Arc<ServerCtx>) {
    let Ok(Some((head, rest))) = http::read_head(&mut stream) else {
        return;
    };
    if http::discard_body(&mut stream, &head, rest.len()).is_err() {
        return;
    }
    let (fault, config) = {
        let mut state = lock(&shared.state);
        state.requests.push(RecordedRequest {
            method: head.method.clone(),
            path: head.target.clone(),
            headers: head.headers.clone(),
        });
        (state.take_fault(), state.config.clone())
    };
    shared.requests_changed.notify_all();
    let _ = respond(&mut stream, &head, fault, config, ctx);
}

fn respond(
    stream: &mut TcpStream,
    head: &RequestHead,
    fault: Option<Fault>,
    config: Option<ServedConfig>,
    ctx: &ServerCtx,
) -> io::Result<()> {
    let Some(fault) = fault else {
        return respond_normally(stream, head, config);
    };
    match fault {
        Fault::Status(status) => http::write_text(
            stream,
            status,
            &[],
            &format!("cdn-stand-in fault: status {status}\n"),
        ),
        Fault::Body(body) => http::write_response(
            stream,
            200,
            &[
                ("Content-Type", "application/json"),
                ("ETag", FAULT_BODY_ETAG),
            ],
            &body,
        ),
        Fault::Stall(duration) => {
            ctx.stop.sleep(duration);
            Ok(())
        }
        Fault::SlowBody { chunk_delay } => {
            let (status, etag, body) = body_fault_response(config);
            stream.write_all(&body_fault_head(status, etag.as_deref(), body.len()))?;
            stream.flush()?;
            for chunk in body.chunks(SLOW_CHUNK) {
                if !ctx.stop.sleep(chunk_delay) {
                    return Ok(());
                }
                stream.write_all(chunk)?;
                stream.flush()?;
            }
            Ok(())
        }
        Fault::ResetMidBody => {
            send_half(stream, config)?;
            ctx.stop.sleep(RESET_GRACE);
            // SO_LINGER 0: closing (when the stream is dropped) sends a RST.
            socket2::SockRef::from(&*stream).set_linger(Some(Duration::ZERO))
        }
        Fault::TruncatedBody => send_half(stream, config),
    }
}

fn respond_normally(
    stream: &mut TcpStream,
    head: &RequestHead,
    config: Option<ServedConfig>,
) -> io::Result<()> {
    if head.method != "GET" && head.method != "HEAD" {
        return http::write_text(
            stream,
            405,
            &[("Allow", "GET, HEAD")],
            "method not allowed\n",
        );
    }
    let Some(config) = config.filter(|_| is_config_path(&head.target)) else {
        return http::write_text(stream, 404, &[], "not found\n");
    };
    if head
        .header("if-none-match")
        .is_some_and(|v| etag_matches(v, &config.etag))
    {
        return http::write_response(stream, 304, &[("ETag", &config.etag)], &[]);
    }
    let headers = [
        ("Content-Type", "application/json"),
        ("ETag", config.etag.as_str()),
    ];
    if head.method == "HEAD" {
        stream.write_all(&http::response_head(200, &headers, Some(config.body.len())))?;
        return stream.flush();
    }
    http::write_response(stream, 200, &headers, &config.body)
}

/// Whether `target` is `/configuration-files/<key>/config_v6.json` (any
/// query ignored) with a non-empty key.
fn is_config_path(target: &str) -> bool {
    let path = target.split(['?', '#']).next().unwrap_or_default();
    path.strip_prefix("/configuration-files/")
        .and_then(|rest| rest.strip_suffix("/config_v6.json"))
        .is_some_and(|key| !key.is_empty())
}

/// Whether an `If-None-Match` value names `etag` (or is `*`).
fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == etag || candidate == "*")
}

/// Status, ETag and body the body faults deliver.
fn body_fault_response(config: Option<ServedConfig>) -> (u16, Option<String>, Vec<u8>) {
    match config {
        Some(config) => (200, Some(config.etag), config.body),
        None => (404, None, b"not found\n".to_vec()),
    }
}

fn body_fault_head(status: u16, etag: Option<&str>, len: usize) -> Vec<u8> {
    let content_type = if status == 200 {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    };
    let mut headers = vec![("Content-Type", content_type)];
    if let Some(etag) = etag {
        headers.push(("ETag", etag));
    }
    http::response_head(status, &headers, Some(len))
}

/// Sends a head announcing the whole body, then only its first half.
fn send_half(stream: &mut TcpStream, config: Option<ServedConfig>) -> io::Result<()> {
    let (status, etag, body) = body_fault_response(config);
    let half = body.get(..body.len() / 2).unwrap_or_default();
    let mut out = body_fault_head(status, etag.as_deref(), body.len());
    out.extend_from_slice(half);
    stream.write_all(&out)?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::{etag_matches, is_config_path};

    #[test]
    fn config_paths() {
        assert!(is_config_path(
            "/configuration-files/configcat-sdk-1/abc/def/config_v6.json"
        ));
        assert!(is_config_path("/configuration-files/k/config_v6.json?x=1"));
        assert!(!is_config_path("/configuration-files//config_v6.json"));
        assert!(!is_config_path("/configuration-files/k/config_v5.json"));
        assert!(!is_config_path("/other/k/config_v6.json"));
    }

    #[test]
    fn etags() {
        assert!(etag_matches("\"v1\"", "\"v1\""));
        assert!(etag_matches("\"v0\", \"v1\"", "\"v1\""));
        assert!(etag_matches("*", "\"v1\""));
        assert!(!etag_matches("\"v2\"", "\"v1\""));
    }
}
