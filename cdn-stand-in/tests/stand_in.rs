//! Drives the CDN stand-in and the proxy with a plain `TcpStream` client.

// clippy.toml allows these inside `#[test]` functions only; the helper
// functions of this test crate fail a test the same way.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use configcat_cdn_stand_in::{CdnStandIn, Fault, HttpProxy, basic_authorization};

const KEY: &str = "configcat-sdk-1/PKDVCLf-Hq-h-kCzMp-L7Q/HhOWfwVtZ0mb30i9wi17GQ";
const CONFIG: &str = r#"{"p":{"u":"https://cdn-global.configcat.com","r":0,"s":"salt"},"f":{"flag":{"t":0,"v":{"b":true}}}}"#;

fn config_path() -> String {
    format!("/configuration-files/{KEY}/config_v6.json")
}

/// `http://127.0.0.1:<port>` -> `127.0.0.1:<port>`
fn authority(url: &str) -> &str {
    url.strip_prefix("http://").unwrap()
}

fn connect(url: &str) -> TcpStream {
    let stream = TcpStream::connect(authority(url)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// A response as read off the wire until EOF or an error.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// The error that ended reading, if it was not a clean EOF.
    error: Option<ErrorKind>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn content_length(&self) -> Option<usize> {
        self.header("content-length").map(|v| v.parse().unwrap())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

/// Reads until EOF (or an error) and parses one response.
fn read_response(stream: &mut TcpStream) -> Response {
    let mut raw = Vec::new();
    let error = stream.read_to_end(&mut raw).err().map(|e| e.kind());
    parse_response(&raw, error)
}

fn parse_response(raw: &[u8], error: Option<ErrorKind>) -> Response {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| {
            panic!(
                "no response head in {:?} ({error:?})",
                String::from_utf8_lossy(raw)
            )
        });
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    Response {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
        error,
    }
}

fn send(stream: &mut TcpStream, method: &str, target: &str, headers: &[(&str, &str)]) {
    let mut request = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (n, v) in headers {
        request.push_str(&format!("{n}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
}

fn get(base: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut stream = connect(base);
    send(&mut stream, "GET", path, headers);
    read_response(&mut stream)
}

#[test]
fn stand_in_and_proxy_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<CdnStandIn>();
    assert_send_sync::<HttpProxy>();
}

#[test]
fn serves_config_with_etag() {
    let cdn = CdnStandIn::start().unwrap();
    assert!(cdn.base_url().starts_with("http://127.0.0.1:"));
    let etag = cdn.set_config(CONFIG);
    assert_eq!(etag, "\"v1\"");
    assert_eq!(cdn.current_etag().as_deref(), Some("\"v1\""));
    assert_eq!(
        cdn.config_url(KEY),
        format!("{}{}", cdn.base_url(), config_path())
    );

    let response = get(&cdn.base_url(), &config_path(), &[]);
    assert_eq!(response.status, 200);
    assert_eq!(response.header("ETag"), Some(etag.as_str()));
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.content_length(), Some(CONFIG.len()));
    assert_eq!(response.text(), CONFIG);
    assert_eq!(response.error, None);

    // Any SDK key and a query string are fine.
    let response = get(
        &cdn.base_url(),
        "/configuration-files/legacy-key/config_v6.json?ccetag=x",
        &[],
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), CONFIG);
}

#[test]
fn not_modified_round_trip() {
    let cdn = CdnStandIn::start().unwrap();
    let v1 = cdn.set_config(CONFIG);
    let response = get(&cdn.base_url(), &config_path(), &[("If-None-Match", &v1)]);
    assert_eq!(response.status, 304);
    assert!(response.body.is_empty());
    assert_eq!(response.header("etag"), Some(v1.as_str()));

    let v2 = cdn.set_config(r#"{"f":{}}"#);
    assert_eq!(v2, "\"v2\"");
    let response = get(&cdn.base_url(), &config_path(), &[("if-none-match", &v1)]);
    assert_eq!(response.status, 200);
    assert_eq!(response.header("etag"), Some(v2.as_str()));
    assert_eq!(response.text(), r#"{"f":{}}"#);

    let response = get(&cdn.base_url(), &config_path(), &[("If-None-Match", &v2)]);
    assert_eq!(response.status, 304);
}

#[test]
fn unknown_paths_and_missing_config_get_404() {
    let cdn = CdnStandIn::start().unwrap();
    assert_eq!(get(&cdn.base_url(), &config_path(), &[]).status, 404);
    cdn.set_config(CONFIG);
    assert_eq!(get(&cdn.base_url(), &config_path(), &[]).status, 200);
    for path in [
        "/",
        "/configuration-files/k/config_v5.json",
        "/configuration-files//config_v6.json",
        "/other",
    ] {
        assert_eq!(get(&cdn.base_url(), path, &[]).status, 404, "{path}");
    }
    cdn.clear_config();
    assert_eq!(get(&cdn.base_url(), &config_path(), &[]).status, 404);
    assert_eq!(cdn.request_count(), 7);
}

#[test]
fn status_faults_persist_or_count_down() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(CONFIG);

    cdn.set_fault(Fault::Status(500));
    for _ in 0..3 {
        let response = get(&cdn.base_url(), &config_path(), &[]);
        assert_eq!(response.status, 500);
        assert!(!response.body.is_empty());
        assert_eq!(response.header("etag"), None);
    }
    cdn.clear_fault();
    assert_eq!(get(&cdn.base_url(), &config_path(), &[]).status, 200);

    cdn.set_fault_for(Fault::Status(503), 2);
    assert_eq!(get(&cdn.base_url(), &config_path(), &[]).status, 503);
    assert_eq!(get(&cdn.base_url(), &config_path(), &[]).status, 503);
    assert_eq!(get(&cdn.base_url(), &config_path(), &[]).status, 200);

    cdn.set_fault_for(Fault::Status(403), 0);
    assert_eq!(get(&cdn.base_url(), &config_path(), &[]).status, 200);
}

#[test]
fn body_fault_sends_exact_bytes_with_etag() {
    let cdn = CdnStandIn::start().unwrap();
    let etag = cdn.set_config(CONFIG);
    cdn.set_fault_for(Fault::Body(b"{not json".to_vec()), 1);
    let response = get(&cdn.base_url(), &config_path(), &[("If-None-Match", &etag)]);
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"{not json");
    let fault_etag = response.header("etag").unwrap();
    assert_ne!(fault_etag, etag);
    assert!(fault_etag.starts_with('"') && fault_etag.ends_with('"'));
}

#[test]
fn stall_sends_nothing_for_its_duration() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(CONFIG);
    let stall = Duration::from_millis(400);
    cdn.set_fault(Fault::Stall(stall));

    // A client with a short read timeout times out.
    let mut stream = connect(&cdn.base_url());
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    send(&mut stream, "GET", &config_path(), &[]);
    let mut buf = [0u8; 16];
    let err = stream.read(&mut buf).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err:?}"
    );

    // A patient client sees the connection close, with no bytes, after the stall.
    let started = Instant::now();
    let mut stream = connect(&cdn.base_url());
    send(&mut stream, "GET", &config_path(), &[]);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let elapsed = started.elapsed();
    assert!(raw.is_empty());
    assert!(elapsed >= stall, "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[test]
fn slow_body_arrives_complete_but_slowly() {
    let cdn = CdnStandIn::start().unwrap();
    let etag = cdn.set_config(CONFIG);
    let delay = Duration::from_millis(2);
    cdn.set_fault(Fault::SlowBody { chunk_delay: delay });

    let started = Instant::now();
    let mut stream = connect(&cdn.base_url());
    send(
        &mut stream,
        "GET",
        &config_path(),
        &[("If-None-Match", &etag)],
    );
    let mut first = [0u8; 4096];
    let mut raw = Vec::new();
    let mut reads = 0;
    loop {
        let n = stream.read(&mut first).unwrap();
        if n == 0 {
            break;
        }
        reads += 1;
        raw.extend_from_slice(&first[..n]);
    }
    let elapsed = started.elapsed();
    let response = parse_response(&raw, None);
    assert_eq!(response.status, 200);
    assert_eq!(response.header("etag"), Some(etag.as_str()));
    assert_eq!(response.text(), CONFIG);
    let chunks = CONFIG.len().div_ceil(4);
    assert!(reads > 2, "{reads} reads");
    assert!(
        elapsed >= delay * u32::try_from(chunks).unwrap(),
        "{elapsed:?}"
    );

    // A client whose read timeout is shorter than the chunk delay times out.
    cdn.set_fault(Fault::SlowBody {
        chunk_delay: Duration::from_millis(500),
    });
    let mut stream = connect(&cdn.base_url());
    stream
        .set_read_timeout(Some(Duration::from_millis(150)))
        .unwrap();
    send(&mut stream, "GET", &config_path(), &[]);
    let mut buf = [0u8; 4096];
    let mut head = Vec::new();
    let timed_out = loop {
        match stream.read(&mut buf) {
            Ok(0) => break false,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) => break matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        }
    };
    assert!(timed_out);
    assert!(head.starts_with(b"HTTP/1.1 200"));
}

