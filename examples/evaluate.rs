//! `evaluate`: evaluates feature flags of a config file, for debugging
//! targeting rules.
//!
//! ```text
//! cargo run --release --example evaluate -- --config FILE [--log]
//!     reads JSON lines {"key": ..., "default": ..., "user": {...}} on stdin
//!     and writes one JSON line of evaluation details for each
//! cargo run --release --example evaluate -- --config FILE --key KEY [--user JSON] [--log]
//!     evaluates one flag
//! ```
//!
//! The logic lives in the `configcat_examples` library; this file only reads
//! arguments and moves lines.

use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use configcat_core::Config;
use configcat_examples::{evaluate_flag, evaluate_request_bytes};

const USAGE: &str = "\
usage: evaluate --config FILE [--log]
       evaluate --config FILE --key KEY [--user JSON] [--log]

Evaluates feature flags of a config JSON v6 file (or a {\"flags\": {...}}
override file).

Without --key, reads one request per line on stdin,
  {\"key\": \"flagKey\", \"default\": <bool|integer|float|string|null>, \"user\": <object|null>}
and writes one JSON line per request:
  {\"key\", \"value\", \"variation_id\", \"is_default_value\", \"error\",
   \"matched_rule_index\", \"matched_percentage_option_index\"}.
A user is {\"Identifier\": ..., \"Email\": ..., \"Country\": ..., <custom>: ...}; a
custom value is a string, a number, an array of strings,
{\"datetime\": \"<RFC 3339>\"} or {\"number\": \"NaN\"|\"Infinity\"|\"-Infinity\"}.

  --config FILE  the config JSON to evaluate
  --key KEY      evaluate this one flag (without a default) and exit
  --user JSON    the user for --key
  --log          add \"log\": every log record of the evaluation,
                 one per line as LEVEL [event id] message
  --help         show this help";

/// What the command line asks for.
struct Options {
    config: PathBuf,
    key: Option<String>,
    user: Option<serde_json::Value>,
    log: bool,
}

/// Reads the arguments (after the program name); `Ok(None)` asks for help.
fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Option<Options>, String> {
    let mut config = None;
    let mut key = None;
    let mut user = None;
    let mut log = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let arg = arg
            .into_string()
            .map_err(|arg| format!("unexpected argument {arg:?} (not valid UTF-8)"))?;
        // Accept both `--name VALUE` and `--name=VALUE`.
        let (name, inline_value) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name.to_owned(), Some(value)),
            _ => (arg.clone(), None),
        };
        let mut value = |slot_filled: bool| -> Result<OsString, String> {
            if slot_filled {
                return Err(format!("{name} is given twice"));
            }
            match inline_value {
                Some(value) => Ok(value.into()),
                None => args.next().ok_or_else(|| format!("{name} needs a value")),
            }
        };
        match name.as_str() {
            "--help" | "-h" => return Ok(None),
            "--log" if inline_value.is_none() => log = true,
            "--config" => config = Some(PathBuf::from(value(config.is_some())?)),
            "--key" => {
                let text = value(key.is_some())?
                    .into_string()
                    .map_err(|_| "--key is not valid UTF-8".to_owned())?;
                key = Some(text);
            }
            "--user" => {
                let text = value(user.is_some())?
                    .into_string()
                    .map_err(|_| "--user is not valid UTF-8".to_owned())?;
                let json = serde_json::from_str(&text)
                    .map_err(|error| format!("--user is not JSON: {error}"))?;
                user = Some(json);
            }
            _ => return Err(format!("unexpected argument {arg}")),
        }
    }
    let config = config.ok_or("--config FILE is required")?;
    if user.is_some() && key.is_none() {
        return Err("--user needs --key (on stdin, each request carries its user)".into());
    }
    Ok(Some(Options {
        config,
        key,
        user,
        log,
    }))
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args_os().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("evaluate: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let config = match std::fs::read(&options.config) {
        Ok(bytes) => Config::parse_overrides(&bytes).map_err(|error| error.to_string()),
        Err(error) => Err(error.to_string()),
    };
    let config = match config {
        Ok(config) => config,
        Err(error) => {
            eprintln!("evaluate: {}: {error}", options.config.display());
            return ExitCode::FAILURE;
        }
    };
    // Stdout is line-buffered: each answer goes out as soon as it is ready,
    // so the tool can also be driven one request at a time.
    let mut stdout = std::io::stdout().lock();
    if let Some(key) = &options.key {
        let answer = evaluate_flag(&config, key, options.user.as_ref(), options.log);
        return match writeln!(stdout, "{answer}") {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        };
    }
    let mut stdin = std::io::stdin().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        match stdin.read_until(b'\n', &mut line) {
            Ok(0) => return ExitCode::SUCCESS,
            Ok(_) => {}
            Err(error) => {
                eprintln!("evaluate: cannot read stdin: {error}");
                return ExitCode::FAILURE;
            }
        }
        let request = line.strip_suffix(b"\n").unwrap_or(&line);
        let request = request.strip_suffix(b"\r").unwrap_or(request);
        let answer = evaluate_request_bytes(&config, request, options.log);
        // A closed stdout (e.g. `| head`) ends the run quietly.
        if writeln!(stdout, "{answer}").is_err() {
            return ExitCode::FAILURE;
        }
    }
}
