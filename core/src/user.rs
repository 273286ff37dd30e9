//! The User Object: who a flag is evaluated for.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};

use crate::date_time::write_iso_utc;
use crate::json::swar::same_key;
use crate::number::write_js_number;

/// Name of the identifier attribute, the default basis of % options.
pub const IDENTIFIER: &str = "Identifier";
/// Name of the e-mail attribute.
pub const EMAIL: &str = "Email";
/// Name of the country attribute.
pub const COUNTRY: &str = "Country";

/// The value of a custom user attribute.
///
/// Which comparators accept which kind, following ConfigCat's reference:
/// text comparators take any kind (non-text is converted to its canonical
/// text with warning 3005); number comparators take numbers and numeric
/// text; date comparators take date-times, numbers and numeric text (Unix
/// seconds); semver comparators take text; array comparators take string
/// lists and text holding a JSON array of strings.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum UserValue {
    /// Text.
    Text(String),
    /// A number (may be `NaN` or infinite).
    Number(f64),
    /// An instant, as seconds since the Unix epoch (fractions are milliseconds).
    DateTime(f64),
    /// A list of strings.
    StringList(Vec<String>),
}

impl UserValue {
    /// A date-time from milliseconds since the Unix epoch.
    #[must_use]
    #[expect(
        clippy::cast_precision_loss,
        reason = "exact for any realistic instant (< 2^53 ms)"
    )]
    pub fn from_unix_millis(millis: i64) -> Self {
        Self::DateTime(millis as f64 / 1000.0)
    }
}

impl From<&str> for UserValue {
    fn from(value: &str) -> Self {
        Self::Text(value.into())
    }
}
impl From<String> for UserValue {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}
impl From<f64> for UserValue {
    fn from(value: f64) -> Self {
        Self::Number(value)
    }
}
impl From<i64> for UserValue {
    #[expect(
        clippy::cast_precision_loss,
        reason = "numbers are compared as f64 by every SDK"
    )]
    fn from(value: i64) -> Self {
        Self::Number(value as f64)
    }
}
impl From<i32> for UserValue {
    fn from(value: i32) -> Self {
        Self::Number(f64::from(value))
    }
}
impl From<Vec<String>> for UserValue {
    fn from(value: Vec<String>) -> Self {
        Self::StringList(value)
    }
}
impl From<&[&str]> for UserValue {
    fn from(value: &[&str]) -> Self {
        Self::StringList(value.iter().map(|item| String::from(*item)).collect())
    }
}

/// The user a flag is evaluated for.
///
/// ```
/// use configcat_core::{User, UserValue};
///
/// let user = User::new("435170f4-8a8b-4b67-a723-505ac7cdea92")
///     .with_email("jane@example.com")
///     .with_country("Hungary")
///     .with_custom("SubscriptionType", "Pro")
///     .with_custom("Age", 31)
///     .with_custom("Roles", UserValue::StringList(vec!["admin".into()]));
/// assert_eq!(user.identifier(), "435170f4-8a8b-4b67-a723-505ac7cdea92");
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct User {
    identifier: String,
    email: Option<String>,
    country: Option<String>,
    custom: Vec<(String, UserValue)>,
}

