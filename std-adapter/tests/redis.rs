//! `RedisCache` against a real `redis-server` (feature `redis`).
//!
//! Every test starts its own `redis-server` on a free loopback port (no
//! persistence, killed when the test ends), so nothing depends on a system
//! service. Without `redis-server` on the PATH the tests fail under `CI=true`
//! and are skipped, loudly, elsewhere.
//!
//! The "other process" of the shared-cache scenario is this test binary run
//! again with only [`reader_process`] selected and its parameters in the
//! environment: a separate process with its own client registry and its own
//! connection to Redis.

// clippy.toml allows these inside `#[test]` functions only; the helpers of
// this test crate fail a test the same way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use configcat_cdn_stand_in::CdnStandIn;
use configcat_std::{CacheState, Client, ClientOptions, ConfigCache, Fetched, RedisCache, User};

use common::{WAIT, config_with, logs, sdk_key};

// ---- a redis-server of the test's own ----------------------------------

/// A `redis-server` child process on `127.0.0.1:<port>`, killed on drop.
struct RedisServer {
    port: u16,
    child: Option<Child>,
    dir: PathBuf,
}

/// Whether `redis-server` can be run; under `CI=true` its absence fails the
/// test, elsewhere the test is skipped with a loud message.
fn redis_server_available(test: &str) -> bool {
    let found = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if found {
        return true;
    }
    let message = "redis-server is not installed (apt-get install redis-server, or run .ci/run, which installs it)";
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: {message}"
    );
    eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
    eprintln!("!!! SKIPPED {test}: {message}");
    eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
    false
}

/// A loopback port nothing listens on (at the time of asking).
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

/// Whether a Redis on `port` answers `PING`.
fn answers_ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0_u8; 7];
    stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}

impl RedisServer {
    /// Starts a server on a free port; `None` when the test is to be skipped.
    fn start(test: &str) -> Option<Self> {
        if !redis_server_available(test) {
            return None;
        }
        let dir = std::env::temp_dir().join(format!(
            "configcat-redis-test-{test}-{}-{}",
            std::process::id(),
            common::now_ms()
        ));
        std::fs::create_dir_all(&dir).expect("create the redis dir");
        // A port picked free may be taken before redis binds it: try a few.
        for _ in 0..5 {
            let mut server = Self {
                port: free_port(),
                child: None,
                dir: dir.clone(),
            };
            if server.restart() {
                return Some(server);
            }
        }
        panic!("{test}: redis-server did not start");
    }

