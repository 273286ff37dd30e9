//! Calendar rendering of Unix timestamps for the evaluation log.
//!
//! The log shows date comparison values as `'1693497600' (2023-08-31T16:00:00.000 UTC)`.
//! The conversion is the proleptic Gregorian calendar computed with integer
//! arithmetic, so the core needs neither a clock nor a date library.

use core::fmt::{self, Write};

/// Milliseconds of the latest instant rendered as a calendar date (year 275759,
/// the end of JavaScript's date range); beyond it only the number is shown.
const MAX_RENDERED_MILLIS: f64 = 8.64e18 / 1000.0;

/// Writes `seconds` (Unix time) as `YYYY-MM-DDTHH:MM:SS.mmm`, truncated to
/// whole milliseconds. Returns `false` (writing nothing) when the instant is
/// not representable.
pub(crate) fn write_iso_utc(out: &mut dyn Write, seconds: f64) -> Result<bool, fmt::Error> {
    let millis_f = seconds * 1000.0;
    if !millis_f.is_finite() || millis_f.abs() > MAX_RENDERED_MILLIS {
        return Ok(false);
    }
    #[expect(
        clippy::cast_possible_truncation,
        reason = "range checked above; `as` truncates toward zero like JavaScript's Date"
    )]
    let millis = millis_f as i64;
    let days = millis.div_euclid(86_400_000);
    let millis_of_day = millis.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let hour = millis_of_day / 3_600_000;
    let minute = millis_of_day / 60_000 % 60;
    let second = millis_of_day / 1000 % 60;
    let milli = millis_of_day % 1000;
    write!(
        out,
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}"
    )?;
    Ok(true)
}

/// Days since 1970-01-01 to (year, month, day), after Howard Hinnant's
/// `civil_from_days` algorithm.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    fn iso(seconds: f64) -> Option<String> {
        let mut out = String::new();
        write_iso_utc(&mut out, seconds).unwrap().then_some(out)
    }

    #[test]
    fn renders_known_instants() {
        assert_eq!(iso(0.0).as_deref(), Some("1970-01-01T00:00:00.000"));
        assert_eq!(
            iso(1_693_497_600.0).as_deref(),
            Some("2023-08-31T16:00:00.000")
        );
        assert_eq!(
            iso(1_680_307_200.0).as_deref(),
            Some("2023-04-01T00:00:00.000")
        );
        assert_eq!(
            iso(1_680_307_199.999).as_deref(),
            Some("2023-03-31T23:59:59.999")
        );
        assert_eq!(
            iso(951_782_400.0).as_deref(),
            Some("2000-02-29T00:00:00.000")
        );
        assert_eq!(iso(-1.5).as_deref(), Some("1969-12-31T23:59:58.500"));
        assert_eq!(iso(f64::NAN), None);
        assert_eq!(iso(1e300), None);
    }
}
