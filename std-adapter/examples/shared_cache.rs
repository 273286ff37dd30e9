//! The shared Redis cache from the command line (feature `redis`): the Rust
//! side of `.ci/cross_sdk_cache.sh`, which checks that this client and
//! ConfigCat's official Python SDK read each other's cache entries.
//!
//! ```sh
//! # A CDN stand-in on a loopback port serving a config file; prints "CDN <base url>".
//! cargo run -p configcat-std --features redis --example shared_cache -- serve-cdn --config FILE
//! # An online client: fetches from BASE_URL, writes the entry to Redis, prints evaluations.
//! cargo run -p configcat-std --features redis --example shared_cache -- write --redis URL --sdk-key KEY --base-url BASE_URL --users FILE
//! # An offline client: reads the entry from Redis, prints evaluations.
//! cargo run -p configcat-std --features redis --example shared_cache -- read --redis URL --sdk-key KEY --users FILE
//! ```
//!
//! The users file has one user per line, tab-separated: identifier, e-mail,
//! country, custom text attributes as `name=value;name=value` (empty fields
//! are "not set"; `#` starts a comment line). An evaluation is printed as
//! `<identifier>\t<key>\t<value>\t<variation id>`, sorted, with `ERROR: ...`
//! as the value when evaluation failed.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use configcat_cdn_stand_in::CdnStandIn;
use configcat_std::{CacheState, Client, ClientOptions, OwnedValue, RedisCache, User};

/// Prints errors of the `configcat` target to stderr.
struct StderrLogger;

static LOGGER: StderrLogger = StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Error
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!("{} {}: {}", record.level(), record.target(), record.args());
        }
    }
    fn flush(&self) {}
}

fn main() -> ExitCode {
    let _ = log::set_logger(&LOGGER).map(|()| log::set_max_level(log::LevelFilter::Error));
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.split_first() {
        Some((command, rest)) => Options::parse(rest).and_then(|options| match command.as_str() {
            "serve-cdn" => serve_cdn(&options),
            "write" => write(&options),
            "read" => read(&options),
            other => Err(format!("unknown command '{other}'")),
        }),
        None => Err("missing command".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("shared_cache: {message}");
            eprintln!(
                "usage: shared_cache serve-cdn --config FILE [--lifetime-secs N]\n       \
                 shared_cache write --redis URL --sdk-key KEY --base-url URL --users FILE\n       \
                 shared_cache read --redis URL --sdk-key KEY --users FILE"
            );
            ExitCode::FAILURE
        }
    }
}

/// `--name value` pairs.
struct Options(HashMap<String, String>);

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = HashMap::new();
        let mut args = args.iter();
        while let Some(name) = args.next() {
            let name = name
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument '{name}'"))?;
            let value = args
                .next()
                .ok_or_else(|| format!("--{name} needs a value"))?;
            options.insert(name.to_owned(), value.clone());
        }
        Ok(Self(options))
    }

    fn get(&self, name: &str) -> Result<&str, String> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| format!("--{name} is required"))
    }
}

/// Serves the config file until killed (or `--lifetime-secs`, default 300, pass).
fn serve_cdn(options: &Options) -> Result<(), String> {
    let path = options.get("config")?;
    let config = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let lifetime = options
        .0
        .get("lifetime-secs")
        .map_or(Ok(300), |secs| secs.parse::<u64>())
        .map_err(|e| format!("--lifetime-secs: {e}"))?;
    let cdn = CdnStandIn::start().map_err(|e| format!("cannot start the CDN stand-in: {e}"))?;
    cdn.set_config(&config);
    println!("CDN {}", cdn.base_url());
    let end = Instant::now() + Duration::from_secs(lifetime);
    while Instant::now() < end {
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

fn redis_cache(options: &Options) -> Result<Arc<RedisCache>, String> {
    let url = options.get("redis")?;
    RedisCache::new(url)
        .map(Arc::new)
        .map_err(|e| format!("invalid Redis url {url}: {e}"))
}

/// An online client fetching from `--base-url` and writing to Redis.
fn write(options: &Options) -> Result<(), String> {
    let users = read_users(options.get("users")?)?;
    let client_options = ClientOptions::default()
        .with_base_url(options.get("base-url")?)
        .with_manual_polling()
        .with_cache(redis_cache(options)?);
    let client = Client::get(options.get("sdk-key")?, client_options).map_err(|e| e.to_string())?;
    client
        .force_refresh()
        .map_err(|e| format!("fetching the config failed: {e}"))?;
    print_evaluations(&client, &users);
    client.close();
    Ok(())
}

/// An offline client reading the entry from Redis.
fn read(options: &Options) -> Result<(), String> {
    let users = read_users(options.get("users")?)?;
    let client_options = ClientOptions::default()
        .with_offline(true)
        .with_manual_polling()
        .with_cache(redis_cache(options)?);
    let client = Client::get(options.get("sdk-key")?, client_options).map_err(|e| e.to_string())?;
    let state = client.wait_for_ready(Duration::from_secs(5));
    if state == CacheState::NoFlagData {
        return Err("no config in the cache".to_owned());
    }
    print_evaluations(&client, &users);
    client.close();
    Ok(())
}

fn read_users(path: &str) -> Result<Vec<User>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let mut users = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut fields = line.split('\t');
        let mut user = User::new(fields.next().unwrap_or_default());
        if let Some(email) = fields.next().filter(|e| !e.is_empty()) {
            user = user.with_email(email);
        }
        if let Some(country) = fields.next().filter(|c| !c.is_empty()) {
            user = user.with_country(country);
        }
        for attribute in fields.next().unwrap_or_default().split(';') {
            if let Some((name, value)) = attribute.split_once('=') {
                user = user.with_custom(name, value);
            }
        }
        users.push(user);
    }
    Ok(users)
}

fn print_evaluations(client: &Client, users: &[User]) {
    let mut lines = Vec::new();
    for user in users {
        for details in client.get_all_value_details(Some(user)) {
            let value = match (&details.error, &details.value) {
                (Some(error), _) => format!("ERROR: {error}"),
                (None, Some(value)) => format_value(value),
                (None, None) => "ERROR: no value".to_owned(),
            };
            let variation = details.variation_id.as_deref().unwrap_or("-");
            lines.push(format!(
                "{}\t{}\t{value}\t{variation}",
                user.identifier(),
                details.key
            ));
        }
    }
    lines.sort();
    for line in lines {
        println!("{line}");
    }
}

/// The canonical text of a value, as the Python side writes it.
fn format_value(value: &OwnedValue) -> String {
    match value {
        OwnedValue::Bool(flag) => flag.to_string(),
        OwnedValue::Int(number) => number.to_string(),
        // Display: shortest round-trip digits, no exponent, "10" for 10.0.
        OwnedValue::Float(number) => number.to_string(),
        OwnedValue::Text(text) => text.to_string(),
    }
}
