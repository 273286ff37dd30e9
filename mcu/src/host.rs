//! Semihosting files as a buffered little-endian record stream: the host
//! harness writes the requests, the firmware answers in another file.

use semihosting::fs::File;
use semihosting::io::{Read as _, Write as _};

const BUFFER: usize = 4096;

/// The request file, read in `BUFFER`-byte blocks.
pub struct Input {
    file: File,
    buf: [u8; BUFFER],
    pos: usize,
    len: usize,
}

impl Input {
    /// Opens `path` on the host.
    #[must_use]
    pub fn open(path: &core::ffi::CStr) -> Option<Self> {
        let file = File::open(path).ok()?;
        Some(Self {
            file,
            buf: [0; BUFFER],
            pos: 0,
            len: 0,
        })
    }

    /// Fills `out` completely; false at the end of the file.
    pub fn read_exact(&mut self, out: &mut [u8]) -> bool {
        let mut done = 0;
        while done < out.len() {
            if self.pos == self.len {
                self.pos = 0;
                self.len = self.file.read(&mut self.buf).unwrap_or(0);
                if self.len == 0 {
                    return false;
                }
            }
            let n = (self.len - self.pos).min(out.len() - done);
            out[done..done + n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            done += n;
        }
        true
    }

    /// One byte, or `None` at the end.
    pub fn u8(&mut self) -> Option<u8> {
        let mut b = [0; 1];
        self.read_exact(&mut b).then_some(b[0])
    }

    /// A little-endian `u32`.
    pub fn u32(&mut self) -> Option<u32> {
        let mut b = [0; 4];
        self.read_exact(&mut b).then(|| u32::from_le_bytes(b))
    }

    /// A little-endian `u64`.
    pub fn u64(&mut self) -> Option<u64> {
        let mut b = [0; 8];
        self.read_exact(&mut b).then(|| u64::from_le_bytes(b))
    }

    /// A length-prefixed byte string, read into `into`; `None` if it does not fit.
    pub fn bytes_into<'a>(&mut self, into: &'a mut [u8]) -> Option<&'a mut [u8]> {
        let len = usize::try_from(self.u32()?).ok()?;
        let out = into.get_mut(..len)?;
        self.read_exact(out).then_some(out)
    }
}

/// The answer file, written in `BUFFER`-byte blocks.
pub struct Output {
    file: File,
    buf: [u8; BUFFER],
    len: usize,
}

impl Output {
    /// Creates (truncates) `path` on the host.
    #[must_use]
    pub fn create(path: &core::ffi::CStr) -> Option<Self> {
        let file = File::create(path).ok()?;
        Some(Self {
            file,
            buf: [0; BUFFER],
            len: 0,
        })
    }

    /// Appends `bytes`.
    pub fn put(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.len == BUFFER {
                self.flush();
            }
            let n = (BUFFER - self.len).min(bytes.len());
            self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
            self.len += n;
            bytes = &bytes[n..];
        }
    }

    /// Appends one byte.
    pub fn u8(&mut self, v: u8) {
        self.put(&[v]);
    }

    /// Appends a little-endian `u16`.
    pub fn u16(&mut self, v: u16) {
        self.put(&v.to_le_bytes());
    }

    /// Appends a little-endian `u32`.
    pub fn u32(&mut self, v: u32) {
        self.put(&v.to_le_bytes());
    }

    /// Appends a little-endian `u64`.
    pub fn u64(&mut self, v: u64) {
        self.put(&v.to_le_bytes());
    }

    /// Appends a `usize` as a `u32` (saturating).
    pub fn size(&mut self, v: usize) {
        self.u32(u32::try_from(v).unwrap_or(u32::MAX));
    }

    /// Appends a length-prefixed byte string.
    pub fn bytes(&mut self, v: &[u8]) {
        self.size(v.len());
        self.put(v);
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) {
        if self.file.write_all(&self.buf[..self.len]).is_err() {
            semihosting::eprintln!("configcat-mcu: cannot write the answer file");
            crate::exit(crate::FAULT_EXIT);
        }
        self.len = 0;
    }
}
