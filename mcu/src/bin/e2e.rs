//! The end-to-end firmware (riscv32 `virt`, `--features e2e`): the embedded
//! client on a device with a network card, a TCP/IP stack and flash.
//!
//! It reads its settings from `e2e-boot.txt` (the harness writes it, as a
//! device's provisioning would), boots the client from the flash file
//! `e2e-flash.bin`, prints the flags before any network use, then ticks the
//! client on the device's own timer, sleeping (`wfi`) until
//! [`Client::next_tick`], and prints every poll: its outcome, the flash
//! writes, the flags. After the number of polls asked for, it prints the
//! heap, stack and traffic figures and exits 0. The host harness
//! (`mcu-harness e2e`) runs the CDN stand-in, changes the config between
//! polls, reboots the device, and checks the transcript.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use core::cell::RefCell;
use core::convert::Infallible;
use core::fmt::Write as _;

use configcat_embedded::{
    Client, ClientOptions, EventId, Fetched, LogLevel, LogSink, PollingMode, User, Value,
};
use configcat_mcu::e2e::clock;
use configcat_mcu::e2e::flash::FileFlash;
use configcat_mcu::e2e::http::HttpConnection;
use configcat_mcu::e2e::net::{self, Net};
use configcat_mcu::e2e::nic::Nic;
use configcat_mcu::{heap, stack};
use semihosting::io::Read as _;
use static_cell::StaticCell;

const BOOT: &core::ffi::CStr = c"e2e-boot.txt";
const FLASH: &core::ffi::CStr = c"e2e-flash.bin";
const MAX_FLAGS: usize = 8;
const CONNECT_TIMEOUT_MS: u64 = 3_000;
const READ_TIMEOUT_MS: u64 = 5_000;

static NET: StaticCell<RefCell<Net>> = StaticCell::new();

/// The settings in `e2e-boot.txt`, one `name=value` a line.
struct Boot<'a> {
    sdk_key: &'a str,
    base_url: &'a str,
    unix_ms: u64,
    interval_ms: u64,
    polls: u32,
    heap: usize,
    max_body: usize,
    seed: u64,
    user: &'a str,
    email: &'a str,
    flags: heapless::Vec<&'a str, MAX_FLAGS>,
}

fn fail(what: &str) -> ! {
    semihosting::eprintln!("configcat-mcu e2e: {what}");
    configcat_mcu::exit(2)
}

fn parse_boot(text: &str) -> Boot<'_> {
    let mut boot = Boot {
        sdk_key: "",
        base_url: "",
        unix_ms: 0,
        interval_ms: 2_000,
        polls: 1,
        heap: 64 * 1024,
        max_body: 64 * 1024,
        seed: 1,
        user: "device",
        email: "",
        flags: heapless::Vec::new(),
    };
    let number = |v: &str| {
        v.parse::<u64>()
            .unwrap_or_else(|_| fail("a number in e2e-boot.txt"))
    };
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Some((name, value)) = line.split_once('=') else {
            fail("a line of e2e-boot.txt without '='")
        };
        match name.trim() {
            "sdk_key" => boot.sdk_key = value,
            "base_url" => boot.base_url = value,
            "unix_ms" => boot.unix_ms = number(value),
            "interval_ms" => boot.interval_ms = number(value),
            "polls" => boot.polls = u32::try_from(number(value)).unwrap_or(u32::MAX),
            "heap" => boot.heap = usize::try_from(number(value)).unwrap_or(usize::MAX),
            "max_body" => boot.max_body = usize::try_from(number(value)).unwrap_or(usize::MAX),
            "seed" => boot.seed = number(value),
            "user" => boot.user = value,
            "email" => boot.email = value,
            "flag" => {
                if boot.flags.push(value).is_err() {
                    fail("more than 8 flags in e2e-boot.txt");
                }
            }
            _ => fail("an unknown setting in e2e-boot.txt"),
        }
    }
    boot
}

/// Prints warnings and errors as a device's serial log would.
struct SerialLog;

impl LogSink for SerialLog {
    fn enabled(&self, level: LogLevel) -> bool {
        level <= LogLevel::Warning
    }

    fn event(&self, level: LogLevel, id: EventId, message: core::fmt::Arguments<'_>) {
        semihosting::println!(
            "{:>8} ms  log {level} [{}] {message}",
            clock::uptime_ms(),
            id.code()
        );
    }
}

#[riscv_rt::entry]
fn main() -> ! {
    stack::paint();
    let mut text = [0_u8; 2048];
    let mut file = semihosting::fs::File::open(BOOT).unwrap_or_else(|_| fail("no e2e-boot.txt"));
    let len = file
        .read(&mut text)
        .unwrap_or_else(|_| fail("e2e-boot.txt unreadable"));
    let text =
        core::str::from_utf8(&text[..len]).unwrap_or_else(|_| fail("e2e-boot.txt not UTF-8"));
    let boot = parse_boot(text);
    heap::init(boot.heap);
    heap::set_tracking(true);
    run(&boot);
    configcat_mcu::exit(0)
}

