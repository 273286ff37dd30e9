//! The request and response files of the firmware (`mcu/src/bin/device.rs`):
//! little-endian, length-prefixed records, one request byte per operation.

use configcat_core::{LogLevel, OverrideBehaviour, OwnedValue, User, UserValue};
use serde_json::Value as Json;

/// The request file being written.
#[derive(Debug, Default)]
pub(crate) struct Requests {
    bytes: Vec<u8>,
}

/// A typed default as the firmware reads it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Default {
    /// No typed default (`Config::evaluate`).
    None,
    /// `bool`.
    Bool(bool),
    /// `i64`.
    Int(i64),
    /// `f64`.
    Float(f64),
    /// `&str`.
    Text(String),
}

impl Default {
    /// The suites' JSON encoding of a default (`null` for none).
    ///
    /// # Errors
    /// A default of another JSON type.
    pub(crate) fn from_json(json: &Json) -> Result<Self, String> {
        Ok(match json {
            Json::Null => Self::None,
            Json::Bool(b) => Self::Bool(*b),
            Json::Number(n) if n.is_i64() => Self::Int(n.as_i64().unwrap_or_default()),
            Json::Number(n) => Self::Float(n.as_f64().unwrap_or_default()),
            Json::String(s) => Self::Text(s.clone()),
            other => return Err(format!("unsupported default {other}")),
        })
    }
}

impl Requests {
    /// A request file whose firmware gets a heap of `heap_bytes`.
    #[must_use]
    pub(crate) fn new(heap_bytes: u32) -> Self {
        Self {
            bytes: heap_bytes.to_le_bytes().to_vec(),
        }
    }

    /// The bytes to write.
    #[must_use]
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }

    fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    fn len(&mut self, len: usize) {
        self.u32(u32::try_from(len).unwrap_or(u32::MAX));
    }

    fn field(&mut self, v: &[u8]) {
        self.len(v.len());
        self.bytes.extend_from_slice(v);
    }

    fn typed(&mut self, default: &Default) {
        match default {
            Default::None => self.u8(0),
            Default::Bool(v) => {
                self.u8(1);
                self.u8(u8::from(*v));
            }
            Default::Int(v) => {
                self.u8(2);
                self.bytes.extend_from_slice(&v.to_le_bytes());
            }
            Default::Float(v) => {
                self.u8(3);
                self.u64(v.to_bits());
            }
            Default::Text(v) => {
                self.u8(4);
                self.field(v.as_bytes());
            }
        }
    }

    /// Parses `json` into slot 0 (the config evaluated) or 1 (an override);
    /// `overrides` reads the simple override format too. Answered.
    pub(crate) fn config(&mut self, slot: u8, overrides: bool, json: &[u8]) {
        self.u8(b'C');
        self.u8(slot);
        self.u8(u8::from(overrides));
        self.field(json);
    }

    /// A typed map override into `slot`.
    pub(crate) fn values(&mut self, slot: u8, values: &[(String, OwnedValue)]) {
        self.u8(b'V');
        self.u8(slot);
        self.len(values.len());
        for (key, value) in values {
            self.field(key.as_bytes());
            self.typed(&match value {
                OwnedValue::Bool(v) => Default::Bool(*v),
                OwnedValue::Int(v) => Default::Int(*v),
                OwnedValue::Float(v) => Default::Float(*v),
                OwnedValue::Text(v) => Default::Text(v.to_string()),
            });
        }
    }

    /// Merges slot 1 over slot 0.
    pub(crate) fn merge(&mut self, behaviour: OverrideBehaviour) -> Result<(), String> {
        self.u8(b'M');
        self.u8(match behaviour {
            OverrideBehaviour::LocalOnly => 0,
            OverrideBehaviour::LocalOverRemote => 1,
            OverrideBehaviour::RemoteOverLocal => 2,
            other => return Err(format!("unsupported behaviour {other:?}")),
        });
        Ok(())
    }

    /// Sets the user of the following evaluations.
    pub(crate) fn user(&mut self, user: Option<&User>) -> Result<(), String> {
        self.u8(b'U');
        let Some(user) = user else {
            self.u8(0);
            return Ok(());
        };
        self.u8(1);
        self.field(user.identifier().as_bytes());
        for text in [user.email(), user.country()] {
            match text {
                Some(text) => {
                    self.u8(1);
                    self.field(text.as_bytes());
                }
                None => self.u8(0),
            }
        }
        let custom: Vec<_> = user.custom_attributes().collect();
        self.len(custom.len());
        for (name, value) in custom {
            self.field(name.as_bytes());
            match value {
                UserValue::Text(v) => {
                    self.u8(0);
                    self.field(v.as_bytes());
                }
                UserValue::Number(v) => {
                    self.u8(1);
                    self.u64(v.to_bits());
                }
                UserValue::DateTime(v) => {
                    self.u8(2);
                    self.u64(v.to_bits());
                }
                UserValue::StringList(items) => {
                    self.u8(3);
                    self.len(items.len());
                    for item in items {
                        self.field(item.as_bytes());
                    }
                }
                other => return Err(format!("unsupported user value {other:?}")),
            }
        }
        Ok(())
    }

    /// Evaluates `key`, capturing the log when `log`. Answered.
    pub(crate) fn evaluate(&mut self, log: bool, key: &str, default: &Default) {
        self.u8(b'E');
        self.u8(u8::from(log));
        self.field(key.as_bytes());
        self.typed(default);
    }

    /// Counts the instructions of `repeats` evaluations (all values when
    /// `key` is empty). Answered.
    pub(crate) fn count(&mut self, key: &str, default: &Default, repeats: u32) {
        self.u8(b'I');
        self.field(key.as_bytes());
        self.typed(default);
        self.u32(repeats);
    }

    /// Hands hostile bytes to an entry point (0 parse, 1 parse_overrides,
    /// 2 cache payload, 3 fetched body). Answered.
    pub(crate) fn hostile(&mut self, entry: u8, data: &[u8]) {
        self.u8(b'X');
        self.u8(entry);
        self.field(data);
    }

    /// Runs the embedded client on the simulated device. Answered.
    pub(crate) fn client(&mut self) {
        self.u8(b'K');
    }

    /// Drops the configs and the user.
    pub(crate) fn drop_all(&mut self) {
        self.u8(b'D');
    }

    /// Starts new heap-peak and stack measurements.
    pub(crate) fn reset(&mut self) {
        self.u8(b'R');
    }

    /// Asks for the heap and stack figures. Answered.
    pub(crate) fn stats(&mut self) {
        self.u8(b'S');
    }
}

