//! Setting values: the four setting types and typed access to them.

use alloc::boxed::Box;
use alloc::string::String;
use core::fmt;

use crate::number::write_js_number;

/// The type of a setting, fixed in the dashboard (`t` in config JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SettingType {
    /// On/off flag (`t: 0`).
    Bool,
    /// Text setting (`t: 1`).
    Text,
    /// Whole number setting (`t: 2`).
    Int,
    /// Decimal number setting (`t: 3`).
    Float,
}

impl SettingType {
    pub(crate) const fn from_wire(code: i64) -> Option<Self> {
        match code {
            0 => Some(Self::Bool),
            1 => Some(Self::Text),
            2 => Some(Self::Int),
            3 => Some(Self::Float),
            _ => None,
        }
    }

    /// A short lower-case name: `bool`, `text`, `int` or `float`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Bool => "bool",
            Self::Text => "text",
            Self::Int => "int",
            Self::Float => "float",
        }
    }
}

impl fmt::Display for SettingType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A setting value, borrowed from the config (text is never copied).
///
/// `Display` writes it as ConfigCat's logs do: `true`/`false`, integers in
/// decimal, decimals as the shortest round-trip text (`3.1415`, `5`), text verbatim.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Value of an on/off flag.
    Bool(bool),
    /// Value of a text setting.
    Text(&'a str),
    /// Value of a whole number setting.
    Int(i64),
    /// Value of a decimal number setting.
    Float(f64),
}

impl Value<'_> {
    /// The setting type this value belongs to.
    #[must_use]
    pub const fn setting_type(&self) -> SettingType {
        match self {
            Self::Bool(_) => SettingType::Bool,
            Self::Text(_) => SettingType::Text,
            Self::Int(_) => SettingType::Int,
            Self::Float(_) => SettingType::Float,
        }
    }

    /// Copies the value out of the config.
    #[must_use]
    pub fn to_owned_value(&self) -> OwnedValue {
        match *self {
            Self::Bool(v) => OwnedValue::Bool(v),
            Self::Text(v) => OwnedValue::Text(v.into()),
            Self::Int(v) => OwnedValue::Int(v),
            Self::Float(v) => OwnedValue::Float(v),
        }
    }
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Bool(v) => f.write_str(if v { "true" } else { "false" }),
            Self::Text(v) => f.write_str(v),
            Self::Int(v) => write!(f, "{v}"),
            Self::Float(v) => write_js_number(f, v),
        }
    }
}

/// A setting value that owns its text: what overrides are built from.
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedValue {
    /// Value of an on/off flag.
    Bool(bool),
    /// Value of a text setting.
    Text(Box<str>),
    /// Value of a whole number setting.
    Int(i64),
    /// Value of a decimal number setting.
    Float(f64),
}

impl OwnedValue {
    /// Borrows the value.
    #[must_use]
    pub fn as_value(&self) -> Value<'_> {
        match self {
            Self::Bool(v) => Value::Bool(*v),
            Self::Text(v) => Value::Text(v),
            Self::Int(v) => Value::Int(*v),
            Self::Float(v) => Value::Float(*v),
        }
    }
}

impl From<bool> for OwnedValue {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}
impl From<i64> for OwnedValue {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}
impl From<f64> for OwnedValue {
    fn from(value: f64) -> Self {
        Self::Float(value)
    }
}
impl From<&str> for OwnedValue {
    fn from(value: &str) -> Self {
        Self::Text(value.into())
    }
}
impl From<String> for OwnedValue {
    fn from(value: String) -> Self {
        Self::Text(value.into_boxed_str())
    }
}

/// A Rust type a setting can be read as, with a default of that type.
///
/// Implemented for `bool`, `i64`, `f64`, `&str`, `String` and [`Value`] (any
/// type). Reading is strict, with one widening: a whole number setting may be
/// read as `f64` (exact up to 2^53), because a decimal default for a number
/// setting is a common and harmless choice. A decimal setting is never read
/// as `i64`, and text is never parsed into a number or bool.
pub trait FlagValue<'a>: Sized {
    /// The value as this type, or `None` when the setting holds another type.
    fn from_value(value: Value<'a>) -> Option<Self>;
    /// This value seen as a setting value (for logs and details).
    fn as_value(&self) -> Value<'_>;
    /// The name of the type asked for, for error messages.
    const TYPE_NAME: &'static str;
    /// Whether a setting of this type can be read as `Self`.
    fn accepts(setting_type: SettingType) -> bool;
}

