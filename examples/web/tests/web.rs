//! Starts the web sample's binary on a loopback port (offline: its bundled
//! config from the CDN stand-in) and checks its answers for users on both
//! sides of the targeting rules.

// clippy.toml allows these inside `#[test]` functions only; the helpers of
// this test crate fail a test the same way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use serde_json::Value;

/// The running server, killed on drop.
struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_configcat-web-sample"))
        .args(["--bind", "127.0.0.1:0"])
        .env_remove("CONFIGCAT_SDK_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the web sample");
    let stdout = child.stdout.take().expect("stdout");
    // The server's log (warnings about users without the attributes a rule
    // needs, for example), shown only if it does not start.
    let stderr = child.stderr.take().expect("stderr");
    let log = Arc::new(Mutex::new(String::new()));
    let log_writer = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            if let Ok(mut log) = log_writer.lock() {
                log.push_str(&line);
                log.push('\n');
            }
        }
    });
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if let Some(address) = line.strip_prefix("listening on http://") {
                let _ = sender.send(address.to_owned());
            }
        }
    });
    let mut server = Server {
        child,
        address: String::new(),
    };
    server.address = receiver
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| {
            panic!(
                "the server did not report its address; its log:\n{}",
                log.lock().map(|log| log.clone()).unwrap_or_default()
            )
        });
    assert!(
        server.address.starts_with("127.0.0.1:"),
        "{}",
        server.address
    );
    server
}

/// A GET request; the status code and the body.
fn get(server: &Server, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut stream = TcpStream::connect(&server.address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        server.address
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("receive");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status code");
    (status, body.to_owned())
}

fn get_json(server: &Server, path: &str, headers: &[(&str, &str)]) -> Value {
    let (status, body) = get(server, path, headers);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

#[test]
fn two_users_on_both_sides_of_the_rules() {
    let server = start();

    assert_eq!(get_json(&server, "/health", &[])["cache_state"], "UpToDate");

    // Jane: staff e-mail (new dashboard), Hungary (15% discount).
    let jane = get_json(
        &server,
        "/api/flags?id=u-1001&email=jane@example.com&country=Hungary",
        &[],
    );
    assert_eq!(jane["user"]["id"], "u-1001");
    assert_eq!(jane["flags"]["newDashboard"], true);
    assert_eq!(jane["flags"]["discountPercent"], 15);
    assert_eq!(jane["flags"]["maxUploadMb"], 25.5);

    // Joe: another domain, another country: the other side of both rules.
    let joe = get_json(
        &server,
        "/api/flags?id=u-2002&email=joe@mail.test&country=USA",
        &[],
    );
    assert_eq!(joe["flags"]["newDashboard"], false);
    assert_eq!(joe["flags"]["discountPercent"], 5);

    // The same users named by headers instead of the query.
    let by_headers = get_json(
        &server,
        "/api/flags",
        &[
            ("X-User-Id", "u-1001"),
            ("X-User-Email", "jane@example.com"),
            ("X-User-Country", "Hungary"),
        ],
    );
    assert_eq!(by_headers["flags"], jane["flags"]);

    // One flag's details: the variation and the rule that matched.
    let details = get_json(
        &server,
        "/api/flags/newDashboard?id=u-1001&email=jane@example.com",
        &[],
    );
    assert_eq!(details["value"], true);
    assert_eq!(details["variation_id"], "dashboard-staff");
    assert_eq!(details["matched_targeting_rule_index"], 0);
    let details = get_json(
        &server,
        "/api/flags/newDashboard?id=u-2002&email=joe@mail.test",
        &[],
    );
    assert_eq!(details["variation_id"], "dashboard-off");
    assert_eq!(details["matched_targeting_rule_index"], Value::Null);

    // % options: the banner a user sees is stable across requests.
    let banner = |id: &str| {
        get_json(&server, &format!("/api/flags/bannerText?id={id}"), &[])["variation_id"].clone()
    };
    for id in ["u-1001", "u-2002", "u-3003"] {
        assert_eq!(banner(id), banner(id), "{id}");
    }
    let (status, _) = get(&server, "/api/flags/noSuchFlag?id=u-1", &[]);
    assert_eq!(status, 404);

    // The HTML page follows the same flags.
    let (status, page) = get(
        &server,
        "/?id=u-1001&email=jane@example.com&country=Hungary",
        &[],
    );
    assert_eq!(status, 200);
    assert!(page.contains("new dashboard"), "{page}");
    assert!(page.contains("Your discount: 15%"), "{page}");
    let (_, page) = get(&server, "/?id=%3Cb%3Ejoe&email=joe@mail.test", &[]);
    assert!(page.contains("classic dashboard"), "{page}");
    assert!(page.contains("Your discount: 5%"), "{page}");
    assert!(
        page.contains("Hello, &lt;b&gt;joe!"),
        "user input is escaped: {page}"
    );
}
