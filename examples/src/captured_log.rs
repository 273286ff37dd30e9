//! A log sink that keeps the records of one evaluation.

use core::cell::RefCell;
use core::fmt;

use configcat_core::{EventId, LogLevel, LogSink};

/// Collects every record an evaluation emits, formatted as
/// `LEVEL [event id] message` (e.g. `WARNING [3001] Cannot evaluate ...`).
///
/// Use a fresh one per evaluation: it keeps everything it is given.
/// A disabled one tells the core that no level is wanted, so the core does
/// not even build the evaluation log.
#[derive(Debug, Default)]
pub struct CapturedLog {
    enabled: bool,
    records: RefCell<Vec<String>>,
}

impl CapturedLog {
    /// A sink that records every level when `enabled`, nothing otherwise.
    #[must_use]
    pub const fn new(enabled: bool) -> Self {
        Self {
            enabled,
            records: RefCell::new(Vec::new()),
        }
    }

    /// The records in the order they were emitted.
    #[must_use]
    pub fn into_records(self) -> Vec<String> {
        self.records.into_inner()
    }

    /// The records joined with `\n` into one text.
    #[must_use]
    pub fn into_text(self) -> String {
        self.into_records().join("\n")
    }
}

impl LogSink for CapturedLog {
    fn enabled(&self, _level: LogLevel) -> bool {
        self.enabled
    }

    fn event(&self, level: LogLevel, id: EventId, message: fmt::Arguments<'_>) {
        // The core never calls back into the sink while formatting a
        // message, so this borrow is never nested.
        self.records
            .borrow_mut()
            .push(format!("{} [{}] {message}", level.as_str(), id.code()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_records_in_order() {
        let log = CapturedLog::new(true);
        assert!(log.enabled(LogLevel::Debug));
        log.event(
            LogLevel::Warning,
            EventId::UserObjectMissing,
            format_args!("a {}", 1),
        );
        log.event(
            LogLevel::Info,
            EventId::EvaluationLog,
            format_args!("b\n  c"),
        );
        assert_eq!(log.into_text(), "WARNING [3001] a 1\nINFO [5000] b\n  c");
    }

    #[test]
    fn disabled_wants_nothing() {
        let log = CapturedLog::new(false);
        assert!(!log.enabled(LogLevel::Error));
        assert_eq!(log.into_text(), "");
    }
}
