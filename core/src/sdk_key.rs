//! SDK key validation and the shared-cache key derived from it.

use alloc::string::String;
use core::fmt::{self, Write};

use sha1::{Digest, Sha1};

/// Prefix of SDK keys issued by the ConfigCat dashboard v2.
const SDK_KEY_PREFIX: &str = "configcat-sdk-1/";
/// Prefix of keys that address a ConfigCat Proxy (only with a custom base url).
const PROXY_KEY_PREFIX: &str = "configcat-proxy/";
/// Length of each of the two random parts of a key.
const KEY_PART_LENGTH: usize = 22;

/// Why an SDK key was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdkKeyError {
    /// The key is empty.
    Empty,
    /// The key has neither the `configcat-sdk-1/{22}/{22}` nor the legacy `{22}/{22}` form.
    Malformed,
    /// A `configcat-proxy/` key was given without a custom base url.
    ProxyKeyWithoutBaseUrl,
}

impl fmt::Display for SdkKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "SDK Key cannot be empty",
            Self::Malformed => "SDK Key has an invalid format (expected configcat-sdk-1/<22 characters>/<22 characters>)",
            Self::ProxyKeyWithoutBaseUrl => {
                "SDK Key of the form configcat-proxy/... needs a custom base url (the proxy's address)"
            }
        })
    }
}

impl core::error::Error for SdkKeyError {}

/// Checks an SDK key's form. `custom_base_url` tells whether the client talks
/// to something other than ConfigCat's CDN (a ConfigCat Proxy accepts
/// `configcat-proxy/...` keys).
///
/// ```
/// use configcat_core::refresh::{SdkKeyError, validate_sdk_key};
///
/// assert!(validate_sdk_key("configcat-sdk-1/TEST_KEY-0123456789012/1234567890123456789012", false).is_ok());
/// assert!(validate_sdk_key("PKDVCLf-Hq-h-kCzMp-L7Q/psuH7BGHoUmdONrzzUOY7A", false).is_ok());
/// assert_eq!(validate_sdk_key("configcat-proxy/mine", false), Err(SdkKeyError::ProxyKeyWithoutBaseUrl));
/// assert!(validate_sdk_key("configcat-proxy/mine", true).is_ok());
/// ```
///
/// # Errors
/// The key does not have one of the accepted forms.
pub fn validate_sdk_key(key: &str, custom_base_url: bool) -> Result<(), SdkKeyError> {
    if key.is_empty() {
        return Err(SdkKeyError::Empty);
    }
    if let Some(rest) = key.strip_prefix(PROXY_KEY_PREFIX) {
        return match (rest.is_empty(), custom_base_url) {
            (true, _) => Err(SdkKeyError::Malformed),
            (false, true) => Ok(()),
            (false, false) => Err(SdkKeyError::ProxyKeyWithoutBaseUrl),
        };
    }
    let parts = key.strip_prefix(SDK_KEY_PREFIX).unwrap_or(key);
    let valid = parts
        .split_once('/')
        .is_some_and(|(first, second)| is_key_part(first) && is_key_part(second));
    if valid {
        Ok(())
    } else {
        Err(SdkKeyError::Malformed)
    }
}

/// Whether the key addresses a ConfigCat Proxy; such keys never follow redirects.
#[must_use]
pub fn is_proxy_key(key: &str) -> bool {
    key.starts_with(PROXY_KEY_PREFIX)
}

fn is_key_part(part: &str) -> bool {
    part.len() == KEY_PART_LENGTH
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The key under which the config is cached: `hex(SHA-1("<sdk key>_config_v6.json_v2"))`,
/// the same in every ConfigCat SDK, so a cache can be shared between them.
///
/// ```
/// assert_eq!(
///     configcat_core::refresh::cache_key("configcat-sdk-1/TEST_KEY-0123456789012/1234567890123456789012"),
///     "f83ba5d45bceb4bb704410f51b704fb6dfa19942"
/// );
/// ```
#[must_use]
pub fn cache_key(sdk_key: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(sdk_key.as_bytes());
    hasher.update(b"_config_v6.json_v2");
    let digest: [u8; 20] = hasher.finalize().into();
    let mut key = String::with_capacity(40);
    for byte in digest {
        let _ = write!(key, "{byte:02x}");
    }
    key
}

/// The SDK key with its secret part masked, for log messages:
/// `configcat-sdk-1/****************L7Q/****************sQ` style.
pub(crate) struct MaskedKey<'a>(pub(crate) &'a str);

impl fmt::Display for MaskedKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = self.0;
        // Keep the last 4 characters of each part after the prefix.
        let (prefix, rest) = if let Some(rest) = key.strip_prefix(SDK_KEY_PREFIX) {
            (SDK_KEY_PREFIX, rest)
        } else if let Some(rest) = key.strip_prefix(PROXY_KEY_PREFIX) {
            (PROXY_KEY_PREFIX, rest)
        } else {
            ("", key)
        };
        f.write_str(prefix)?;
        for (index, part) in rest.split('/').enumerate() {
            if index > 0 {
                f.write_char('/')?;
            }
            let visible = part.char_indices().rev().nth(3).map_or(0, |(at, _)| at);
            for _ in part.get(..visible).unwrap_or_default().chars() {
                f.write_char('*')?;
            }
            f.write_str(part.get(visible..).unwrap_or_default())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn accepts_and_rejects_key_forms() {
        let good = "configcat-sdk-1/PKDVCLf-Hq-h-kCzMp-L7Q/AG6C1ngVb0CvM07un6JisQ";
        assert_eq!(validate_sdk_key(good, false), Ok(()));
        assert_eq!(validate_sdk_key(good, true), Ok(()));
        for bad in [
            "configcat-sdk-1/PKDVCLf-Hq-h-kCzMp-L7Q/AG6C1ngVb0CvM07un6Jis",
            "configcat-sdk-1/PKDVCLf-Hq-h-kCzMp-L7Q",
            "configcat-sdk-2/PKDVCLf-Hq-h-kCzMp-L7Q/AG6C1ngVb0CvM07un6JisQ",
            "PKDVCLf-Hq-h-kCzMp-L7Q/AG6C1ngVb0CvM07un6JisQ/x",
            "PKDVCLf-Hq-h-kCzMp-L7!/AG6C1ngVb0CvM07un6JisQ",
            "configcat-proxy/",
            " configcat-sdk-1/PKDVCLf-Hq-h-kCzMp-L7Q/AG6C1ngVb0CvM07un6JisQ",
        ] {
            assert_eq!(
                validate_sdk_key(bad, true),
                Err(SdkKeyError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(validate_sdk_key("", false), Err(SdkKeyError::Empty));
    }

    #[test]
    fn masks_keys_in_logs() {
        let masked = format!(
            "{}",
            MaskedKey("configcat-sdk-1/PKDVCLf-Hq-h-kCzMp-L7Q/AG6C1ngVb0CvM07un6JisQ")
        );
        assert_eq!(
            masked,
            "configcat-sdk-1/******************-L7Q/******************JisQ"
        );
    }
}
