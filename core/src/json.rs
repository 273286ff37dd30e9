//! A pull reader for the JSON the core reads: config JSON, flag-override
//! files and string-list user attributes.
//!
//! It reads straight from the input text: strings without escapes are
//! borrowed, not copied. The whole input is checked for UTF-8 once, up
//! front (JSON text is UTF-8), which is cheaper than checking each string. Values the caller does not want are skipped without
//! recursion, so nesting depth cannot exhaust the stack. Errors are classified
//! the way a caller needs them: the text is not JSON, it ends too early, or it
//! is JSON of the wrong shape.

pub(crate) mod swar;

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use swar::{byte_marks, marks_below};

/// What kind of problem stopped the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    /// Not JSON.
    Syntax,
    /// The text ends inside a value.
    Eof,
    /// JSON, but not of the shape the caller reads.
    Shape,
}

/// Why reading stopped, and where (a byte offset into the input).
// Boxed: a `Result` of a pointer beside a small value comes back in registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonError(Box<ErrorDetail>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ErrorDetail {
    pub(crate) class: ErrorClass,
    pub(crate) problem: Problem,
    pub(crate) at: usize,
}

impl JsonError {
    #[cold]
    #[inline(never)]
    pub(crate) fn new(class: ErrorClass, problem: Problem, at: usize) -> Self {
        Self(Box::new(ErrorDetail { class, problem, at }))
    }
}

impl core::ops::Deref for JsonError {
    type Target = ErrorDetail;

    fn deref(&self) -> &ErrorDetail {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    Message(&'static str),
    /// A value of another type than the caller reads.
    InvalidType {
        found: &'static str,
        expected: &'static str,
    },
    DuplicateMember(&'static str),
}

impl JsonError {
    /// 1-based line and column of the error in `input`.
    pub(crate) fn line_and_column(&self, input: &[u8]) -> (usize, usize) {
        let before = input.get(..self.at).unwrap_or(input);
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |newline| newline + 1);
        (line, self.at - line_start + 1)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Message(message) => f.write_str(message),
            Self::InvalidType { found, expected } => {
                write!(f, "invalid type: {found}, expected {expected}")
            }
            Self::DuplicateMember(name) => write!(f, "duplicate member `{name}`"),
        }
    }
}

/// The type of the next value, as its first byte tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    Number,
    String,
    /// Null, an array or an object.
    Other,
}

/// A JSON number as read: whole numbers stay exact when they fit 64 bits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Unsigned(u64),
    /// Negative whole numbers (`-0` is a float, -0.0, as JSON readers commonly read it).
    Negative(i64),
    Float(f64),
}

impl Number {
    #[expect(
        clippy::cast_precision_loss,
        reason = "JSON numbers are doubles; large whole numbers round as they do everywhere"
    )]
    pub(crate) const fn as_f64(self) -> f64 {
        match self {
            Self::Unsigned(v) => v as f64,
            Self::Negative(v) => v as f64,
            Self::Float(v) => v,
        }
    }
}

type Result<T> = core::result::Result<T, JsonError>;

/// Bytes a string scan stops at: the closing quote, an escape and control
/// characters (not allowed raw).
#[expect(
    clippy::indexing_slicing,
    reason = "const initialisation: indices 0..256 of a 256-entry table"
)]
static STRING_STOP: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = byte < 0x20 || byte == b'"' as usize || byte == b'\\' as usize;
        byte += 1;
    }
    table
};

/// The bytes of `word` (little-endian) that stop a string scan, as in
/// [`STRING_STOP`]: the high bit of each such byte is set, and the lowest
/// set bit marks the first of them exactly (borrows only run upwards).
#[inline]
fn string_stops(word: u64) -> u64 {
    byte_marks(word, b'"') | byte_marks(word, b'\\') | marks_below(word, 0x20)
}

/// The type of the value `byte` starts; `None` for a byte no value starts
/// with (whitespace, `]`, ...).
#[inline]
const fn kind_starting_with(byte: u8) -> Option<Kind> {
    Some(match byte {
        b't' | b'f' => Kind::Bool,
        b'-' | b'0'..=b'9' => Kind::Number,
        b'"' => Kind::String,
        b'n' | b'[' | b'{' => Kind::Other,
        _ => return None,
    })
}

