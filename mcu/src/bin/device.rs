//! The test firmware: a request loop over semihosting. The host harness
//! (`mcu-harness` in the main workspace) writes a request file of configs,
//! users, evaluations, hostile inputs and instruction-count runs; this
//! program answers each in a response file, and exits 0 when the requests
//! are done. Configs are parsed, and evaluation logs built, on the device.
//!
//! The config JSON is read into a static buffer (as if it were in flash or a
//! receive buffer outside the heap); the heap holds what the core makes of it.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt::{self, Write as _};

use configcat_core::{
    Config, EventId, LogLevel, LogSink, NoLog, OverrideBehaviour, OwnedValue, User, UserValue,
    Value,
};
use configcat_mcu::host::{Input, Output};
use configcat_mcu::{heap, instret, refresh_paths, stack};
use static_cell::{ConstStaticCell, StaticCell};

// The embedded client on a simulated device (a CDN in memory, a RAM blob as
// flash): the no_std proof's module, shared rather than copied.
#[path = "../../../nostd-proof/src/simulated_device.rs"]
mod simulated_device;

/// The client's config: a flag with a rule on Email.
const CLIENT_CONFIG: &[u8] = br#"{"p":{"s":"mcu-salt"},"f":{"rollout":{"t":1,"v":{"s":"off"},"i":"v-off",
  "r":[{"c":[{"u":{"a":"Email","c":32,"l":["@example.com"]}}],"s":{"v":{"s":"on"},"i":"v-on"}}]}}}"#;
const CLIENT_CASES: [(&str, &str, &str); 2] = [
    ("1", "jane@example.com", "on"),
    ("2", "joe@elsewhere.test", "off"),
];

/// Request and response files, in QEMU's working directory.
const REQUESTS: &core::ffi::CStr = c"mcu-requests.bin";
const RESPONSES: &core::ffi::CStr = c"mcu-responses.bin";
/// The largest config or hostile input a request may carry.
const INPUT_BYTES: usize = 640 * 1024;

static INPUT_BUFFER: ConstStaticCell<[u8; INPUT_BYTES]> = ConstStaticCell::new([0; INPUT_BYTES]);
static INPUT: StaticCell<Input> = StaticCell::new();
static OUTPUT: StaticCell<Output> = StaticCell::new();

/// Streams every record, at every level, into the answer file as it comes:
/// `1`, level, event id and the line `LEVEL [id] message\n`, length first.
/// Nothing is kept on the heap (a device's log sink writes out too): the
/// line is formatted twice, once to count its bytes, once to write them.
struct Capture<'o> {
    out: RefCell<&'o mut Output>,
}

/// Writes formatted text into the answer file.
struct OutputText<'a>(&'a mut Output);

impl fmt::Write for OutputText<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.put(s.as_bytes());
        Ok(())
    }
}

impl LogSink for Capture<'_> {
    fn enabled(&self, _level: LogLevel) -> bool {
        true
    }

    fn event(&self, level: LogLevel, id: EventId, message: fmt::Arguments<'_>) {
        let length = core::cell::Cell::new(0);
        let _ = writeln!(Counter(&length), "{level} [{}] {message}", id.code());
        let mut out = self.out.borrow_mut();
        out.u8(1);
        out.u8(level_code(level));
        out.u16(id.code());
        out.size(length.get());
        let _ = writeln!(OutputText(&mut out), "{level} [{}] {message}", id.code());
    }
}

/// Builds every log line and throws it away: hostile input reaches all the
/// code that formats messages.
#[derive(Default)]
struct Formatting {
    bytes: core::cell::Cell<usize>,
}

struct Counter<'a>(&'a core::cell::Cell<usize>);

impl fmt::Write for Counter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.set(self.0.get().wrapping_add(s.len()));
        Ok(())
    }
}

impl LogSink for Formatting {
    fn enabled(&self, _level: LogLevel) -> bool {
        true
    }

    fn event(&self, level: LogLevel, id: EventId, message: fmt::Arguments<'_>) {
        let _ = write!(Counter(&self.bytes), "{level} [{}] {message}", id.code());
    }
}

const fn level_code(level: LogLevel) -> u8 {
    match level {
        LogLevel::Error => 0,
        LogLevel::Warning => 1,
        LogLevel::Info => 2,
        _ => 3,
    }
}

