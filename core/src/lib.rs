//! `configcat-core`: the `no_std` evaluation core of a ConfigCat-compatible
//! feature-flag SDK.
//!
//! It parses ConfigCat's config JSON v6 and evaluates feature flags and
//! settings exactly as ConfigCat's official SDKs do: the same values, the same
//! variation ids, the same warnings and the same evaluation log. It performs
//! no I/O and reads no clock; adapters (`configcat-std`, `configcat-embedded`)
//! bring the network, the time and the storage.
//!
//! ```
//! use configcat_core::{Config, NoLog, User};
//!
//! let config = Config::parse(br#"{"p":{"s":"s"},"f":{"beta":{"t":0,"v":{"b":false},
//!     "r":[{"c":[{"u":{"a":"Email","c":32,"l":["@example.com"]}}],"s":{"v":{"b":true}}}]}}}"#)?;
//! let user = User::new("42").with_email("jane@example.com");
//! assert!(config.get_value("beta", false, Some(&user), &NoLog));
//! # Ok::<(), configcat_core::ParseError>(())
//! ```
//!
//! With logging off (a sink whose `enabled` returns false), evaluating a flag
//! does not allocate: text values are borrowed from the config.
#![no_std]
#![forbid(unsafe_code)]
// Import discipline for a no_std crate; std crates of the workspace don't need it.
#![warn(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::alloc_instead_of_core
)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod compact_str;
mod comparator;
mod config;
mod config_json;
mod date_time;
mod evaluate;
mod evaluation_log;
mod hashing;
mod json;
mod log_event;
mod number;
mod overrides;
pub mod refresh;
mod sdk_key;
mod semver;
mod user;
mod value;

pub use config::{
    Config, PercentageOption, Preferences, RedirectMode, Segment, Setting, TargetingRule,
};
pub use config_json::{ParseError, ParseErrorKind};
pub use evaluate::{
    EvaluationDetails, FlagError, MAX_PREREQUISITE_DEPTH, MatchedPercentageOption,
    MatchedTargetingRule,
};
pub use log_event::{EventId, LogLevel, LogSink, NoLog};
pub use overrides::OverrideBehaviour;
pub use user::{COUNTRY, EMAIL, IDENTIFIER, User, UserValue};
pub use value::{FlagValue, OwnedValue, SettingType, Value};