/// A position in a JSON text, read forward.
#[derive(Clone)]
pub(crate) struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) const fn new(text: &'a str) -> Self {
        Self {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    /// The byte offset of the next unread byte.
    pub(crate) const fn position(&self) -> usize {
        self.pos
    }

    fn error(&self, class: ErrorClass, message: &'static str) -> JsonError {
        JsonError::new(class, Problem::Message(message), self.pos)
    }

    fn syntax(&self, message: &'static str) -> JsonError {
        self.error(ErrorClass::Syntax, message)
    }

    fn eof(&self, message: &'static str) -> JsonError {
        self.error(ErrorClass::Eof, message)
    }

    /// The next byte that is not whitespace, not consumed.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        loop {
            let byte = *self.bytes.get(self.pos)?;
            match byte {
                b' ' | b'\n' | b'\t' | b'\r' => self.pos += 1,
                _ => return Some(byte),
            }
        }
    }

    /// The next byte that is not whitespace, which must start a value.
    fn peek_value(&mut self) -> Result<u8> {
        self.peek()
            .ok_or_else(|| self.eof("EOF while parsing a value"))
    }

    /// Checks that only whitespace follows the document.
    pub(crate) fn end(&mut self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.syntax("trailing characters")),
        }
    }

    /// A value of the wrong type starts here: checks that it is JSON at all
    /// (a broken scalar is a syntax error first) and reports the mismatch.
    #[cold]
    fn invalid_type(&mut self, expected: &'static str) -> JsonError {
        let at = self.pos;
        let found = match self.peek() {
            None => return self.eof("EOF while parsing a value"),
            Some(b'{') => "map",
            Some(b'[') => "sequence",
            Some(b'"') => "string",
            Some(b't' | b'f') => "boolean",
            Some(b'n') => "null",
            Some(b'-' | b'0'..=b'9') => "number",
            Some(_) => return self.syntax("expected value"),
        };
        if found != "map" && found != "sequence" {
            if let Err(error) = self.skip_value() {
                return error;
            }
        }
        JsonError::new(
            ErrorClass::Shape,
            Problem::InvalidType { found, expected },
            at,
        )
    }

    /// The type of the next value, not consumed.
    pub(crate) fn peek_kind(&mut self) -> Result<Kind> {
        let byte = self.peek_value()?;
        kind_starting_with(byte).ok_or_else(|| self.syntax("expected value"))
    }

    /// Whether the next value is `null`; consumes it if so.
    #[inline]
    pub(crate) fn null(&mut self) -> Result<bool> {
        if self.peek() == Some(b'n') {
            self.literal(b"null")?;
            return Ok(true);
        }
        Ok(false)
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<()> {
        for &expected in word {
            match self.bytes.get(self.pos) {
                Some(&byte) if byte == expected => self.pos += 1,
                Some(_) => return Err(self.syntax("expected ident")),
                None => return Err(self.eof("EOF while parsing a value")),
            }
        }
        Ok(())
    }

    /// Reads `{`, the start of an object (`expected` names what the caller reads, for errors).
    #[inline]
    pub(crate) fn begin_object(&mut self, expected: &'static str) -> Result<()> {
        self.open(b'{', expected)
    }

    /// Reads the opening `bracket` of a container.
    #[inline]
    fn open(&mut self, bracket: u8, expected: &'static str) -> Result<()> {
        if self.peek() == Some(bracket) {
            self.pos += 1;
            return Ok(());
        }
        Err(self.invalid_type(expected))
    }

    /// The key of the next member of an object, `None` at its end.
    /// `first` is true for the first call on an object.
    #[inline]
    pub(crate) fn next_key(&mut self, first: &mut bool) -> Result<Option<Cow<'a, str>>> {
        if !self.member_follows(first)? {
            return Ok(None);
        }
        self.name_after_quote().map(Some)
    }

    /// The name of the next member of an object, for readers of a schema
    /// whose names are mostly one letter: those come as a byte, without a
    /// string to build or compare. `None` at the object's end.
    #[inline]
    pub(crate) fn next_member(&mut self, first: &mut bool) -> Result<Option<MemberName<'a>>> {
        if let Some(letter) = self.compact_letter_member(*first) {
            *first = false;
            return Ok(Some(MemberName::Letter(letter)));
        }
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(None);
        }
        self.next_member_in_general(first)
    }

    /// [`Reader::next_member`] for any layout. Out of line: the compact
    /// one-letter case above is most members of a config.
    #[inline(never)]
    fn next_member_in_general(&mut self, first: &mut bool) -> Result<Option<MemberName<'a>>> {
        if !self.member_follows(first)? {
            return Ok(None);
        }
        if let Some(letter) = self.one_letter_name() {
            return Ok(Some(MemberName::Letter(letter)));
        }
        self.name_after_quote()
            .map(|name| Some(MemberName::Text(name)))
    }

    /// Consumes the `,` before a member (or checks for the first one) up to
    /// and including its name's opening quote; false at the object's end.
    #[inline]
    fn member_follows(&mut self, first: &mut bool) -> Result<bool> {
        match self.peek() {
            Some(b'}') => {
                self.pos += 1;
                return Ok(false);
            }
            Some(b',') if !*first => {
                self.pos += 1;
                match self.peek() {
                    Some(b'"') => {}
                    Some(b'}') => return Err(self.syntax("trailing comma")),
                    Some(_) => return Err(self.syntax("key must be a string")),
                    None => return Err(self.eof("EOF while parsing an object")),
                }
            }
            Some(b'"') if *first => {}
            Some(_) if *first => return Err(self.syntax("key must be a string")),
            Some(_) => return Err(self.syntax("expected `,` or `}`")),
            None => return Err(self.eof("EOF while parsing an object")),
        }
        *first = false;
        self.pos += 1;
        Ok(true)
    }

    /// Compact JSON's usual member start, `,"t":` (`"t":` for the first
    /// member), checked in one eight-byte load and consumed; `None`, the
    /// reader left alone, for anything else (whitespace, other names, the
    /// end of the object, too few bytes left), which the general path reads.
    #[inline(always)]
    fn compact_letter_member(&mut self, first: bool) -> Option<u8> {
        let (&word, _) = self.bytes.get(self.pos..)?.split_first_chunk::<8>()?;
        let word = u64::from_le_bytes(word);
        // `"?":` after the comma, or at once for the first member.
        let (word, length) = if first {
            (word, 4)
        } else if word & 0xFF == u64::from(b',') {
            (word >> 8, 5)
        } else {
            return None;
        };
        const QUOTES_AND_COLON: u64 = b'"' as u64 | (b'"' as u64) << 16 | (b':' as u64) << 24;
        if word & 0xFF_FF_00_FF != QUOTES_AND_COLON {
            return None;
        }
        let letter = (word >> 8).to_le_bytes()[0];
        if !letter.is_ascii_alphabetic() {
            return None;
        }
        self.pos += length;
        Some(letter)
    }

    /// A one-letter name and its colon (`t":`), consumed; the reader is
    /// left alone for any other name.
    #[inline]
    fn one_letter_name(&mut self) -> Option<u8> {
        match self.bytes.get(self.pos..self.pos + 3) {
            Some(&[letter, b'"', b':']) if letter.is_ascii_alphabetic() => {
                self.pos += 3;
                Some(letter)
            }
            _ => None,
        }
    }

    /// The rest of a member's name after its opening quote, and the colon.
    fn name_after_quote(&mut self) -> Result<Cow<'a, str>> {
        let key = self.string_body()?;
        match self.peek() {
            Some(b':') => {
                self.pos += 1;
                Ok(key)
            }
            Some(_) => Err(self.syntax("expected `:`")),
            None => Err(self.eof("EOF while parsing an object")),
        }
    }

    /// Reads `[`, the start of an array.
    #[inline]
    pub(crate) fn begin_array(&mut self, expected: &'static str) -> Result<()> {
        self.open(b'[', expected)
    }

    /// Whether another element of an array follows (then it is next to be
    /// read); false at the array's end. `first` as for [`Reader::next_key`].
    #[inline]
    pub(crate) fn next_element(&mut self, first: &mut bool) -> Result<bool> {
        // Compact JSON: `]`, or an element's first byte right after its
        // `,` (or the `[`). Anything else, whitespace or a trailing comma,
        // is left to the general reader, so its errors are what they were.
        match self.bytes.get(self.pos..self.pos + 2) {
            Some(&[b']', _]) => {
                self.pos += 1;
                return Ok(false);
            }
            Some(&[b',', next]) if !*first && kind_starting_with(next).is_some() => {
                self.pos += 1;
                return Ok(true);
            }
            Some(&[next, _]) if *first && kind_starting_with(next).is_some() => {
                *first = false;
                return Ok(true);
            }
            _ => {}
        }
        self.next_element_in_general(first)
    }

    /// [`Reader::next_element`] for any layout, out of line as
    /// [`Reader::next_member_in_general`] is.
    #[inline(never)]
    fn next_element_in_general(&mut self, first: &mut bool) -> Result<bool> {
        match self.peek() {
            Some(b']') => {
                self.pos += 1;
                Ok(false)
            }
            Some(b',') if !*first => {
                self.pos += 1;
                match self.peek() {
                    Some(b']') => Err(self.syntax("trailing comma")),
                    Some(_) => Ok(true),
                    None => Err(self.eof("EOF while parsing a list")),
                }
            }
            Some(_) if *first => {
                *first = false;
                Ok(true)
            }
            Some(_) => Err(self.syntax("expected `,` or `]`")),
            None => Err(self.eof("EOF while parsing a list")),
        }
    }

    /// Reads a string, borrowed from the input unless it holds escapes.
    #[inline]
    pub(crate) fn string(&mut self, expected: &'static str) -> Result<Cow<'a, str>> {
        if self.peek() == Some(b'"') {
            self.pos += 1;
            return self.string_body();
        }
        Err(self.invalid_type(expected))
    }

    /// Reads the rest of a string whose opening quote is consumed.
    #[inline(always)]
    fn string_body(&mut self) -> Result<Cow<'a, str>> {
        let start = self.pos;
        let mut end = start;
        // Eight bytes at a time while no byte in them stops the scan.
        while let Some((chunk, _)) = self
            .bytes
            .get(end..)
            .and_then(<[u8]>::split_first_chunk::<8>)
        {
            let stops = string_stops(u64::from_le_bytes(*chunk));
            if stops != 0 {
                end += (stops.trailing_zeros() / 8) as usize;
                break;
            }
            end += 8;
        }
        loop {
            let Some(&byte) = self.bytes.get(end) else {
                self.pos = end;
                return Err(self.eof("EOF while parsing a string"));
            };
            #[expect(clippy::indexing_slicing, reason = "a u8 indexes a 256-entry table")]
            let stop = STRING_STOP[usize::from(byte)];
            if !stop {
                end += 1;
                continue;
            }
            self.pos = end;
            return match byte {
                b'"' => {
                    self.pos = end + 1;
                    self.slice(start, end).map(Cow::Borrowed)
                }
                b'\\' => self.escaped_string(start).map(Cow::Owned),
                _ => Err(self.syntax("control character found while parsing a string")),
            };
        }
    }

    /// The text between two byte offsets that fall between characters.
    fn slice(&self, start: usize, end: usize) -> Result<&'a str> {
        self.text
            .get(start..end)
            .ok_or_else(|| self.syntax("invalid unicode code point"))
    }

    /// Reads a string with escapes from `start` (just after its opening
    /// quote); `self.pos` is at its first backslash.
    #[cold]
    fn escaped_string(&mut self, start: usize) -> Result<String> {
        let mut out = String::new();
        let mut run_start = start;
        loop {
            let Some(&byte) = self.bytes.get(self.pos) else {
                return Err(self.eof("EOF while parsing a string"));
            };
            match byte {
                b'"' | b'\\' => {
                    out.push_str(self.slice(run_start, self.pos)?);
                    self.pos += 1;
                    if byte == b'"' {
                        return Ok(out);
                    }
                    self.escape(&mut out)?;
                    run_start = self.pos;
                }
                0x00..0x20 => {
                    return Err(self.syntax("control character found while parsing a string"));
                }
                _ => self.pos += 1,
            }
        }
    }

    /// Decodes the escape after a backslash.
    fn escape(&mut self, out: &mut String) -> Result<()> {
        let Some(&byte) = self.bytes.get(self.pos) else {
            return Err(self.eof("EOF while parsing a string"));
        };
        self.pos += 1;
        let decoded = match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => self.unicode_escape()?,
            _ => {
                self.pos -= 1;
                return Err(self.syntax("invalid escape"));
            }
        };
        out.push(decoded);
        Ok(())
    }

    /// Decodes `XXXX` after `\u`, with the low half of a surrogate pair.
    fn unicode_escape(&mut self) -> Result<char> {
        let high = self.hex4()?;
        if let Some(c) = char::from_u32(u32::from(high)) {
            return Ok(c);
        }
        if !(0xD800..0xDC00).contains(&high) {
            return Err(self.syntax("lone trailing surrogate in hex escape"));
        }
        match (self.bytes.get(self.pos), self.bytes.get(self.pos + 1)) {
            (Some(b'\\'), Some(b'u')) => self.pos += 2,
            (None, _) | (Some(b'\\'), None) => {
                return Err(self.eof("EOF while parsing a string"));
            }
            _ => return Err(self.syntax("lone leading surrogate in hex escape")),
        }
        let low = self.hex4()?;
        if !(0xDC00..0xE000).contains(&low) {
            return Err(self.syntax("lone leading surrogate in hex escape"));
        }
        let code = 0x1_0000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
        char::from_u32(code).ok_or_else(|| self.syntax("invalid unicode code point"))
    }

    fn hex4(&mut self) -> Result<u16> {
        if self.bytes.len().saturating_sub(self.pos) < 4 {
            self.pos = self.bytes.len();
            return Err(self.eof("EOF while parsing a string"));
        }
        let mut value: u16 = 0;
        for _ in 0..4 {
            let Some(&byte) = self.bytes.get(self.pos) else {
                return Err(self.eof("EOF while parsing a string"));
            };
            let digit = match byte {
                b'0'..=b'9' => byte - b'0',
                b'a'..=b'f' => byte - b'a' + 10,
                b'A'..=b'F' => byte - b'A' + 10,
                _ => return Err(self.syntax("invalid escape")),
            };
            value = (value << 4) | u16::from(digit);
            self.pos += 1;
        }
        Ok(value)
    }

    /// Reads `true` or `false`.
    pub(crate) fn bool(&mut self, expected: &'static str) -> Result<bool> {
        match self.peek() {
            Some(b't') => self.literal(b"true").map(|()| true),
            Some(b'f') => self.literal(b"false").map(|()| false),
            _ => Err(self.invalid_type(expected)),
        }
    }

    /// Reads a number.
    pub(crate) fn number(&mut self, expected: &'static str) -> Result<Number> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => self.number_body(),
            _ => Err(self.invalid_type(expected)),
        }
    }

    fn digit_at(&self, at: usize) -> Option<u8> {
        self.bytes
            .get(at)
            .copied()
            .filter(u8::is_ascii_digit)
            .map(|b| b - b'0')
    }

    /// Reads the number starting at `self.pos`, JSON's grammar exactly.
    fn number_body(&mut self) -> Result<Number> {
        let start = self.pos;
        let negative = self.bytes.get(self.pos) == Some(&b'-');
        if negative {
            self.pos += 1;
        }
        let mut whole: Option<u64> = Some(0);
        match self.digit_at(self.pos) {
            Some(0) => {
                self.pos += 1;
                if self.digit_at(self.pos).is_some() {
                    return Err(self.syntax("invalid number"));
                }
            }
            Some(_) => {
                while let Some(digit) = self.digit_at(self.pos) {
                    whole = whole
                        .and_then(|w| w.checked_mul(10))
                        .and_then(|w| w.checked_add(u64::from(digit)));
                    self.pos += 1;
                }
            }
            None if self.pos >= self.bytes.len() => {
                return Err(self.eof("EOF while parsing a value"));
            }
            None => return Err(self.syntax("invalid number")),
        }
        let mut is_float = false;
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            self.digits()?;
            is_float = true;
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            self.digits()?;
            is_float = true;
        }
        if !is_float {
            match (whole, negative) {
                (Some(value), false) => return Ok(Number::Unsigned(value)),
                (Some(value), true) if value != 0 => {
                    if let Some(value) = 0_i64.checked_sub_unsigned(value) {
                        return Ok(Number::Negative(value));
                    }
                }
                _ => {}
            }
        }
        match self.slice(start, self.pos)?.parse::<f64>() {
            Ok(value) if value.is_finite() => Ok(Number::Float(value)),
            _ => Err(JsonError::new(
                ErrorClass::Syntax,
                Problem::Message("number out of range"),
                start,
            )),
        }
    }

    /// One or more digits.
    fn digits(&mut self) -> Result<()> {
        if self.digit_at(self.pos).is_none() {
            return Err(if self.pos >= self.bytes.len() {
                self.eof("EOF while parsing a value")
            } else {
                self.syntax("invalid number")
            });
        }
        while self.digit_at(self.pos).is_some() {
            self.pos += 1;
        }
        Ok(())
    }

    /// Skips one value of any type and depth, checking that it is JSON.
    /// Iterative: the open containers are kept as bits, one per level.
    pub(crate) fn skip_value(&mut self) -> Result<()> {
        // Bit set: the container at that depth is an object.
        let mut open: Vec<u64> = Vec::new();
        let mut depth: usize = 0;
        let is_object = |open: &[u64], depth: usize| {
            depth
                .checked_sub(1)
                .and_then(|level| {
                    open.get(level / 64)
                        .map(|word| word >> (level % 64) & 1 == 1)
                })
                .unwrap_or(false)
        };
        let mut first = false;
        loop {
            // At the start of a value, or at a container's next element.
            if depth > 0 {
                let more = if is_object(&open, depth) {
                    self.next_member(&mut first)?.is_some()
                } else {
                    self.next_element(&mut first)?
                };
                if !more {
                    depth -= 1;
                    first = false;
                    if depth == 0 {
                        return Ok(());
                    }
                    continue;
                }
            }
            match self.peek_value()? {
                open_byte @ (b'{' | b'[') => {
                    self.pos += 1;
                    let level = depth;
                    if open.len() <= level / 64 {
                        open.push(0);
                    }
                    if let Some(word) = open.get_mut(level / 64) {
                        let bit = 1_u64 << (level % 64);
                        if open_byte == b'{' {
                            *word |= bit;
                        } else {
                            *word &= !bit;
                        }
                    }
                    depth += 1;
                    first = true;
                    continue;
                }
                b'"' => {
                    self.pos += 1;
                    self.string_body()?;
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => {
                    self.number_body()?;
                }
                _ => return Err(self.syntax("expected value")),
            }
            if depth == 0 {
                return Ok(());
            }
        }
    }
}

