//! The wire layer: objects of known members, lists, optional scalars and
//! value objects, read as config JSON writes them.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::config::StoredValue;
use crate::json::{ErrorClass, JsonError, KnownMembers, Number, Problem, Reader, SeenMembers};
use crate::value::SettingType;

pub(super) type Read<T> = Result<T, JsonError>;

/// A value object (`v`): any of its members, typed by whoever reads it.
#[derive(Default)]
pub(super) struct WireValue<'a> {
    pub(super) boolean: Option<bool>,
    pub(super) text: Option<Cow<'a, str>>,
    pub(super) int: Option<i64>,
    pub(super) float: Option<f64>,
}

impl WireValue<'_> {
    /// How many of its members the value object has.
    pub(super) fn member_count(&self) -> usize {
        usize::from(self.boolean.is_some())
            + usize::from(self.text.is_some())
            + usize::from(self.int.is_some())
            + usize::from(self.float.is_some())
    }
}

/// Reads an object whose known members are `known`: `member` is called with
/// each known name found, the reader at its value; other members are
/// skipped. A known member twice is refused (a document with two `v` in one
/// setting is ambiguous).
#[inline]
pub(super) fn read_object<'a>(
    reader: &mut Reader<'a>,
    expected: &'static str,
    known: KnownMembers,
    mut member: impl FnMut(&mut Reader<'a>, &'static str) -> Read<()>,
) -> Read<()> {
    reader.begin_object(expected)?;
    let mut seen = SeenMembers::default();
    let mut first = true;
    while let Some(name) = reader.next_member(&mut first)? {
        match known.find(&name) {
            Some((name, index)) => {
                seen.record(index, name, reader)?;
                member(reader, name)?;
            }
            None => reader.skip_value()?,
        }
    }
    Ok(())
}

/// Lists longer than this are counted ahead and allocated on their own at
/// their length: a scratch buffer stays this small, and a long list is not
/// held twice (scratch and final copy) while it is moved out.
pub(super) const LONG_LIST: usize = 16;

/// A JSON array of objects read element by element into an exactly sized
/// slice: collected on top of `scratch` (left as it was found) up to
/// [`LONG_LIST`] elements, then counted ahead and read into a list of its own.
#[inline]
pub(super) fn read_list<'a, T>(
    reader: &mut Reader<'a>,
    expected: &'static str,
    scratch: &mut Vec<T>,
    mut read: impl FnMut(&mut Reader<'a>) -> Read<T>,
) -> Read<Box<[T]>> {
    let start = scratch.len();
    reader.begin_array(expected)?;
    let mut first = true;
    while reader.next_element(&mut first)? {
        if scratch.len() - start == LONG_LIST {
            return read_long_list(reader, scratch, start, read);
        }
        let item = read(reader)?;
        scratch.push(item);
    }
    Ok(scratch.drain(start..).collect())
}

/// The rest of [`read_list`] once the list is long: the reader is at an element.
#[cold]
#[inline(never)]
fn read_long_list<'a, T>(
    reader: &mut Reader<'a>,
    scratch: &mut Vec<T>,
    start: usize,
    mut read: impl FnMut(&mut Reader<'a>) -> Read<T>,
) -> Read<Box<[T]>> {
    let mut list = move_out(scratch, start, reader.count_ahead(0).elements);
    let mut first = false;
    loop {
        list.push(read(reader)?);
        if !reader.next_element(&mut first)? {
            return Ok(list.into_boxed_slice());
        }
    }
}

/// Moves `scratch[start..]` into a new list with room for `more` elements.
pub(super) fn move_out<T>(scratch: &mut Vec<T>, start: usize, more: usize) -> Vec<T> {
    let mut list = Vec::new();
    // `more` is counted ahead, exact for JSON: on other text a wrong guess
    // must not abort the parse, so a failed reservation is left to `push`.
    let _ = list.try_reserve_exact(scratch.len().saturating_sub(start).saturating_add(more));
    list.extend(scratch.drain(start..));
    list
}

/// A JSON array read element by element onto the end of `items`.
#[inline]
pub(super) fn read_onto<'a, T>(
    reader: &mut Reader<'a>,
    expected: &'static str,
    items: &mut Vec<T>,
    mut read: impl FnMut(&mut Reader<'a>) -> Read<T>,
) -> Read<()> {
    reader.begin_array(expected)?;
    let mut first = true;
    while reader.next_element(&mut first)? {
        let item = read(reader)?;
        items.push(item);
    }
    Ok(())
}

