//! Semantic Versioning 2.0.0: strict parsing and precedence, without allocation.
//!
//! Numeric parts of up to 19 digits are kept as numbers; longer ones (which
//! are always greater) as digit strings compared by length first, so versions
//! with arbitrarily large numbers compare correctly and parsing can never
//! overflow. Build metadata is validated and then ignored, as the
//! specification demands for precedence.

use alloc::boxed::Box;
use core::cmp::Ordering;

/// A parsed version borrowing its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Version<'a> {
    /// Major, minor and patch; only meaningful without `huge`.
    numbers: [u64; 3],
    /// Dot-separated pre-release identifiers; empty when there are none.
    pre_release: &'a str,
    /// `major.minor.patch` as written, when one of them has more than 19
    /// digits (too large for `u64`).
    huge: Option<&'a str>,
}

/// Digits that always fit a `u64`.
const MAX_SMALL_DIGITS: usize = 19;

/// A numeric part: a number, or the digits of one too large for `u64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Numeric<'a> {
    Small(u64),
    /// More than 19 digits, no leading zero: greater than any `Small`.
    Big(&'a str),
}

impl Numeric<'_> {
    fn cmp(self, other: Self) -> Ordering {
        match (self, other) {
            (Self::Small(a), Self::Small(b)) => a.cmp(&b),
            (Self::Small(_), Self::Big(_)) => Ordering::Less,
            (Self::Big(_), Self::Small(_)) => Ordering::Greater,
            (Self::Big(a), Self::Big(b)) => compare_numeric(a, b),
        }
    }
}

impl<'a> Version<'a> {
    /// Parses `text` after trimming surrounding white space.
    pub(crate) fn parse(text: &'a str) -> Option<Self> {
        let text = trim(text);
        let bytes = text.as_bytes();
        let mut at = 0;
        let mut numbers = [0_u64; 3];
        let mut huge = false;
        for (index, number) in numbers.iter_mut().enumerate() {
            if index > 0 {
                if bytes.get(at) != Some(&b'.') {
                    return None;
                }
                at += 1;
            }
            let start = at;
            let mut value = 0_u64;
            while let Some(&byte) = bytes.get(at) {
                let digit = byte.wrapping_sub(b'0');
                if digit > 9 {
                    break;
                }
                // Wraps only past 19 digits, where the value is not used.
                value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
                at += 1;
            }
            let digits = at - start;
            // A numeric identifier: digits without a leading zero (except `0`).
            if digits == 0 || (digits > 1 && bytes.get(start) == Some(&b'0')) {
                return None;
            }
            huge |= digits > MAX_SMALL_DIGITS;
            *number = value;
        }
        let (core, rest) = text.split_at_checked(at)?;
        let (pre_release, build) = match rest.as_bytes().first() {
            None => ("", None),
            Some(b'-') => {
                let pre = rest.get(1..)?;
                match pre.split_once('+') {
                    Some((pre, build)) => (pre, Some(build)),
                    None => (pre, None),
                }
            }
            Some(b'+') => ("", Some(rest.get(1..)?)),
            Some(_) => return None,
        };
        if let Some(build) = build {
            if !build.split('.').all(is_identifier) {
                return None;
            }
        }
        if !pre_release.is_empty() || rest.starts_with('-') {
            let valid = pre_release
                .split('.')
                .all(|id| is_identifier(id) && (!is_all_digits(id) || is_numeric_part(id)));
            if !valid {
                return None;
            }
        }
        Some(Self {
            numbers,
            pre_release,
            huge: huge.then_some(core),
        })
    }

    /// Version precedence (build metadata ignored).
    #[inline]
    pub(crate) fn precedence(&self, other: &Version<'_>) -> Ordering {
        let order = if self.huge.is_none() && other.huge.is_none() {
            self.numbers.cmp(&other.numbers)
        } else {
            (0..3).fold(Ordering::Equal, |order, index| {
                order.then_with(|| self.numeric(index).cmp(other.numeric(index)))
            })
        };
        if order.is_ne() || (self.pre_release.is_empty() && other.pre_release.is_empty()) {
            return order;
        }
        compare_pre_release(self.pre_release, other.pre_release)
    }

