//! Helpers for the unit tests of the commands that write pcapng (`-w`).

/// The packets of a pcapng written in this host's byte order, as
/// (`epb_flags`, comments) of each Enhanced Packet Block (`None`: the block
/// has no epb_flags). Reads only whole blocks: what a file cut short ends
/// with is left out, as a reader would.
pub fn epb_options(file: &[u8]) -> Vec<(Option<u32>, Vec<String>)> {
    let u32_at = |b: &[u8], i: usize| u32::from_ne_bytes(b[i..i + 4].try_into().unwrap());
    let u16_at = |b: &[u8], i: usize| u16::from_ne_bytes(b[i..i + 2].try_into().unwrap());
    let mut out = Vec::new();
    let mut at = 0;
    while at + 12 <= file.len() {
        let kind = u32_at(file, at);
        let len = u32_at(file, at + 4) as usize;
        if at + len > file.len() {
            break;
        }
        if kind == 6 {
            let caplen = u32_at(file, at + 20) as usize;
            let mut o = at + 28 + caplen.div_ceil(4) * 4;
            let end = at + len - 4;
            let (mut flags, mut comments) = (None, Vec::new());
            while o + 4 <= end {
                let (code, l) = (u16_at(file, o), usize::from(u16_at(file, o + 2)));
                match code {
                    0 => break,
                    1 => {
                        comments.push(String::from_utf8_lossy(&file[o + 4..o + 4 + l]).into_owned())
                    }
                    2 if l == 4 => flags = Some(u32_at(file, o + 4)),
                    _ => {}
                }
                o += 4 + l.div_ceil(4) * 4;
            }
            out.push((flags, comments));
        }
        at += len;
    }
    out
}

/// A fresh directory for one test's files.
pub fn temp_dir(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dhcplens-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
