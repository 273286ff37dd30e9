//! ConfigCat feature flags on an ESP32-C3: a flag switches an LED.
//!
//! Boot: Wi-Fi (station), SNTP for the wall clock, the NVS namespace
//! `configcat` as the persistent config cache, and the embedded client. The
//! main loop ticks the client with the uptime (the monotonic clock that
//! schedules its polls) and the Unix time (recorded as the stored config's
//! fetch time); it fetches every 60 s, with ETags, writing NVS only when the config changes,
//! and sets the LED from the flag `LED_FLAG` every 100 ms. Reads never wait
//! on the network: without Wi-Fi the device serves the config it stored last.
//!
//! Build-time settings (environment variables): `WIFI_SSID`, `WIFI_PASS`,
//! `CONFIGCAT_SDK_KEY`. See README.md for building and flashing.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::anyhow;
use configcat_embedded::{
    Client, ClientOptions, Fetched, Instant, KeyValueStorage, LogFacadeSink, PollingMode, User,
};
use esp_idf_svc::eventloop::EspSystemEventLoop;
use esp_idf_svc::hal::gpio::PinDriver;
use esp_idf_svc::hal::peripherals::Peripherals;
use esp_idf_svc::http::client::{
    Configuration as HttpConfiguration, EspHttpConnection, FollowRedirectsPolicy,
};
use esp_idf_svc::log::EspLogger;
use esp_idf_svc::nvs::{EspDefaultNvsPartition, EspKeyValueStorage, EspNvs};
use esp_idf_svc::sntp::{EspSntp, SyncStatus};
use esp_idf_svc::wifi::{AuthMethod, BlockingWifi, ClientConfiguration, Configuration, EspWifi};
use log::{info, warn};

const WIFI_SSID: &str = env!("WIFI_SSID");
const WIFI_PASS: &str = env!("WIFI_PASS");
const SDK_KEY: &str = env!("CONFIGCAT_SDK_KEY");

/// The feature flag (a bool setting in your ConfigCat dashboard) that switches the LED.
const LED_FLAG: &str = "ledEnabled";
/// How often the main loop runs: flag reads are in-memory evaluations.
const LOOP_PERIOD: Duration = Duration::from_millis(100);
/// How long to wait for the first SNTP sync before going on without it.
const SNTP_WAIT: Duration = Duration::from_secs(15);
/// The earliest time between two Wi-Fi reconnection attempts.
const RECONNECT_EVERY_MS: u64 = 30_000;

