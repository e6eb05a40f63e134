//! Standard output, written on purpose rather than with `print!` (which
//! panics when stdout is closed or full).
//!
//! - A reader that went away (`| head -1`, `| true`: EPIPE) ends the
//!   output quietly: nothing more is written, the command finishes its work
//!   (labs are torn down, or kept and recorded for `up`) and exits with the
//!   code its outcome gives, as if the rest had been read.
//! - Any other write error (`> /dev/full`: ENOSPC) is reported on stderr
//!   and is exit 2 (environment).

use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write found the reader gone; later writes are skipped.
static GONE: AtomicBool = AtomicBool::new(false);

/// Why standard output could not take the text (not a closed pipe).
#[derive(Debug)]
pub struct WriteError(pub std::io::Error);

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0.to_string();
        let words = s.split(" (os error").next().unwrap_or(&s);
        write!(f, "write standard output: {words}")
    }
}

/// Write `text` to standard output and flush it.
pub fn emit(text: &str) -> Result<(), WriteError> {
    if GONE.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => {
            GONE.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(WriteError(e)),
    }
}

/// [`emit`] with a newline.
pub fn line(text: &str) -> Result<(), WriteError> {
    emit(&format!("{text}\n"))
}
