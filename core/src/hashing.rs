//! The two hashes ConfigCat's evaluation is defined by.
//!
//! - % options: the first 28 bits of SHA-1(setting key + attribute text), modulo 100.
//! - confidential comparators: SHA-256(value + config salt + context salt),
//!   compared with the hex digest the dashboard stored. The stored hex is
//!   decoded once at parse time, so evaluation compares 32 raw bytes.

use sha1::{Digest, Sha1};
use sha2::Sha256;

/// A SHA-256 digest.
pub(crate) type Sha256Digest = [u8; 32];

/// Messages of up to this many blocks are padded on the stack and handed to
/// the block functions directly: the short inputs of evaluation skip the
/// buffering of the incremental hashers (about a third of a short hash).
const MAX_BLOCKS: usize = 4;

/// `parts` concatenated and padded as one SHA-1/SHA-256 message (both pad
/// the same way), or `None` when longer than [`MAX_BLOCKS`]. `buffer` comes
/// zeroed, which is the padding between the marker and the length.
fn padded<'b>(parts: [&[u8]; 3], buffer: &'b mut [[u8; 64]; MAX_BLOCKS]) -> Option<&'b [[u8; 64]]> {
    let length = parts
        .iter()
        .fold(0_usize, |sum, part| sum.saturating_add(part.len()));
    // The message, the 0x80 marker and the 64-bit length, in whole blocks.
    let blocks = length.saturating_add(9).div_ceil(64);
    if blocks > MAX_BLOCKS {
        return None;
    }
    let end = blocks * 64;
    let flat = buffer.as_flattened_mut();
    let mut at = 0;
    for part in parts {
        flat.get_mut(at..at + part.len())?.copy_from_slice(part);
        at += part.len();
    }
    *flat.get_mut(at)? = 0x80;
    let bits = (length as u64).wrapping_mul(8);
    flat.get_mut(end - 8..end)?
        .copy_from_slice(&bits.to_be_bytes());
    buffer.get(..blocks)
}

/// SHA-1 of `parts` concatenated: the first four bytes of the digest.
fn sha1_head(parts: [&[u8]; 3]) -> [u8; 4] {
    let mut buffer = [[0_u8; 64]; MAX_BLOCKS];
    if let Some(blocks) = padded(parts, &mut buffer) {
        let mut state = [
            0x6745_2301,
            0xEFCD_AB89,
            0x98BA_DCFE,
            0x1032_5476,
            0xC3D2_E1F0,
        ];
        sha1::block_api::compress(&mut state, blocks);
        return state[0].to_be_bytes();
    }
    let mut hasher = Sha1::new();
    for part in parts {
        hasher.update(part);
    }
    let digest: [u8; 20] = hasher.finalize().into();
    let [b0, b1, b2, b3, ..] = digest;
    [b0, b1, b2, b3]
}

/// SHA-256 of `parts` concatenated.
fn sha256(parts: [&[u8]; 3]) -> Sha256Digest {
    let mut buffer = [[0_u8; 64]; MAX_BLOCKS];
    if let Some(blocks) = padded(parts, &mut buffer) {
        let mut state = [
            0x6a09_e667,
            0xbb67_ae85,
            0x3c6e_f372,
            0xa54f_f53a,
            0x510e_527f,
            0x9b05_688c,
            0x1f83_d9ab,
            0x5be0_cd19,
        ];
        sha2::block_api::compress256(&mut state, blocks);
        let mut digest = [0_u8; 32];
        for (out, word) in digest.chunks_exact_mut(4).zip(state) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        return digest;
    }
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// The bucket in `0..100` that a user falls into for a setting's % options.
pub(crate) fn percentage_bucket(setting_key: &str, attribute_text: &str) -> u8 {
    let head = sha1_head([setting_key.as_bytes(), attribute_text.as_bytes(), &[]]);
    let first_word = u32::from_be_bytes(head);
    // The official SDKs parse the first 7 hex digits, i.e. the top 28 bits.
    let bucket = (first_word >> 4) % 100;
    u8::try_from(bucket).unwrap_or_default()
}

/// SHA-256 of `value`, then the config salt, then the context salt (setting key or segment name).
pub(crate) fn confidential_hash(value: &[u8], salt: &str, context_salt: &str) -> Sha256Digest {
    sha256([value, salt.as_bytes(), context_salt.as_bytes()])
}

/// Decodes a 64-digit lower-case hex digest. Anything else can never equal a
/// digest the SDKs produce (they compare lower-case hex text), so it decodes to `None`.
pub(crate) fn decode_hex_digest(text: &str) -> Option<Sha256Digest> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut digest = [0_u8; 32];
    // Decode everything, then check once: no early exit per digit.
    let mut invalid = false;
    for (out, pair) in digest.iter_mut().zip(bytes.chunks_exact(2)) {
        if let [high, low] = *pair {
            let (high, high_bad) = lower_hex_value(high);
            let (low, low_bad) = lower_hex_value(low);
            invalid |= high_bad | low_bad;
            *out = (high << 4) | low;
        }
    }
    (!invalid).then_some(digest)
}

