//! The peak heap of the embedded client, measured for the largest config of
//! ConfigCat's conformance suites and printed:
//!
//! ```sh
//! cargo test -p configcat-embedded --release --test peak_heap -- --nocapture
//! ```
//!
//! `allocation-counter` installs a counting `#[global_allocator]` in this
//! test binary (the workspace forbids the `unsafe` one needs). It counts
//! per thread, and the client runs on the test's thread with an in-memory
//! `Connection` that serves the config from a buffer made beforehand and
//! allocates nothing itself, so the figures are the client's and the core's
//! alone. Sizes are the bytes asked of the allocator (no allocator overhead).

// Marks the whole crate as test code, so that the workspace clippy.toml
// allowances for tests (unwrap, expect, panic, indexing) cover the helpers too.
#![cfg(test)]

use std::cell::Cell;
use std::convert::Infallible;
use std::io::Write as _;
use std::path::PathBuf;

use allocation_counter::{AllocationInfo, measure};
use configcat_embedded::{
    Client, ClientOptions, Config, ConfigStorage, Fetched, NoLog, PollingMode, User,
};
use embedded_svc::http::client::Connection;
use embedded_svc::http::{Headers, Method, Status};
use embedded_svc::io::{ErrorType, Read, Write};

const SDK_KEY: &str = "configcat-sdk-1/TEST_KEY-0123456789012/1234567890123456789012";
const T0: u64 = 1_700_000_000_000;

/// The device's monotonic clock when the simulated wall clock reads `unix_ms`.
const fn mono(unix_ms: u64) -> configcat_embedded::Instant {
    configcat_embedded::Instant::from_millis(unix_ms - T0)
}
const INTERVAL: u64 = 60_000;

/// Serves one canned response from borrowed bytes; allocates nothing.
struct Canned<'a> {
    status: u16,
    etag: &'a str,
    content_length: &'a str,
    body: &'a [u8],
    position: usize,
    phase: u8,
}

impl Status for Canned<'_> {
    fn status(&self) -> u16 {
        self.status
    }
    fn status_message(&self) -> Option<&'_ str> {
        None
    }
}

impl Headers for Canned<'_> {
    fn header(&self, name: &str) -> Option<&'_ str> {
        if name.eq_ignore_ascii_case("etag") {
            Some(self.etag)
        } else if name.eq_ignore_ascii_case("content-length") {
            Some(self.content_length)
        } else {
            None
        }
    }
}

impl ErrorType for Canned<'_> {
    type Error = Infallible;
}

impl Read for Canned<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let rest = &self.body[self.position..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.position += n;
        Ok(n)
    }
}

impl Write for Canned<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

impl Connection for Canned<'_> {
    type Headers = Self;
    type Read = Self;
    type RawConnectionError = Infallible;
    type RawConnection = Self;

    fn initiate_request<'a>(
        &'a mut self,
        _method: Method,
        _uri: &'a str,
        _headers: &'a [(&'a str, &'a str)],
    ) -> Result<(), Infallible> {
        self.phase = 1;
        Ok(())
    }
    fn is_request_initiated(&self) -> bool {
        self.phase == 1
    }
    fn initiate_response(&mut self) -> Result<(), Infallible> {
        self.phase = 2;
        Ok(())
    }
    fn is_response_initiated(&self) -> bool {
        self.phase == 2
    }
    fn split(&mut self) -> (&Self::Headers, &mut Self::Read) {
        unimplemented!("not used by the client")
    }
    fn raw_connection(&mut self) -> Result<&mut Self::RawConnection, Infallible> {
        unimplemented!("not used by the client")
    }
}

/// A RAM storage whose blob is made before the measurement.
#[derive(Default)]
struct Ram {
    blob: Option<Vec<u8>>,
    writes: usize,
}

impl ConfigStorage for Ram {
    type Error = Infallible;
    fn load(&mut self, _key: &str) -> Result<Option<Vec<u8>>, Infallible> {
        Ok(self.blob.clone())
    }
    fn store(&mut self, _key: &str, blob: &[u8]) -> Result<(), Infallible> {
        self.writes += 1;
        // On a device this is flash, not heap: not counted.
        allocation_counter::opt_out(|| self.blob = Some(blob.to_vec()));
        Ok(())
    }
}

/// The largest file of the conformance configs, or `None` (said loudly)
/// when the data is missing; under `CI=true` that fails the test.
fn largest_conformance_config() -> Option<(PathBuf, Vec<u8>)> {
    let dir = std::env::var_os("CONFIGCAT_CONFORMANCE_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance"),
        PathBuf::from,
    );
    let Ok(entries) = std::fs::read_dir(dir.join("configs")) else {
        let message = format!(
            "!!! conformance data NOT FOUND at {}: peak heap NOT measured",
            dir.display()
        );
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("{message}");
        return None;
    };
    let path = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .max_by_key(|path| std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(0))?;
    let bytes = std::fs::read(&path).unwrap();
    Some((path, bytes))
}

/// Heap in use on this thread, tracked across measurements.
struct Heap {
    current: i64,
}

impl Heap {
    /// Runs `f`, returns its result and the absolute peak during it.
    fn phase<R>(&mut self, f: impl FnOnce() -> R) -> (R, i64) {
        let mut result = None;
        let info: AllocationInfo = measure(|| result = Some(f()));
        let peak = self.current + i64::try_from(info.bytes_max).unwrap();
        self.current += info.bytes_current;
        (result.unwrap(), peak)
    }
}