/// What [`Reader::count_ahead`] counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ObjectsAhead {
    /// Objects among the elements left in the array.
    pub(crate) elements: usize,
    /// Objects in the arrays that are those elements' member `nested`.
    pub(crate) nested: usize,
}

impl Reader<'_> {
    /// Counts, without moving the reader, the objects among the array
    /// elements from the next one to the array's end, and the objects in the
    /// arrays under member `nested` of those elements (`{"c":[{..},{..}]}`
    /// counts two). A quick scan that checks nothing: exact for JSON, only a
    /// guess on other text. It lets a long list be allocated once at its
    /// length (config lists hold objects) instead of grown and copied.
    pub(crate) fn count_ahead(&self, nested: u8) -> ObjectsAhead {
        let bytes = self.bytes;
        let mut pos = self.pos;
        let mut count = ObjectsAhead {
            elements: 0,
            nested: 0,
        };
        // 0: in the counted array, 1: in one of its elements, and so on.
        let mut depth = 0_usize;
        // At depth 1: the last string read (a member name before an array) was `nested`.
        let mut name_is_nested = false;
        // At depth 2 and below: inside an array under `nested`.
        let mut in_nested = false;
        while let Some(&byte) = bytes.get(pos) {
            pos += 1;
            match byte {
                b'"' => {
                    let start = pos;
                    pos = string_end(bytes, pos);
                    if depth == 1 {
                        name_is_nested = pos == start + 2 && bytes.get(start) == Some(&nested);
                    }
                }
                b'{' => {
                    match depth {
                        0 => count.elements += 1,
                        2 if in_nested => count.nested += 1,
                        _ => {}
                    }
                    depth += 1;
                }
                b'[' => {
                    if depth == 1 {
                        in_nested = name_is_nested;
                    }
                    depth += 1;
                }
                b'}' | b']' => {
                    let Some(outer) = depth.checked_sub(1) else {
                        break;
                    };
                    depth = outer;
                    if depth == 1 {
                        in_nested = false;
                    }
                }
                _ => {}
            }
        }
        count
    }
}

