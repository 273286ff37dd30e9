//! Substring search in short attribute texts.

use crate::json::swar::{byte_marks, same_key, word_at};

/// Whether `needle` occurs in `haystack`. Texts up to 64 bytes are
/// scanned for the needle's first byte eight positions at a time, longer
/// ones with the standard searcher.
// Short texts: a first-byte scan beats the standard searcher's `memcmp` per window.
#[inline]
pub(super) fn contains_text(haystack_text: &str, needle: &[u8]) -> bool {
    if haystack_text.len() > 64 {
        return core::str::from_utf8(needle).is_ok_and(|needle| haystack_text.contains(needle));
    }
    let haystack = haystack_text.as_bytes();
    let Some(&first) = needle.first() else {
        return true;
    };
    let Some(last_start) = haystack.len().checked_sub(needle.len()) else {
        return false;
    };
    // Where the needle's first byte occurs, eight start positions at a time.
    let mut chunk_start = 0;
    while chunk_start <= last_start {
        let mut marks = byte_marks(word_at(haystack, chunk_start), first);
        while marks != 0 {
            let start = chunk_start + (marks.trailing_zeros() / 8) as usize;
            marks &= marks - 1;
            // A borrow's false mark fails the comparison of the whole window,
            // and a mark past `last_start` has no whole window.
            if haystack
                .get(start..start + needle.len())
                .is_some_and(|window| same_key(window, needle))
            {
                return true;
            }
        }
        chunk_start += 8;
    }
    false
}

#[cfg(test)]
mod text_tests {
    use super::contains_text;

    #[test]
    fn contains_like_the_standard_library() {
        let long = "x".repeat(70) + "@configcat.com";
        for haystack in [
            "",
            "a",
            "ab",
            "user0000@configcat.com",
            "é@configcat.coé",
            &long,
        ] {
            for needle in [
                "",
                "a",
                "b",
                "@configcat.com",
                "com",
                "é",
                "user0000@configcat.com!",
            ] {
                assert_eq!(
                    contains_text(haystack, needle.as_bytes()),
                    haystack.contains(needle),
                    "{haystack:?} {needle:?}"
                );
            }
        }
    }

    #[test]
    fn contains_like_the_standard_library_at_every_position() {
        // Texts of a small alphabet (zero and one bytes included: they are
        // where a word-at-a-time scan can be wrong) up to the 64 bytes the
        // scan serves, and needles taken from them or not.
        let alphabet = ['\0', '\u{1}', 'a', 'b', '@'];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |bound: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % bound as u64).unwrap()
        };
        for length in 0..=64 {
            for _ in 0..40 {
                let text: alloc::string::String = (0..length)
                    .map(|_| alphabet[next(alphabet.len())])
                    .collect();
                let start = next(length + 1);
                let end = start + next(length - start + 1);
                let taken = &text[start..end];
                let other: alloc::string::String = (0..next(6))
                    .map(|_| alphabet[next(alphabet.len())])
                    .collect();
                for needle in [taken, other.as_str()] {
                    assert_eq!(
                        contains_text(&text, needle.as_bytes()),
                        text.contains(needle),
                        "{text:?} {needle:?}"
                    );
                }
            }
        }
    }
}