    /// Major (0), minor (1) or patch (2), as a number or as digits.
    fn numeric(&self, index: usize) -> Numeric<'a> {
        let number = self.numbers.get(index).copied().unwrap_or_default();
        let Some(core) = self.huge else {
            return Numeric::Small(number);
        };
        match core.split('.').nth(index) {
            Some(digits) if digits.len() > MAX_SMALL_DIGITS => Numeric::Big(digits),
            _ => Numeric::Small(number),
        }
    }
}

/// `text` without surrounding white space; the common case (no space, ASCII
/// at both ends) without decoding characters.
#[inline]
fn trim(text: &str) -> &str {
    let clean = |byte: Option<&u8>| byte.is_some_and(|&b| b > b' ' && b < 0x80);
    let bytes = text.as_bytes();
    if clean(bytes.first()) && clean(bytes.last()) {
        text
    } else {
        text.trim()
    }
}

/// A comparison value parsed once when the config is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PreparedVersion {
    numbers: [u64; 3],
    pre_release: Box<str>,
    huge: Option<Box<str>>,
}

impl PreparedVersion {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let version = Version::parse(text)?;
        Some(Self {
            numbers: version.numbers,
            pre_release: version.pre_release.into(),
            huge: version.huge.map(Box::from),
        })
    }

    #[inline]
    pub(crate) fn version(&self) -> Version<'_> {
        Version {
            numbers: self.numbers,
            pre_release: &self.pre_release,
            huge: self.huge.as_deref(),
        }
    }
}

fn is_all_digits(part: &str) -> bool {
    !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())
}

/// A numeric identifier: digits without a leading zero (except `0` itself).
fn is_numeric_part(part: &str) -> bool {
    is_all_digits(part) && (part == "0" || !part.starts_with('0'))
}

fn is_identifier(part: &str) -> bool {
    !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn compare_numeric(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn compare_pre_release(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        // A version without pre-release has higher precedence.
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        (false, false) => {}
    }
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (is_all_digits(x), is_all_digits(y)) {
                    (true, true) => compare_numeric(x, y),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        Version::parse(a)
            .unwrap()
            .precedence(&Version::parse(b).unwrap())
    }

    #[test]
    fn follows_the_specification_precedence_chain() {
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.9.0",
            "1.10.0",
            "1.11.0",
            "2.0.0",
            "9999999999999999999.0.0",
            "10000000000000000000.0.0",
            "18446744073709551616.0.0",
            "99999999999999999999999.0.0",
            "99999999999999999999999.0.1",
        ];
        for pair in chain.windows(2) {
            assert_eq!(
                cmp(pair[0], pair[1]),
                Ordering::Less,
                "{} < {}",
                pair[0],
                pair[1]
            );
            assert_eq!(cmp(pair[1], pair[0]), Ordering::Greater);
        }
        assert_eq!(cmp("1.0.0+build.1", "1.0.0+other"), Ordering::Equal);
        assert_eq!(cmp(" 1.0.0 ", "1.0.0"), Ordering::Equal);
        assert_eq!(cmp("1.9.1-10a", "1.9.1-1a"), Ordering::Less);
    }

    #[test]
    fn rejects_invalid_versions() {
        for invalid in [
            "",
            "1",
            "1.0",
            "1.0.0.0",
            "01.0.0",
            "1.02.0",
            "1.0.0-",
            "1.0.0-01",
            "1.0.0-a..b",
            "1.0.0+",
            "1.0.0+a+b",
            "v1.0.0",
            "1.0.0,",
            "wrong_semver",
            "1.0.x",
            "-1.0.0",
            "1.0.0-Ä",
        ] {
            assert!(
                Version::parse(invalid).is_none(),
                "{invalid:?} must be rejected"
            );
        }
        assert!(Version::parse("1.0.0-0a.00a-x+001.b").is_some());
    }

    #[test]
    fn prepared_versions_keep_their_parts() {
        let prepared = PreparedVersion::parse("  2.10.3-rc.1+build ").unwrap();
        assert_eq!(prepared.version(), Version::parse("2.10.3-rc.1").unwrap());
        assert!(PreparedVersion::parse("1.0").is_none());
    }
}