/// The position after the closing quote of the string whose body starts at
/// `pos` (the end of `bytes` if it has none); escapes are skipped, not checked.
#[inline]
fn string_end(bytes: &[u8], mut pos: usize) -> usize {
    loop {
        while let Some((chunk, _)) = bytes.get(pos..).and_then(<[u8]>::split_first_chunk::<8>) {
            let word = u64::from_le_bytes(*chunk);
            let stops = byte_marks(word, b'"') | byte_marks(word, b'\\');
            if stops != 0 {
                pos += (stops.trailing_zeros() / 8) as usize;
                break;
            }
            pos += 8;
        }
        match bytes.get(pos) {
            Some(b'"') => return pos + 1,
            Some(b'\\') => pos += 2,
            Some(_) => pos += 1,
            None => return bytes.len(),
        }
    }
}

/// Reads one whole document from `bytes` with `read`.
///
/// JSON text is UTF-8, and all of it is checked once, up front. When it is
/// not, the valid part is read first, so that a problem before the bad
/// bytes is reported as the first problem, as a reader going forward finds
/// it. Text cut inside a character counts as ending too early.
pub(crate) fn read_document<'a, T>(
    bytes: &'a [u8],
    mut read: impl FnMut(&mut Reader<'a>) -> Result<T>,
) -> Result<T> {
    let utf8_error = match core::str::from_utf8(bytes) {
        Ok(text) => return read_text(text, read),
        Err(error) => error,
    };
    let mut read_all = |text: &'a str| read_text(text, &mut read);
    let valid = bytes
        .get(..utf8_error.valid_up_to())
        .and_then(|valid| core::str::from_utf8(valid).ok())
        .unwrap_or_default();
    match read_all(valid) {
        Err(earlier) if earlier.class != ErrorClass::Eof => Err(earlier),
        _ => Err(JsonError::new(
            if utf8_error.error_len().is_none() {
                ErrorClass::Eof
            } else {
                ErrorClass::Syntax
            },
            Problem::Message("invalid unicode code point"),
            utf8_error.valid_up_to(),
        )),
    }
}

