//! Semantic Versioning 2.0.0: strict parsing and precedence, without allocation.
//!
//! Numeric parts are kept as digit strings and compared by length first, so
//! versions with arbitrarily large numbers compare correctly and parsing can
//! never overflow. Build metadata is validated and then ignored, as the
//! specification demands for precedence.

use alloc::boxed::Box;
use core::cmp::Ordering;
use core::ops::Range;

/// A parsed version borrowing its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Version<'a> {
    major: &'a str,
    minor: &'a str,
    patch: &'a str,
    /// Dot-separated pre-release identifiers; empty when there are none.
    pre_release: &'a str,
}

impl<'a> Version<'a> {
    /// Parses `text` after trimming surrounding white space.
    pub(crate) fn parse(text: &'a str) -> Option<Self> {
        let text = text.trim();
        let (without_build, build) = match text.split_once('+') {
            Some((head, build)) => (head, Some(build)),
            None => (text, None),
        };
        if let Some(build) = build {
            if !build.split('.').all(is_identifier) {
                return None;
            }
        }
        let (core, pre_release) = match without_build.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (without_build, None),
        };
        let mut parts = core.split('.');
        let major = parts.next().filter(|p| is_numeric_part(p))?;
        let minor = parts.next().filter(|p| is_numeric_part(p))?;
        let patch = parts.next().filter(|p| is_numeric_part(p))?;
        if parts.next().is_some() {
            return None;
        }
        let pre_release = match pre_release {
            Some(pre) => {
                let valid = pre
                    .split('.')
                    .all(|id| is_identifier(id) && (!is_all_digits(id) || is_numeric_part(id)));
                if !valid {
                    return None;
                }
                pre
            }
            None => "",
        };
        Some(Self {
            major,
            minor,
            patch,
            pre_release,
        })
    }

    /// Version precedence (build metadata ignored).
    pub(crate) fn precedence(&self, other: &Version<'_>) -> Ordering {
        compare_numeric(self.major, other.major)
            .then_with(|| compare_numeric(self.minor, other.minor))
            .then_with(|| compare_numeric(self.patch, other.patch))
            .then_with(|| compare_pre_release(self.pre_release, other.pre_release))
    }
}

/// A comparison value parsed once when the config is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PreparedVersion {
    text: Box<str>,
    major: Range<u32>,
    minor: Range<u32>,
    patch: Range<u32>,
    pre_release: Range<u32>,
}

impl PreparedVersion {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let version = Version::parse(text)?;
        let trimmed = text.trim();
        let base = trimmed.as_ptr() as usize;
        let range = |part: &str| -> Option<Range<u32>> {
            let start = u32::try_from((part.as_ptr() as usize).checked_sub(base)?).ok()?;
            let end = start.checked_add(u32::try_from(part.len()).ok()?)?;
            Some(start..end)
        };
        Some(Self {
            major: range(version.major)?,
            minor: range(version.minor)?,
            patch: range(version.patch)?,
            pre_release: if version.pre_release.is_empty() {
                0..0
            } else {
                range(version.pre_release)?
            },
            text: trimmed.into(),
        })
    }

    pub(crate) fn version(&self) -> Version<'_> {
        let part = |range: &Range<u32>| {
            self.text
                .get(range.start as usize..range.end as usize)
                .unwrap_or_default()
        };
        Version {
            major: part(&self.major),
            minor: part(&self.minor),
            patch: part(&self.patch),
            pre_release: part(&self.pre_release),
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
            "99999999999999999999999.0.0",
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