/// The value of a lower-case hex digit, and whether `digit` is not one.
#[inline]
const fn lower_hex_value(digit: u8) -> (u8, bool) {
    let number = digit.wrapping_sub(b'0');
    let letter = digit.wrapping_sub(b'a');
    if number < 10 {
        (number, false)
    } else if letter < 6 {
        (letter + 10, false)
    } else {
        (0, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use core::fmt::Write;

    fn hex(digest: &[u8]) -> String {
        let mut out = String::new();
        for byte in digest {
            write!(out, "{byte:02x}").unwrap();
        }
        out
    }

    #[test]
    fn matches_known_digests() {
        // Vectors computed with Python's hashlib.
        assert_eq!(
            hex(&confidential_hash(b"test_payload", "salt", "ctx_salt")),
            "5ee9b44b3b90bedd9441b256c429f862ceb2ea847a58a8e33d8052da141e47aa"
        );
        let sha1_hex = {
            let digest = Sha1::digest(b"test_payload");
            hex(&digest)
        };
        assert_eq!(sha1_hex, "683231cec21572ae3afd898a1b1487f6b9193ebb");
        // int("683231c", 16) % 100 == 109257500 % 100 == 0
        assert_eq!(percentage_bucket("test_", "payload"), 0);
        assert_eq!(
            percentage_bucket("string75Cat0Dog25Falcon0HorseCustomAttr", "US"),
            70
        );
    }

    #[test]
    fn block_functions_agree_with_the_incremental_hashers() {
        // Lengths around every padding boundary, and past the stack buffer.
        for length in (0..300).chain([447, 448, 500]) {
            let text: alloc::vec::Vec<u8> = (0..length)
                .map(|i| u8::try_from(i * 7 % 251).unwrap_or(0))
                .collect();
            let (a, rest) = text.split_at(length / 3);
            let (b, c) = rest.split_at(rest.len() / 2);
            let expected: [u8; 32] = Sha256::digest(&text).into();
            assert_eq!(sha256([a, b, c]), expected, "{length}");
            let expected: [u8; 20] = Sha1::digest(&text).into();
            assert_eq!(sha1_head([a, b, c])[..], expected[..4], "{length}");
        }
    }

    #[test]
    fn decodes_only_lower_case_digests() {
        let text = "5ee9b44b3b90bedd9441b256c429f862ceb2ea847a58a8e33d8052da141e47aa";
        assert_eq!(
            decode_hex_digest(text),
            Some(confidential_hash(b"test_payload", "salt", "ctx_salt"))
        );
        assert_eq!(decode_hex_digest(&text.to_uppercase()), None);
        assert_eq!(decode_hex_digest(&text[1..]), None);
        assert_eq!(decode_hex_digest("zz"), None);
        // Every ASCII byte at every position: only 0-9 and a-f decode, each to its value.
        let base = decode_hex_digest(text).unwrap();
        for position in 0..64 {
            for byte in 0_u8..0x80 {
                let mut changed = String::from(text);
                changed.replace_range(
                    position..=position,
                    char::from(byte).encode_utf8(&mut [0; 4]),
                );
                let decoded = decode_hex_digest(&changed);
                match char::from(byte)
                    .to_digit(16)
                    .filter(|_| !byte.is_ascii_uppercase())
                {
                    Some(value) => {
                        let mut expected = base;
                        let shift = if position % 2 == 0 { 4 } else { 0 };
                        expected[position / 2] &= !(0x0F << shift);
                        expected[position / 2] |= u8::try_from(value).unwrap() << shift;
                        assert_eq!(decoded, Some(expected), "{byte:#x} at {position}");
                    }
                    None => assert_eq!(decoded, None, "{byte:#x} at {position}"),
                }
            }
        }
        // A non-ASCII character is never a digit (and makes the text too long).
        assert_eq!(decode_hex_digest(&text.replacen('5', "é", 1)), None);
    }
}