fn put_value(out: &mut Output, value: Option<Value<'_>>) {
    match value {
        None => out.u8(0),
        Some(Value::Bool(v)) => {
            out.u8(1);
            out.u8(u8::from(v));
        }
        Some(Value::Int(v)) => {
            out.u8(2);
            out.put(&v.to_le_bytes());
        }
        Some(Value::Float(v)) => {
            out.u8(3);
            out.u64(v.to_bits());
        }
        Some(Value::Text(v)) => {
            out.u8(4);
            out.bytes(v.as_bytes());
        }
    }
}

fn put_text(out: &mut Output, text: Option<&str>) {
    match text {
        None => out.u8(0),
        Some(text) => {
            out.u8(1);
            out.bytes(text.as_bytes());
        }
    }
}

/// A protocol error: the request file is not what this firmware reads.
fn bad_request(what: &str) -> ! {
    semihosting::eprintln!("configcat-mcu: bad request: {what}");
    configcat_mcu::exit(2)
}

fn text(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or_else(|_| bad_request("text is not UTF-8"))
}

fn owned_text(input: &mut Input, scratch: &mut [u8]) -> String {
    let bytes = input
        .bytes_into(scratch)
        .unwrap_or_else(|| bad_request("text too long"));
    String::from(text(bytes))
}

fn f64_of(input: &mut Input) -> f64 {
    f64::from_bits(input.u64().unwrap_or_else(|| bad_request("number")))
}

fn read_user(input: &mut Input, scratch: &mut [u8]) -> Option<User> {
    if input.u8()? == 0 {
        return None;
    }
    let mut user = User::new(owned_text(input, scratch));
    if input.u8()? == 1 {
        user = user.with_email(owned_text(input, scratch));
    }
    if input.u8()? == 1 {
        user = user.with_country(owned_text(input, scratch));
    }
    for _ in 0..input.u32()? {
        let name = owned_text(input, scratch);
        let value = match input.u8()? {
            0 => UserValue::Text(owned_text(input, scratch)),
            1 => UserValue::Number(f64_of(input)),
            2 => UserValue::DateTime(f64_of(input)),
            3 => {
                let count = input.u32()?;
                UserValue::StringList((0..count).map(|_| owned_text(input, scratch)).collect())
            }
            _ => bad_request("user value kind"),
        };
        user.set_custom(name, value);
    }
    Some(user)
}

/// A typed default: 0 none, 1 bool, 2 int, 3 float, 4 text.
enum Default<'a> {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(&'a str),
}

fn read_default<'a>(input: &mut Input, scratch: &'a mut [u8]) -> Default<'a> {
    match input.u8() {
        Some(0) => Default::None,
        Some(1) => Default::Bool(input.u8() == Some(1)),
        Some(2) => Default::Int(i64::from_le_bytes(
            input
                .u64()
                .unwrap_or_else(|| bad_request("int"))
                .to_le_bytes(),
        )),
        Some(3) => Default::Float(f64_of(input)),
        Some(4) => Default::Text(text(
            input
                .bytes_into(scratch)
                .unwrap_or_else(|| bad_request("default")),
        )),
        _ => bad_request("default kind"),
    }
}

/// Evaluates `key` with a typed default and writes the log records (as
/// they are made), a `0`, then the details.
fn evaluate(
    out: &mut Output,
    config: &Config,
    key: &str,
    default: &Default<'_>,
    user: Option<&User>,
    log: bool,
) {
    let capture = Capture {
        out: RefCell::new(out),
    };
    let sink: &dyn LogSink = if log { &capture } else { &NoLog };
    macro_rules! answer {
        ($details:expr, $value:expr) => {{
            let details = $details;
            let mut out = capture.out.borrow_mut();
            out.u8(0);
            put_value(&mut out, $value(details.value));
            put_text(&mut out, details.variation_id.as_deref());
            let error = details.error.as_ref().map(|e| alloc::format!("{e}"));
            put_text(&mut out, error.as_deref());
            out.u8(u8::from(details.matched_targeting_rule.is_some()));
            out.u8(u8::from(details.matched_percentage_option.is_some()));
        }};
    }
    match *default {
        Default::None => answer!(config.evaluate(key, user, sink), |v| v),
        Default::Bool(d) => answer!(config.get_value_details(key, d, user, sink), |v| Some(
            Value::Bool(v)
        )),
        Default::Int(d) => answer!(config.get_value_details(key, d, user, sink), |v| Some(
            Value::Int(v)
        )),
        Default::Float(d) => answer!(config.get_value_details(key, d, user, sink), |v| Some(
            Value::Float(v)
        )),
        Default::Text(d) => answer!(config.get_value_details::<&str>(key, d, user, sink), |v| {
            Some(Value::Text(v))
        }),
    }
}

