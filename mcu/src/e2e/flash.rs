//! Emulated flash: the client's one stored blob in a file on the host,
//! through semihosting, so it outlives the QEMU run as flash outlives a
//! reset. Every write is counted and reported, so a run shows that a 304
//! writes nothing.

use alloc::vec::Vec;
use core::ffi::CStr;
use core::fmt;

use configcat_embedded::ConfigStorage;
use semihosting::fs::File;
use semihosting::io::{Read as _, Write as _};

/// Why the file could not be read or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashError {
    /// The host refused the semihosting call.
    Io,
    /// No heap for the stored blob.
    OutOfMemory(usize),
}

impl fmt::Display for FlashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io => f.write_str("semihosting file I/O failed"),
            Self::OutOfMemory(len) => write!(f, "no heap for the stored blob of {len} bytes"),
        }
    }
}

/// One blob in a host file; an empty or missing file is no blob.
pub struct FileFlash {
    path: &'static CStr,
    /// Writes so far, with the size and heap in use at the last one.
    pub writes: u32,
    /// Bytes of the last blob written.
    pub last_write_bytes: usize,
    /// Heap bytes in use while the last blob was written.
    pub heap_at_last_write: usize,
    /// The ETag of the last blob written (its second line).
    etag: heapless::String<64>,
}

impl FileFlash {
    /// The flash in the host file `path` (relative to QEMU's directory).
    #[must_use]
    pub const fn new(path: &'static CStr) -> Self {
        Self {
            path,
            writes: 0,
            last_write_bytes: 0,
            heap_at_last_write: 0,
            etag: heapless::String::new(),
        }
    }

    /// The ETag in the last blob written (the payload's second line).
    #[must_use]
    pub fn last_etag(&self) -> &str {
        &self.etag
    }

    /// The stored blob's length (0: none), without reading it.
    #[must_use]
    pub fn stored_len(&self) -> u64 {
        File::open(self.path)
            .and_then(|file| file.metadata())
            .map_or(0, |metadata| metadata.len())
    }
}

impl ConfigStorage for FileFlash {
    type Error = FlashError;

    fn load(&mut self, _key: &str) -> Result<Option<Vec<u8>>, FlashError> {
        let Ok(mut file) = File::open(self.path) else {
            return Ok(None);
        };
        let len = file.metadata().map_err(|_| FlashError::Io)?.len();
        let len = usize::try_from(len).map_err(|_| FlashError::OutOfMemory(usize::MAX))?;
        if len == 0 {
            return Ok(None);
        }
        let mut blob = Vec::new();
        blob.try_reserve_exact(len)
            .map_err(|_| FlashError::OutOfMemory(len))?;
        blob.resize(len, 0);
        let mut filled = 0;
        while filled < len {
            match file.read(&mut blob[filled..]) {
                Ok(0) | Err(_) => return Err(FlashError::Io),
                Ok(n) => filled += n,
            }
        }
        Ok(Some(blob))
    }

    fn store(&mut self, _key: &str, blob: &[u8]) -> Result<(), FlashError> {
        self.writes += 1;
        self.last_write_bytes = blob.len();
        self.heap_at_last_write = crate::heap::stats().in_use;
        self.etag.clear();
        let etag = blob.split(|&b| b == b'\n').nth(1).unwrap_or_default();
        for &byte in etag.iter().take(self.etag.capacity()) {
            let _ = self.etag.push(char::from(byte));
        }
        let mut file = File::create(self.path).map_err(|_| FlashError::Io)?;
        file.write_all(blob).map_err(|_| FlashError::Io)
    }
}
