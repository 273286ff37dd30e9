//! A bump allocator over a static arena, the smallest allocator that lets the
//! core's parser and evaluator run with no std and no extra dependency.
//!
//! Allocation moves a cursor forward. Freeing or resizing the most recent
//! block moves it back (so a growing `Vec` or `String` extends in place), and
//! when no block is live the whole arena is reused. Anything else is leaked
//! until then, which is fine for a program that parses one config.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::{Cell, UnsafeCell};
use core::ptr;

/// Bytes in the arena. Parsing and evaluating the proof's config peaks far below this.
pub(crate) const ARENA_SIZE: usize = 256 * 1024;

#[repr(C, align(16))]
struct Arena(UnsafeCell<[u8; ARENA_SIZE]>);

/// The allocator; see the module docs.
pub(crate) struct BumpAllocator {
    arena: Arena,
    /// Offset of the first free byte.
    next: Cell<usize>,
    /// Number of blocks handed out and not yet freed.
    live: Cell<usize>,
}

// SAFETY: the program has one thread. There is no std, so nothing in it can
// spawn another, and it installs no signal handlers that allocate; so the
// `Cell`s are never accessed concurrently.
unsafe impl Sync for BumpAllocator {}

impl BumpAllocator {
    pub(crate) const fn new() -> Self {
        Self {
            arena: Arena(UnsafeCell::new([0; ARENA_SIZE])),
            next: Cell::new(0),
            live: Cell::new(0),
        }
    }

    fn base(&self) -> *mut u8 {
        self.arena.0.get().cast::<u8>()
    }

    /// Offset of `block` in the arena. `block` must have come from this allocator.
    fn offset_of(&self, block: *mut u8) -> usize {
        block.addr() - self.base().addr()
    }

    /// Offset at which a block of `layout` would start, or `None` if it does not fit.
    fn reserve(&self, layout: Layout) -> Option<(usize, usize)> {
        let base = self.base().addr();
        let start = base
            .checked_add(self.next.get())?
            .checked_next_multiple_of(layout.align())?
            - base;
        let end = start.checked_add(layout.size())?;
        (end <= ARENA_SIZE).then_some((start, end))
    }
}

// SAFETY: every block returned lies inside the arena, is aligned as asked, and
// does not overlap any other live block: blocks are carved from `next` onwards
// and `next` only moves back over the most recent block, once it is freed or
// resized by its owner, or to 0 once no block is live.
unsafe impl GlobalAlloc for BumpAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some((start, end)) = self.reserve(layout) else {
            return ptr::null_mut();
        };
        self.next.set(end);
        self.live.set(self.live.get() + 1);
        // SAFETY: `start <= end <= ARENA_SIZE`, so the pointer stays inside the arena.
        unsafe { self.base().add(start) }
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        let live = self.live.get() - 1;
        self.live.set(live);
        let start = self.offset_of(block);
        if live == 0 {
            self.next.set(0);
        } else if start + layout.size() == self.next.get() {
            self.next.set(start);
        }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let start = self.offset_of(block);
        let is_last = start + layout.size() == self.next.get();
        let fits = start
            .checked_add(new_size)
            .is_some_and(|end| end <= ARENA_SIZE);
        if is_last && fits {
            // Grow or shrink the most recent block in place.
            self.next.set(start + new_size);
            return block;
        }
        if new_size <= layout.size() {
            // Shrinking elsewhere: keep the block; the tail is reclaimed with the arena.
            return block;
        }
        // SAFETY: the caller guarantees `new_size`, rounded up to `layout.align()`,
        // does not overflow `isize`, which is what `Layout` requires.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: `new_layout` has a non-zero size, as `new_size > layout.size()`.
        let new_block = unsafe { self.alloc(new_layout) };
        if !new_block.is_null() {
            // SAFETY: both blocks are live, distinct (the new one was carved
            // after the old one) and at least `layout.size()` bytes long.
            unsafe {
                ptr::copy_nonoverlapping(block, new_block, layout.size());
                self.dealloc(block, layout);
            }
        }
        new_block
    }
}