pub(super) fn optional_value<'a>(reader: &mut Reader<'a>) -> Read<Option<WireValue<'a>>> {
    if reader.null()? {
        return Ok(None);
    }
    let mut value = WireValue::default();
    read_object(
        reader,
        "a value object",
        KnownMembers::new(&["b", "s", "i", "d"]),
        |reader, member| {
            match member {
                "b" => value.boolean = optional(reader, |reader| reader.bool("a boolean"))?,
                "s" => value.text = optional_string(reader)?,
                "i" => value.int = optional_integer(reader)?,
                "d" => value.float = optional_float(reader)?,
                _ => {}
            }
            Ok(())
        },
    )?;
    Ok(Some(value))
}

/// `None` for `null`, else what `read` reads.
#[inline]
pub(super) fn optional<'a, T>(
    reader: &mut Reader<'a>,
    read: impl FnOnce(&mut Reader<'a>) -> Read<T>,
) -> Read<Option<T>> {
    if reader.null()? {
        return Ok(None);
    }
    read(reader).map(Some)
}

#[inline]
pub(super) fn optional_string<'a>(reader: &mut Reader<'a>) -> Read<Option<Cow<'a, str>>> {
    optional(reader, |reader| reader.string("a string"))
}

#[inline]
pub(super) fn optional_float(reader: &mut Reader<'_>) -> Read<Option<f64>> {
    optional(reader, |reader| {
        reader.number("a number").map(Number::as_f64)
    })
}

/// Reads an optional whole number. JSON has one number type: `-0` and `5.0`
/// are whole numbers too (other SDKs read them so), fractions are not.
pub(super) fn optional_integer(reader: &mut Reader<'_>) -> Read<Option<i64>> {
    if reader.null()? {
        return Ok(None);
    }
    let at = reader.position();
    let shape = |message| JsonError::new(ErrorClass::Shape, Problem::Message(message), at);
    match reader.number("a whole number")? {
        Number::Unsigned(v) => i64::try_from(v)
            .map(Some)
            .map_err(|_| shape("whole number out of range")),
        Number::Negative(v) => Ok(Some(v)),
        Number::Float(v) => {
            // Within ±2^53 every whole f64 is exact, so the conversion below is too.
            const EXACT: f64 = 9_007_199_254_740_992.0;
            #[expect(
                clippy::cast_possible_truncation,
                reason = "whole and within ±2^53, checked first"
            )]
            let whole = v as i64;
            #[expect(
                clippy::cast_precision_loss,
                reason = "round trip check of a value within ±2^53"
            )]
            let is_whole = v.abs() <= EXACT && whole as f64 == v;
            if is_whole {
                Ok(Some(whole))
            } else {
                Err(shape("expected a whole number"))
            }
        }
    }
}

#[inline]
pub(super) fn stored_value(value: WireValue<'_>, setting_type: Option<SettingType>) -> StoredValue {
    let stored = match setting_type {
        Some(SettingType::Bool) => value.boolean.map(StoredValue::Bool),
        Some(SettingType::Text) => value.text.map(|v| StoredValue::Text(Box::from(v))),
        Some(SettingType::Int) => value.int.map(StoredValue::Int),
        Some(SettingType::Float) => value.float.map(StoredValue::Float),
        None => None,
    };
    stored.unwrap_or(StoredValue::Invalid)
}

/// The prerequisite comparison value carries its own type: exactly one member.
#[inline]
pub(super) fn self_typed_value(value: WireValue<'_>) -> StoredValue {
    match value {
        WireValue {
            boolean: Some(v),
            text: None,
            int: None,
            float: None,
        } => StoredValue::Bool(v),
        WireValue {
            boolean: None,
            text: Some(v),
            int: None,
            float: None,
        } => StoredValue::Text(Box::from(v)),
        WireValue {
            boolean: None,
            text: None,
            int: Some(v),
            float: None,
        } => StoredValue::Int(v),
        WireValue {
            boolean: None,
            text: None,
            int: None,
            float: Some(v),
        } => StoredValue::Float(v),
        _ => StoredValue::Invalid,
    }
}