#[inline(never)]
fn run(boot: &Boot<'_>) {
    let Some(nic) = Nic::probe() else {
        fail("no virtio-net card on the virtio-mmio bus")
    };
    let mac = nic.mac();
    let net: &RefCell<Net> = NET.init(RefCell::new(Net::new(nic, boot.seed ^ clock::uptime_ms())));
    let mut flash = FileFlash::new(FLASH);
    semihosting::println!(
        "{:>8} ms  boot: heap {} B, flash holds {} B, MAC {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, {}/24 via {}",
        clock::uptime_ms(),
        boot.heap,
        flash.stored_len(),
        mac[0],
        mac[1],
        mac[2],
        mac[3],
        mac[4],
        mac[5],
        net::ADDRESS,
        net::GATEWAY,
    );
    let options = ClientOptions::default()
        .with_polling_mode(PollingMode::Auto {
            interval_ms: boot.interval_ms,
            max_init_wait_ms: 0,
        })
        .with_base_url(boot.base_url)
        .with_max_body_bytes(boot.max_body)
        .with_timeouts_ms(CONNECT_TIMEOUT_MS, READ_TIMEOUT_MS);
    let connect = || {
        Ok::<_, Infallible>(HttpConnection::new(
            net,
            CONNECT_TIMEOUT_MS,
            READ_TIMEOUT_MS,
        ))
    };
    let unix_ms = |now: configcat_embedded::Instant| boot.unix_ms + now.as_millis();
    let mut user = User::new(boot.user);
    if !boot.email.is_empty() {
        user = user.with_email(boot.email);
    }

    heap::reset_peak();
    let now = clock::now();
    let client = Client::new(
        boot.sdk_key,
        options,
        connect,
        &mut flash,
        SerialLog,
        now,
        unix_ms(now),
    );
    let Ok(mut client) = client else {
        fail("the SDK key is malformed")
    };
    let boot_peak = heap::stats().peak;
    semihosting::println!(
        "{:>8} ms  before any fetch: {} | heap {} B in use (peak {} B reading flash)",
        clock::uptime_ms(),
        flags(&client, &boot.flags, &user),
        heap::stats().in_use,
        boot_peak,
    );

    let mut polls = 0;
    let mut peak = boot_peak;
    let mut peak_poll = 0;
    while polls < boot.polls {
        let Some(due) = client.next_tick() else {
            fail("the client scheduled no tick")
        };
        clock::sleep_until(due);
        heap::reset_peak();
        let writes_before = client.storage().writes;
        let now = clock::now();
        let Some(result) = tick(&mut client, now, unix_ms(now)) else {
            continue;
        };
        polls += 1;
        let poll_peak = heap::stats().peak;
        if poll_peak > peak {
            peak = poll_peak;
            peak_poll = polls;
        }
        let outcome = match &result {
            Ok(Fetched::New) => String::from("200 new config"),
            Ok(Fetched::NotModified) => String::from("304 not modified"),
            Ok(_) => String::from("refreshed"),
            Err(error) => alloc::format!("failed: {error}"),
        };
        let storage = client.storage();
        let written = if storage.writes > writes_before {
            alloc::format!(
                "flash write #{}: {} B, ETag {}",
                storage.writes,
                storage.last_write_bytes,
                storage.last_etag()
            )
        } else {
            alloc::format!("no flash write ({} so far)", storage.writes)
        };
        semihosting::println!(
            "{:>8} ms  poll {polls}: {outcome} | {written} | {} | heap peak {poll_peak} B",
            now.as_millis(),
            flags(&client, &boot.flags, &user),
        );
        if peak_poll == polls {
            print_peak_blocks(poll_peak);
        }
    }
    let frames = net.borrow().frames();
    let streams = net.borrow().streams();
    let stats = heap::stats();
    semihosting::println!(
        "stats: polls={polls} flash_writes={} heap={} heap_peak={peak} heap_peak_poll={peak_poll} heap_in_use={} stack_high_water={} \
         tcp_connections={} tcp_sent={} tcp_received={} frames_sent={} frame_bytes_sent={} frames_received={} frame_bytes_received={} \
         heap_at_last_write={}",
        client.storage().writes,
        stats.size,
        stats.in_use,
        stack::high_water(),
        streams.connections,
        streams.sent,
        streams.received,
        frames.sent,
        frames.sent_bytes,
        frames.received,
        frames.received_bytes,
        client.storage().heap_at_last_write,
    );
}

/// One tick, out of line: the fetch path's frames exist only while it runs.
#[inline(never)]
fn tick<K, S, L>(
    client: &mut Client<K, S, L>,
    now: configcat_embedded::Instant,
    unix_ms: u64,
) -> Option<Result<Fetched, configcat_embedded::RefreshError>>
where
    K: configcat_embedded::Connector,
    S: configcat_embedded::ConfigStorage,
    L: LogSink,
{
    client.tick(now, unix_ms)
}

/// The blocks live at the heap's peak, largest first (out of line: the
/// sort's 2 KiB of scratch stays out of the main loop's frame).
#[inline(never)]
fn print_peak_blocks(peak: usize) {
    heap::peak_blocks(|sizes| {
        let mut line = String::new();
        for size in sizes.iter().take(8) {
            let _ = write!(line, " {size}");
        }
        let rest: u32 = sizes.iter().skip(8).sum();
        semihosting::println!(
            "          heap peak {peak} B: {} blocks, largest first:{line} + {rest} B in the other {}",
            sizes.len(),
            sizes.len().saturating_sub(8),
        );
    });
}

/// `key=value` for each flag, or `no config`.
fn flags<K, S, L>(client: &Client<K, S, L>, keys: &[&str], user: &User) -> String
where
    K: configcat_embedded::Connector,
    S: configcat_embedded::ConfigStorage,
    L: LogSink,
{
    if client.config().is_none() {
        return String::from("no config");
    }
    let mut line = String::new();
    for key in keys {
        let value = client.get_value(key, Value::Text("<missing>"), Some(user));
        if !line.is_empty() {
            line.push(' ');
        }
        let _ = write!(line, "{key}={value}");
    }
    line
}
