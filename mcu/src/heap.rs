//! The fixed heap: embedded-alloc's linked-list first-fit heap (the
//! allocator most no_std firmware uses; `--features tlsf` swaps in its
//! TLSF heap) behind a wrapper that records the bytes in use, the peak, and
//! the sizes of the blocks live at the peak.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::RefCell;

use critical_section::Mutex;

#[cfg(not(feature = "tlsf"))]
type Inner = embedded_alloc::LlffHeap;
#[cfg(feature = "tlsf")]
type Inner = embedded_alloc::TlsfHeap;

/// The most bytes a run may give the heap; a run chooses its size below that.
pub const MAX_HEAP_BYTES: usize = 256 * 1024;
/// Live blocks tracked for the peak's breakdown; more are counted, not listed.
pub const TRACKED_BLOCKS: usize = 512;

/// The heap's counters.
#[derive(Clone, Copy)]
pub struct Stats {
    /// Bytes the heap was given.
    pub size: usize,
    /// Bytes in live blocks now (as requested, without the allocator's overhead).
    pub in_use: usize,
    /// The most bytes in live blocks since the last [`reset_peak`].
    pub peak: usize,
    /// Live blocks now.
    pub blocks: usize,
    /// The size of a request the heap could not serve, if one failed.
    pub failed_request: Option<usize>,
}

struct State {
    stats: Stats,
    live: [(usize, u32); TRACKED_BLOCKS],
    live_len: usize,
    /// Sizes of the blocks live at the peak, largest first after [`peak_blocks`].
    at_peak: [u32; TRACKED_BLOCKS],
    at_peak_len: usize,
    tracking: bool,
}

/// The global allocator: embedded-alloc's heap plus the counters.
pub struct TrackingHeap {
    inner: Inner,
    state: Mutex<RefCell<State>>,
}

impl TrackingHeap {
    /// An empty heap; [`init`] gives it memory.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            inner: Inner::empty(),
            state: Mutex::new(RefCell::new(State {
                stats: Stats {
                    size: 0,
                    in_use: 0,
                    peak: 0,
                    blocks: 0,
                    failed_request: None,
                },
                live: [(0, 0); TRACKED_BLOCKS],
                live_len: 0,
                at_peak: [0; TRACKED_BLOCKS],
                at_peak_len: 0,
                tracking: false,
            })),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        critical_section::with(|cs| f(&mut self.state.borrow_ref_mut(cs)))
    }
}

impl Default for TrackingHeap {
    fn default() -> Self {
        Self::new()
    }
}

impl State {
    fn allocated(&mut self, ptr: usize, size: usize) {
        self.stats.in_use += size;
        self.stats.blocks += 1;
        if !self.tracking {
            self.stats.peak = self.stats.peak.max(self.stats.in_use);
            return;
        }
        if let Some(slot) = self.live.get_mut(self.live_len) {
            *slot = (ptr, u32::try_from(size).unwrap_or(u32::MAX));
            self.live_len += 1;
        }
        if self.stats.in_use > self.stats.peak {
            self.stats.peak = self.stats.in_use;
            for (to, from) in self.at_peak.iter_mut().zip(&self.live[..self.live_len]) {
                *to = from.1;
            }
            self.at_peak_len = self.live_len;
        }
    }

    fn freed(&mut self, ptr: usize, size: usize) {
        self.stats.in_use -= size;
        self.stats.blocks -= 1;
        if let Some(index) = self.live[..self.live_len]
            .iter()
            .rposition(|&(p, _)| p == ptr)
        {
            self.live_len -= 1;
            self.live.swap(index, self.live_len);
        }
    }
}

// SAFETY: every method forwards to embedded-alloc's heap, which upholds the
// `GlobalAlloc` contract; the bookkeeping around it never touches the blocks.
unsafe impl GlobalAlloc for TrackingHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        let ptr = unsafe { self.inner.alloc(layout) };
        self.with(|state| {
            if ptr.is_null() {
                state.stats.failed_request = Some(layout.size());
            } else {
                state.allocated(ptr as usize, layout.size());
            }
        });
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.with(|state| state.freed(ptr as usize, layout.size()));
        // SAFETY: the caller's contract for `dealloc` is passed on unchanged.
        unsafe { self.inner.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc` is passed on unchanged.
        let new = unsafe { self.inner.realloc(ptr, layout, new_size) };
        self.with(|state| {
            if new.is_null() {
                state.stats.failed_request = Some(new_size);
            } else {
                state.freed(ptr as usize, layout.size());
                state.allocated(new as usize, new_size);
            }
        });
        new
    }
}

#[global_allocator]
static HEAP: TrackingHeap = TrackingHeap::new();

/// Gives the heap `size` bytes (at most [`MAX_HEAP_BYTES`]) of a static
/// region; later calls do nothing.
pub fn init(size: usize) {
    use core::mem::MaybeUninit;
    static mut MEMORY: [MaybeUninit<u8>; MAX_HEAP_BYTES] = [MaybeUninit::uninit(); MAX_HEAP_BYTES];
    static DONE: Mutex<RefCell<bool>> = Mutex::new(RefCell::new(false));
    let first = critical_section::with(|cs| !DONE.replace(cs, true));
    if !first {
        return;
    }
    let size = size.min(MAX_HEAP_BYTES);
    // SAFETY: embedded-alloc's documented set-up: `MEMORY` is used by nothing
    // else, and `DONE` makes this the one and only `init`, before any allocation.
    unsafe { HEAP.inner.init(&raw mut MEMORY as usize, size) }
    HEAP.with(|state| state.stats.size = size);
}

/// The counters now.
#[must_use]
pub fn stats() -> Stats {
    HEAP.with(|state| state.stats)
}

/// Starts a new peak measurement from what is live now.
pub fn reset_peak() {
    HEAP.with(|state| {
        state.stats.peak = state.stats.in_use;
        state.at_peak_len = state.live_len;
        for (to, from) in state.at_peak.iter_mut().zip(&state.live[..state.live_len]) {
            *to = from.1;
        }
    });
}

/// Turns the per-block bookkeeping off (for instruction counts: only the
/// totals are kept, so the count is close to a plain allocator's) or on.
pub fn set_tracking(on: bool) {
    HEAP.with(|state| {
        state.tracking = on;
        state.live_len = 0;
    });
}

/// Calls `f` with the sizes of the blocks live at the peak, largest first.
pub fn peak_blocks(f: impl FnOnce(&[u32])) {
    let mut sizes = [0_u32; TRACKED_BLOCKS];
    let len = HEAP.with(|state| {
        sizes[..state.at_peak_len].copy_from_slice(&state.at_peak[..state.at_peak_len]);
        state.at_peak_len
    });
    let sizes = &mut sizes[..len];
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    f(sizes);
}
