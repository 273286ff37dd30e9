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

/// The bucket in `0..100` that a user falls into for a setting's % options.
pub(crate) fn percentage_bucket(setting_key: &str, attribute_text: &str) -> u8 {
    let mut hasher = Sha1::new();
    hasher.update(setting_key.as_bytes());
    hasher.update(attribute_text.as_bytes());
    let digest: [u8; 20] = hasher.finalize().into();
    let [b0, b1, b2, b3, ..] = digest;
    let first_word = u32::from_be_bytes([b0, b1, b2, b3]);
    // The official SDKs parse the first 7 hex digits, i.e. the top 28 bits.
    let bucket = (first_word >> 4) % 100;
    u8::try_from(bucket).unwrap_or_default()
}

/// SHA-256 of `value`, then the config salt, then the context salt (setting key or segment name).
pub(crate) fn confidential_hash(value: &[u8], salt: &str, context_salt: &str) -> Sha256Digest {
    let mut hasher = Sha256::new();
    hasher.update(value);
    hasher.update(salt.as_bytes());
    hasher.update(context_salt.as_bytes());
    hasher.finalize().into()
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
    fn decodes_only_lower_case_digests() {
        let text = "5ee9b44b3b90bedd9441b256c429f862ceb2ea847a58a8e33d8052da141e47aa";
        assert_eq!(
            decode_hex_digest(text),
            Some(confidential_hash(b"test_payload", "salt", "ctx_salt"))
        );
        assert_eq!(decode_hex_digest(&text.to_uppercase()), None);
        assert_eq!(decode_hex_digest(&text[1..]), None);
        assert_eq!(decode_hex_digest("zz"), None);
    }
}
