//! Shared runtime pieces for the fixture contracts (no_std, stable Rust, `wasm32v1-none`).
//!
//! * a `#[panic_handler]` that traps (`unreachable`);
//! * two global allocators, selected per fixture with a macro:
//!   - [`bump_allocator!`]: bump allocation inside a static arena in the data/bss area. It never
//!     executes `memory.grow`, so fixtures that use it contain no `memory.grow` instruction.
//!   - [`growing_allocator!`]: bump allocation from pages obtained with `memory.grow`
//!     (only the `memory_grow` fixture uses it).
//!
//! Memory is never freed: sessions and entry points are short-lived.
#![no_std]

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;

#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// Size of the static arena of [`BumpAlloc`]: 256 KiB (4 Wasm pages).
pub const ARENA_SIZE: usize = 256 * 1024;

#[repr(C, align(16))]
struct Arena([u8; ARENA_SIZE]);

/// Bump allocator inside a static arena; never grows memory. Out of space → null (→ trap).
pub struct BumpAlloc {
    arena: UnsafeCell<Arena>,
    next: UnsafeCell<usize>,
}

// Wasm here is single-threaded.
unsafe impl Sync for BumpAlloc {}

impl BumpAlloc {
    pub const fn new() -> Self {
        BumpAlloc { arena: UnsafeCell::new(Arena([0; ARENA_SIZE])), next: UnsafeCell::new(0) }
    }
}

impl Default for BumpAlloc {
    fn default() -> Self {
        Self::new()
    }
}

unsafe impl GlobalAlloc for BumpAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let base = self.arena.get() as usize;
        let next = &mut *self.next.get();
        let start = (base + *next + layout.align() - 1) & !(layout.align() - 1);
        let end = match start.checked_add(layout.size()) {
            Some(end) => end,
            None => return core::ptr::null_mut(),
        };
        if end > base + ARENA_SIZE {
            return core::ptr::null_mut();
        }
        *next = end - base;
        start as *mut u8
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

/// Bump allocator over pages obtained with `memory.grow`.
pub struct GrowAlloc {
    next: UnsafeCell<usize>,
    end: UnsafeCell<usize>,
}

unsafe impl Sync for GrowAlloc {}

impl GrowAlloc {
    pub const fn new() -> Self {
        GrowAlloc { next: UnsafeCell::new(0), end: UnsafeCell::new(0) }
    }
}

impl Default for GrowAlloc {
    fn default() -> Self {
        Self::new()
    }
}

const PAGE: usize = 65536;

#[cfg(target_arch = "wasm32")]
unsafe impl GlobalAlloc for GrowAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let next = &mut *self.next.get();
        let end = &mut *self.end.get();
        let mut start = (*next + layout.align() - 1) & !(layout.align() - 1);
        if *next == 0 || start + layout.size() > *end {
            // Fresh pages: enough for this request, at least one page.
            let pages = (layout.size() + layout.align() + PAGE - 1) / PAGE;
            let old = core::arch::wasm32::memory_grow(0, pages.max(1));
            if old == usize::MAX {
                return core::ptr::null_mut();
            }
            let base = old * PAGE;
            if *end != base {
                *next = base;
            }
            *end = base + pages.max(1) * PAGE;
            start = (*next + layout.align() - 1) & !(layout.align() - 1);
        }
        *next = start + layout.size();
        start as *mut u8
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

/// Installs [`BumpAlloc`] (static arena, no `memory.grow`) as the global allocator.
#[macro_export]
macro_rules! bump_allocator {
    () => {
        #[global_allocator]
        static ALLOC: $crate::BumpAlloc = $crate::BumpAlloc::new();
    };
}

/// Installs [`GrowAlloc`] (uses `memory.grow`) as the global allocator.
#[macro_export]
macro_rules! growing_allocator {
    () => {
        #[global_allocator]
        static ALLOC: $crate::GrowAlloc = $crate::GrowAlloc::new();
    };
}
