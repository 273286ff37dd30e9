//! The logic of the `evaluate` example: a command-line tool for people
//! debugging their targeting rules.
//!
//! The tool reads requests as JSON lines (`{"key": ..., "default": ...,
//! "user": {...}}`) and answers each with one JSON line holding the value,
//! the variation id, the matched rule or % option, the error and, with
//! `--log`, every log record the evaluation emitted; `--pretty` shows the
//! same for a person ([`pretty_answer`]). It lives in this library
//! so that it is tested without spawning processes; `evaluate.rs` only parses
//! arguments and moves lines.
//!
//! ```
//! use configcat_examples::evaluate_request_line;
//! use configcat_core::Config;
//!
//! let config = Config::parse(br#"{"f":{"enabled":{"t":0,"v":{"b":true},"i":"v1"}}}"#)?;
//! assert_eq!(
//!     evaluate_request_line(&config, r#"{"key": "enabled", "default": false}"#, false),
//!     r#"{"key":"enabled","value":true,"variation_id":"v1","is_default_value":false,"error":null,"matched_rule_index":null,"matched_percentage_option_index":null}"#
//! );
//! # Ok::<(), configcat_core::ParseError>(())
//! ```

mod captured_log;
mod pretty;
mod request;
mod user_json;

pub use captured_log::CapturedLog;
pub use pretty::pretty_answer;
pub use request::{evaluate_flag, evaluate_request_bytes, evaluate_request_line};
pub use user_json::{optional_user_from_json, user_from_json};

/// The repository's README and configcat-core's README: their Rust snippets
/// are compiled (and where they need no network, run) as doctests here,
/// where configcat-std is a dev-dependency (the core's own package does not
/// depend on it).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
#[doc = include_str!("../../core/README.md")]
struct ReadmeDoctests;