/// A user attribute as evaluation sees it, borrowed from the [`User`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Attribute<'a> {
    Text(&'a str),
    Number(f64),
    DateTime(f64),
    StringList(&'a [String]),
}

impl User {
    /// A user with this identifier (the default basis of % options).
    #[must_use]
    pub fn new(identifier: impl Into<String>) -> Self {
        Self {
            identifier: identifier.into(),
            ..Self::default()
        }
    }

    /// Sets the e-mail address.
    #[must_use]
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the country.
    #[must_use]
    pub fn with_country(mut self, country: impl Into<String>) -> Self {
        self.country = Some(country.into());
        self
    }

    /// Sets a custom attribute, replacing an earlier one of the same name.
    ///
    /// The names `Identifier`, `Email` and `Country` belong to the dedicated
    /// setters; a custom attribute with one of them is ignored, as in
    /// ConfigCat's other SDKs.
    #[must_use]
    pub fn with_custom(mut self, name: impl Into<String>, value: impl Into<UserValue>) -> Self {
        self.set_custom(name, value);
        self
    }

    /// Sets a custom attribute in place; see [`User::with_custom`].
    pub fn set_custom(&mut self, name: impl Into<String>, value: impl Into<UserValue>) {
        let name = name.into();
        if matches!(name.as_str(), IDENTIFIER | EMAIL | COUNTRY) {
            return;
        }
        let value = value.into();
        match self
            .custom
            .iter_mut()
            .find(|(existing, _)| *existing == name)
        {
            Some((_, slot)) => *slot = value,
            None => self.custom.push((name, value)),
        }
    }

    /// The identifier.
    #[must_use]
    pub fn identifier(&self) -> &str {
        &self.identifier
    }

    /// The e-mail address, if set.
    #[must_use]
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// The country, if set.
    #[must_use]
    pub fn country(&self) -> Option<&str> {
        self.country.as_deref()
    }

    /// The custom attribute of this name, if set.
    #[must_use]
    pub fn custom(&self, name: &str) -> Option<&UserValue> {
        self.custom
            .iter()
            .find(|(existing, _)| existing == name)
            .map(|(_, value)| value)
    }

    /// The custom attributes in the order they were set.
    pub fn custom_attributes(&self) -> impl Iterator<Item = (&str, &UserValue)> {
        self.custom
            .iter()
            .map(|(name, value)| (name.as_str(), value))
    }

    /// The attribute `name`, whose kind `key` was found out beforehand (at
    /// config parse time for the attributes of conditions).
    #[inline(always)]
    pub(crate) fn attribute_at(&self, key: AttributeKey, name: &[u8]) -> Option<Attribute<'_>> {
        match key {
            AttributeKey::Identifier => Some(Attribute::Text(&self.identifier)),
            AttributeKey::Email => self.email.as_deref().map(Attribute::Text),
            AttributeKey::Country => self.country.as_deref().map(Attribute::Text),
            AttributeKey::Custom => self
                .custom
                .iter()
                // Compared in place (names are short): cheaper than `memcmp` calls.
                .find(|(existing, _)| same_key(existing.as_bytes(), name))
                .map(|(_, value)| match value {
                    UserValue::Text(text) => Attribute::Text(text),
                    UserValue::Number(number) => Attribute::Number(*number),
                    UserValue::DateTime(seconds) => Attribute::DateTime(*seconds),
                    UserValue::StringList(list) => Attribute::StringList(list),
                }),
        }
    }
}

/// Where a user attribute lives: one of the well-known fields, or the custom ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttributeKey {
    Identifier,
    Email,
    Country,
    Custom,
}

impl AttributeKey {
    pub(crate) fn of(name: &str) -> Self {
        let is = |known: &str| same_key(name.as_bytes(), known.as_bytes());
        if is(IDENTIFIER) {
            Self::Identifier
        } else if is(EMAIL) {
            Self::Email
        } else if is(COUNTRY) {
            Self::Country
        } else {
            Self::Custom
        }
    }
}

impl Attribute<'_> {
    /// Writes the canonical text of the value: what text comparators and %
    /// options see. Numbers as JavaScript writes them, date-times as Unix
    /// seconds, lists as compact JSON.
    pub(crate) fn write_canonical(&self, out: &mut dyn Write) -> fmt::Result {
        match *self {
            Self::Text(text) => out.write_str(text),
            Self::Number(number) | Self::DateTime(number) => write_js_number(out, number),
            Self::StringList(list) => write_json_string_list(out, list),
        }
    }
}

/// Writes `text` as a JSON string literal, keeping non-ASCII characters.
pub(crate) fn write_json_string(out: &mut dyn Write, text: &str) -> fmt::Result {
    out.write_char('"')?;
    let mut clean_from = 0;
    for (index, ch) in text.char_indices() {
        let escape = match ch {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\u{08}' => "\\b",
            '\u{0c}' => "\\f",
            c if u32::from(c) < 0x20 => "",
            _ => continue,
        };
        out.write_str(text.get(clean_from..index).unwrap_or_default())?;
        if escape.is_empty() {
            write!(out, "\\u{:04x}", u32::from(ch))?;
        } else {
            out.write_str(escape)?;
        }
        clean_from = index + ch.len_utf8();
    }
    out.write_str(text.get(clean_from..).unwrap_or_default())?;
    out.write_char('"')
}

