//! The embedded client's device loop, run on the host: the same code path as
//! on an ESP32, with a plain TCP `Connection` instead of esp-idf-svc's, a RAM
//! blob instead of NVS, and a simulated clock instead of SNTP.
//!
//! It starts a stand-in of ConfigCat's CDN on a loopback port (no network
//! needed), then runs a main loop that ticks the client every simulated
//! second for ten simulated minutes with a 60 s polling interval. It changes
//! the served config half-way, takes the CDN down for a while, and finally
//! "reboots" with the CDN still down to show the persisted config being used.
//!
//! ```sh
//! cargo run -p configcat-embedded --example host_tick
//! ```

#[path = "../tests/support/tcp_connection.rs"]
mod tcp_connection;

use std::convert::Infallible;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use configcat_cdn_stand_in::{CdnStandIn, Fault};
use configcat_embedded::{
    Client, ClientOptions, ConfigStorage, EventId, Fetched, Instant, LogLevel, LogSink,
    PollingMode, User,
};
use tcp_connection::TcpConnection;

const SDK_KEY: &str = "configcat-sdk-1/HOST_TICK-012345678901/1234567890123456789012";
const INTERVAL_MS: u64 = 60_000;
const TICK_MS: u64 = 1_000;

/// The flash of the simulated device: one blob, with a write counter.
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

/// Prints warnings and errors, as a device's serial log would.
struct SerialLog;

impl LogSink for SerialLog {
    fn enabled(&self, level: LogLevel) -> bool {
        level <= LogLevel::Warning
    }

    fn event(&self, level: LogLevel, id: EventId, message: fmt::Arguments<'_>) {
        println!("          log {level} [{}] {message}", id.code());
    }
}

fn config(led: bool, blink_ms: i64) -> String {
    format!(
        r#"{{"f":{{"ledEnabled":{{"t":0,"v":{{"b":{led}}}}},"blinkMs":{{"t":2,"v":{{"i":{blink_ms}}}}}}}}}"#
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cdn = CdnStandIn::start()?;
    cdn.set_config(&config(false, 500));
    println!("CDN stand-in at {}", cdn.base_url());

    let options = ClientOptions::default()
        .with_polling_mode(PollingMode::Auto {
            interval_ms: INTERVAL_MS,
            max_init_wait_ms: 0,
        })
        .with_base_url(cdn.base_url())
        .with_timeouts_ms(2_000, 2_000);
    let connect = || Ok::<_, tcp_connection::TcpError>(TcpConnection::new(Duration::from_secs(2)));
    let device = User::new("device-0042").with_custom("Firmware", "1.4.2");

    // "SNTP": the real time once, then simulated seconds; the monotonic
    // clock is the uptime, from 0 at every boot.
    let boot_ms = u64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis())?;
    let mut flash = Flash::default();
    let mut client = Client::new(
        SDK_KEY,
        options.clone(),
        connect,
        &mut flash,
        SerialLog,
        Instant::ZERO,
        boot_ms,
    )?;
    println!("storage key: {}", client.storage_key());

    let mut led = None;
    let mut now_ms = boot_ms;
    let end_ms = boot_ms + 10 * INTERVAL_MS;
    while now_ms < end_ms {
        let elapsed_s = (now_ms - boot_ms) / 1_000;
        if elapsed_s == 150 {
            println!("t={elapsed_s:>4}s  (the dashboard turns the LED on)");
            cdn.set_config(&config(true, 250));
        }
        if elapsed_s == 300 {
            println!("t={elapsed_s:>4}s  (the CDN starts failing)");
            cdn.set_fault(Fault::Status(503));
        }
        if elapsed_s == 450 {
            println!("t={elapsed_s:>4}s  (the CDN is back)");
            cdn.clear_fault();
        }
        if let Some(result) = client.tick(Instant::from_millis(now_ms - boot_ms), now_ms) {
            let outcome = match &result {
                Ok(Fetched::New) => "new config".to_owned(),
                Ok(Fetched::NotModified) => "304 not modified".to_owned(),
                Ok(_) => "refreshed".to_owned(),
                Err(error) => format!("failed ({error})"),
            };
            println!("t={elapsed_s:>4}s  tick fetched: {outcome}");
        }
        // Flag reads are in-memory evaluations: no network, every tick.
        let on = client.get_value("ledEnabled", false, Some(&device));
        if led != Some(on) {
            let blink: i64 = client.get_value("blinkMs", 1_000, Some(&device));
            println!(
                "t={elapsed_s:>4}s  LED {} (blink every {blink} ms)",
                if on { "ON " } else { "OFF" }
            );
            led = Some(on);
        }
        now_ms += TICK_MS;
    }
    drop(client);
    println!(
        "{} requests over {} simulated minutes, {} flash writes (only when the config changed)",
        cdn.request_count(),
        (end_ms - boot_ms) / 60_000,
        flash.writes
    );

    println!("reboot with the CDN down:");
    drop(cdn);
    let mut client = Client::new(
        SDK_KEY,
        options,
        connect,
        &mut flash,
        SerialLog,
        Instant::ZERO,
        end_ms,
    )?;
    println!(
        "  before any network use: LED {}",
        if client.get_value("ledEnabled", false, Some(&device)) {
            "ON (from flash)"
        } else {
            "OFF"
        }
    );
    if let Some(Err(error)) = client.tick(Instant::ZERO, end_ms) {
        println!("  first tick: {error}");
    }
    println!(
        "  still serving: LED {}",
        if client.get_value("ledEnabled", false, Some(&device)) {
            "ON"
        } else {
            "OFF"
        }
    );
    Ok(())
}
