//! `evaluate`: evaluates feature flags of a config file, for debugging
//! targeting rules.
//!
//! ```text
//! cargo run --release --example evaluate -- --config FILE [--log]
//!     reads JSON lines {"key": ..., "default": ..., "user": {...}} on stdin
//!     and writes one JSON line of evaluation details for each
//! cargo run --release --example evaluate -- --config FILE --key KEY [--user JSON] [--log]
//!     evaluates one flag
//! cargo run --release --example evaluate -- --config FILE --key KEY [--user JSON] --pretty
//!     the same, with its evaluation log, for a person to read
//! ```
//!
//! The logic lives in the `configcat_examples` library; this file only reads
//! arguments and moves lines.

use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use configcat_core::Config;
use configcat_examples::{evaluate_flag, evaluate_request_bytes, pretty_answer};

const USAGE: &str = "\
usage: evaluate --config FILE [--log | --pretty]
       evaluate --config FILE --key KEY [--user JSON] [--log | --pretty]

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
  --pretty       print for a person instead of JSON: the value, where it
                 came from (rules and % options numbered from 1) and the
                 evaluation log as the SDK writes it
  --help         show this help";

/// What the command line asks for.
struct Options {
    config: PathBuf,
    key: Option<String>,
    user: Option<serde_json::Value>,
    log: bool,
    pretty: bool,
}

/// Reads the arguments (after the program name); `Ok(None)` asks for help.
fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Option<Options>, String> {
    let mut config = None;
    let mut key = None;
    let mut user = None;
    let mut log = false;
    let mut pretty = false;
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
            "--pretty" if inline_value.is_none() => pretty = true,
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
        // The pretty form always shows the evaluation log.
        log: log || pretty,
        pretty,
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
        return match write_answer(&mut stdout, &answer, options.pretty) {
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
        if write_answer(&mut stdout, &answer, options.pretty).is_err() {
            return ExitCode::FAILURE;
        }
    }
}

/// One answer: its JSON line, or with `--pretty` its text and a blank line.
fn write_answer(out: &mut impl Write, answer: &str, pretty: bool) -> std::io::Result<()> {
    if pretty {
        writeln!(out, "{}", pretty_answer(answer))
    } else {
        writeln!(out, "{answer}")
    }
}