fn write_json_string_list(out: &mut dyn Write, list: &[String]) -> fmt::Result {
    out.write_char('[')?;
    for (index, item) in list.iter().enumerate() {
        if index > 0 {
            out.write_char(',')?;
        }
        write_json_string(out, item)?;
    }
    out.write_char(']')
}

/// The user as compact JSON, as the evaluation log shows it:
/// `{"Identifier":"12345","Email":"joe@example.com","Custom1":"x"}`.
impl fmt::Display for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{\"Identifier\":")?;
        write_json_string(f, &self.identifier)?;
        for (name, value) in [(EMAIL, &self.email), (COUNTRY, &self.country)] {
            if let Some(value) = value {
                write!(f, ",\"{name}\":")?;
                write_json_string(f, value)?;
            }
        }
        for (name, value) in &self.custom {
            f.write_char(',')?;
            write_json_string(f, name)?;
            f.write_char(':')?;
            match value {
                UserValue::Text(text) => write_json_string(f, text)?,
                UserValue::Number(number) if number.is_finite() => write_js_number(f, *number)?,
                // JSON has no NaN or Infinity; show their names as text.
                UserValue::Number(number) => {
                    f.write_char('"')?;
                    write_js_number(f, *number)?;
                    f.write_char('"')?;
                }
                UserValue::DateTime(seconds) => {
                    f.write_char('"')?;
                    if write_iso_utc(f, *seconds)? {
                        f.write_char('Z')?;
                    } else {
                        write_js_number(f, *seconds)?;
                    }
                    f.write_char('"')?;
                }
                UserValue::StringList(list) => write_json_string_list(f, list)?,
            }
        }
        f.write_char('}')
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec;

    #[test]
    fn displays_as_compact_json_in_insertion_order() {
        let user = User::new("12345")
            .with_email("joe@example.com")
            .with_country("[\"USA\"]")
            .with_custom("Version", "1.0.0")
            .with_custom("Number", "1.0");
        assert_eq!(
            format!("{user}"),
            r#"{"Identifier":"12345","Email":"joe@example.com","Country":"[\"USA\"]","Version":"1.0.0","Number":"1.0"}"#
        );
    }

    #[test]
    fn displays_typed_custom_values() {
        let user = User::new("i")
            .with_custom("N", 1.5)
            .with_custom("Nan", f64::NAN)
            .with_custom("D", UserValue::DateTime(1_693_497_600.0))
            .with_custom(
                "L",
                UserValue::StringList(vec!["a\"b".into(), "é\n".into()]),
            )
            .with_custom("C", "\u{1}");
        assert_eq!(
            format!("{user}"),
            r#"{"Identifier":"i","N":1.5,"Nan":"NaN","D":"2023-08-31T16:00:00.000Z","L":["a\"b","é\n"],"C":"\u0001"}"#
        );
    }

    #[test]
    fn well_known_names_are_not_custom() {
        let user = User::new("a")
            .with_custom("Email", "x@y")
            .with_custom("Identifier", "b");
        assert_eq!(user.email(), None);
        assert_eq!(user.identifier(), "a");
        let user = user.with_custom("K", "1").with_custom("K", "2");
        assert_eq!(user.custom("K"), Some(&UserValue::Text("2".into())));
        assert_eq!(user.custom_attributes().count(), 1);
    }

    #[test]
    fn canonical_text_of_attributes() {
        let list = vec![
            "read".into(),
            "Write".into(),
            " eXecute ".into(),
            "\t\\".into(),
        ];
        let mut out = String::new();
        Attribute::StringList(&list)
            .write_canonical(&mut out)
            .unwrap();
        assert_eq!(out, r#"["read","Write"," eXecute ","\t\\"]"#);
        out.clear();
        Attribute::DateTime(1_680_307_199.999)
            .write_canonical(&mut out)
            .unwrap();
        assert_eq!(out, "1680307199.999");
    }
}
