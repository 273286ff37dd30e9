//! Proof that `configcat-core` and `configcat-embedded` need nothing but
//! `core` and `alloc`.
//!
//! This binary is `#![no_std]` and defines its own `#[panic_handler]`. If
//! anything in their dependency graphs linked `std`, `std`'s panic
//! handler would clash with this one and the build would fail with E0152
//! (duplicate lang item `panic_impl`). It links only the C runtime, whose
//! start-up code calls `main`, and libc for `write`, `abort` and `mem*`.
//!
//! It parses a config JSON v6 embedded below and evaluates a flag for four
//! users, then runs the embedded client on a simulated device (a CDN in
//! memory behind its `Connection` trait, a RAM blob as flash) and evaluates
//! them through it; the exit status is 0 when every value is the expected
//! one, 1 otherwise. Build with `--features baseline` to get the same program
//! without the core, and with `--features core-only` without the embedded
//! adapter, so that the differences in `.text` are their sizes.
#![no_std]
#![no_main]

extern crate alloc;

mod bump_allocator;
#[cfg(not(any(feature = "baseline", feature = "core-only")))]
mod simulated_device;

use core::ffi::{c_char, c_int};
use core::panic::PanicInfo;

#[global_allocator]
static ALLOCATOR: bump_allocator::BumpAllocator = bump_allocator::BumpAllocator::new();

// Without std nothing links libc for us (rustc passes `-nodefaultlibs`); the
// C runtime's start-up code needs it, and so do the calls below.
#[link(name = "c")]
unsafe extern "C" {
    fn write(fd: c_int, buf: *const u8, count: usize) -> isize;
    fn abort() -> !;
}

#[panic_handler]
fn panic(_info: &PanicInfo<'_>) -> ! {
    print(b"configcat-nostd-proof: panic\n");
    // SAFETY: `abort` has no preconditions.
    unsafe { abort() }
}

// The prebuilt `alloc` of the stable toolchain is compiled with
// `panic = "unwind"`, so a few of its functions (e.g. `alloc::fmt::format`)
// keep landing pads that name the unwinder and std's personality routine.
// With `panic = "abort"` nothing ever unwinds, so these are never called; they
// only have to exist for the link. (Nightly's `-Zbuild-std` with
// `panic_abort` would avoid them; the proof stays on stable.)

/// The personality routine named by `alloc`'s landing pads; never called.
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() -> ! {
    // SAFETY: `abort` has no preconditions.
    unsafe { abort() }
}

/// The unwinder's resume entry named by `alloc`'s landing pads; never called.
#[unsafe(no_mangle)]
pub extern "C" fn _Unwind_Resume() -> ! {
    // SAFETY: `abort` has no preconditions.
    unsafe { abort() }
}

fn print(text: &[u8]) {
    // SAFETY: `text` is a valid slice for the duration of the call; a failed
    // or short write only loses the message.
    unsafe {
        write(1, text.as_ptr(), text.len());
    }
}

/// The C entry point, called by the C runtime's start-up code (`crt1.o`).
#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    if run() {
        print(b"configcat-nostd-proof: ok\n");
        0
    } else {
        print(b"configcat-nostd-proof: unexpected value\n");
        1
    }
}

/// A flag `rollout` (text, default `off`) with two targeting rules:
/// 1. a confidential comparator (16, "is one of (hashed)") on Email, whose
///    list holds SHA-256(`vip@partner.test` + salt + `rollout`), serving `vip`;
/// 2. a text comparator (32, "ends with any of") on Email `@example.com`,
///    serving % options: 30% `canary`, 70% `stable`, by Identifier.
#[cfg(not(feature = "baseline"))]
const CONFIG_JSON: &[u8] = br#"{
  "p": {"u": "https://cdn-global.configcat.com", "r": 0, "s": "nostd-proof-salt"},
  "f": {
    "rollout": {
      "t": 1,
      "v": {"s": "off"},
      "i": "v-off",
      "r": [
        {
          "c": [{"u": {"a": "Email", "c": 16,
                       "l": ["8f7eb1447df320b819051d81ca7d1ce9750df662f05f9927ea696d7ad6b6ce97"]}}],
          "s": {"v": {"s": "vip"}, "i": "v-vip"}
        },
        {
          "c": [{"u": {"a": "Email", "c": 32, "l": ["@example.com"]}}],
          "p": [
            {"p": 30, "v": {"s": "canary"}, "i": "v-canary"},
            {"p": 70, "v": {"s": "stable"}, "i": "v-stable"}
          ]
        }
      ]
    }
  }
}"#;

/// (identifier, email, expected value of `rollout`). The % buckets are the
/// first 28 bits of SHA-1("rollout" + identifier) mod 100: 54 for "42", 21 for "44".
#[cfg(not(feature = "baseline"))]
const CASES: [(&str, &str, &str); 4] = [
    ("42", "jane@example.com", "stable"),
    ("44", "bob@example.com", "canary"),
    ("7", "vip@partner.test", "vip"),
    ("9", "someone@elsewhere.test", "off"),
];

/// Parses the config and checks four evaluations, then (unless `core-only`)
/// the same through the embedded client; true if all are as expected.
#[cfg(not(feature = "baseline"))]
fn run() -> bool {
    use configcat_core::{Config, NoLog, User};

    // `black_box` keeps the optimiser from treating the input as known.
    let Ok(config) = Config::parse(core::hint::black_box(CONFIG_JSON)) else {
        return false;
    };
    let core_ok = CASES.into_iter().all(|(identifier, email, expected)| {
        let user = User::new(identifier).with_email(email);
        config.get_value("rollout", "default", Some(&user), &NoLog) == expected
    });
    #[cfg(not(feature = "core-only"))]
    let embedded_ok = simulated_device::run(core::hint::black_box(CONFIG_JSON), "rollout", &CASES);
    #[cfg(feature = "core-only")]
    let embedded_ok = true;
    core_ok && embedded_ok
}

/// The same program without the core: allocates once so the allocator stays in.
#[cfg(feature = "baseline")]
fn run() -> bool {
    let text = alloc::string::String::from(core::hint::black_box("ok"));
    text == "ok"
}
