//! The evaluation log (event 5000): a readable trace of how a value was chosen.
//!
//! Its text is byte-identical with ConfigCat's other SDKs. It is only built
//! when the log sink wants `Info` records; a disabled log never allocates.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};

use crate::compact_str::CompactStr;
use crate::config::{
    ComparisonValue, Condition, Origin, PercentageOption, PrerequisiteCondition, RuleOutcome,
    SegmentCondition, UserCondition,
};
use crate::date_time::write_iso_utc;
use crate::number::write_js_number;

/// Comparison lists longer than this are cut in the log.
const MAX_LISTED_VALUES: usize = 10;

/// An indented multi-line text that is only written when enabled.
pub(crate) struct EvaluationLog {
    text: ChunkedText,
    indent: usize,
    enabled: bool,
}

impl EvaluationLog {
    pub(crate) const fn new(enabled: bool) -> Self {
        Self {
            text: ChunkedText { chunks: Vec::new() },
            indent: 0,
            enabled,
        }
    }

    pub(crate) const fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The text written so far.
    pub(crate) const fn text(&self) -> &ChunkedText {
        &self.text
    }

    pub(crate) const fn indent(&mut self) {
        self.indent += 1;
    }

    pub(crate) const fn dedent(&mut self) {
        self.indent = self.indent.saturating_sub(1);
    }

    pub(crate) const fn set_indent(&mut self, indent: usize) {
        self.indent = indent;
    }

    /// Starts a new line at the current indentation.
    #[inline]
    pub(crate) fn new_line(&mut self) {
        if self.enabled {
            self.text.push_str("\n");
            for _ in 0..self.indent {
                self.text.push_str("  ");
            }
        }
    }

    /// Starts a new line and writes `args` on it.
    #[inline(always)]
    pub(crate) fn line(&mut self, args: fmt::Arguments<'_>) {
        // Only the check is inlined: without a log, a branch instead of a call.
        if self.enabled {
            self.write_line(args);
        }
    }

    #[inline(never)]
    fn write_line(&mut self, args: fmt::Arguments<'_>) {
        self.new_line();
        let _ = self.text.write_fmt(args);
    }

    /// Appends `args` to the current line.
    #[inline(always)]
    pub(crate) fn append(&mut self, args: fmt::Arguments<'_>) {
        if self.enabled {
            self.write(args);
        }
    }

    #[inline(never)]
    fn write(&mut self, args: fmt::Arguments<'_>) {
        let _ = self.text.write_fmt(args);
    }
}

/// Bytes per chunk of a [`ChunkedText`].
const CHUNK_BYTES: usize = 512;

/// Text kept in fixed-size chunks: a long log grows by small blocks and is
/// never copied, where one growing `String` needs a block of twice its size
/// beside itself (on a small device's fragmented heap, often not to be had).
pub(crate) struct ChunkedText {
    /// Each chunk has `CHUNK_BYTES` of capacity; all but the last are full
    /// to within a character.
    chunks: Vec<String>,
}

impl ChunkedText {
    fn push_str(&mut self, mut text: &str) {
        loop {
            if let Some(chunk) = self.chunks.last_mut() {
                let room = chunk.capacity() - chunk.len();
                // A character is never split; the chunk is then left short.
                let cut = if text.len() <= room {
                    text.len()
                } else {
                    (0..=room)
                        .rev()
                        .find(|&at| text.is_char_boundary(at))
                        .unwrap_or(0)
                };
                let (now, later) = text.split_at(cut);
                chunk.push_str(now);
                if later.is_empty() {
                    return;
                }
                text = later;
            }
            self.chunks.push(String::with_capacity(CHUNK_BYTES));
        }
    }
}

impl Write for ChunkedText {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.push_str(text);
        Ok(())
    }
}

impl fmt::Display for ChunkedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.chunks.iter().try_for_each(|chunk| f.write_str(chunk))
    }
}

/// A targeting rule as the log shows it, without the results:
/// `IF <condition> AND <condition> THEN '<value>'` (or `THEN % options`).
/// The log writes the same parts with the results between them; this one
/// line is what a matched rule's `Display` writes.
pub(crate) struct RuleText<'a> {
    pub(crate) conditions: &'a [Condition],
    pub(crate) origin: Option<&'a Origin>,
    pub(crate) then: &'a RuleOutcome,
}

impl fmt::Display for RuleText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, condition) in self.conditions.iter().enumerate() {
            f.write_str(if index == 0 { "IF " } else { "AND " })?;
            ConditionText {
                condition,
                origin: self.origin,
            }
            .fmt(f)?;
            f.write_char(' ')?;
        }
        self.then.fmt(f)
    }
}

/// The THEN part of a rule: `THEN '<value>'` or `THEN % options`.
impl fmt::Display for RuleOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(served) => write!(f, "THEN '{}'", served.value),
            Self::PercentageOptions(_) | Self::Missing => f.write_str("THEN % options"),
        }
    }
}

