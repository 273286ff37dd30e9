//! Versioned configs for soak tests: every setting of config version `n`
//! names `n` in its value and variation id, so a read that mixes two
//! versions, or misses a setting, shows.

use std::fmt::Write as _;

use configcat_core::Value;

/// Padding settings per config, so that half a body is a real fraction of it.
const PADDING: usize = 16;

/// Settings per versioned config: version, name, even, half, rollout and the padding.
pub const VERSIONED_CONFIG_SETTINGS: usize = 5 + PADDING;

/// Config JSON of version `n`, whose preferences point at `base_url` with
/// redirect mode `redirect` (0, 1 or 2).
#[must_use]
pub fn versioned_config(n: i64, base_url: &str, redirect: u8) -> String {
    let mut settings = format!(
        r#""version":{{"t":2,"v":{{"i":{n}}},"i":"version-{n}"}},"name":{{"t":1,"v":{{"s":"config-{n}"}},"i":"name-{n}"}},"even":{{"t":0,"v":{{"b":{even}}},"i":"even-{n}"}},"half":{{"t":3,"v":{{"d":{n}.5}},"i":"half-{n}"}},"rollout":{{"t":1,"a":"Identifier","p":[{{"p":50,"v":{{"s":"{n}-a"}},"i":"rollout-a-{n}"}},{{"p":50,"v":{{"s":"{n}-b"}},"i":"rollout-b-{n}"}}],"v":{{"s":"{n}-none"}},"i":"rollout-{n}"}}"#,
        even = n % 2 == 0
    );
    for i in 0..PADDING {
        // Writing to a String cannot fail.
        let _ = write!(
            settings,
            r#","pad{i:02}":{{"t":1,"v":{{"s":"{n}"}},"i":"pad{i:02}-{n}"}}"#
        );
    }
    format!(r#"{{"p":{{"u":"{base_url}","r":{redirect},"s":"salt"}},"f":{{{settings}}}}}"#)
}

/// Whether `value` is what setting `key` holds in versioned config `n`.
#[must_use]
pub fn holds_version(key: &str, value: Value<'_>, n: i64) -> bool {
    let number = |text: &str| text.parse::<i64>().ok() == Some(n);
    match (key, value) {
        ("version", Value::Int(v)) => v == n,
        ("name", Value::Text(text)) => text.strip_prefix("config-").is_some_and(number),
        ("even", Value::Bool(even)) => even == (n % 2 == 0),
        // Versions are small: `n + 0.5` is exact in an f64.
        #[expect(clippy::cast_precision_loss, reason = "small version numbers")]
        ("half", Value::Float(half)) => (half - 0.5 - n as f64).abs() < f64::EPSILON,
        ("rollout", Value::Text(text)) => text
            .strip_suffix("-a")
            .or_else(|| text.strip_suffix("-b"))
            .is_some_and(number),
        (pad, Value::Text(text)) if pad.starts_with("pad") => number(text),
        _ => false,
    }
}
