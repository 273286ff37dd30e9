//! Quickstart: a ConfigCat client reading feature flags.
//!
//! With no arguments it needs no network: it starts a stand-in of ConfigCat's
//! CDN on a loopback port, serving the demo config in `examples/data/`, points
//! an auto-polling client at it, evaluates flags for a few users, prints one
//! evaluation log, then changes the served config and shows the client picking
//! the change up (the config-changed hook fires).
//!
//! ```sh
//! cargo run --example quickstart
//! cargo run --example quickstart -- --sdk-key <your SDK key>   # the real CDN
//! ```

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use configcat_cdn_stand_in::CdnStandIn;
use configcat_std::{Client, ClientOptions, Hooks, User};

const DEMO_CONFIG: &str = include_str!("data/demo_config.json");
const DEMO_SDK_KEY: &str = "configcat-sdk-1/QuickstartDemo00000000/QuickstartDemo00000000";

/// Prints the `configcat` log records at info level while `SHOW_LOG` is set,
/// so exactly one evaluation log appears in the output.
struct PrintLogger;

static SHOW_LOG: AtomicBool = AtomicBool::new(false);
static LOGGER: PrintLogger = PrintLogger;

impl log::Log for PrintLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn || SHOW_LOG.load(Ordering::Relaxed)
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            println!(
                "    {} {}: {}",
                record.level(),
                record.target(),
                record.args()
            );
        }
    }
    fn flush(&self) {}
}

fn main() -> ExitCode {
    let _ = log::set_logger(&LOGGER).map(|()| log::set_max_level(log::LevelFilter::Info));
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [] => run_offline_demo(),
        [flag, key] if flag == "--sdk-key" => run_against_cdn(key),
        _ => Err("usage: quickstart [--sdk-key KEY]".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("quickstart: {message}");
            ExitCode::FAILURE
        }
    }
}

fn users() -> Vec<(&'static str, User)> {
    vec![
        (
            "Jane (staff, Hungary)",
            User::new("user-1001")
                .with_email("jane@example.com")
                .with_country("Hungary"),
        ),
        (
            "Bob (beta tester, USA)",
            User::new("user-2002")
                .with_email("bob+beta@mail.test")
                .with_country("USA"),
        ),
        (
            "Anna (Austria)",
            User::new("user-3003")
                .with_email("anna@mail.test")
                .with_country("Austria"),
        ),
        ("anonymous", User::new("user-4004")),
    ]
}

fn print_flags(client: &Client) {
    for (name, user) in users() {
        let awesome = client.get_value("isAwesomeFeatureEnabled", false, Some(&user));
        let greeting = client.get_value("greeting", String::from("Hi"), Some(&user));
        let discount = client.get_value("discountPercent", 0_i64, Some(&user));
        let dashboard = client.get_value("newDashboard", false, Some(&user));
        println!(
            "  {name:<24} awesome={awesome:<5} dashboard={dashboard:<5} discount={discount:>2}%  greeting={greeting:?}"
        );
    }
}

fn run_offline_demo() -> Result<(), String> {
    let cdn = CdnStandIn::start().map_err(|e| format!("cannot start the CDN stand-in: {e}"))?;
    cdn.set_config(DEMO_CONFIG);
    println!(
        "CDN stand-in serving examples/data/demo_config.json at {}",
        cdn.base_url()
    );

    let (changes, changed) = mpsc::channel();
    let hooks = Hooks::default()
        .on_client_ready(|state| println!("client ready: {state:?}"))
        .on_config_changed(move |config| {
            let _ = changes.send(config.keys().len());
        });
    let options = ClientOptions::default()
        .with_base_url(cdn.base_url())
        .with_auto_polling(Duration::from_millis(500), Duration::from_secs(5))
        .with_hooks(hooks);
    let client = Client::get(DEMO_SDK_KEY, options).map_err(|e| e.to_string())?;
    let state = client.wait_for_ready(Duration::from_secs(5));
    println!("cache state: {state:?}\n");
    // The first config arrives with the ready state; drain its notification.
    let _ = changed.recv_timeout(Duration::from_secs(5));

    println!("Flag values per user:");
    print_flags(&client);
    println!(
        "  maxUploadMb = {}",
        client.get_value("maxUploadMb", 0.0, None)
    );

    println!("\nThe evaluation log of one flag (info level, target `configcat`):");
    SHOW_LOG.store(true, Ordering::Relaxed);
    let jane = User::new("user-1001")
        .with_email("jane@example.com")
        .with_country("Hungary");
    let _ = client.get_value("discountPercent", 0_i64, Some(&jane));
    SHOW_LOG.store(false, Ordering::Relaxed);

    println!("\nChanging the served config: discountPercent for Hungary/Austria 15 -> 30 ...");
    cdn.set_config(&DEMO_CONFIG.replace(r#""v": { "i": 15 }"#, r#""v": { "i": 30 }"#));
    let settings = changed
        .recv_timeout(Duration::from_secs(10))
        .map_err(|_| "the client did not pick up the changed config within 10 s".to_owned())?;
    println!("config-changed hook fired: {settings} settings in the new config");
    println!(
        "discountPercent for Jane is now {}%",
        client.get_value("discountPercent", 0_i64, Some(&jane))
    );
    client.close();
    Ok(())
}

fn run_against_cdn(sdk_key: &str) -> Result<(), String> {
    let client = Client::get(sdk_key, ClientOptions::default()).map_err(|e| e.to_string())?;
    let state = client.wait_for_ready(Duration::from_secs(10));
    println!("cache state: {state:?}");
    let user = User::new("quickstart-user");
    for (key, value) in client.get_all_values(Some(&user)) {
        println!("  {key} = {}", value.as_value());
    }
    client.close();
    Ok(())
}
