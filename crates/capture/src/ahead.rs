//! Reading ahead on a thread of its own: while the reader parses one piece
//! of a pipe, the kernel copies the next ones out of the pipe on another
//! core (a pipe costs it more per byte than the page cache does).
//!
//! Each piece is read into a buffer after [`HEADROOM`] free bytes, so that
//! the reader can put the unparsed end of the previous piece (a block cut in
//! two) just before the new bytes and parse on in place: no byte is copied
//! twice, except those of a block larger than the headroom.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread;

/// Free bytes before each piece's data: room for the cut end of the last
/// piece (a packet block, nearly always far smaller).
pub const HEADROOM: usize = 64 * 1024;
/// The most bytes one piece holds (one `read` of the input fills it as far
/// as the input has bytes ready: a slow pipe's pieces are small and come as
/// soon as they are written).
const PIECE: usize = 1 << 20;
/// Pieces allocated per input, at most: what is read ahead, what is being
/// parsed, and one between.
const PIECES: usize = 3;

/// A buffer and where its data ends (it starts at [`HEADROOM`]; the bytes
/// after the end are left over from earlier use).
pub type Piece = (Vec<u8>, usize);

/// The receiving end: pieces in input order; an empty one at the end.
pub struct Pieces {
    full: Receiver<io::Result<Piece>>,
    empty: SyncSender<Vec<u8>>,
    /// What [`Pieces::any_waiting`] took from `full`, for the next piece.
    waiting: Option<io::Result<Piece>>,
}

impl Pieces {
    /// Starts reading `input` on a new thread. If no thread can be started,
    /// gives `input` back.
    pub fn spawn<R: Read + Send + 'static>(input: R) -> Result<Pieces, R> {
        let (full_tx, full) = mpsc::sync_channel::<io::Result<Piece>>(PIECES);
        let (empty, empty_rx) = mpsc::sync_channel::<Vec<u8>>(PIECES);
        // Where the thread takes the input from, so that it can be had back
        // when the thread does not start.
        let slot = Arc::new(Mutex::new(Some(input)));
        let theirs = Arc::clone(&slot);
        let spawned = thread::Builder::new()
            .name("read-ahead".into())
            .spawn(move || {
                let input = theirs.lock().ok().and_then(|mut s| s.take());
                if let Some(input) = input {
                    read_pieces(input, &full_tx, &empty_rx);
                }
            });
        match spawned {
            Ok(_) => Ok(Pieces {
                full,
                empty,
                waiting: None,
            }),
            Err(_) => {
                let input = slot.lock().ok().and_then(|mut s| s.take());
                // The closure was dropped unrun, so the input is still there.
                Err(input.expect("the thread never ran"))
            }
        }
    }

    /// The next piece, `None` at the end of the input, or the input's error
    /// (after which there is nothing more). A thread that stopped without
    /// saying why (the input's `read` panicked) is an error too, not an end:
    /// what it had not read yet must not go missing silently.
    pub fn next_piece(&mut self) -> io::Result<Option<Piece>> {
        let next = match self.waiting.take() {
            Some(next) => Ok(next),
            None => self.full.recv(),
        };
        match next {
            Ok(Ok(piece)) if piece.1 > HEADROOM => Ok(Some(piece)),
            Ok(Ok(_)) => Ok(None),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(io::Error::other("the thread reading the input stopped")),
        }
    }

    /// Whether the thread has a piece (or the end, or an error) ready: if
    /// not, it is waiting for the input, which is slower than its reader
    /// (or it has stopped without a word, which `next_piece` then says).
    pub fn any_waiting(&mut self) -> bool {
        if self.waiting.is_none() {
            self.waiting = self.full.try_recv().ok();
        }
        self.waiting.is_some()
    }

    /// Gives a buffer back for reuse. Every piece must come back (the thread
    /// makes no more than [`PIECES`]); a buffer that never was one (the
    /// reader's first, smaller) is dropped.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        if buf.capacity() >= HEADROOM + PIECE {
            let _ = self.empty.try_send(buf);
        }
    }
}

/// The thread's loop: reads `input` piece by piece until its end or an
/// error, or until the reader is dropped (a send or a receive fails).
fn read_pieces<R: Read>(
    mut input: R,
    full: &SyncSender<io::Result<Piece>>,
    empty: &Receiver<Vec<u8>>,
) {
    let mut made = 0;
    loop {
        let mut piece = match empty.try_recv() {
            Ok(p) => p,
            Err(TryRecvError::Empty) if made < PIECES => {
                made += 1;
                // Zeroed by the allocator (fresh pages), not written here.
                vec![0; HEADROOM + PIECE]
            }
            Err(TryRecvError::Empty) => match empty.recv() {
                Ok(p) => p,
                Err(_) => return,
            },
            Err(TryRecvError::Disconnected) => return,
        };
        // A buffer that gathered a huge block goes back to a piece's size.
        // Others are reused as they are (a slow pipe's many small pieces are
        // not zeroed again and again).
        piece.truncate(HEADROOM + PIECE);
        piece.shrink_to(HEADROOM + PIECE);
        piece.resize(HEADROOM + PIECE, 0);
        let read = loop {
            match input.read(&mut piece[HEADROOM..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => break other,
            }
        };
        match read {
            Ok(n) => {
                if full.send(Ok((piece, HEADROOM + n))).is_err() || n == 0 {
                    return;
                }
            }
            Err(e) => {
                let _ = full.send(Err(e));
                return;
            }
        }
    }
}