/// A % option as the log names the one it selects: `% option 2 (25%), 'Falcon'`,
/// numbered from 1 as in ConfigCat's logs.
pub(crate) struct PercentageOptionText<'a> {
    pub(crate) index: usize,
    pub(crate) option: &'a PercentageOption,
}

impl fmt::Display for PercentageOptionText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "% option {} ({}%), '{}'",
            self.index.saturating_add(1),
            self.option.percentage,
            self.option.served.value
        )
    }
}

/// A condition as the log and the warnings show it, e.g. `User.Email IS ONE OF ['a', 'b']`.
pub(crate) struct ConditionText<'a> {
    pub(crate) condition: &'a Condition,
    pub(crate) origin: Option<&'a Origin>,
}

impl fmt::Display for ConditionText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.condition {
            Condition::User(condition) => condition.fmt(f),
            Condition::Segment(condition) => SegmentConditionText {
                condition,
                origin: self.origin,
            }
            .fmt(f),
            Condition::Prerequisite(condition) => condition.fmt(f),
            Condition::Invalid(_) => f.write_str("<invalid condition>"),
        }
    }
}

pub(crate) struct SegmentConditionText<'a> {
    pub(crate) condition: &'a SegmentCondition,
    pub(crate) origin: Option<&'a Origin>,
}

impl fmt::Display for SegmentConditionText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self
            .origin
            .and_then(|origin| origin.segments.get(self.condition.segment as usize))
            .map_or("<invalid name>", |segment| &*segment.name);
        write!(f, "User {} '{name}'", self.condition.comparator.text())
    }
}

impl fmt::Display for PrerequisiteCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Flag '{}' {} '{}'",
            self.key,
            self.comparator.text(),
            self.value
        )
    }
}

impl fmt::Display for UserCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "User.{} {} ", self.attribute, self.comparator.text())?;
        match &self.value {
            ComparisonValue::Text(text) | ComparisonValue::Semver(text, _) => write!(f, "'{text}'"),
            ComparisonValue::Hash(_) => f.write_str("'<hashed value>'"),
            ComparisonValue::TextList(items) => {
                write_list(f, items.iter().map(CompactStr::as_str), items.len())
            }
            ComparisonValue::SemverList(items) => {
                write_list(f, items.iter().map(|(raw, _)| raw.as_str()), items.len())
            }
            ComparisonValue::HashList { count, .. } => write_hashed_count(f, *count),
            ComparisonValue::HashedAffixes(items) => write_hashed_count(f, items.len()),
            ComparisonValue::Number(number) => {
                f.write_char('\'')?;
                write_js_number(f, *number)?;
                f.write_char('\'')
            }
            ComparisonValue::Date(seconds) => {
                f.write_char('\'')?;
                write_js_number(f, *seconds)?;
                f.write_str("' (")?;
                if write_iso_utc(f, *seconds)? {
                    f.write_str(" UTC)")
                } else {
                    f.write_str("invalid date)")
                }
            }
        }
    }
}

fn write_hashed_count(f: &mut fmt::Formatter<'_>, count: usize) -> fmt::Result {
    let noun = if count > 1 { "values" } else { "value" };
    write!(f, "[<{count} hashed {noun}>]")
}

fn write_list<'i>(
    f: &mut fmt::Formatter<'_>,
    items: impl Iterator<Item = &'i str>,
    count: usize,
) -> fmt::Result {
    f.write_char('[')?;
    for (index, item) in items.take(MAX_LISTED_VALUES).enumerate() {
        if index > 0 {
            f.write_str(", ")?;
        }
        write!(f, "'{item}'")?;
    }
    if count > MAX_LISTED_VALUES {
        let more = count - MAX_LISTED_VALUES;
        let noun = if more > 1 { "values" } else { "value" };
        write!(f, ", ... <{more} more {noun}>")?;
    }
    f.write_char(']')
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn chunked_text_keeps_every_character_whole_and_in_order() {
        let mut text = ChunkedText { chunks: Vec::new() };
        let mut expected = String::new();
        // One-, two-, three- and four-byte characters across chunk borders,
        // and a piece longer than a chunk.
        for i in 0..300 {
            let piece = format!("{i}:é€😀;");
            text.push_str(&piece);
            expected.push_str(&piece);
        }
        let long = "x".repeat(3 * CHUNK_BYTES + 7);
        text.push_str(&long);
        expected.push_str(&long);
        assert_eq!(format!("{text}"), expected);
        assert!(
            text.chunks
                .iter()
                .all(|chunk| chunk.capacity() == CHUNK_BYTES)
        );
        assert!(text.chunks.len() <= expected.len() / (CHUNK_BYTES - 3) + 1);
    }
}
