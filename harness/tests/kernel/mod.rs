//! The kernel suite's groups (one file each) and its trial list, shared
//! by `tests/kernel.rs` (the suite alone, as the kernel matrix runs it) and
//! `tests/live` (where plain `cargo test` runs it beside the other live
//! trials).

use libtest_mimic::Trial;

mod check;
mod cleanup;
mod ecmp;
mod encap;
mod exception;
mod expiry;
mod ipv6_min;
mod kit;
mod labs;
mod list_flush;
mod min_pmtu;
mod multipath;
mod plpmtud;
mod tcp;
mod tunnel_df;
mod veth;

/// Every trial of the kernel suite, in order.
pub fn trials() -> Vec<Trial> {
    let mut trials = vec![Trial::test(
        "kernel::suite::checker_rejects_wrong",
        check::self_test,
    )];
    for group in [
        exception::trials,
        min_pmtu::trials,
        list_flush::trials,
        cleanup::trials,
        multipath::trials,
        encap::trials,
        expiry::trials,
        plpmtud::trials,
        ecmp::trials,
        ipv6_min::trials,
        veth::trials,
        tcp::trials,
        tunnel_df::trials,
    ] {
        trials.extend(group());
    }
    trials
}