/// Parses hostile bytes through `entry` and exercises what parses; answers
/// 0 + message when rejected, 1 + evaluation count when accepted.
fn hostile(out: &mut Output, entry: u8, data: &[u8]) {
    let sink = Formatting::default();
    let user = User::new("hostile")
        .with_email("a@b.example")
        .with_country("HU")
        .with_custom("Custom1", "1.0.0")
        .with_custom("Number", UserValue::Number(f64::NAN))
        .with_custom(
            "List",
            UserValue::StringList(alloc::vec![String::from("a")]),
        );
    let parsed = match entry {
        0 => Config::parse(data).map_err(|e| alloc::format!("{e}")),
        1 => Config::parse_overrides(data).map_err(|e| alloc::format!("{e}")),
        2 => refresh_paths::cache_payload(data, &sink),
        3 => refresh_paths::fetched_body(data, &sink),
        _ => bad_request("hostile entry"),
    };
    match parsed {
        Err(message) => {
            out.u8(0);
            out.bytes(message.as_bytes());
        }
        Ok(config) => {
            let mut evaluations = 0_u32;
            for key in config.keys() {
                for user in [None, Some(&user)] {
                    let _ = config.evaluate(key, user, &sink);
                    let _ = config.get_value_details(key, false, user, &sink);
                    let _ = config.get_value_details(key, "", user, &sink);
                    evaluations += 3;
                }
                if let Some(id) = config.setting(key).and_then(|s| s.variation_id()) {
                    let _ = config.key_and_value_for_variation_id(id);
                }
            }
            let _ = config.evaluate_all(Some(&user), &sink);
            let _ = config.get_value("missing", 0_i64, Some(&user), &sink);
            out.u8(1);
            out.u32(evaluations);
        }
    }
    out.size(sink.bytes.get());
}

fn behaviour(code: u8) -> OverrideBehaviour {
    match code {
        0 => OverrideBehaviour::LocalOnly,
        1 => OverrideBehaviour::LocalOverRemote,
        2 => OverrideBehaviour::RemoteOverLocal,
        _ => bad_request("override behaviour"),
    }
}

fn slot_of(input: &mut Input) -> usize {
    match input.u8() {
        Some(s @ 0..=1) => usize::from(s),
        _ => bad_request("slot"),
    }
}

#[cfg_attr(target_arch = "riscv32", riscv_rt::entry)]
#[cfg_attr(target_arch = "arm", cortex_m_rt::entry)]
fn main() -> ! {
    let buffer: &'static mut [u8; INPUT_BYTES] = INPUT_BUFFER.take();
    let Some(input) = Input::open(REQUESTS) else {
        bad_request("cannot open mcu-requests.bin")
    };
    let input = INPUT.init(input);
    let Some(output) = Output::create(RESPONSES) else {
        bad_request("cannot create mcu-responses.bin")
    };
    let out = OUTPUT.init(output);
    let heap_bytes = input.u32().unwrap_or_else(|| bad_request("heap size"));
    heap::init(usize::try_from(heap_bytes).unwrap_or(heap::MAX_HEAP_BYTES));
    heap::set_tracking(true);
    stack::paint();
    serve(input, out, buffer);
    out.flush();
    configcat_mcu::exit(0)
}

