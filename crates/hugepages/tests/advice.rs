//! The allocator, installed, really marks large blocks and the grown heap
//! for huge pages: the kernel's own account (`/proc/self/smaps`, flag `hg`
//! for MADV_HUGEPAGE) is checked, not the allocator's.
//!
//! Without the test harness: the heap (`brk`) serves the main thread only
//! (glibc gives other threads arenas of their own), so the checks run there.

use hugepages::{HugePages, HUGE_PAGE};

#[global_allocator]
static ALLOCATOR: HugePages = HugePages;

/// The mappings of this process: (start, end, name, VmFlags).
fn mappings() -> Vec<(usize, usize, String, String)> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").expect("read /proc/self/smaps");
    let mut out: Vec<(usize, usize, String, String)> = Vec::new();
    for line in smaps.lines() {
        if let Some(flags) = line.strip_prefix("VmFlags:") {
            if let Some(last) = out.last_mut() {
                last.3 = flags.trim().to_string();
            }
        } else if let Some((range, rest)) = line.split_once(' ') {
            if let Some((a, b)) = range.split_once('-') {
                if let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
                {
                    let name = rest.split_whitespace().nth(4).unwrap_or("").to_string();
                    out.push((a, b, name, String::new()));
                }
            }
        }
    }
    out
}

fn advised(flags: &str) -> bool {
    flags.split_whitespace().any(|f| f == "hg")
}

/// Whether this kernel has transparent huge pages at all (MADV_HUGEPAGE is
/// refused without them).
fn kernel_has_thp() -> bool {
    let has = std::path::Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists();
    if !has {
        eprintln!("SKIP: this kernel has no transparent huge pages");
    }
    has
}

fn a_large_block_is_advised_before_use() {
    let block: Vec<u8> = Vec::with_capacity(8 * HUGE_PAGE);
    let at = block.as_ptr().addr();
    let maps = mappings();
    // The huge page after the block's start lies wholly inside the block.
    let page = (at + HUGE_PAGE - 1) & !(HUGE_PAGE - 1);
    let (_, _, _, flags) = maps
        .iter()
        .find(|(a, b, _, _)| *a <= page && page < *b)
        .expect("the block is mapped");
    assert!(advised(flags), "block at {at:#x}: VmFlags {flags}");
    // A growing vector stays advised as it moves.
    let mut grown: Vec<u64> = Vec::new();
    for i in 0..(6 * HUGE_PAGE / 8) {
        grown.push(i as u64);
    }
    // It is advised whole, in one mapping: advice on part of it would split
    // the mapping, and glibc could no longer grow it in place (mremap).
    let at = grown.as_ptr().addr();
    let end = at + grown.capacity() * 8;
    let maps = mappings();
    let (_, _, _, flags) = maps
        .iter()
        .find(|(a, b, _, _)| *a <= at && end <= *b)
        .unwrap_or_else(|| panic!("the vector {at:#x}..{end:#x} spans mappings: {maps:x?}"));
    assert!(advised(flags), "vector at {at:#x}: VmFlags {flags}");
}

fn the_heap_is_advised_as_it_grows() {
    // Small blocks, as a transaction's packet buffers: 64 MiB of them, more
    // than the heap grows by at once.
    let blocks: Vec<Box<[u8; 1024]>> = (0..65_536).map(|_| Box::new([0u8; 1024])).collect();
    let maps = mappings();
    let heap: Vec<_> = maps
        .iter()
        .filter(|(a, b, _, _)| {
            blocks
                .iter()
                .any(|x| (*a..*b).contains(&std::ptr::from_ref(&**x).addr()))
        })
        .collect();
    assert!(!heap.is_empty());
    let advised_bytes: usize = heap
        .iter()
        .filter(|m| advised(&m.3))
        .map(|m| m.1 - m.0)
        .sum();
    let total: usize = heap.iter().map(|m| m.1 - m.0).sum();
    // All but the pieces at the edges of each growth.
    assert!(
        advised_bytes * 2 > total,
        "{advised_bytes} of {total} bytes advised: {heap:?}"
    );
}

fn main() {
    if cfg!(not(all(target_os = "linux", target_env = "gnu"))) {
        eprintln!("SKIP: huge pages are asked for on Linux with glibc only");
        return;
    }
    if !kernel_has_thp() {
        return;
    }
    a_large_block_is_advised_before_use();
    println!("test a_large_block_is_advised_before_use ... ok");
    the_heap_is_advised_as_it_grows();
    println!("test the_heap_is_advised_as_it_grows ... ok");
}
