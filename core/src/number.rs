//! Numbers the way ConfigCat's SDKs read and write them.
//!
//! Writing follows JavaScript's `Number.prototype.toString` (shortest
//! round-trip digits, exponent form outside `1e-6 <= |x| < 1e21`, `NaN`,
//! `Infinity`), which is the canonical text of a number attribute across
//! ConfigCat's SDKs. Reading accepts what the official SDKs accept for number
//! comparators: surrounding white space, `,` as the decimal separator, and the
//! spellings `NaN`, `Infinity`, `+Infinity`, `-Infinity`; nothing looser (no
//! `inf`, no hex, no digit separators).

use core::fmt::{self, Write};

/// Writes `value` as JavaScript's `Number.prototype.toString` does.
pub(crate) fn write_js_number(out: &mut dyn Write, value: f64) -> fmt::Result {
    if value.is_nan() {
        return out.write_str("NaN");
    }
    if value.is_infinite() {
        return out.write_str(if value > 0.0 { "Infinity" } else { "-Infinity" });
    }
    if value == 0.0 {
        // Covers -0 too, which JavaScript prints as "0".
        return out.write_char('0');
    }
    let magnitude = value.abs();
    if (1e-6..1e21).contains(&magnitude) {
        // Rust's Display prints the shortest round-trip digits without an exponent.
        return write!(out, "{value}");
    }
    // `{:e}` gives the shortest round-trip mantissa ("1.5e-7", "1e21"); JavaScript
    // writes a sign on positive exponents ("1e+21").
    let mut buffer = StackText::<40>::new();
    write!(buffer, "{value:e}")?;
    let text = buffer.as_str();
    match text.split_once('e') {
        Some((mantissa, exponent)) if !exponent.starts_with('-') => {
            write!(out, "{mantissa}e+{exponent}")
        }
        _ => out.write_str(text),
    }
}

/// Formats a number into a small stack buffer (JavaScript text, see [`write_js_number`]).
pub(crate) fn js_number_text(value: f64) -> StackText<40> {
    let mut text = StackText::new();
    // 40 bytes hold the longest possible output ("-2.2250738585072014e-308" is 24).
    let _ = write_js_number(&mut text, value);
    text
}

/// Parses a user attribute text as a number, as the number and date comparators do.
///
/// Returns `None` when the text is not a number; `Some(NaN)` only for the
/// explicit spelling `NaN`.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let trimmed = text.trim();
    match trimmed {
        "NaN" => return Some(f64::NAN),
        "Infinity" | "+Infinity" => return Some(f64::INFINITY),
        "-Infinity" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    if trimmed.contains(',') {
        // "2,1" is 2.1; a second separator makes the text invalid anyway.
        if trimmed.len() > 64 {
            return parse_decimal(&trimmed.replace(',', "."));
        }
        let mut buffer = StackText::<64>::new();
        for ch in trimmed.chars() {
            buffer.write_char(if ch == ',' { '.' } else { ch }).ok()?;
        }
        return parse_decimal(buffer.as_str());
    }
    parse_decimal(trimmed)
}

/// Parses `[+-]digits[.digits][(e|E)[+-]digits]` (either side of the point may be empty, not both).
fn parse_decimal(text: &str) -> Option<f64> {
    if !is_decimal_literal(text.as_bytes()) {
        return None;
    }
    text.parse::<f64>().ok()
}

fn is_decimal_literal(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    if let [b'+' | b'-', tail @ ..] = rest {
        rest = tail;
    }
    let integer_digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    rest = rest.get(integer_digits..).unwrap_or_default();
    let mut fraction_digits = 0;
    if let [b'.', tail @ ..] = rest {
        fraction_digits = tail.iter().take_while(|b| b.is_ascii_digit()).count();
        rest = tail.get(fraction_digits..).unwrap_or_default();
    }
    if integer_digits == 0 && fraction_digits == 0 {
        return false;
    }
    if let [b'e' | b'E', tail @ ..] = rest {
        let mut exponent = tail;
        if let [b'+' | b'-', tail @ ..] = exponent {
            exponent = tail;
        }
        return !exponent.is_empty() && exponent.iter().all(u8::is_ascii_digit);
    }
    rest.is_empty()
}

/// A fixed-capacity text buffer on the stack, for short formatted values.
#[derive(Clone, Copy)]
pub(crate) struct StackText<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> StackText<N> {
    pub(crate) const fn new() -> Self {
        Self {
            bytes: [0; N],
            len: 0,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only whole `str`s are ever appended, so the prefix is valid UTF-8.
        self.bytes
            .get(..self.len)
            .and_then(|bytes| core::str::from_utf8(bytes).ok())
            .unwrap_or_default()
    }
}

impl<const N: usize> Write for StackText<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let target = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        target.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    fn js(value: f64) -> String {
        let mut out = String::new();
        write_js_number(&mut out, value).unwrap();
        out
    }

    #[test]
    fn writes_like_javascript() {
        assert_eq!(js(0.0), "0");
        assert_eq!(js(-0.0), "0");
        assert_eq!(js(125.0), "125");
        assert_eq!(js(0.12345), "0.12345");
        assert_eq!(js(5.561), "5.561");
        assert_eq!(js(-1.23456789e96), "-1.23456789e+96");
        assert_eq!(js(1e21), "1e+21");
        assert_eq!(js(999_999_999_999_999_900_000.0), "999999999999999900000");
        assert_eq!(js(1e-6), "0.000001");
        assert_eq!(js(1.5e-7), "1.5e-7");
        assert_eq!(js(f64::NAN), "NaN");
        assert_eq!(js(f64::INFINITY), "Infinity");
        assert_eq!(js(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(js(1_680_307_199.999), "1680307199.999");
        assert_eq!(js(f64::MIN_POSITIVE), "2.2250738585072014e-308");
        assert_eq!(js(f64::MAX), "1.7976931348623157e+308");
    }

    #[test]
    fn reads_numbers_like_the_official_sdks() {
        assert_eq!(parse_number("2,1"), Some(2.1));
        assert_eq!(parse_number(" 3 "), Some(3.0));
        assert_eq!(parse_number("-1"), Some(-1.0));
        assert_eq!(parse_number("+1.5e3"), Some(1500.0));
        assert_eq!(parse_number(".5"), Some(0.5));
        assert_eq!(parse_number("5."), Some(5.0));
        assert_eq!(parse_number(" +Infinity "), Some(f64::INFINITY));
        assert_eq!(parse_number("-Infinity"), Some(f64::NEG_INFINITY));
        assert!(parse_number(" NaN ").is_some_and(f64::is_nan));
        for invalid in [
            "",
            " ",
            "NaNa",
            "inf",
            "infinity",
            "nan",
            "0x1A",
            "1_000",
            "1.2.3",
            "2,1,0",
            "1e",
            "e5",
            ".",
            "+",
            "--1",
            "1 2",
            "not_a_number",
            "2023.04.10",
        ] {
            assert_eq!(parse_number(invalid), None, "{invalid:?} must be rejected");
        }
        let long = "1,".to_owned() + &"0".repeat(100);
        assert_eq!(parse_number(&long), Some(1.0));
    }

    use alloc::borrow::ToOwned;
}
