//! The stack's high-water mark by painting: a known word is written over the
//! unused stack below the caller, and the lowest word that no longer holds
//! it shows how deep the stack went.

use core::cell::Cell;

use critical_section::Mutex;

const PAINT: u32 = 0xC0FF_EE5A;
/// How far below the painting frame the paint reaches (it stops above `.bss`).
pub const PAINT_BYTES: usize = 96 * 1024;

/// (stack pointer of the painting frame, lowest painted address)
static PAINTED: Mutex<Cell<(usize, usize)>> = Mutex::new(Cell::new((0, 0)));

unsafe extern "C" {
    /// End of `.bss`, defined by both cortex-m-rt's and riscv-rt's linker
    /// scripts; the stack grows down towards it.
    static __ebss: u8;
}

fn stack_pointer() -> usize {
    let marker = 0_u8;
    core::hint::black_box(&raw const marker) as usize
}

/// Paints the stack below the caller's frame (leaving 256 bytes for this
/// function's own frame); [`high_water`] measures from the caller's frame.
#[inline(never)]
pub fn paint() {
    let sp = stack_pointer();
    let top = (sp - 256) & !3;
    let floor = (&raw const __ebss as usize + 64) & !3;
    let bottom = top.saturating_sub(PAINT_BYTES).max(floor);
    let mut address = bottom;
    while address < top {
        // SAFETY: [bottom, top) lies between the end of `.bss` and this
        // frame's stack pointer minus 256 bytes: memory nothing owns (no
        // interrupts run, and this function's own frame is above `top`).
        unsafe { (address as *mut u32).write_volatile(PAINT) };
        address += 4;
    }
    critical_section::with(|cs| PAINTED.borrow(cs).set((sp, bottom)));
}

/// The deepest stack use since the last [`paint`], in bytes below the frame
/// that painted (the whole painted window if the paint was all used up).
#[must_use]
pub fn high_water() -> usize {
    let (sp, bottom) = critical_section::with(|cs| PAINTED.borrow(cs).get());
    let mut address = bottom;
    while address < sp {
        // SAFETY: the same window `paint` wrote; reading it races with nothing.
        let word = unsafe { (address as *const u32).read_volatile() };
        if word != PAINT {
            break;
        }
        address += 4;
    }
    sp.saturating_sub(address)
}