    /// (Re)starts the server on its port; whether it answers `PING`.
    fn restart(&mut self) -> bool {
        self.stop();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if answers_ping(self.port) {
                return true;
            }
            if let Some(child) = self.child.as_mut() {
                if child.try_wait().ok().flatten().is_some() {
                    self.child = None;
                    return false;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Kills the server (its data is gone: there is no persistence).
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// The raw value stored under `key`, read without the cache under test.
    fn get(&self, key: &str) -> Option<String> {
        let client = redis::Client::open(self.url()).expect("redis url");
        let mut connection = client
            .get_connection_with_timeout(Duration::from_secs(1))
            .expect("connect to the test redis");
        redis::cmd("GET")
            .arg(key)
            .query(&mut connection)
            .expect("GET")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ---- helpers ----------------------------------------------------------------

/// A cache on `server` with short timeouts.
fn redis_cache(url: &str) -> Arc<RedisCache> {
    Arc::new(
        RedisCache::new(url)
            .expect("redis url")
            .with_connect_timeout(Duration::from_millis(300))
            .with_response_timeout(Duration::from_millis(300)),
    )
}

/// A config with `greeting`: "Hello, colleague" for `@example.com` e-mails
/// (a targeting rule), `value` for everybody else.
fn greeting_config(base_url: &str, value: &str) -> String {
    config_with(
        base_url,
        &format!(
            r#""greeting":{{"t":1,"v":{{"s":"{value}"}},"i":"v-{value}","r":[{{"c":[{{"u":{{"a":"Email","c":32,"l":["@example.com"]}}}}],"s":{{"v":{{"s":"Hello, colleague"}},"i":"v-staff"}}}}]}}"#
        ),
    )
}

/// Waits until `condition` holds (at most [`WAIT`]).
fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    condition()
}

const READER_URL: &str = "CONFIGCAT_TEST_REDIS_READER_URL";
const READER_SDK_KEY: &str = "CONFIGCAT_TEST_REDIS_READER_SDK_KEY";

/// Runs [`reader_process`] in a new process of this test binary; returns what
/// it read: `(cache state, greeting for a staff user, greeting for another)`.
fn read_in_another_process(url: &str, sdk_key: &str) -> (String, String, String) {
    let output = Command::new(std::env::current_exe().expect("test binary path"))
        .args([
            "reader_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(READER_URL, url)
        .env(READER_SDK_KEY, sdk_key)
        .stdin(Stdio::null())
        .output()
        .expect("run the reader process");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "reader process failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        // The harness may have written "test reader_process ... " before it.
        .find_map(|line| line.split_once("READER-RESULT\t").map(|(_, result)| result))
        .unwrap_or_else(|| panic!("no result from the reader process:\n{stdout}"));
    let parts: Vec<&str> = line.split('\t').collect();
    assert_eq!(parts.len(), 3, "{line}");
    (
        parts[0].to_owned(),
        parts[1].to_owned(),
        parts[2].to_owned(),
    )
}

/// The other process: an offline client reading the shared cache. Does
/// nothing unless run by [`read_in_another_process`].
#[test]
fn reader_process() {
    let (Ok(url), Ok(sdk_key)) = (std::env::var(READER_URL), std::env::var(READER_SDK_KEY)) else {
        return;
    };
    let options = ClientOptions::default()
        .with_offline(true)
        .with_manual_polling()
        .with_cache(redis_cache(&url));
    let client = Client::get(&sdk_key, options).expect("client");
    let state = client.wait_for_ready(WAIT);
    let staff = User::new("u-1").with_email("jane@example.com");
    let other = User::new("u-2").with_email("joe@mail.test");
    let staff_value = client.get_value("greeting", "<default>".to_owned(), Some(&staff));
    let other_value = client.get_value("greeting", "<default>".to_owned(), Some(&other));
    println!("READER-RESULT\t{state:?}\t{staff_value}\t{other_value}");
    client.close();
}

// ---- the scenarios ----------------------------------------------------------

#[test]
fn an_online_client_writes_and_an_offline_client_in_another_process_reads() {
    let Some(server) = RedisServer::start("writes_and_reads") else {
        return;
    };
    let cdn = CdnStandIn::start().expect("cdn");
    let config = greeting_config(&cdn.base_url(), "Hello");
    cdn.set_config(&config);
    let key = sdk_key("redis_writes_and_reads");

    // Nothing cached yet: the reader has no flag data and serves defaults.
    let (state, staff, other) = read_in_another_process(&server.url(), &key);
    assert_eq!(
        (state.as_str(), staff.as_str(), other.as_str()),
        ("NoFlagData", "<default>", "<default>")
    );

    let writer = Client::get(
        &key,
        common::options(&cdn).with_cache(redis_cache(&server.url())),
    )
    .expect("client");
    assert_eq!(writer.force_refresh(), Ok(Fetched::New));

    // The entry is in Redis under the shared key, in the shared format.
    let payload = server
        .get(&configcat_std::cache_key(&key))
        .expect("an entry under the shared cache key");
    let mut parts = payload.splitn(3, '\n');
    let fetch_time: u64 = parts
        .next()
        .and_then(|t| t.parse().ok())
        .expect("fetch time");
    assert!(fetch_time.abs_diff(common::now_ms()) < 60_000, "{payload}");
    assert_eq!(parts.next(), Some("\"v1\""));
    assert_eq!(parts.next(), Some(config.as_str()));

    let (state, staff, other) = read_in_another_process(&server.url(), &key);
    assert_eq!(
        (staff.as_str(), other.as_str()),
        ("Hello, colleague", "Hello")
    );
    // Manual polling has no expiry, so a cached config counts as current.
    assert_eq!(state, "UpToDate");

    // A new config published by the writer reaches the next reader.
    cdn.set_config(&greeting_config(&cdn.base_url(), "Welcome"));
    assert_eq!(writer.force_refresh(), Ok(Fetched::New));
    let (_, staff, other) = read_in_another_process(&server.url(), &key);
    assert_eq!(
        (staff.as_str(), other.as_str()),
        ("Hello, colleague", "Welcome")
    );
    writer.close();
}

#[test]
fn the_client_keeps_serving_while_redis_restarts_and_writes_again_after() {
    let Some(mut server) = RedisServer::start("restart") else {
        return;
    };
    let logger = logs();
    let cdn = CdnStandIn::start().expect("cdn");
    cdn.set_config(&greeting_config(&cdn.base_url(), "Hello"));
    let key = sdk_key("redis_restart");
    let cache_key = configcat_std::cache_key(&key);
    let client = Client::get(
        &key,
        common::auto_options(&cdn).with_cache(redis_cache(&server.url())),
    )
    .expect("client");
    assert_eq!(client.wait_for_ready(WAIT), CacheState::UpToDate);
    assert!(eventually(|| server.get(&cache_key).is_some()));

    server.stop();
    // Redis is down: the client keeps polling the CDN and serving.
    cdn.set_config(&greeting_config(&cdn.base_url(), "Welcome"));
    let other = User::new("u-2");
    assert!(
        eventually(|| client.get_value("greeting", String::new(), Some(&other)) == "Welcome"),
        "the client stopped refreshing while Redis was down"
    );
    // ... and reports the failing cache on every poll (2200 read, 2201 write).
    let marker = format!("127.0.0.1:{}", server.port);
    assert!(eventually(|| {
        !logger.matching(&format!("[2200] Error occurred while reading the cache. Redis cache: cannot connect to {marker}")).is_empty()
            && !logger.matching(&format!("[2201] Error occurred while writing the cache. Redis cache: cannot connect to {marker}")).is_empty()
    }));
    for record in logger.matching(&marker) {
        assert_eq!(record.level, log::Level::Error, "{record:?}");
    }

    // Redis is back, empty: the next poll writes the entry again, on a new connection.
    assert!(server.restart(), "redis-server did not restart");
    assert!(
        eventually(|| server
            .get(&cache_key)
            .is_some_and(|p| p.contains("Welcome"))),
        "the client did not write to Redis after it came back"
    );
    assert_eq!(
        client.get_value("greeting", String::new(), Some(&other)),
        "Welcome"
    );
    client.close();
}

#[test]
fn an_unreachable_redis_at_start_is_logged_and_not_fatal() {
    if !redis_server_available("unreachable_at_start") {
        return;
    }
    let logger = logs();
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}/0");
    let marker = format!("127.0.0.1:{port}");

    // An offline client with nothing but the unreachable cache: no data, defaults.
    let offline = Client::get(
        &sdk_key("redis_unreachable_offline"),
        ClientOptions::default()
            .with_offline(true)
            .with_manual_polling()
            .with_cache(redis_cache(&url)),
    )
    .expect("client");
    assert_eq!(offline.wait_for_ready(WAIT), CacheState::NoFlagData);
    assert_eq!(offline.get_value("greeting", 7_i64, None), 7);
    offline.close();

    // An online client fetches and serves; reading and writing the cache fail.
    let cdn = CdnStandIn::start().expect("cdn");
    cdn.set_config(&greeting_config(&cdn.base_url(), "Hello"));
    let key = sdk_key("redis_unreachable_online");
    let cache = redis_cache(&url);
    // A down Redis must not hold up Client::get (its timeouts are 300 ms;
    // a hang past `WAIT` fails).
    let (get_key, options) = (key.clone(), common::options(&cdn).with_cache(cache.clone()));
    let client = common::within_wait(move || Client::get(&get_key, options)).expect("client");
    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert_eq!(client.get_value("greeting", String::new(), None), "Hello");
    let read_errors = logger.matching(&format!(
        "[2200] Error occurred while reading the cache. Redis cache: cannot connect to {marker}"
    ));
    let write_errors = logger.matching(&format!(
        "[2201] Error occurred while writing the cache. Redis cache: cannot connect to {marker}"
    ));
    assert!(!read_errors.is_empty(), "no 2200 logged");
    assert!(!write_errors.is_empty(), "no 2201 logged");

    // Once a Redis listens there, the same cache works without a new client.
    let dir = std::env::temp_dir().join(format!(
        "configcat-redis-late-{}-{port}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut late = RedisServer {
        port,
        child: None,
        dir,
    };
    if !late.restart() {
        // Someone else took the port meanwhile; the part above is what matters.
        eprintln!("port {port} was taken, skipping the recovery check");
        client.close();
        return;
    }
    cdn.set_config(&greeting_config(&cdn.base_url(), "Welcome"));
    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    let stored = cache
        .read(&configcat_std::cache_key(&key))
        .expect("redis is up")
        .expect("an entry");
    assert!(stored.contains("Welcome"), "{stored}");
    client.close();
}

#[test]
fn a_kept_connection_survives_a_restart_of_redis() {
    let Some(mut server) = RedisServer::start("kept_connection") else {
        return;
    };
    let cache = redis_cache(&server.url());
    cache.write("k", "one").expect("write");
    assert_eq!(cache.read("k").expect("read"), Some("one".to_owned()));
    assert!(server.restart(), "redis-server did not restart");
    // The kept connection is dead; the call reconnects instead of failing.
    assert_eq!(cache.read("k").expect("read after restart"), None);
    cache.write("k", "two").expect("write after restart");
    assert_eq!(server.get("k"), Some("two".to_owned()));
    // Down: an error, quickly, and no panic.
    server.stop();
    let reader = cache.clone();
    assert!(common::within_wait(move || reader.read("k").is_err()));
    // A reply error (GET on a list) is an error too, and the connection stays usable.
    assert!(server.restart(), "redis-server did not restart");
    let mut direct = redis::Client::open(server.url())
        .expect("url")
        .get_connection()
        .expect("connect");
    redis::cmd("RPUSH")
        .arg("a-list")
        .arg("x")
        .query::<()>(&mut direct)
        .expect("RPUSH");
    let error = cache.read("a-list").expect_err("GET on a list");
    assert!(error.to_string().contains("WRONGTYPE"), "{error}");
    cache
        .write("k", "three")
        .expect("write after a reply error");
    assert_eq!(cache.read("k").expect("read"), Some("three".to_owned()));
}

#[test]
fn a_fresh_entry_in_redis_spares_a_new_instance_the_download() {
    let Some(server) = RedisServer::start("fresh_entry") else {
        return;
    };
    let cdn = CdnStandIn::start().expect("cdn");
    cdn.set_config(&greeting_config(&cdn.base_url(), "Hello"));
    let key = sdk_key("redis_fresh_entry");
    let long_poll = common::options(&cdn)
        .with_auto_polling(Duration::from_secs(60), Duration::from_secs(2))
        .with_cache(redis_cache(&server.url()));

    // The first instance downloads the config and writes it to Redis.
    let first = Client::get(&key, long_poll.clone()).expect("client");
    assert_eq!(first.wait_for_ready(WAIT), CacheState::UpToDate);
    assert_eq!(cdn.request_count(), 1);
    first.close();

    // The next one (a new instance of the service, in effect) starts from the
    // fresh entry: up to date at once, no request to the CDN until the entry
    // is a poll interval old.
    let second = Client::get(&key, long_poll).expect("client");
    assert_eq!(second.wait_for_ready(WAIT), CacheState::UpToDate);
    let other = User::new("u-2");
    assert_eq!(
        second.get_value("greeting", String::new(), Some(&other)),
        "Hello"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        cdn.request_count(),
        1,
        "the second instance downloaded anyway"
    );
    second.close();
}
