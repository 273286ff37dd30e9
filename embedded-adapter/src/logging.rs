//! The core's log events, routed to `defmt` or to the `log` facade.
//!
//! Both sinks write ConfigCat's numeric event id first (`[1103] ...`), as
//! the std adapter does, so a device log and a server log read the same.
//! Without either feature, pass [`NoLog`](crate::NoLog) or your own
//! [`LogSink`](crate::LogSink).

/// The `log` target of every record [`LogFacadeSink`] writes (the std adapter's too).
#[cfg(feature = "log")]
pub const LOG_TARGET: &str = "configcat";

/// Sends the core's events to the `log` facade with target [`LOG_TARGET`];
/// on ESP-IDF, esp-idf-svc's `EspLogger` prints them. The evaluation log
/// (event 5000, info level) is only built when info is enabled for the target.
#[cfg(feature = "log")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LogFacadeSink;

#[cfg(feature = "log")]
const fn facade_level(level: configcat_core::LogLevel) -> log::Level {
    use configcat_core::LogLevel;
    match level {
        LogLevel::Error => log::Level::Error,
        LogLevel::Warning => log::Level::Warn,
        LogLevel::Info => log::Level::Info,
        _ => log::Level::Debug,
    }
}

#[cfg(feature = "log")]
impl configcat_core::LogSink for LogFacadeSink {
    fn enabled(&self, level: configcat_core::LogLevel) -> bool {
        log::log_enabled!(target: LOG_TARGET, facade_level(level))
    }

    fn event(
        &self,
        level: configcat_core::LogLevel,
        id: configcat_core::EventId,
        message: core::fmt::Arguments<'_>,
    ) {
        log::log!(target: LOG_TARGET, facade_level(level), "[{}] {}", id.code(), message);
    }
}

/// Sends the core's events to `defmt`, at the matching defmt level.
///
/// defmt filters levels when the firmware is built (`DEFMT_LOG`) and cannot
/// be asked at run time, so this sink has its own most verbose level: events
/// below it are neither built nor sent. The default, [`LogLevel::Warning`],
/// keeps the evaluation log (info level, and long) off the wire.
///
/// [`LogLevel::Warning`]: crate::LogLevel::Warning
#[cfg(feature = "defmt")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefmtSink {
    max_level: configcat_core::LogLevel,
}

#[cfg(feature = "defmt")]
impl DefmtSink {
    /// A sink that sends events of `max_level` and more severe ones.
    #[must_use]
    pub const fn new(max_level: configcat_core::LogLevel) -> Self {
        Self { max_level }
    }
}

#[cfg(feature = "defmt")]
impl Default for DefmtSink {
    fn default() -> Self {
        Self::new(configcat_core::LogLevel::Warning)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for DefmtSink {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "DefmtSink {{ max_level: {=str} }}",
            self.max_level.as_str()
        );
    }
}

#[cfg(feature = "defmt")]
impl configcat_core::LogSink for DefmtSink {
    fn enabled(&self, level: configcat_core::LogLevel) -> bool {
        level <= self.max_level
    }

    fn event(
        &self,
        level: configcat_core::LogLevel,
        id: configcat_core::EventId,
        message: core::fmt::Arguments<'_>,
    ) {
        use configcat_core::LogLevel;
        let code = id.code();
        // Formatted on the device: the message text is not known at build time.
        let text = defmt::Display2Format(&message);
        match level {
            LogLevel::Error => defmt::error!("[{=u16}] {}", code, text),
            LogLevel::Warning => defmt::warn!("[{=u16}] {}", code, text),
            LogLevel::Info => defmt::info!("[{=u16}] {}", code, text),
            _ => defmt::debug!("[{=u16}] {}", code, text),
        }
    }
}
