//! Short text stored in place.
//!
//! A parsed config holds tens of thousands of short strings (keys,
//! variation ids, attribute names, comparison values). Kept in place, the
//! short ones cost no allocation of their own when the config is parsed or
//! dropped, and no pointer chase when they are compared.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use core::fmt;

/// Longest text kept in place: the enum is then as large as three words.
const INLINE_CAPACITY: usize = 22;

/// Immutable text: in place up to 22 bytes, on the heap beyond.
///
/// Comparisons go through [`CompactStr::as_bytes`], which costs nothing;
/// a `&str` of text kept in place is checked for UTF-8 on the way out (the
/// crate forbids `unsafe`). That is why there is no `Deref` to `str`: each
/// `as_str` is visible where it is paid for, and none is on a hot path.
#[derive(Clone)]
pub(crate) enum CompactStr {
    Inline {
        len: u8,
        bytes: [u8; INLINE_CAPACITY],
    },
    Boxed(Box<str>),
}

impl CompactStr {
    pub(crate) fn new(text: &str) -> Self {
        let source = text.as_bytes();
        let mut bytes = [0_u8; INLINE_CAPACITY];
        match (u8::try_from(source.len()), bytes.get_mut(..source.len())) {
            (Ok(len), Some(slot)) => {
                slot.copy_from_slice(source);
                Self::Inline { len, bytes }
            }
            _ => Self::Boxed(Box::from(text)),
        }
    }

    /// The text's bytes, without any check.
    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            Self::Boxed(text) => text.as_bytes(),
        }
    }

    /// The text's length in bytes.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.as_bytes().len()
    }

    #[inline]
    pub(crate) fn as_str(&self) -> &str {
        match self {
            // Always valid: copied whole from a `&str`.
            Self::Inline { .. } => core::str::from_utf8(self.as_bytes()).unwrap_or_default(),
            Self::Boxed(text) => text,
        }
    }
}

impl Default for CompactStr {
    fn default() -> Self {
        Self::new("")
    }
}

impl PartialEq for CompactStr {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl fmt::Debug for CompactStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for CompactStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for CompactStr {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl From<Cow<'_, str>> for CompactStr {
    fn from(text: Cow<'_, str>) -> Self {
        match text {
            Cow::Borrowed(text) => Self::new(text),
            // Long decoded text keeps its allocation.
            Cow::Owned(text) if text.len() > INLINE_CAPACITY => Self::Boxed(text.into_boxed_str()),
            Cow::Owned(text) => Self::new(&text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_short_text_in_place_and_long_text_on_the_heap() {
        assert_eq!(size_of::<CompactStr>(), 24);
        for text in [
            "",
            "a",
            "é日本",
            "exactly-22-bytes-long!",
            "twenty-three bytes long",
            "ü".repeat(40).as_str(),
        ] {
            let compact = CompactStr::new(text);
            assert_eq!(compact.as_str(), text);
            assert_eq!(compact.as_bytes(), text.as_bytes());
            assert_eq!(
                matches!(compact, CompactStr::Inline { .. }),
                text.len() <= INLINE_CAPACITY
            );
            assert_eq!(CompactStr::from(Cow::Owned(text.into())), compact);
            assert_eq!(alloc::format!("{compact:?}"), alloc::format!("{text:?}"));
        }
    }
}