#[test]
fn reset_mid_body_is_shorter_than_content_length() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(CONFIG);
    cdn.set_fault_for(Fault::ResetMidBody, 1);
    let response = get(&cdn.base_url(), &config_path(), &[]);
    assert_eq!(response.status, 200);
    assert_eq!(response.content_length(), Some(CONFIG.len()));
    assert!(response.body.len() < CONFIG.len());
    assert_eq!(response.body, CONFIG.as_bytes()[..response.body.len()]);
    // SO_LINGER 0: the close is a reset, not an EOF.
    assert_eq!(response.error, Some(ErrorKind::ConnectionReset));

    // Back to normal afterwards.
    let response = get(&cdn.base_url(), &config_path(), &[]);
    assert_eq!(response.text(), CONFIG);
}

#[test]
fn truncated_body_is_shorter_than_content_length() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(CONFIG);
    cdn.set_fault(Fault::TruncatedBody);
    let response = get(&cdn.base_url(), &config_path(), &[]);
    assert_eq!(response.status, 200);
    assert_eq!(response.content_length(), Some(CONFIG.len()));
    assert_eq!(response.body, CONFIG.as_bytes()[..CONFIG.len() / 2]);
    assert_eq!(response.error, None, "a normal close");
}

#[test]
fn counts_records_and_waits_for_requests() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(CONFIG);
    assert_eq!(cdn.request_count(), 0);
    assert!(!cdn.wait_for_requests(1, Duration::from_millis(50)));
    assert!(cdn.wait_for_requests(0, Duration::ZERO));

    let base = cdn.base_url();
    let client = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        get(
            &base,
            &config_path(),
            &[("X-ConfigCat-UserAgent", "Test/1.0")],
        );
        get(&base, "/nope", &[]);
    });
    assert!(cdn.wait_for_requests(2, Duration::from_secs(10)));
    client.join().unwrap();
    assert_eq!(cdn.request_count(), 2);

    let requests = cdn.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, config_path());
    assert_eq!(
        requests[0].header("x-configcat-useragent"),
        Some("Test/1.0")
    );
    assert_eq!(
        requests[0].header("X-CONFIGCAT-USERAGENT"),
        Some("Test/1.0")
    );
    assert!(
        requests[0]
            .headers
            .contains(&("x-configcat-useragent".to_owned(), "Test/1.0".to_owned()))
    );
    assert_eq!(requests[0].header("if-none-match"), None);
    assert_eq!(requests[1].path, "/nope");
}