fn kib(bytes: i64) -> String {
    format!("{bytes} bytes ({:.1} KiB)", bytes as f64 / 1024.0)
}

#[test]
fn peak_heap_of_a_fetch_of_the_largest_conformance_config() {
    let Some((path, json)) = largest_conformance_config() else {
        return;
    };
    let n = json.len();
    let length_text = n.to_string();
    let status = Cell::new(200_u16);
    let etag = Cell::new("\"v1\"");
    let connector = || {
        Ok::<_, Infallible>(Canned {
            status: status.get(),
            etag: etag.get(),
            content_length: &length_text,
            body: &json,
            position: 0,
            phase: 0,
        })
    };
    let options = ClientOptions::default()
        .with_polling_mode(PollingMode::Auto {
            interval_ms: INTERVAL,
            max_init_wait_ms: 0,
        })
        .with_base_url("http://127.0.0.1:9");
    let user = User::new("peak-heap");

    // The parsed config alone: what it keeps, and its parse's transient peak.
    let mut heap = Heap { current: 0 };
    let (config, parse_peak) = heap.phase(|| Config::parse(&json).unwrap());
    let parsed = heap.current;
    drop(config);
    heap.current = 0;

    // First boot, empty storage, first fetch.
    let mut storage = Ram::default();
    let (mut client, _) = heap.phase(|| {
        Client::new(
            SDK_KEY,
            options.clone(),
            connector,
            &mut storage,
            NoLog,
            mono(T0),
            T0,
        )
        .unwrap()
    });
    let (result, first_fetch_peak) = heap.phase(|| client.tick(mono(T0), T0));
    assert_eq!(result, Some(Ok(Fetched::New)));
    let retained = heap.current;
    // A flag read allocates nothing.
    let key = client.get_all_keys().next().unwrap().to_owned();
    let (_, read_peak) = heap.phase(|| {
        let _ = client.get_value_details(&key, configcat_embedded::Value::Bool(false), Some(&user));
    });
    assert_eq!(
        read_peak, retained,
        "a read allocates nothing with logging off"
    );

    // 304: nothing but the request.
    status.set(304);
    let (result, not_modified_peak) =
        heap.phase(|| client.tick(mono(T0 + INTERVAL), T0 + INTERVAL));
    assert_eq!(result, Some(Ok(Fetched::NotModified)));

    // A changed config of the same size (new ETag): the old one is in memory when it starts.
    status.set(200);
    etag.set("\"v2\"");
    let (result, change_peak) =
        heap.phase(|| client.tick(mono(T0 + 2 * INTERVAL), T0 + 2 * INTERVAL));
    assert_eq!(result, Some(Ok(Fetched::New)));
    drop(client);
    assert_eq!(
        storage.writes, 2,
        "written on each new config, not on the 304"
    );

    // Reboot offline from the stored payload.
    heap.current = 0;
    let (client, boot_peak) = heap.phase(|| {
        Client::new(
            SDK_KEY,
            options.clone().with_offline(true),
            connector,
            &mut storage,
            NoLog,
            mono(T0 + 3 * INTERVAL),
            T0 + 3 * INTERVAL,
        )
        .unwrap()
    });
    assert!(client.config().is_some());
    drop(client);

    // The documented model (crate docs, docs/memory.md): a fetch holds the
    // N-byte body while the parser works (its own peak includes P), then the
    // body as the JSON text, the parsed config and the N-byte cache payload.
    // Once the storage holds the payload the text is released, so between
    // fetches the client holds P, and a changed config peaks like the first.
    let n_bytes = i64::try_from(n).unwrap();
    let first_model = n_bytes + parse_peak.max(parsed + n_bytes);
    let change_model = first_model;
    let report = [
        format!("config: {} (N = {n} bytes)", path.display()),
        format!("parsed config kept (P):               {}", kib(parsed)),
        format!("peak of parsing it (with P):          {}", kib(parse_peak)),
        format!("client between fetches (P):           {}", kib(retained)),
        format!(
            "peak of the first fetch:              {}",
            kib(first_fetch_peak)
        ),
        format!("  model: N + max(parse peak, P + N):  {}", kib(first_model)),
        format!("peak of a fetch of a changed config:  {}", kib(change_peak)),
        format!(
            "  model: as the first (text released): {}",
            kib(change_model)
        ),
        format!(
            "peak of a 304 poll:                   {}",
            kib(not_modified_peak)
        ),
        format!("peak of a boot from the stored blob:  {}", kib(boot_peak)),
    ];
    // Straight to stderr, past the harness's capture: the figures show in every run.
    let mut stderr = std::io::stderr().lock();
    for line in report {
        writeln!(stderr, "peak heap | {line}").unwrap();
    }
    // The model holds to within the request and the refresher's small strings.
    let slack = 1024;
    assert!(retained <= parsed + slack, "held: P");
    assert!(first_fetch_peak <= first_model + slack, "first fetch");
    assert!(change_peak <= change_model + slack, "changed config");
    assert!(boot_peak <= first_model + slack, "boot");
    assert!(
        not_modified_peak - retained < slack,
        "a 304 allocates only the request"
    );
}