impl FlagValue<'_> for bool {
    fn accepts(setting_type: SettingType) -> bool {
        matches!(setting_type, SettingType::Bool)
    }
    fn from_value(value: Value<'_>) -> Option<Self> {
        match value {
            Value::Bool(v) => Some(v),
            _ => None,
        }
    }
    fn as_value(&self) -> Value<'_> {
        Value::Bool(*self)
    }
    const TYPE_NAME: &'static str = "bool";
}

impl FlagValue<'_> for i64 {
    fn accepts(setting_type: SettingType) -> bool {
        matches!(setting_type, SettingType::Int)
    }
    fn from_value(value: Value<'_>) -> Option<Self> {
        match value {
            Value::Int(v) => Some(v),
            _ => None,
        }
    }
    fn as_value(&self) -> Value<'_> {
        Value::Int(*self)
    }
    const TYPE_NAME: &'static str = "int";
}

impl FlagValue<'_> for f64 {
    fn accepts(setting_type: SettingType) -> bool {
        matches!(setting_type, SettingType::Float | SettingType::Int)
    }
    fn from_value(value: Value<'_>) -> Option<Self> {
        match value {
            Value::Float(v) => Some(v),
            #[expect(
                clippy::cast_precision_loss,
                reason = "documented widening: exact up to 2^53, nearest above"
            )]
            Value::Int(v) => Some(v as Self),
            _ => None,
        }
    }
    fn as_value(&self) -> Value<'_> {
        Value::Float(*self)
    }
    const TYPE_NAME: &'static str = "float";
}

impl<'a> FlagValue<'a> for &'a str {
    fn accepts(setting_type: SettingType) -> bool {
        matches!(setting_type, SettingType::Text)
    }
    fn from_value(value: Value<'a>) -> Option<Self> {
        match value {
            Value::Text(v) => Some(v),
            _ => None,
        }
    }
    fn as_value(&self) -> Value<'_> {
        Value::Text(self)
    }
    const TYPE_NAME: &'static str = "text";
}

impl FlagValue<'_> for String {
    fn accepts(setting_type: SettingType) -> bool {
        matches!(setting_type, SettingType::Text)
    }
    fn from_value(value: Value<'_>) -> Option<Self> {
        match value {
            Value::Text(v) => Some(v.into()),
            _ => None,
        }
    }
    fn as_value(&self) -> Value<'_> {
        Value::Text(self)
    }
    const TYPE_NAME: &'static str = "text";
}

impl<'a> FlagValue<'a> for Value<'a> {
    fn accepts(setting_type: SettingType) -> bool {
        let _ = setting_type;
        true
    }
    fn from_value(value: Self) -> Option<Self> {
        Some(value)
    }
    fn as_value(&self) -> Value<'_> {
        *self
    }
    const TYPE_NAME: &'static str = "any";
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn displays_like_the_evaluation_log() {
        assert_eq!(format!("{}", Value::Bool(true)), "true");
        assert_eq!(format!("{}", Value::Int(-1)), "-1");
        assert_eq!(format!("{}", Value::Float(5.561)), "5.561");
        assert_eq!(format!("{}", Value::Float(5.0)), "5");
        assert_eq!(format!("{}", Value::Text("Cat")), "Cat");
    }

    #[test]
    fn typed_reads_are_strict_except_int_as_float() {
        assert_eq!(bool::from_value(Value::Bool(true)), Some(true));
        assert_eq!(bool::from_value(Value::Text("true")), None);
        assert_eq!(i64::from_value(Value::Float(1.0)), None);
        assert_eq!(f64::from_value(Value::Int(3)), Some(3.0));
        assert_eq!(<&str>::from_value(Value::Int(3)), None);
        assert_eq!(String::from_value(Value::Text("x")).as_deref(), Some("x"));
    }
}