/// A value as the firmware answered it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    /// No value.
    None,
    /// `bool`.
    Bool(bool),
    /// `i64`.
    Int(i64),
    /// `f64`.
    Float(f64),
    /// Text.
    Text(String),
}

impl Answer {
    /// The value as the core's borrowed value.
    #[must_use]
    pub(crate) fn as_value(&self) -> Option<configcat_core::Value<'_>> {
        use configcat_core::Value;
        match self {
            Self::None => None,
            Self::Bool(v) => Some(Value::Bool(*v)),
            Self::Int(v) => Some(Value::Int(*v)),
            Self::Float(v) => Some(Value::Float(*v)),
            Self::Text(v) => Some(Value::Text(v)),
        }
    }
}

/// One log record built on the device.
#[derive(Debug, Clone)]
pub(crate) struct DeviceRecord {
    /// Severity.
    pub(crate) level: LogLevel,
    /// Event id.
    pub(crate) id: u16,
    /// `LEVEL [id] message\n`, as formatted on the device.
    pub(crate) line: String,
}

impl DeviceRecord {
    /// The message part of the line.
    #[must_use]
    pub(crate) fn message(&self) -> &str {
        let line = self.line.strip_suffix('\n').unwrap_or(&self.line);
        line.split_once("] ").map_or(line, |(_, message)| message)
    }
}

/// An evaluation's answer.
#[derive(Debug, Clone)]
pub(crate) struct Evaluation {
    /// The value.
    pub(crate) value: Answer,
    /// Its variation id.
    pub(crate) variation_id: Option<String>,
    /// The error's message.
    pub(crate) error: Option<String>,
    /// Whether a targeting rule matched.
    pub(crate) matched_targeting_rule: bool,
    /// Whether a % option was chosen.
    pub(crate) matched_percentage_option: bool,
    /// The log records (empty when the log was off).
    pub(crate) records: Vec<DeviceRecord>,
}

/// A parse's answer.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    /// Settings in the config.
    pub(crate) settings: u32,
    /// Instructions the parse took (exact only with `-icount`).
    pub(crate) instructions: u64,
    /// Heap bytes in use after the parse.
    pub(crate) heap_in_use: u32,
}

/// The heap and stack figures.
#[derive(Debug, Clone)]
pub(crate) struct Stats {
    /// Heap size.
    pub(crate) heap_size: u32,
    /// Bytes in use now.
    pub(crate) in_use: u32,
    /// Peak since the last reset.
    pub(crate) peak: u32,
    /// Live blocks now.
    pub(crate) blocks: u32,
    /// Sizes of the blocks live at the peak, largest first.
    pub(crate) peak_blocks: Vec<u32>,
    /// Stack high-water mark since the last reset.
    pub(crate) stack: u32,
}