#[test]
fn other_methods_get_405_and_head_gets_no_body() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(CONFIG);
    let mut stream = connect(&cdn.base_url());
    stream
        .write_all(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc")
        .unwrap();
    let response = read_response(&mut stream);
    assert_eq!(response.status, 405);
    assert_eq!(response.error, None);

    let mut stream = connect(&cdn.base_url());
    send(&mut stream, "HEAD", &config_path(), &[]);
    let response = read_response(&mut stream);
    assert_eq!(response.status, 200);
    assert_eq!(response.content_length(), Some(CONFIG.len()));
    assert!(response.body.is_empty());
    assert_eq!(cdn.request_count(), 2);
}

#[test]
fn dropping_mid_stall_returns_promptly() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(CONFIG);
    cdn.set_fault(Fault::Stall(Duration::from_secs(60)));
    let mut stalled = connect(&cdn.base_url());
    send(&mut stalled, "GET", &config_path(), &[]);
    assert!(cdn.wait_for_requests(1, Duration::from_secs(10)));
    // A second client that connected but never sent anything.
    let mut idle = connect(&cdn.base_url());
    thread::sleep(Duration::from_millis(20));

    let started = Instant::now();
    drop(cdn);
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_millis(500),
        "drop took {elapsed:?}"
    );

    // Both clients see their connections end at once.
    let started = Instant::now();
    let mut raw = Vec::new();
    let _ = stalled.read_to_end(&mut raw);
    let _ = idle.read_to_end(&mut raw);
    assert!(raw.is_empty());
    assert!(started.elapsed() < Duration::from_millis(500));
}

