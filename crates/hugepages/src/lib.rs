//! A global allocator that asks Linux for transparent huge pages.
//!
//! `diagnose` keeps a record per client and a packet buffer per open
//! transaction, tens of MB on a busy capture, and reads them in no order the
//! processor can foresee. With 4 KiB pages nearly every such read misses the
//! TLB as well as the cache; with 2 MiB pages the same memory needs 512 times
//! fewer entries. [`HugePages`] is the system allocator plus
//! `madvise(MADV_HUGEPAGE)` on:
//!
//! - every block of 1 MiB or more (the aligned 2 MiB pieces inside it), when
//!   it is allocated or reallocated, before anything touches it;
//! - the heap, each time it grows: glibc is told to grow it 32 MiB at a time
//!   (`M_TOP_PAD`), and the new part is advised before it is handed out.
//!   This covers the main thread's heap (`brk`); glibc gives other threads
//!   arenas of their own, which stay as they were.
//!
//! It is what glibc's `GLIBC_TUNABLES=glibc.malloc.hugetlb=1` does, from
//! inside the program, with one side effect: setting `M_TOP_PAD` stops glibc
//! from raising its mmap threshold as the program frees large blocks, so
//! blocks of 128 KiB or more are always mapped on their own and given back
//! when freed. Elsewhere (not Linux with glibc) it is the system allocator
//! unchanged. Advice is only advice: with huge pages set to `never` in
//! `/sys/kernel/mm/transparent_hugepage/enabled`, or none free, the kernel
//! uses small pages, and nothing else changes.
//!
//! The cost is memory: a huge page is backed whole at its first touch, so the
//! peak resident size grows by up to a few MiB.

#![allow(unsafe_code)] // a global allocator, and madvise

use std::alloc::{GlobalAlloc, Layout, System};

/// The system allocator, asking for transparent huge pages (see the crate
/// documentation). Install with `#[global_allocator]`.
pub struct HugePages;

// SAFETY: every method hands its arguments to `System` unchanged and returns
// what `System` returned; the advice only changes how the kernel backs memory
// this process already owns, never its contents.
unsafe impl GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        imp::before_alloc();
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.alloc(layout) };
        imp::after_alloc(p, layout.size());
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        imp::before_alloc();
        // SAFETY: the caller's contract, passed on. (A large zeroed block is
        // fresh zero pages from the kernel, still untouched when advised.)
        let p = unsafe { System.alloc_zeroed(layout) };
        imp::after_alloc(p, layout.size());
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        imp::before_alloc();
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        imp::after_alloc(p, new_size);
        p
    }
}

/// Blocks at least this large are advised on their own.
pub const LARGE: usize = 1 << 20;

/// The size of a transparent huge page on x86-64 and (with 4 KiB base pages)
/// arm64.
pub const HUGE_PAGE: usize = 2 << 20;

/// How much glibc grows the heap by at a time, at least, once the allocator
/// has started: large, so that few huge pages straddle two growths (the one
/// that does is left to small pages).
pub const HEAP_STEP: usize = 32 << 20;

/// The 2 MiB-aligned part of `[start, start + len)`, if any.
pub fn aligned_interior(start: usize, len: usize) -> Option<(usize, usize)> {
    let first = start.checked_add(HUGE_PAGE - 1)? & !(HUGE_PAGE - 1);
    let end = start.checked_add(len)? & !(HUGE_PAGE - 1);
    (end > first).then(|| (first, end - first))
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod imp {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::{aligned_interior, HEAP_STEP, LARGE};

    /// The program break (the heap's end) as last seen; 0 before the first
    /// allocation.
    static BREAK: AtomicUsize = AtomicUsize::new(0);

    fn advise(start: usize, len: usize) {
        if let Some((first, len)) = aligned_interior(start, len) {
            // SAFETY: MADV_HUGEPAGE only marks the mapping; it reads and
            // writes no memory, and fails harmlessly on anything unmapped.
            unsafe {
                libc::madvise(
                    std::ptr::without_provenance_mut(first),
                    len,
                    libc::MADV_HUGEPAGE,
                )
            };
        }
    }

    fn program_break() -> usize {
        // SAFETY: sbrk(0) moves nothing; it returns the current break.
        unsafe { libc::sbrk(0) }.addr()
    }

    pub(super) fn before_alloc() {
        if BREAK.load(Ordering::Relaxed) == 0 {
            // SAFETY: mallopt only sets a number in glibc's malloc; it does
            // not call back into this allocator.
            unsafe { libc::mallopt(libc::M_TOP_PAD, HEAP_STEP as libc::c_int) };
            BREAK.store(program_break(), Ordering::Relaxed);
        }
    }

    pub(super) fn after_alloc(p: *mut u8, size: usize) {
        if p.is_null() {
            return;
        }
        if size >= LARGE {
            advise(p.addr(), size);
        }
        // The heap grew: advise the new part, which glibc has touched only
        // at its first bytes, if at all.
        let now = program_break();
        if now != BREAK.load(Ordering::Relaxed) {
            let was = BREAK.swap(now, Ordering::Relaxed);
            if now > was {
                advise(was, now - was);
            }
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod imp {
    pub(super) fn before_alloc() {}
    pub(super) fn after_alloc(_: *mut u8, _: usize) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_interior_keeps_whole_huge_pages_only() {
        let m = HUGE_PAGE;
        assert_eq!(aligned_interior(0, m), Some((0, m)));
        assert_eq!(aligned_interior(1, m), None);
        assert_eq!(aligned_interior(1, 10), None);
        assert_eq!(aligned_interior(1, 2 * m), Some((m, m)));
        assert_eq!(aligned_interior(m - 16, 3 * m), Some((m, 2 * m)));
        assert_eq!(aligned_interior(m, m - 1), None);
        assert_eq!(aligned_interior(usize::MAX - 5, 100), None);
    }
}
