//! Writing standard output behind, on a thread of its own.
//!
//! The reports of `diagnose --json` and `decode` run to hundreds of
//! megabytes. Written into a pipe or a file, the kernel's copy of them costs
//! about a sixth of the run; on a second thread it overlaps the analysis instead
//! (the mirror of the capture reader's read-ahead on pipes). A `BufWriter`
//! stays in front, so the commands' many small writes are as cheap as
//! before: what reaches [`WriteBehind`] is its buffers, 64 KiB at a time,
//! and the commands' own batches of that size or more.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileTypeExt;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, JoinHandle};

/// Pieces handed over and not yet written, at most.
const QUEUED: usize = 4;

/// A `Write` whose bytes are written by a thread of its own, a few writes
/// behind. Each `write` copies its bytes into a piece (recycled once
/// written) and hands it over, so it wants few, large writes: put a
/// `BufWriter` in front. `flush` waits until everything handed over is
/// written (e.g. before a warning on stderr, so that it comes in its place).
///
/// The first error the thread meets (e.g. `BrokenPipe` when the reader of
/// a pipe goes away) is returned by the next write or flush, or by
/// [`WriteBehind::finish`], which waits for everything to be written.
pub struct WriteBehind {
    /// Pieces to write; an empty one asks for a flush and an answer on `flushed`.
    full: Option<SyncSender<Vec<u8>>>,
    empty: Receiver<Vec<u8>>,
    flushed: Receiver<()>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl WriteBehind {
    /// Standard output written behind, if it is a pipe, a socket or a
    /// regular file and a thread can be started. A terminal is left to the
    /// caller's usual writer (a person reads it, and no faster than that),
    /// and so is `/dev/null`, where the hand-over would cost more than the
    /// write. The thread writes to a duplicate of the descriptor, past
    /// `io::stdout()`'s line buffering.
    pub fn for_stdout() -> Option<WriteBehind> {
        use std::os::fd::AsFd;
        let file = File::from(io::stdout().as_fd().try_clone_to_owned().ok()?);
        let t = file.metadata().ok()?.file_type();
        if t.is_file() || t.is_fifo() || t.is_socket() {
            WriteBehind::spawn(file).ok()
        } else {
            None
        }
    }

    /// Starts a thread writing to `out`.
    pub fn spawn<W: Write + Send + 'static>(mut out: W) -> io::Result<WriteBehind> {
        let (full, full_rx) = mpsc::sync_channel::<Vec<u8>>(QUEUED);
        let (empty_tx, empty) = mpsc::sync_channel::<Vec<u8>>(QUEUED + 2);
        let (flushed_tx, flushed) = mpsc::sync_channel::<()>(1);
        let thread = thread::Builder::new()
            .name("write-behind".into())
            .spawn(move || {
                for mut piece in full_rx {
                    if piece.is_empty() {
                        out.flush()?;
                        // The writer waits for this, unless it is gone.
                        let _ = flushed_tx.send(());
                        continue;
                    }
                    out.write_all(&piece)?;
                    piece.clear();
                    // The writer may be gone or have pieces enough.
                    let _ = empty_tx.try_send(piece);
                }
                out.flush()
            })?;
        Ok(WriteBehind {
            full: Some(full),
            empty,
            flushed,
            thread: Some(thread),
        })
    }

    /// Waits for everything handed over to be written and for the thread to
    /// end: the first error it met, if any.
    pub fn finish(mut self) -> io::Result<()> {
        self.stop()
    }

    /// Hands `piece` over (an empty one asks for a flush); if the thread
    /// has stopped, its error.
    fn hand_over(&mut self, piece: Vec<u8>) -> io::Result<()> {
        let Some(full) = &self.full else {
            return Err(io::Error::other("written after the output was finished"));
        };
        if full.send(piece).is_ok() {
            return Ok(());
        }
        self.stopped()
    }

    /// The thread stopped on an error: that error is the answer.
    fn stopped(&mut self) -> io::Result<()> {
        match self.stop() {
            Err(e) => Err(e),
            Ok(()) => Err(io::Error::other("the thread writing the output stopped")),
        }
    }

    /// [`WriteBehind::finish`], also for `Drop` and for a hand-over the
    /// thread no longer takes. Nothing can be written after it.
    fn stop(&mut self) -> io::Result<()> {
        self.full = None;
        match self.thread.take().map(JoinHandle::join) {
            None | Some(Ok(Ok(()))) => Ok(()),
            Some(Ok(Err(e))) => Err(e),
            Some(Err(_)) => Err(io::Error::other("the thread writing the output panicked")),
        }
    }
}