#[test]
fn dropping_mid_slow_body_returns_promptly() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(CONFIG);
    cdn.set_fault(Fault::SlowBody {
        chunk_delay: Duration::from_secs(30),
    });
    let mut stream = connect(&cdn.base_url());
    send(&mut stream, "GET", &config_path(), &[]);
    assert!(cdn.wait_for_requests(1, Duration::from_secs(10)));
    let started = Instant::now();
    drop(cdn);
    assert!(started.elapsed() < Duration::from_millis(500));
}

// ---- proxy ----

fn creds() -> Option<(String, String)> {
    Some(("proxy-user".to_owned(), "s3cret:pass".to_owned()))
}

fn good_auth() -> String {
    basic_authorization("proxy-user", "s3cret:pass")
}

/// Opens a CONNECT tunnel and returns the stream plus the proxy's answer head.
fn open_tunnel(proxy: &HttpProxy, target: &str, auth: Option<&str>) -> (TcpStream, String) {
    let mut stream = connect(&proxy.url());
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(auth) = auth {
        request.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    // Read the answer head byte by byte so no tunnelled byte is consumed.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    (stream, String::from_utf8(head).unwrap())
}

#[test]
fn proxy_tunnels_connect_with_good_credentials() {
    let cdn = CdnStandIn::start().unwrap();
    let etag = cdn.set_config(CONFIG);
    let proxy = HttpProxy::start(creds()).unwrap();
    assert!(proxy.url().starts_with("http://127.0.0.1:"));
    let auth = good_auth();

    let target = authority(&cdn.base_url()).to_owned();
    let (mut stream, head) = open_tunnel(&proxy, &target, Some(&auth));
    assert!(
        head.starts_with("HTTP/1.1 200 Connection established"),
        "{head}"
    );
    send(&mut stream, "GET", &config_path(), &[]);
    let response = read_response(&mut stream);
    assert_eq!(response.status, 200);
    assert_eq!(response.header("etag"), Some(etag.as_str()));
    assert_eq!(response.text(), CONFIG);

    // localhost works too, and the client may half-close after its request.
    let port = cdn.base_url().rsplit(':').next().unwrap().to_owned();
    let (mut stream, head) = open_tunnel(&proxy, &format!("localhost:{port}"), Some(&auth));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    send(
        &mut stream,
        "GET",
        &config_path(),
        &[("If-None-Match", &etag)],
    );
    stream.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_response(&mut stream).status, 304);

    assert_eq!(proxy.request_count(), 2);
    assert_eq!(proxy.authorizations(), vec![Some(auth.clone()), Some(auth)]);
    assert_eq!(proxy.requests()[0], format!("CONNECT {target}"));
    assert_eq!(cdn.request_count(), 2);
    // Requests inside the tunnel reach the CDN without proxy headers.
    assert_eq!(cdn.requests()[0].header("proxy-authorization"), None);
}

#[test]
fn proxy_forwards_absolute_form_with_good_credentials() {
    let cdn = CdnStandIn::start().unwrap();
    let etag = cdn.set_config(CONFIG);
    let proxy = HttpProxy::start(creds()).unwrap();
    let auth = good_auth();

    let url = cdn.config_url(KEY);
    let response = get(
        &proxy.url(),
        &url,
        &[
            ("Proxy-Authorization", &auth),
            ("Proxy-Connection", "keep-alive"),
            ("X-ConfigCat-UserAgent", "Test/1.0"),
        ],
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.header("etag"), Some(etag.as_str()));
    assert_eq!(response.text(), CONFIG);

    let response = get(
        &proxy.url(),
        &url,
        &[("Proxy-Authorization", &auth), ("If-None-Match", &etag)],
    );
    assert_eq!(response.status, 304);

    assert_eq!(proxy.request_count(), 2);
    assert_eq!(proxy.requests()[0], format!("GET {url}"));
    let seen = cdn.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].path, config_path(), "forwarded in origin-form");
    assert_eq!(seen[0].header("proxy-authorization"), None);
    assert_eq!(seen[0].header("proxy-connection"), None);
    assert_eq!(seen[0].header("x-configcat-useragent"), Some("Test/1.0"));
    assert_eq!(seen[1].header("if-none-match"), Some(etag.as_str()));

    // Faults pass through the proxy too.
    cdn.set_fault_for(Fault::Status(502), 1);
    let response = get(&proxy.url(), &url, &[("Proxy-Authorization", &auth)]);
    assert_eq!(response.status, 502);
}

