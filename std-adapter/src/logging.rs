//! Routing the core's log events to the `log` facade (target `configcat`).

use std::cell::RefCell;
use std::fmt;

use configcat_core::{EventId, LogLevel, LogSink};

use crate::hooks::Hooks;

/// The `log` target of every record this crate writes.
pub const LOG_TARGET: &str = "configcat";

const fn facade_level(level: LogLevel) -> log::Level {
    match level {
        LogLevel::Error => log::Level::Error,
        LogLevel::Warning => log::Level::Warn,
        LogLevel::Info => log::Level::Info,
        _ => log::Level::Debug,
    }
}

/// The sink evaluation and refresh write to: the `log` facade, plus the
/// client's error hooks for `Error` records.
pub(crate) struct FacadeSink<'h> {
    pub(crate) hooks: &'h Hooks,
}

impl FacadeSink<'_> {
    /// Whether no event of any level would be recorded (no logger enabled,
    /// no error hooks): callers can then hand the core a sink it never asks.
    #[inline]
    pub(crate) fn is_silent(&self) -> bool {
        log::max_level() == log::LevelFilter::Off && !self.hooks.has_error_hooks()
    }
}

impl LogSink for FacadeSink<'_> {
    fn enabled(&self, level: LogLevel) -> bool {
        log::log_enabled!(target: LOG_TARGET, facade_level(level))
            || (level == LogLevel::Error && self.hooks.has_error_hooks())
    }

    fn event(&self, level: LogLevel, id: EventId, message: fmt::Arguments<'_>) {
        let facade = facade_level(level);
        if log::log_enabled!(target: LOG_TARGET, facade) {
            log::log!(target: LOG_TARGET, facade, "[{}] {}", id.code(), message);
        }
        if level == LogLevel::Error && self.hooks.has_error_hooks() {
            self.hooks.error(&message.to_string());
        }
    }
}

/// Collects events while an internal lock is held, to be replayed to the
/// real sink (and its hooks) after the lock is released. Made and replayed
/// on one thread, so a `RefCell` holds the events.
#[derive(Default)]
pub(crate) struct DeferredSink {
    events: RefCell<Vec<(LogLevel, EventId, String)>>,
}

impl DeferredSink {
    pub(crate) fn replay(self, sink: &dyn LogSink) {
        let events = self.events.into_inner();
        for (level, id, message) in events {
            if sink.enabled(level) {
                sink.event(level, id, format_args!("{message}"));
            }
        }
    }
}

impl LogSink for DeferredSink {
    fn enabled(&self, _level: LogLevel) -> bool {
        // Whether the record is wanted is decided at replay time.
        true
    }

    fn event(&self, level: LogLevel, id: EventId, message: fmt::Arguments<'_>) {
        self.events
            .borrow_mut()
            .push((level, id, message.to_string()));
    }
}