/// A hostile input's answer.
#[derive(Debug, Clone)]
pub(crate) enum Hostile {
    /// Rejected, with this message.
    Rejected(String),
    /// Accepted, and this many evaluations ran on it.
    Accepted(u32),
}

/// The response file being read.
#[derive(Debug)]
pub(crate) struct Responses {
    bytes: Vec<u8>,
    pos: usize,
}

const END: &str = "the firmware's answers end here";

impl Responses {
    /// Reads from the response file's bytes.
    #[must_use]
    pub(crate) const fn new(bytes: Vec<u8>) -> Self {
        Self { bytes, pos: 0 }
    }

    /// Whether everything was read.
    #[must_use]
    pub(crate) fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let slice = self.bytes.get(self.pos..self.pos + n).ok_or(END)?;
        self.pos += n;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?.first().copied().unwrap_or_default())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        self.take(N)?.try_into().map_err(|_| END.to_owned())
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn text(&mut self) -> Result<String, String> {
        let len = usize::try_from(self.u32()?).map_err(|e| e.to_string())?;
        String::from_utf8(self.take(len)?.to_vec()).map_err(|e| e.to_string())
    }

    fn optional_text(&mut self) -> Result<Option<String>, String> {
        Ok(if self.u8()? == 1 {
            Some(self.text()?)
        } else {
            None
        })
    }

    /// The answer to [`Requests::config`]: the parse, or the error's message.
    pub(crate) fn config(&mut self) -> Result<Result<Parsed, String>, String> {
        if self.u8()? == 1 {
            Ok(Ok(Parsed {
                settings: self.u32()?,
                instructions: self.u64()?,
                heap_in_use: self.u32()?,
            }))
        } else {
            Ok(Err(self.text()?))
        }
    }

    /// The answer to [`Requests::evaluate`]: the log records as the device
    /// streamed them (each after a `1`, then a `0`), then the details.
    pub(crate) fn evaluation(&mut self) -> Result<Evaluation, String> {
        let mut records = Vec::new();
        while self.u8()? == 1 {
            let level = match self.u8()? {
                0 => LogLevel::Error,
                1 => LogLevel::Warning,
                2 => LogLevel::Info,
                _ => LogLevel::Debug,
            };
            let id = u16::from_le_bytes(self.array()?);
            records.push(DeviceRecord {
                level,
                id,
                line: self.text()?,
            });
        }
        let value = match self.u8()? {
            0 => Answer::None,
            1 => Answer::Bool(self.u8()? == 1),
            2 => Answer::Int(i64::from_le_bytes(self.array()?)),
            3 => Answer::Float(f64::from_bits(self.u64()?)),
            4 => Answer::Text(self.text()?),
            other => return Err(format!("unknown value kind {other}")),
        };
        let variation_id = self.optional_text()?;
        let error = self.optional_text()?;
        let matched_targeting_rule = self.u8()? == 1;
        let matched_percentage_option = self.u8()? == 1;
        Ok(Evaluation {
            value,
            variation_id,
            error,
            matched_targeting_rule,
            matched_percentage_option,
            records,
        })
    }

    /// The answer to [`Requests::count`].
    pub(crate) fn count(&mut self) -> Result<u64, String> {
        self.u64()
    }

    /// The answer to [`Requests::hostile`]: the outcome and the bytes of log text built.
    pub(crate) fn hostile(&mut self) -> Result<(Hostile, u32), String> {
        let outcome = if self.u8()? == 0 {
            Hostile::Rejected(self.text()?)
        } else {
            Hostile::Accepted(self.u32()?)
        };
        Ok((outcome, self.u32()?))
    }

    /// The answer to [`Requests::client`]: whether every step went as expected.
    pub(crate) fn client(&mut self) -> Result<bool, String> {
        Ok(self.u8()? == 1)
    }

    /// The answer to [`Requests::stats`].
    pub(crate) fn stats(&mut self) -> Result<Stats, String> {
        let heap_size = self.u32()?;
        let in_use = self.u32()?;
        let peak = self.u32()?;
        let blocks = self.u32()?;
        let count = self.u32()?;
        let peak_blocks = (0..count).map(|_| self.u32()).collect::<Result<_, _>>()?;
        Ok(Stats {
            heap_size,
            in_use,
            peak,
            blocks,
            peak_blocks,
            stack: self.u32()?,
        })
    }
}