/// Reads a whole document from text already known to be UTF-8 (a caller
/// that checked it does not pay for a second check).
pub(crate) fn read_text<'a, T>(
    text: &'a str,
    mut read: impl FnMut(&mut Reader<'a>) -> Result<T>,
) -> Result<T> {
    let mut reader = Reader::new(text);
    let value = read(&mut reader)?;
    reader.end().map(|()| value)
}

/// An object member's name as [`Reader::next_member`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MemberName<'a> {
    /// A name of one ASCII letter, written without escapes.
    Letter(u8),
    /// Any other name (escapes decoded).
    Text(Cow<'a, str>),
}

impl MemberName<'_> {
    /// Whether this is `name`; a `Text` spelling a single letter with
    /// escapes matches as well.
    #[inline]
    pub(crate) fn is(&self, name: &str) -> bool {
        match self {
            Self::Letter(letter) => name.as_bytes() == [*letter],
            Self::Text(text) => &**text == name,
        }
    }
}

/// The names of an object's known members. At most
/// [`SeenMembers::CAPACITY`]: a longer list is a compile-time error, so
/// that every member index has a bit of its own in [`SeenMembers`].
#[derive(Clone, Copy)]
pub(crate) struct KnownMembers(&'static [&'static str]);

impl KnownMembers {
    /// The known members `names`; more than [`SeenMembers::CAPACITY`] do not compile.
    pub(crate) const fn new<const N: usize>(names: &'static [&'static str; N]) -> Self {
        const {
            assert!(
                N <= SeenMembers::CAPACITY,
                "more known members than SeenMembers has bits"
            );
        }
        Self(names)
    }

    /// The known member `name` is, and its index (below [`SeenMembers::CAPACITY`]).
    #[inline]
    pub(crate) fn find(self, name: &MemberName<'_>) -> Option<(&'static str, u8)> {
        self.0
            .iter()
            .zip(0_u8..)
            .find(|&(&known, _)| name.is(known))
            .map(|(&known, index)| (known, index))
    }
}