fn main() -> anyhow::Result<()> {
    esp_idf_svc::sys::link_patches();
    EspLogger::initialize_default();

    let peripherals = Peripherals::take()?;
    let sys_loop = EspSystemEventLoop::take()?;
    let nvs_partition = EspDefaultNvsPartition::take()?;

    // An LED (with a series resistor) from GPIO 5 to GND.
    let mut led = PinDriver::output(peripherals.pins.gpio5)?;
    led.set_low()?;

    let mut wifi = BlockingWifi::wrap(
        EspWifi::new(
            peripherals.modem,
            sys_loop.clone(),
            Some(nvs_partition.clone()),
        )?,
        sys_loop,
    )?;
    // Without Wi-Fi the device still boots and serves the config stored in NVS.
    if let Err(error) = connect_wifi(&mut wifi) {
        warn!("Wi-Fi not connected ({error}); serving the cached config");
    }
    // Kept alive for the whole run: dropping it stops SNTP.
    let sntp = EspSntp::new_default()?;
    wait_for_clock(&sntp);

    // The cached config lives in its own NVS namespace, under a 15-character
    // key derived from the SDK key (`client.storage_key()`).
    let nvs = EspNvs::new(nvs_partition, "configcat", true)?;
    let storage = KeyValueStorage::new(EspKeyValueStorage::new(nvs));

    let http = HttpConfiguration {
        // HTTPS to ConfigCat's CDN, verified with ESP-IDF's certificate bundle.
        crt_bundle_attach: Some(esp_idf_svc::sys::esp_crt_bundle_attach),
        timeout: Some(Duration::from_secs(10)),
        // Redirects are ConfigCat's protocol business (in the config JSON), not HTTP's.
        follow_redirects_policy: FollowRedirectsPolicy::FollowNone,
        ..Default::default()
    };
    // The client makes a connection per refresh and drops it afterwards, so
    // the TLS buffers are only held while it fetches.
    let connect = move || EspHttpConnection::new(&http);

    let options = ClientOptions::default()
        .with_polling_mode(PollingMode::Auto {
            interval_ms: 60_000,
            max_init_wait_ms: 0,
        })
        .with_timeouts_ms(10_000, 10_000);
    let boot = std::time::Instant::now();
    let uptime = || Instant::from_millis(u64::try_from(boot.elapsed().as_millis()).unwrap_or(u64::MAX));
    let mut client = Client::new(
        SDK_KEY,
        options,
        connect,
        storage,
        LogFacadeSink,
        uptime(),
        now_ms(),
    )?;
    info!(
        "ConfigCat client ready (NVS key {}, cached config: {})",
        client.storage_key(),
        client.config().is_some()
    );

    // The user the flag is evaluated for: this device, by its MAC address,
    // so percentage rollouts and targeting rules can pick devices.
    let mac = wifi.wifi().sta_netif().get_mac()?;
    let device_id = mac
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect::<String>();
    let device = User::new(device_id).with_custom("Firmware", env!("CARGO_PKG_VERSION"));

    let mut led_on = None;
    let mut last_reconnect = Instant::ZERO;
    loop {
        let now = uptime();
        match client.tick(now, now_ms()) {
            Some(Ok(Fetched::New)) => info!("new config fetched"),
            Some(Err(error)) => {
                warn!("refresh failed: {error}");
                if !wifi.is_connected().unwrap_or(false)
                    && now.saturating_millis_since(last_reconnect) >= RECONNECT_EVERY_MS
                {
                    last_reconnect = now;
                    if let Err(error) = connect_wifi(&mut wifi) {
                        warn!("Wi-Fi reconnection failed: {error}");
                    }
                }
            }
            _ => {}
        }

        let on = client.get_value(LED_FLAG, false, Some(&device));
        if led_on != Some(on) {
            if on {
                led.set_high()?;
            } else {
                led.set_low()?;
            }
            info!("{LED_FLAG} = {on}: LED {}", if on { "on" } else { "off" });
            led_on = Some(on);
        }

        std::thread::sleep(LOOP_PERIOD);
    }
}

fn connect_wifi(wifi: &mut BlockingWifi<EspWifi<'static>>) -> anyhow::Result<()> {
    let configuration = Configuration::Client(ClientConfiguration {
        ssid: WIFI_SSID
            .try_into()
            .map_err(|_| anyhow!("WIFI_SSID is longer than 32 bytes"))?,
        password: WIFI_PASS
            .try_into()
            .map_err(|_| anyhow!("WIFI_PASS is longer than 64 bytes"))?,
        auth_method: if WIFI_PASS.is_empty() {
            AuthMethod::None
        } else {
            AuthMethod::WPA2Personal
        },
        ..Default::default()
    });
    wifi.set_configuration(&configuration)?;
    if !wifi.is_started()? {
        wifi.start()?;
    }
    wifi.connect()?;
    wifi.wait_netif_up()?;
    info!("Wi-Fi connected");
    Ok(())
}

/// Waits (at most `SNTP_WAIT`) for the first SNTP sync. Without it the wall
/// clock starts in 1970: the client works all the same (the uptime schedules
/// its polls), only the fetch time it records is off until SNTP syncs.
fn wait_for_clock(sntp: &EspSntp<'_>) {
    let start = std::time::Instant::now();
    while sntp.get_sync_status() != SyncStatus::Completed {
        if start.elapsed() > SNTP_WAIT {
            warn!("no SNTP time yet; going on with the clock as it is");
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    info!("clock set by SNTP");
}

/// The wall clock in Unix milliseconds: the fetch time the client records.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}
