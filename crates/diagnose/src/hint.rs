//! Prefetch hints: asking the processor for memory a little before it is
//! read. A hint changes nothing the program computes, whatever the address
//! (a dangling or unmapped one included): it can only make a later read
//! faster, or cost the instruction.

/// Asks the processor to bring the cache line of `p` into its caches.
#[allow(unsafe_code)] // a prefetch hint
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: `_mm_prefetch` needs SSE, which every x86_64 processor
        // has; and a prefetch is a hint: it never faults and reads
        // nothing into the program, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>()) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Asks for every cache line of the `len` bytes from `p`.
pub(crate) fn prefetch_bytes(p: *const u8, len: usize) {
    if len == 0 {
        return;
    }
    let first = p as usize / 64;
    let last = (p as usize).wrapping_add(len - 1) / 64;
    for line in 0..=last.saturating_sub(first) {
        prefetch(p.wrapping_add(line * 64));
    }
}

/// Asks for the memory of `v`.
pub(crate) fn prefetch_value<T>(v: &T) {
    prefetch_bytes(std::ptr::from_ref(v).cast::<u8>(), std::mem::size_of::<T>());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_read_nothing_and_never_fault() {
        // Null, dangling and unmapped addresses, and a range wrapping past
        // the end of the address space: hints, not reads.
        prefetch(std::ptr::null::<u8>());
        prefetch_bytes(std::ptr::NonNull::<u64>::dangling().as_ptr().cast(), 4096);
        prefetch_bytes(usize::MAX as *const u8, 128);
        let v = [7u8; 300];
        prefetch_value(&v);
        assert_eq!(v[299], 7);
    }
}
