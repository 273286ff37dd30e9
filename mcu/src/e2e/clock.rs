//! The device's monotonic clock: the CLINT's `mtime` on QEMU's riscv32
//! `virt` (10 MHz, QEMU's virtual clock, from 0 at reset), and a `wfi` that
//! sleeps until a given time.

use configcat_embedded::Instant;

/// `mtime`, the CLINT's 64-bit timer, as two 32-bit words (RV32 has no
/// 64-bit load).
const MTIME: usize = 0x0200_BFF8;
/// Hart 0's `mtimecmp`: a timer interrupt is pending while `mtime` >= it.
const MTIMECMP: usize = 0x0200_4000;
/// `mtime` ticks per millisecond (the `virt` machine's 10 MHz timebase).
const TICKS_PER_MS: u64 = 10_000;

fn read_word(address: usize) -> u32 {
    // SAFETY: a CLINT register of QEMU's `virt` machine, always mapped; reads
    // have no side effects.
    unsafe { (address as *const u32).read_volatile() }
}

fn ticks() -> u64 {
    // High, low, high again: a carry between the two halves is seen and retried.
    loop {
        let high = read_word(MTIME + 4);
        let low = read_word(MTIME);
        if read_word(MTIME + 4) == high {
            return (u64::from(high) << 32) | u64::from(low);
        }
    }
}

/// Milliseconds since reset.
#[must_use]
pub fn uptime_ms() -> u64 {
    ticks() / TICKS_PER_MS
}

/// Now, on the device's monotonic clock.
#[must_use]
pub fn now() -> Instant {
    Instant::from_millis(uptime_ms())
}

/// Sleeps (`wfi`) until `until` on the monotonic clock, or returns at once
/// if it has passed. Machine interrupts stay disabled (`mstatus.MIE` is never
/// set): the pending timer interrupt only ends the `wfi`, no handler runs.
pub fn sleep_until(until: Instant) {
    let deadline = until.as_millis().saturating_mul(TICKS_PER_MS);
    // All ones first, so the comparator never sees a half-written time below `mtime`.
    let words = [
        (MTIMECMP + 4, u32::MAX),
        (MTIMECMP, (deadline & 0xFFFF_FFFF) as u32),
        (MTIMECMP + 4, (deadline >> 32) as u32),
    ];
    for (address, value) in words {
        // SAFETY: hart 0's `mtimecmp`, a CLINT register of the `virt` machine;
        // writing it only moves the timer interrupt, which no handler serves.
        unsafe { (address as *mut u32).write_volatile(value) };
    }
    // SAFETY: enables the timer interrupt in `mie` only; with `mstatus.MIE`
    // clear it is never taken, it just wakes `wfi`.
    unsafe { riscv::register::mie::set_mtimer() };
    while ticks() < deadline {
        riscv::asm::wfi();
    }
}