#[test]
fn proxy_without_credentials_needs_no_authorization() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(CONFIG);
    let proxy = HttpProxy::start(None).unwrap();
    let response = get(&proxy.url(), &cdn.config_url(KEY), &[]);
    assert_eq!(response.status, 200);
    assert_eq!(proxy.authorizations(), vec![None]);
}

#[test]
fn proxy_answers_407_to_missing_or_wrong_credentials() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(CONFIG);
    let proxy = HttpProxy::start(creds()).unwrap();
    let target = authority(&cdn.base_url()).to_owned();
    let wrong = basic_authorization("proxy-user", "wrong");

    let (_, head) = open_tunnel(&proxy, &target, None);
    assert!(head.starts_with("HTTP/1.1 407"), "{head}");
    assert!(head.contains("Proxy-Authenticate: Basic"), "{head}");
    let (_, head) = open_tunnel(&proxy, &target, Some(&wrong));
    assert!(head.starts_with("HTTP/1.1 407"), "{head}");

    let url = cdn.config_url(KEY);
    let response = get(&proxy.url(), &url, &[]);
    assert_eq!(response.status, 407);
    let response = get(&proxy.url(), &url, &[("Proxy-Authorization", &wrong)]);
    assert_eq!(response.status, 407);
    let response = get(&proxy.url(), &url, &[("Proxy-Authorization", "Basic !!!")]);
    assert_eq!(response.status, 407);

    assert_eq!(proxy.request_count(), 5);
    assert_eq!(
        proxy.authorizations(),
        vec![
            None,
            Some(wrong.clone()),
            None,
            Some(wrong),
            Some("Basic !!!".to_owned())
        ]
    );
    assert_eq!(cdn.request_count(), 0, "nothing reached the CDN");
}

#[test]
fn proxy_refuses_non_loopback_targets() {
    let proxy = HttpProxy::start(creds()).unwrap();
    let auth = good_auth();
    for target in ["example.com:443", "10.0.0.1:80", "127.0.0.2:80", "[::1]:80"] {
        let (_, head) = open_tunnel(&proxy, target, Some(&auth));
        assert!(head.starts_with("HTTP/1.1 403"), "{target}: {head}");
    }
    for url in [
        "http://example.com/configuration-files/k/config_v6.json",
        "http://192.168.1.1:8080/",
        "http://8.8.8.8:80/",
    ] {
        let response = get(&proxy.url(), url, &[("Proxy-Authorization", &auth)]);
        assert_eq!(response.status, 403, "{url}");
    }
    // Neither https absolute-form nor origin-form is proxied.
    let response = get(
        &proxy.url(),
        "https://127.0.0.1:1/",
        &[("Proxy-Authorization", &auth)],
    );
    assert_eq!(response.status, 400);
    let response = get(&proxy.url(), "/path", &[("Proxy-Authorization", &auth)]);
    assert_eq!(response.status, 400);
}

#[test]
fn proxy_answers_502_when_target_is_down() {
    let cdn = CdnStandIn::start().unwrap();
    let url = cdn.config_url(KEY);
    let target = authority(&cdn.base_url()).to_owned();
    drop(cdn);
    let proxy = HttpProxy::start(None).unwrap();
    assert_eq!(get(&proxy.url(), &url, &[]).status, 502);
    let (_, head) = open_tunnel(&proxy, &target, None);
    assert!(head.starts_with("HTTP/1.1 502"), "{head}");
}

#[test]
fn dropping_proxy_with_open_tunnel_returns_promptly() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(CONFIG);
    cdn.set_fault(Fault::Stall(Duration::from_secs(60)));
    let proxy = HttpProxy::start(None).unwrap();
    let target = authority(&cdn.base_url()).to_owned();
    let (mut tunnel, head) = open_tunnel(&proxy, &target, None);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    send(&mut tunnel, "GET", &config_path(), &[]);
    assert!(cdn.wait_for_requests(1, Duration::from_secs(10)));
    // And an absolute-form request waiting on the stalled CDN.
    let mut forwarded = connect(&proxy.url());
    send(&mut forwarded, "GET", &cdn.config_url(KEY), &[]);
    assert!(cdn.wait_for_requests(2, Duration::from_secs(10)));

    let started = Instant::now();
    drop(proxy);
    assert!(started.elapsed() < Duration::from_millis(500));
    let started = Instant::now();
    drop(cdn);
    assert!(started.elapsed() < Duration::from_millis(500));
    let mut raw = Vec::new();
    let _ = tunnel.read_to_end(&mut raw);
    let _ = forwarded.read_to_end(&mut raw);
    assert!(raw.is_empty());
}
