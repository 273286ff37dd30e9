//! Standard-alphabet base64 (RFC 4648 §4), just enough for Basic auth.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes `input` with padding.
pub(crate) fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b0 = chunk.first().copied().unwrap_or(0);
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        let symbols = chunk.len() + 1;
        for i in 0..4 {
            if i < symbols {
                out.push(symbol((n >> (18 - 6 * i)) & 0x3f));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn symbol(sextet: u32) -> char {
    usize::try_from(sextet)
        .ok()
        .and_then(|i| ALPHABET.get(i))
        .map_or('=', |&b| char::from(b))
}

/// Decodes `input` (padding optional); `None` when it is not base64.
pub(crate) fn decode(input: &str) -> Option<Vec<u8>> {
    let data = input.trim_end_matches('=').as_bytes();
    if data.len() % 4 == 1 || input.len() - data.len() > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &b in data {
        let value = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{decode, encode};

    #[test]
    fn round_trips() {
        for s in [
            "",
            "f",
            "fo",
            "foo",
            "foob",
            "fooba",
            "foobar",
            "user:pässwörd",
        ] {
            let e = encode(s.as_bytes());
            assert_eq!(decode(&e).as_deref(), Some(s.as_bytes()), "{s} -> {e}");
        }
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(encode(b"fo"), "Zm8=");
        assert_eq!(decode("Zm8").as_deref(), Some(&b"fo"[..]));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(decode("Zm9v!"), None);
        assert_eq!(decode("Z"), None);
        assert_eq!(decode("Zg==="), None);
    }
}