/// The request loop; returns at the end of the request file.
#[inline(never)]
fn serve(input: &mut Input, out: &mut Output, buffer: &mut [u8; INPUT_BYTES]) {
    let mut slots: [Option<Config>; 2] = [None, None];
    let mut user: Option<User> = None;
    while let Some(op) = input.u8() {
        match op {
            // Config: slot, parser (0 strict, 1 override formats too), JSON.
            b'C' => {
                let slot = slot_of(input);
                let overrides = input.u8() == Some(1);
                slots[slot] = None;
                let json = input
                    .bytes_into(buffer)
                    .unwrap_or_else(|| bad_request("config"));
                let start = instret();
                let parsed = if overrides {
                    Config::parse_overrides(json)
                } else {
                    Config::parse(json)
                };
                let instructions = instret() - start;
                match parsed {
                    Ok(config) => {
                        out.u8(1);
                        out.size(config.settings().len());
                        out.u64(instructions);
                        out.size(heap::stats().in_use);
                        slots[slot] = Some(config);
                    }
                    Err(error) => {
                        out.u8(0);
                        out.bytes(alloc::format!("{error}").as_bytes());
                    }
                }
            }
            // Values: slot, count, (key, kind, value)*: a map override.
            b'V' => {
                let slot = slot_of(input);
                let count = input.u32().unwrap_or_default();
                let mut values = Vec::new();
                for _ in 0..count {
                    let key = owned_text(input, buffer);
                    let value = match read_default(input, buffer) {
                        Default::Bool(v) => OwnedValue::Bool(v),
                        Default::Int(v) => OwnedValue::Int(v),
                        Default::Float(v) => OwnedValue::Float(v),
                        Default::Text(v) => OwnedValue::from(v),
                        Default::None => bad_request("value kind"),
                    };
                    values.push((key, value));
                }
                slots[slot] = Some(Config::from_values(values));
            }
            // Merge: slot 0 (remote) with slot 1 (local) into slot 0.
            b'M' => {
                let behaviour = behaviour(input.u8().unwrap_or(9));
                if let (Some(remote), Some(local)) = (&slots[0], &slots[1]) {
                    let merged = Config::merge(remote, local, behaviour);
                    slots = [Some(merged), None];
                } else {
                    bad_request("merge without two configs");
                }
            }
            b'U' => {
                // The previous user is dropped before the next is built.
                drop(user.take());
                user = read_user(input, buffer);
            }
            // Evaluate: log flag, key, default.
            b'E' => {
                let log = input.u8() == Some(1);
                let (key_area, rest) = buffer.split_at_mut(4096);
                let key = input
                    .bytes_into(key_area)
                    .unwrap_or_else(|| bad_request("key"));
                let key = text(key);
                let default = read_default(input, rest);
                let Some(config) = &slots[0] else {
                    bad_request("evaluate without a config")
                };
                evaluate(out, config, key, &default, user.as_ref(), log);
            }
            // Instruction count: key, default, repeats; per-block tracking off.
            b'I' => {
                let (key_area, rest) = buffer.split_at_mut(4096);
                let key = text(
                    input
                        .bytes_into(key_area)
                        .unwrap_or_else(|| bad_request("key")),
                );
                let default = read_default(input, rest);
                let repeats = input.u32().unwrap_or(1);
                let Some(config) = &slots[0] else {
                    bad_request("count without a config")
                };
                heap::set_tracking(false);
                let instructions = count(config, key, &default, user.as_ref(), repeats);
                heap::set_tracking(true);
                out.u64(instructions);
            }
            // Hostile input: entry, bytes.
            b'X' => {
                let entry = input.u8().unwrap_or(9);
                let data = input
                    .bytes_into(buffer)
                    .unwrap_or_else(|| bad_request("hostile"));
                hostile(out, entry, data);
            }
            // The embedded client: boot, fetch, 304, reboot offline from flash.
            b'K' => {
                let ok = simulated_device::run(
                    core::hint::black_box(CLIENT_CONFIG),
                    "rollout",
                    &CLIENT_CASES,
                );
                out.u8(u8::from(ok));
            }
            // Drop both configs and the user.
            b'D' => {
                slots = [None, None];
                user = None;
            }
            // Reset the heap peak and repaint the stack.
            b'R' => {
                heap::reset_peak();
                stack::paint();
            }
            // Stats: heap size, in use, peak, blocks, peak blocks, stack high-water.
            b'S' => {
                let stats = heap::stats();
                out.size(stats.size);
                out.size(stats.in_use);
                out.size(stats.peak);
                out.size(stats.blocks);
                heap::peak_blocks(|sizes| {
                    out.size(sizes.len());
                    for &size in sizes {
                        out.u32(size);
                    }
                });
                out.size(stack::high_water());
            }
            _ => bad_request("unknown op"),
        }
    }
}

/// Instructions retired by `repeats` evaluations of `key` with logging off
/// (all-values when the key is empty), the loop included.
#[inline(never)]
fn count(
    config: &Config,
    key: &str,
    default: &Default<'_>,
    user: Option<&User>,
    repeats: u32,
) -> u64 {
    let start = instret();
    for _ in 0..repeats {
        match *default {
            _ if key.is_empty() => {
                config.for_each_value(user, &NoLog, |key, value| {
                    core::hint::black_box((key, value.ok()));
                });
            }
            Default::None => {
                core::hint::black_box(config.evaluate(key, user, &NoLog).value);
            }
            Default::Bool(d) => {
                core::hint::black_box(config.get_value(key, d, user, &NoLog));
            }
            Default::Int(d) => {
                core::hint::black_box(config.get_value(key, d, user, &NoLog));
            }
            Default::Float(d) => {
                core::hint::black_box(config.get_value(key, d, user, &NoLog));
            }
            Default::Text(d) => {
                core::hint::black_box(config.get_value::<&str>(key, d, user, &NoLog));
            }
        }
    }
    instret() - start
}
