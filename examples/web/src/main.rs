//! The web sample's server.
//!
//! ```sh
//! cargo run -p configcat-web-sample                          # offline: bundled config, loopback CDN stand-in
//! cargo run -p configcat-web-sample -- --sdk-key <SDK key>   # ConfigCat's CDN
//! cargo run -p configcat-web-sample -- --bind 127.0.0.1:3000
//! ```
//!
//! It prints `listening on http://<address>` once it accepts requests.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use configcat_cdn_stand_in::CdnStandIn;
use configcat_std::{Client, ClientOptions};

/// The config served when no SDK key is given.
const BUNDLED_CONFIG: &str = include_str!("../data/config.json");
/// The SDK key of the bundled config (any well-formed key works with the stand-in).
const DEMO_SDK_KEY: &str = "configcat-sdk-1/WebSampleDemo000000000/WebSampleDemo000000000";
const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// Prints warnings and errors of the `configcat` target to stderr.
struct StderrLogger;

static LOGGER: StderrLogger = StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!("{} {}: {}", record.level(), record.target(), record.args());
        }
    }
    fn flush(&self) {}
}

struct Args {
    bind: SocketAddr,
    sdk_key: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut bind = DEFAULT_BIND.to_owned();
    let mut sdk_key = std::env::var("CONFIGCAT_SDK_KEY")
        .ok()
        .filter(|key| !key.is_empty());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bind" => bind = args.next().ok_or("--bind needs an address")?,
            "--sdk-key" => sdk_key = Some(args.next().ok_or("--sdk-key needs a key")?),
            other => return Err(format!("unexpected argument '{other}'")),
        }
    }
    let bind = bind
        .parse()
        .map_err(|e| format!("invalid address '{bind}': {e}"))?;
    Ok(Args { bind, sdk_key })
}

#[tokio::main]
async fn main() -> ExitCode {
    let _ = log::set_logger(&LOGGER).map(|()| log::set_max_level(log::LevelFilter::Warn));
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("configcat-web-sample: {message}");
            eprintln!("usage: configcat-web-sample [--bind ADDRESS] [--sdk-key KEY]");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let args = parse_args()?;
    // Kept alive for as long as the server runs.
    let mut _stand_in = None;
    let client = match &args.sdk_key {
        Some(key) => Client::get(key, ClientOptions::default()),
        None => {
            let cdn =
                CdnStandIn::start().map_err(|e| format!("cannot start the CDN stand-in: {e}"))?;
            cdn.set_config(BUNDLED_CONFIG);
            println!(
                "no SDK key: serving the bundled examples/web/data/config.json from a CDN stand-in at {}",
                cdn.base_url()
            );
            let options = ClientOptions::default()
                .with_base_url(cdn.base_url())
                .with_auto_polling(Duration::from_secs(30), Duration::from_secs(5));
            _stand_in = Some(cdn);
            Client::get(DEMO_SDK_KEY, options)
        }
    }
    .map_err(|e| e.to_string())?;
    // One client for the whole process; wait for its first config before
    // serving, without blocking the runtime's threads.
    let state = client.wait_for_ready_async(Duration::from_secs(10)).await;
    println!("config: {state:?}");

    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on http://{address}");
    let _ = std::io::stdout().flush();

    let served = axum::serve(listener, configcat_web_sample::router(client.clone()))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    client.close();
    served.map_err(|e| e.to_string())
}
