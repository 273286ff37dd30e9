//! Word-at-a-time byte tricks (SWAR, "SIMD within a register"): eight bytes
//! loaded as one little-endian `u64` and tested or compared at once, as in
//! the classic "determine if a word has a zero byte" bit hack.

/// One in every byte of a word.
const BYTE_ONES: u64 = 0x0101_0101_0101_0101;
const BYTE_HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The high bit of every byte of `word` (little-endian) that is below
/// `bound` (at most 0x80) is set. The lowest set bit marks the first such
/// byte exactly; a bit above it may also mark a byte at `bound` (borrows
/// only run upwards): callers check.
#[inline]
pub(crate) const fn marks_below(word: u64, bound: u8) -> u64 {
    word.wrapping_sub(BYTE_ONES * bound as u64) & !word & BYTE_HIGH_BITS
}

/// The bytes of `word` equal to `byte`, marked as [`marks_below`] marks
/// them: the first exactly, later marks to be checked.
#[inline]
pub(crate) const fn byte_marks(word: u64, byte: u8) -> u64 {
    marks_below(word ^ (BYTE_ONES * byte as u64), 1)
}

/// The eight bytes of `bytes` from `start` as a little-endian word, read in
/// place: the bytes past the end are zeros (a copy of a short tail into a
/// buffer is a call to `memcpy`).
#[inline]
pub(crate) fn word_at(bytes: &[u8], start: usize) -> u64 {
    if let Some((word, _)) = bytes.get(start..).and_then(<[u8]>::split_first_chunk::<8>) {
        return u64::from_le_bytes(*word);
    }
    let missing = (start + 8).saturating_sub(bytes.len());
    match bytes.split_last_chunk::<8>() {
        // The last eight bytes, shifted down past those before `start`.
        Some((_, last)) if missing < 8 => u64::from_le_bytes(*last) >> (8 * missing),
        _ => bytes
            .get(start..)
            .unwrap_or_default()
            .iter()
            .rev()
            .fold(0, |word, &byte| (word << 8) | u64::from(byte)),
    }
}

/// A word made of the last bytes of `bytes` (all of them when shorter than eight).
#[inline]
pub(crate) fn tail_word(bytes: &[u8]) -> u64 {
    if let Some((_, last)) = bytes.split_last_chunk::<8>() {
        return u64::from_le_bytes(*last);
    }
    if let (Some((first, _)), Some((_, last))) = (
        bytes.split_first_chunk::<4>(),
        bytes.split_last_chunk::<4>(),
    ) {
        return u64::from(u32::from_le_bytes(*first))
            | (u64::from(u32::from_le_bytes(*last)) << 32);
    }
    let byte = |index: usize| u64::from(bytes.get(index).copied().unwrap_or(0));
    byte(0) | (byte(bytes.len() / 2) << 8) | (byte(bytes.len().wrapping_sub(1)) << 16)
}

/// Whether two byte strings are equal, compared eight bytes at a time in
/// place (keys and attribute values are short: cheaper than a call to `memcmp`).
#[inline]
pub(crate) fn same_key(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut x, mut y) = (a, b);
    while let (Some((cx, tx)), Some((cy, ty))) =
        (x.split_first_chunk::<8>(), y.split_first_chunk::<8>())
    {
        if cx != cy {
            return false;
        }
        x = tx;
        y = ty;
    }
    x.is_empty() || tail_word(a) == tail_word(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn the_first_mark_is_exact() {
        for position in 0..8 {
            for byte in 0..=255_u8 {
                for filler in [b'a', 0x7f, 0x80, 0xc3, 0xff, b' ', 0, 1] {
                    let mut bytes = [filler; 8];
                    bytes[position] = byte;
                    let word = u64::from_le_bytes(bytes);
                    let first =
                        |marks: u64| (marks != 0).then(|| (marks.trailing_zeros() / 8) as usize);
                    for bound in [1, 0x20, 0x80] {
                        let expected = bytes.iter().position(|&b| b < bound);
                        assert_eq!(
                            first(marks_below(word, bound)),
                            expected,
                            "{bytes:?} < {bound}"
                        );
                    }
                    for target in [byte, filler, b'"', 0] {
                        let expected = bytes.iter().position(|&b| b == target);
                        assert_eq!(
                            first(byte_marks(word, target)),
                            expected,
                            "{bytes:?} {target}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn words_are_read_as_zero_padded_copies() {
        let text: Vec<u8> = (1..=20).collect();
        for length in 0..=text.len() {
            let bytes = &text[..length];
            for start in 0..=length + 9 {
                let mut padded = [0_u8; 8];
                for (slot, byte) in padded.iter_mut().zip(bytes.iter().skip(start)) {
                    *slot = *byte;
                }
                assert_eq!(
                    word_at(bytes, start),
                    u64::from_le_bytes(padded),
                    "{length} {start}"
                );
            }
        }
    }

    #[test]
    fn keys_compare_like_bytes() {
        let keys = [
            "",
            "a",
            "b",
            "ab",
            "ba",
            "abc",
            "abd",
            "abcd",
            "abce",
            "abcdefg",
            "abcdefh",
            "abcdefgh",
            "abcdefgi",
            "abcdefghi",
            "abcdefghj",
            "bbcdefghi",
            "abcdefghijklmnop",
            "abcdefghijklmnoq",
            "abcdefghijklmnopq",
            "xbcdefghijklmnopq",
        ];
        for a in keys {
            for b in keys {
                assert_eq!(same_key(a.as_bytes(), b.as_bytes()), a == b, "{a:?} {b:?}");
            }
        }
    }
}