impl Write for WriteBehind {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut piece = self
            .empty
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(buf.len()));
        piece.extend_from_slice(buf);
        self.hand_over(piece)?;
        Ok(buf.len())
    }

    /// Waits until everything handed over is written and flushed.
    fn flush(&mut self) -> io::Result<()> {
        if self.full.is_none() {
            return Ok(());
        }
        self.hand_over(Vec::new())?;
        if self.flushed.recv().is_ok() {
            return Ok(());
        }
        self.stopped()
    }
}

impl Drop for WriteBehind {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufWriter;
    use std::sync::{Arc, Mutex};

    /// A `Write` into shared memory that fails with `BrokenPipe` once it
    /// holds `limit` bytes.
    #[derive(Clone)]
    struct Shared {
        bytes: Arc<Mutex<Vec<u8>>>,
        limit: usize,
    }

    impl Shared {
        fn new(limit: usize) -> Shared {
            Shared {
                bytes: Arc::default(),
                limit,
            }
        }
    }

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut b = self.bytes.lock().unwrap();
            if b.len() + buf.len() > self.limit {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            b.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn everything_written_arrives_in_order() {
        let out = Shared::new(usize::MAX);
        let behind = WriteBehind::spawn(out.clone()).unwrap();
        // The buffer `main` puts in front.
        let mut w = BufWriter::with_capacity(64 * 1024, behind);
        let mut expected = Vec::new();
        for i in 0..400_000u32 {
            let record = format!("{{\"n\":{i}}}\n");
            w.write_all(record.as_bytes()).unwrap();
            expected.extend_from_slice(record.as_bytes());
            if i % 70_000 == 0 {
                // Larger than the buffer: straight through.
                let big = vec![b' '; 100_000 + i as usize];
                w.write_all(&big).unwrap();
                expected.extend_from_slice(&big);
            }
        }
        w.into_inner().ok().unwrap().finish().unwrap();
        assert!(expected.len() > 100 * 64 * 1024);
        let written = out.bytes.lock().unwrap();
        assert_eq!(written.len(), expected.len());
        assert!(*written == expected, "the same length, other bytes");
    }

    /// A flush returns once everything before it is written (so that a
    /// warning on stderr comes after the output before it).
    #[test]
    fn a_flush_waits_for_the_bytes_before_it() {
        let out = Shared::new(usize::MAX);
        let mut w = WriteBehind::spawn(out.clone()).unwrap();
        for i in 0..50u8 {
            w.write_all(&[i; 70_000]).unwrap();
            w.flush().unwrap();
            assert_eq!(
                out.bytes.lock().unwrap().len(),
                70_000 * (usize::from(i) + 1)
            );
        }
        w.finish().unwrap();
    }

    /// A reader that goes away (`| head`): its error reaches the writer.
    #[test]
    fn the_first_error_comes_back() {
        let out = Shared::new(100_000);
        let mut w = WriteBehind::spawn(out.clone()).unwrap();
        let chunk = vec![b'x'; 4096];
        let mut failed = None;
        for _ in 0..10_000 {
            if let Err(e) = w.write_all(&chunk) {
                failed = Some(e);
                break;
            }
        }
        let e = failed.expect("a write fails once the thread has stopped");
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe, "{e}");
        assert!(w.write_all(b"more").is_err(), "nothing is written after");
        assert!(w.finish().is_ok(), "the error was returned once");
        assert_eq!(out.bytes.lock().unwrap().len(), 100_000 / 4096 * 4096);
    }

    #[test]
    fn an_error_met_by_a_flush_comes_back_from_it() {
        let out = Shared::new(10);
        let mut w = WriteBehind::spawn(out).unwrap();
        w.write_all(b"0123456789abc").unwrap();
        let e = w.flush().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe, "{e}");
        assert!(w.finish().is_ok(), "the error was returned once");
    }

    #[test]
    fn an_error_of_the_last_pieces_comes_from_finish() {
        let out = Shared::new(10);
        let mut w = WriteBehind::spawn(out).unwrap();
        w.write_all(b"0123456789abc").unwrap();
        let e = w.finish().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe, "{e}");
    }

    #[test]
    fn a_short_report_is_written_by_finish() {
        let out = Shared::new(usize::MAX);
        let mut w = WriteBehind::spawn(out.clone()).unwrap();
        w.write_all(b"{}\n").unwrap();
        w.finish().unwrap();
        assert_eq!(*out.bytes.lock().unwrap(), b"{}\n");
    }

    #[test]
    fn dropping_it_writes_what_was_handed_over() {
        let out = Shared::new(usize::MAX);
        let mut w = WriteBehind::spawn(out.clone()).unwrap();
        w.write_all(b"last words\n").unwrap();
        drop(w);
        assert_eq!(*out.bytes.lock().unwrap(), b"last words\n");
    }
}