/// Tracks which known members (by their index in [`KnownMembers`]) an
/// object has had, so that a second occurrence is refused (a document with
/// two `v` in one setting is ambiguous).
#[derive(Default)]
pub(crate) struct SeenMembers(u8);

impl SeenMembers {
    /// How many members it tracks, the bits of its set.
    pub(crate) const CAPACITY: usize = u8::BITS as usize;

    /// Records member `index` named `name`; an error if it was seen before.
    #[inline]
    pub(crate) fn record(
        &mut self,
        index: u8,
        name: &'static str,
        reader: &Reader<'_>,
    ) -> Result<()> {
        // Below CAPACITY by KnownMembers' bound; the mask spares a shift-overflow check.
        let bit = 1_u8 << (index & 7);
        if self.0 & bit != 0 {
            return Err(JsonError::new(
                ErrorClass::Shape,
                Problem::DuplicateMember(name),
                reader.position(),
            ));
        }
        self.0 |= bit;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;

    /// What serde_json makes of `text` read as any JSON value: the class of
    /// its error, or the value's compact text.
    fn serde_reading(text: &str) -> core::result::Result<String, ErrorClass> {
        use serde_json::error::Category;
        serde_json::from_str::<serde_json::Value>(text)
            .map(|value| value.to_string())
            .map_err(|error| match error.classify() {
                Category::Eof => ErrorClass::Eof,
                Category::Syntax | Category::Io => ErrorClass::Syntax,
                Category::Data => ErrorClass::Shape,
            })
    }

    /// How [`our_reading`] reads member names.
    #[derive(Clone, Copy)]
    enum Names {
        /// [`Reader::next_key`]: every name as text.
        Keys,
        /// [`Reader::next_member`]: one-letter names as a byte.
        Members,
    }

    /// The same through [`Reader`]: a value rebuilt from what it reads.
    fn our_reading(text: &str, names: Names) -> core::result::Result<String, ErrorClass> {
        fn next_name(
            reader: &mut Reader<'_>,
            first: &mut bool,
            names: Names,
        ) -> Result<Option<String>> {
            Ok(match names {
                Names::Keys => reader.next_key(first)?.map(|key| key.into_owned()),
                Names::Members => reader.next_member(first)?.map(|name| match name {
                    MemberName::Letter(letter) => char::from(letter).to_string(),
                    MemberName::Text(text) => text.into_owned(),
                }),
            })
        }
        fn value(reader: &mut Reader<'_>, out: &mut String, names: Names) -> Result<()> {
            match reader.peek_value()? {
                b'{' => {
                    reader.begin_object("map")?;
                    out.push('{');
                    let mut first = true;
                    while let Some(key) = next_name(reader, &mut first, names)? {
                        if !out.ends_with('{') {
                            out.push(',');
                        }
                        out.push_str(&serde_json::Value::from(key).to_string());
                        out.push(':');
                        value(reader, out, names)?;
                    }
                    out.push('}');
                }
                b'[' => {
                    reader.begin_array("list")?;
                    out.push('[');
                    let mut first = true;
                    while reader.next_element(&mut first)? {
                        if !out.ends_with('[') {
                            out.push(',');
                        }
                        value(reader, out, names)?;
                    }
                    out.push(']');
                }
                b'"' => {
                    let text = reader.string("string")?;
                    out.push_str(&serde_json::Value::from(&*text).to_string());
                }
                b't' | b'f' => out.push_str(if reader.bool("bool")? {
                    "true"
                } else {
                    "false"
                }),
                b'n' => {
                    assert!(reader.null()?);
                    out.push_str("null");
                }
                _ => {
                    let number = match reader.number("number")? {
                        Number::Unsigned(v) => serde_json::Value::from(v),
                        Number::Negative(v) => serde_json::Value::from(v),
                        Number::Float(v) => serde_json::Value::from(v),
                    };
                    out.push_str(&number.to_string());
                }
            }
            Ok(())
        }
        let mut out = String::new();
        read_document(text.as_bytes(), |reader| value(reader, &mut out, names))
            .map(|()| out)
            .map_err(|error| error.class)
    }

    const DOCUMENTS: &[&str] = &[
        "",
        " ",
        "{}",
        " { } ",
        "[]",
        "[1,2,3]",
        "[1,2,]",
        "[1 2]",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{\"a\":1 \"b\":2}",
        "{1:2}",
        "{\"a\":[{\"b\":null,\"c\":true,\"d\":false}]}",
        "\"plain\"",
        "\"esc\\\"aped\\\\ \\/ \\b\\f\\n\\r\\t\"",
        "\"\\u00e9\\u65e5\"",
        "\"\\ud83d\\ude00\"",
        "\"\\ud83d\"",
        "\"\\ud83dx\"",
        "\"\\ud83d\\u0041\"",
        "\"\\ude00\"",
        "\"\\u12\"",
        "\"\\u12",
        "\"\\x\"",
        "\"tab\there\"",
        "\"unterminated",
        "\"é日本\"",
        "0",
        "-0",
        "-",
        "01",
        "1.",
        "1.5",
        "1e5",
        "1E+5",
        "1e-5",
        "1e",
        "-1.25e-3",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "123456789012345678901234567890",
        "1e400",
        "-1e400",
        "0.1",
        "2.2250738585072014e-308",
        "tru",
        "true",
        "trUe",
        "nul",
        "null x",
        "[[[[[]]]]]",
        "[[[[[]]]]",
        "{\"a\":{\"b\":{\"c\":[[],{}]}}}",
        "\u{feff}{}",
        "{\"a\":1}}",
        "[\"\u{1}\"]",
        // Compact members and elements, and their near misses, with
        // eight bytes after each (members and elements are read in one
        // eight-byte load when there are).
        "{\"a\":1,\"b\":2,\"c\":{\"d\":[3,4,{\"e\":5}]}}",
        "{\"a\":1\"b\":2,\"c\":3}",
        "{\"a\":1x\"b\":2,\"c\":3}",
        "{\"a\":1 \"b\":2,\"c\":3}",
        "{\"a\":1,x\":2,\"c\":3}",
        "{x\":1,\"b\":2,\"c\":3}",
        "{\"a\":1,\"bc:2,\"c\":3}",
        "{\"bc:1,\"c\":2,\"d\":3}",
        "{\"a\":1,\"b\"x2,\"c\":3}",
        "{\"a\":1,\"b\" :2,\"c\":3}",
        "{\"a\":1 ,\"b\":2,\"c\":3}",
        "{\"a\":1,,\"b\":2,\"c\":3}",
        "{\"a\":1,\"b\":{\"c\":2\"d\":3},\"e\":4}",
        "{\"a\":1,\"b\":2,}        ",
        "{\"a\" :1,\"b\":2,\"c\":3}",
        "{ \"a\":1,\"b\":2,\"c\":3}",
        "{\"1\":3,\"_\":4,\"a\":1,\"\\u0062\":5,\"bc\":2,\"c\":7,\"é\":6}",
        "{\"a\":{},\"b\":[],\"c\":\"\",\"d\":{\"e\":{}}}",
        "{\"a\":1,\"b\":",
        "{\"a\":1,\"b\"",
        "[1,[2,[3]],{\"a\":[]},4,5]",
        "[1,]        ",
        "[,1,2,3,4,5]",
        "[1,,2,3,4,5]",
        "[1 2,3,4,5,6]",
        "[1 ,2,3,4,5]",
        "[1, 2,3,4,5]",
        "[[1],[2]\"x\",3,4]",
        "[1,x,3,4,5,6]",
        "[\"a\",\"b\",tru]",
        "[]        ",
        "[ ]       ",
    ];

    #[test]
    fn reads_what_serde_json_reads() {
        for names in [Names::Keys, Names::Members] {
            for text in DOCUMENTS {
                assert_eq!(our_reading(text, names), serde_reading(text), "{text:?}");
            }
            // Every prefix of a document with every kind of value ends too
            // early, compact or spaced (names read in one load, or not).
            let compact =
                r#"{"a":[1,-2.5e3,"x\u00e9\"",true,false,null,{"b":{},"c":[],"d":[{}]}]}"#;
            let spaced = r#"{ "a" : [ 1 , "x" , { "b" : { } , "cd" : [ ] } ] , "e":0 }"#;
            for full in [compact, spaced] {
                for end in 0..full.len() {
                    let prefix = full.get(..end).unwrap_or_default();
                    let ours = our_reading(prefix, names);
                    assert_eq!(ours, serde_reading(prefix), "{prefix:?}");
                }
            }
        }
    }

    #[test]
    fn word_scan_finds_the_first_stop_byte() {
        for position in 0..8 {
            for byte in 0..=255_u8 {
                for filler in [b'a', 0x7f, 0xc3, 0xff, b' '] {
                    let mut bytes = [filler; 8];
                    bytes[position] = byte;
                    // A later stop byte must not hide or move the first one.
                    if position < 7 {
                        bytes[7] = b'"';
                    }
                    let stops = string_stops(u64::from_le_bytes(bytes));
                    let first = bytes.iter().position(|&b| STRING_STOP[usize::from(b)]);
                    let found = (stops != 0).then(|| (stops.trailing_zeros() / 8) as usize);
                    assert_eq!(found, first, "{bytes:?}");
                }
            }
        }
    }

    #[test]
    fn skips_any_value_without_recursion() {
        let depth = 200_000;
        let nested = format!("{}1{}", "[{\"a\":".repeat(depth), "}]".repeat(depth));
        let mut reader = Reader::new(&nested);
        assert_eq!(reader.skip_value(), Ok(()));
        assert_eq!(reader.end(), Ok(()));
        let unclosed = "[{\"a\":".repeat(depth);
        let mut reader = Reader::new(&unclosed);
        assert_eq!(
            reader.skip_value().map_err(|e| e.class),
            Err(ErrorClass::Eof)
        );
        let mismatched = format!("{}{}", "[".repeat(100), "}".repeat(100));
        let mut reader = Reader::new(&mismatched);
        assert_eq!(
            reader.skip_value().map_err(|e| e.class),
            Err(ErrorClass::Syntax)
        );
    }

    #[test]
    fn invalid_utf8_is_reported_in_document_order() {
        let read = |bytes: &[u8]| {
            read_document(bytes, |reader| reader.skip_value()).map_err(|e| (e.class, e.at))
        };
        assert_eq!(read(b"[\"\xff\"]"), Err((ErrorClass::Syntax, 2)));
        // A syntax error before the bad byte comes first.
        assert_eq!(read(b"[1 2, \"\xff\"]"), Err((ErrorClass::Syntax, 3)));
        // Cut inside a character: the text ends too early.
        assert_eq!(read(b"[\"\xc3"), Err((ErrorClass::Eof, 2)));
        assert_eq!(read("[\"é\"]".as_bytes()), Ok(()));
    }

    #[test]
    fn errors_point_at_line_and_column() {
        let text = "{\n  \"a\": nope\n}";
        let error = read_document(text.as_bytes(), |reader| reader.skip_value()).unwrap_err();
        assert_eq!(error.class, ErrorClass::Syntax);
        assert_eq!(error.line_and_column(text.as_bytes()), (2, 9));
    }

    #[test]
    fn duplicate_members_are_refused() {
        let reader = Reader::new("");
        let mut seen = SeenMembers::default();
        assert!(seen.record(0, "t", &reader).is_ok());
        assert!(seen.record(1, "v", &reader).is_ok());
        let error = seen.record(0, "t", &reader).unwrap_err();
        assert_eq!(error.class, ErrorClass::Shape);
        assert_eq!(format!("{}", error.problem), "duplicate member `t`");
    }

    #[test]
    fn counting_ahead_counts_objects_and_nested_objects() {
        let count = |text: &str, skip: usize| {
            let mut reader = Reader::new(text);
            reader.begin_array("list").unwrap();
            let mut first = true;
            for _ in 0..skip {
                assert!(reader.next_element(&mut first).unwrap());
                reader.skip_value().unwrap();
            }
            assert!(reader.next_element(&mut first).unwrap());
            let count = reader.count_ahead(b'c');
            (count.elements, count.nested)
        };
        let text = r#"[{"c":[{},{"x":"]}"}]}, {"c" : [ ], "p":[{}]},
            {"s":{"c":[{}]},"c":[{"c":[{}]}],"d":"c"} , {"\"c":[{}]}]"#;
        assert_eq!(count(text, 0), (4, 3));
        assert_eq!(count(text, 1), (3, 1));
        assert_eq!(count(text, 3), (1, 0));
        // Only a guess on what is not JSON, and never a read past the end.
        assert_eq!(count(r#"[{"c":[{"#, 0), (1, 1));
        assert_eq!(count(r#"[{"a":"\"#, 0), (1, 0));
    }
}
