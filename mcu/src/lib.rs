//! Runtime glue of the microcontroller firmware in `src/bin/`: the entry
//! point's neighbours (panic and fault handlers that exit QEMU non-zero), a
//! fixed heap that records its peak and what makes it, stack painting,
//! semihosting I/O and the RISC-V retired-instruction counter.
//!
//! Everything here runs on one core without interrupts. The only `unsafe`
//! is what the runtime crates require (heap init, the allocator interface,
//! fault handlers) and the stack paint, each with a SAFETY comment.
#![no_std]

extern crate alloc;

#[cfg(all(feature = "e2e", target_arch = "riscv32"))]
pub mod e2e;
pub mod heap;
pub mod host;
pub mod refresh_paths;
pub mod stack;

use core::panic::PanicInfo;

// Linked for its single-core `critical-section` implementation (the heap's lock).
#[cfg(target_arch = "arm")]
use cortex_m as _;

/// Exit status of a panic: the harness tells it from a wrong answer.
pub const PANIC_EXIT: i32 = 101;
/// Exit status of a CPU fault or trap (a stray instruction, a bad access).
pub const FAULT_EXIT: i32 = 102;

/// Ends the QEMU run with `code` as its exit status.
pub fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    // A panic while a heap allocation fails is reported with the request's size.
    semihosting::eprintln!("configcat-mcu: PANIC: {info}");
    if let Some(size) = heap::stats().failed_request {
        semihosting::eprintln!("configcat-mcu: a heap request of {size} bytes failed");
    }
    exit(PANIC_EXIT)
}

/// Instructions retired so far: `minstret`, exact under QEMU's `-icount shift=0`.
#[cfg(target_arch = "riscv32")]
#[must_use]
pub fn instret() -> u64 {
    riscv::register::minstret::read64()
}

/// Instructions retired so far: the Cortex-M boards have no such counter (0).
#[cfg(not(target_arch = "riscv32"))]
#[must_use]
pub const fn instret() -> u64 {
    0
}

/// The machine's name, for reports.
#[must_use]
pub const fn isa() -> &'static str {
    if cfg!(target_arch = "riscv32") {
        "riscv32imc"
    } else if cfg!(target_feature = "thumb2") {
        "thumbv7em"
    } else {
        "thumbv6m"
    }
}

#[cfg(target_arch = "riscv32")]
mod fault {
    /// Any exception (illegal instruction, misaligned or faulting access) ends
    /// the run: `riscv-rt` would otherwise spin in `abort` until the CI timeout.
    #[unsafe(export_name = "ExceptionHandler")]
    fn exception_handler(_frame: &riscv_rt::TrapFrame) -> ! {
        let cause = riscv::register::mcause::read().bits();
        let pc = riscv::register::mepc::read();
        semihosting::eprintln!("configcat-mcu: TRAP mcause={cause:#x} mepc={pc:#x}");
        super::exit(super::FAULT_EXIT)
    }
}

#[cfg(target_arch = "arm")]
mod fault {
    use cortex_m_rt::{ExceptionFrame, exception};

    /// A hard fault ends the run instead of the default endless loop.
    // SAFETY: cortex-m-rt requires the HardFault handler to be an `unsafe fn`;
    // it only reads the stacked frame it is handed.
    #[exception]
    unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
        semihosting::eprintln!("configcat-mcu: HARD FAULT at pc={:#x}", frame.pc());
        super::exit(super::FAULT_EXIT)
    }
}
