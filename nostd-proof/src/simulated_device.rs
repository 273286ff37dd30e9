//! The embedded adapter on a simulated device: its `Connection` is a CDN in
//! memory serving the proof's config (with an ETag, answering
//! `If-None-Match` with 304), its flash a RAM blob. The client fetches,
//! confirms, serves the flags, and serves them again after a reboot offline.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::convert::Infallible;

use configcat_embedded::{
    Client, ClientOptions, ConfigStorage, Fetched, Instant, NoLog, PollingMode, User,
};
use embedded_svc::http::client::Connection;
use embedded_svc::http::{Headers, Method, Status};
use embedded_svc::io::{ErrorType, Read, Write};

const SDK_KEY: &str = "configcat-sdk-1/NOSTD-PROOF-0123456789/1234567890123456789012";
const ETAG: &str = "\"proof-v1\"";
const T0: u64 = 1_700_000_000_000;
const INTERVAL_MS: u64 = 60_000;

/// Status and headers of the canned response.
struct CannedHead {
    status: u16,
    content_length: String,
}

impl Status for CannedHead {
    fn status(&self) -> u16 {
        self.status
    }

    fn status_message(&self) -> Option<&'_ str> {
        None
    }
}

impl Headers for CannedHead {
    fn header(&self, name: &str) -> Option<&'_ str> {
        if name.eq_ignore_ascii_case("ETag") {
            Some(ETAG)
        } else if name.eq_ignore_ascii_case("Content-Length") && self.status == 200 {
            Some(&self.content_length)
        } else {
            None
        }
    }
}

/// The body of the canned response.
struct CannedBody {
    bytes: &'static [u8],
    position: usize,
}

impl ErrorType for CannedBody {
    type Error = Infallible;
}

impl Read for CannedBody {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let rest = self.bytes.get(self.position..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        if let (Some(to), Some(from)) = (buf.get_mut(..n), rest.get(..n)) {
            to.copy_from_slice(from);
        }
        self.position += n;
        Ok(n)
    }
}

/// A CDN in memory: answers 304 to the right `If-None-Match`, else 200 with
/// the config.
struct CannedCdn {
    head: CannedHead,
    body: CannedBody,
    phase: u8,
}

impl CannedCdn {
    fn new(bytes: &'static [u8]) -> Self {
        Self {
            head: CannedHead {
                status: 0,
                content_length: format!("{}", bytes.len()),
            },
            body: CannedBody { bytes, position: 0 },
            phase: 0,
        }
    }
}

impl Status for CannedCdn {
    fn status(&self) -> u16 {
        self.head.status()
    }

    fn status_message(&self) -> Option<&'_ str> {
        None
    }
}

impl Headers for CannedCdn {
    fn header(&self, name: &str) -> Option<&'_ str> {
        self.head.header(name)
    }
}

impl ErrorType for CannedCdn {
    type Error = Infallible;
}

impl Read for CannedCdn {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        self.body.read(buf)
    }
}

impl Write for CannedCdn {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

impl Connection for CannedCdn {
    type Headers = CannedHead;
    type Read = CannedBody;
    type RawConnectionError = Infallible;
    type RawConnection = Self;

    fn initiate_request<'a>(
        &'a mut self,
        _method: Method,
        _uri: &'a str,
        headers: &'a [(&'a str, &'a str)],
    ) -> Result<(), Infallible> {
        let cached = headers
            .iter()
            .any(|(name, value)| name.eq_ignore_ascii_case("If-None-Match") && *value == ETAG);
        self.head.status = if cached { 304 } else { 200 };
        self.body.position = 0;
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
        (&self.head, &mut self.body)
    }

    fn raw_connection(&mut self) -> Result<&mut Self::RawConnection, Infallible> {
        Ok(self)
    }
}

/// The device's flash: one blob and a write counter.
#[derive(Default)]
struct Flash {
    blob: Option<Vec<u8>>,
    writes: u32,
}

impl ConfigStorage for Flash {
    type Error = Infallible;

    fn load(&mut self, _key: &str) -> Result<Option<Vec<u8>>, Infallible> {
        Ok(self.blob.clone())
    }

    fn store(&mut self, _key: &str, blob: &[u8]) -> Result<(), Infallible> {
        self.writes += 1;
        self.blob = Some(blob.to_vec());
        Ok(())
    }
}

/// Boots, fetches, confirms with a 304, evaluates `cases` (identifier,
/// email, expected value of `flag`), reboots offline and evaluates them
/// again. True when every step went as expected.
pub(crate) fn run(config_json: &'static [u8], flag: &str, cases: &[(&str, &str, &str)]) -> bool {
    let connect = || Ok::<_, Infallible>(CannedCdn::new(config_json));
    let options = ClientOptions::default()
        .with_polling_mode(PollingMode::Auto {
            interval_ms: INTERVAL_MS,
            max_init_wait_ms: 0,
        })
        .with_default_user(User::new("device"));
    let serves_all = |client: &Client<_, &mut Flash, NoLog>| {
        cases.iter().all(|&(identifier, email, expected)| {
            let user = User::new(identifier).with_email(email);
            client.get_value(flag, "default", Some(&user)) == expected
        })
    };

    let mut flash = Flash::default();
    // The device's uptime is its monotonic clock; T0 is its wall clock at boot.
    let uptime = Instant::from_millis;
    let boot = Client::new(
        SDK_KEY,
        options.clone(),
        connect,
        &mut flash,
        NoLog,
        uptime(0),
        T0,
    );
    let Ok(mut client) = boot else {
        return false;
    };
    let fetched = client.tick(uptime(0), T0) == Some(Ok(Fetched::New));
    let idle = client
        .tick(uptime(INTERVAL_MS - 1), T0 + INTERVAL_MS - 1)
        .is_none();
    let confirmed =
        client.tick(uptime(INTERVAL_MS), T0 + INTERVAL_MS) == Some(Ok(Fetched::NotModified));
    let served = serves_all(&client);
    drop(client);
    let written_once = flash.writes == 1;

    let options = options.with_offline(true);
    let reboot_ms = T0 + 10 * INTERVAL_MS;
    let reboot = Client::new(
        SDK_KEY,
        options,
        connect,
        &mut flash,
        NoLog,
        uptime(0),
        reboot_ms,
    );
    let Ok(mut rebooted) = reboot else {
        return false;
    };
    let offline = rebooted.tick(uptime(0), reboot_ms).is_none();
    let served_after_reboot = serves_all(&rebooted);
    fetched && idle && confirmed && served && written_once && offline && served_after_reboot
}
