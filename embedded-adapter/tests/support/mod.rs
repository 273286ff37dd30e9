//! Host doubles of what a device brings: a TCP `Connection`, a RAM storage, a
//! file-backed storage, and a log sink that keeps every event.

pub(crate) mod tcp_connection;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use configcat_embedded::{ConfigStorage, EventId, Instant, LogLevel, LogSink};

pub(crate) use tcp_connection::{TcpConnection, TcpError};

/// A well-formed SDK key (the stand-in serves any key).
pub(crate) const SDK_KEY: &str = "configcat-sdk-1/TEST_KEY-0123456789012/1234567890123456789012";

/// The fake wall clock's start: the tests pass times, nothing sleeps.
pub(crate) const T0: u64 = 1_700_000_000_000;

/// The monotonic clock of a device whose wall clock reads `unix_ms`: the
/// tests keep the two in step (from 0 at `T0`) unless they step one.
pub(crate) const fn mono(unix_ms: u64) -> Instant {
    Instant::from_millis(unix_ms.saturating_sub(T0))
}

/// The TCP connection's connect/read timeout: short, so stalls end quickly.
pub(crate) const TIMEOUT: Duration = Duration::from_millis(300);

/// A connector making TCP connections and counting them.
pub(crate) fn tcp_connector(
    made: &Cell<usize>,
) -> impl FnMut() -> Result<TcpConnection, TcpError> + '_ {
    move || {
        made.set(made.get() + 1);
        Ok(TcpConnection::new(TIMEOUT))
    }
}

/// Blobs in memory, with the number of writes.
#[derive(Debug, Default, Clone)]
pub(crate) struct RamStorage {
    pub(crate) blobs: HashMap<String, Vec<u8>>,
    pub(crate) writes: usize,
}

impl ConfigStorage for RamStorage {
    type Error = std::convert::Infallible;

    fn load(&mut self, key: &str) -> Result<Option<Vec<u8>>, Self::Error> {
        Ok(self.blobs.get(key).cloned())
    }

    fn store(&mut self, key: &str, blob: &[u8]) -> Result<(), Self::Error> {
        self.writes += 1;
        self.blobs.insert(key.to_owned(), blob.to_vec());
        Ok(())
    }
}

/// One file per key in a directory of its own, removed when dropped.
#[derive(Debug)]
pub(crate) struct FileStorage {
    pub(crate) dir: PathBuf,
    pub(crate) writes: usize,
}

impl FileStorage {
    /// A fresh directory under the system's temp dir.
    pub(crate) fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("configcat-embedded-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir, writes: 0 }
    }

    pub(crate) fn path(&self, key: &str) -> PathBuf {
        self.dir.join(key)
    }
}

impl Drop for FileStorage {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl ConfigStorage for FileStorage {
    type Error = std::io::Error;

    fn load(&mut self, key: &str) -> Result<Option<Vec<u8>>, Self::Error> {
        match std::fs::read(self.path(key)) {
            Ok(blob) => Ok(Some(blob)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    fn store(&mut self, key: &str, blob: &[u8]) -> Result<(), Self::Error> {
        self.writes += 1;
        // Write aside and rename: a crash mid-write leaves the old blob.
        let temporary = self.dir.join(format!("{key}.tmp"));
        std::fs::write(&temporary, blob)?;
        std::fs::rename(temporary, self.path(key))
    }
}

/// Keeps every event: level, id, message.
#[derive(Debug, Default)]
pub(crate) struct Capture(RefCell<Vec<(LogLevel, u16, String)>>);

impl Capture {
    /// The event ids so far.
    pub(crate) fn ids(&self) -> Vec<u16> {
        self.0.borrow().iter().map(|(_, id, _)| *id).collect()
    }

    /// The message of the last event with this id.
    pub(crate) fn message(&self, id: u16) -> Option<String> {
        self.0
            .borrow()
            .iter()
            .rev()
            .find(|(_, candidate, _)| *candidate == id)
            .map(|(_, _, message)| message.clone())
    }

    pub(crate) fn clear(&self) {
        self.0.borrow_mut().clear();
    }
}

impl LogSink for Capture {
    fn enabled(&self, level: LogLevel) -> bool {
        // Everything but the evaluation log, which would drown the rest.
        level <= LogLevel::Warning
    }

    fn event(&self, level: LogLevel, id: EventId, message: fmt::Arguments<'_>) {
        // The evaluator's warnings about users (3001 user missing, 3003-3005
        // attributes) are the core's tests' business, not these.
        if matches!(id.code(), 3001 | 3003..=3005) {
            return;
        }
        self.0
            .borrow_mut()
            .push((level, id.code(), message.to_string()));
    }
}
