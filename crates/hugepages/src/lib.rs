//! A global allocator that asks Linux for transparent huge pages.
//!
//! `diagnose` keeps a record per client and a packet buffer per open
//! transaction, tens of MB on a busy capture, and reads them in no order the
//! processor can foresee. With 4 KiB pages nearly every such read misses the
//! TLB as well as the cache; with 2 MiB pages the same memory needs 512 times
//! fewer entries. [`HugePages`] is the system allocator plus
//! `madvise(MADV_HUGEPAGE)` on:
//!
//! - every block of 1 MiB or more (the whole pages it spans), when it is
//!   allocated or reallocated, before anything touches it;
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

/// The whole pages (of `page` bytes) that `[start, start + len)` touches, if
/// they hold at least one huge page.
///
/// Whole pages, not just the 2 MiB-aligned middle: advice on part of a
/// mapping splits it in three, and glibc can then no longer grow a large
/// block in place with `mremap` (which wants one mapping); it copies it
/// instead, old and new both resident. Advising the whole mapping is what
/// glibc's tunable does too.
pub fn pages_around(start: usize, len: usize, page: usize) -> Option<(usize, usize)> {
    let first = start & !(page - 1);
    let end = start.checked_add(len)?.checked_add(page - 1)? & !(page - 1);
    (end - first >= HUGE_PAGE).then(|| (first, end - first))
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod imp {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::{pages_around, HEAP_STEP, LARGE};

    /// The program break (the heap's end) as last seen; 0 before the first
    /// allocation.
    static BREAK: AtomicUsize = AtomicUsize::new(0);

    /// The base page size, from the first allocation on.
    static PAGE: AtomicUsize = AtomicUsize::new(4096);

    fn advise(start: usize, len: usize) {
        if let Some((first, len)) = pages_around(start, len, PAGE.load(Ordering::Relaxed)) {
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
            // SAFETY: sysconf reads a constant of the system.
            let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            if let Ok(page) = usize::try_from(page) {
                if page.is_power_of_two() {
                    PAGE.store(page, Ordering::Relaxed);
                }
            }
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
    fn pages_around_covers_whole_pages_holding_a_huge_page() {
        let (m, p) = (HUGE_PAGE, 4096);
        assert_eq!(pages_around(0, m, p), Some((0, m)));
        assert_eq!(pages_around(16, m, p), Some((0, m + p)));
        assert_eq!(pages_around(16, m - 16, p), Some((0, m)));
        assert_eq!(pages_around(16, m - p - 16, p), None);
        assert_eq!(pages_around(1, 10, p), None);
        assert_eq!(pages_around(3 * p + 5, 3 * m, p), Some((3 * p, 3 * m + p)));
        assert_eq!(pages_around(usize::MAX - 5, 100, p), None);
    }
}
