//! Ctrl-C, SIGTERM and SIGHUP tear down this process's labs before it exits.
//!
//! The signals are blocked in every thread (the mask is inherited by threads
//! created later) and taken synchronously by one thread with `sigwait`, so
//! teardown runs as ordinary code, not inside a signal handler. Child
//! processes start with an empty mask (std's `Command` resets it).

use nix::sys::signal::{SigSet, Signal};

/// Call first thing in `main`, before any other thread exists.
pub fn install() {
    let mut set = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        set.add(s);
    }
    if set.thread_block().is_err() {
        return;
    }
    std::thread::spawn(move || {
        let Ok(sig) = set.wait() else { return };
        let me = std::process::id();
        for lab in harness::state::all_labs() {
            if lab.pid == me && !lab.kept {
                for e in lab.destroy() {
                    eprintln!("mtulab: teardown of lab {}: {e}", lab.id);
                }
            }
        }
        eprintln!("mtulab: interrupted ({sig}); labs removed");
        std::process::exit(128 + sig as i32);
    });
}
