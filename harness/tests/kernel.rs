//! The kernel suite: named kernel PMTU behaviours, each asserted on a lab
//! of its own (`kernel::GROUP::NAME[::FAMILY]`), with pmtu.sh-style
//! failure messages (the value found, the value expected, the step).
//! Root only: without root every trial is *ignored* (never passed), with
//! MTULAB_REQUIRE_ROOT=1 failed; a kernel lacking a module a trial needs
//! (e.g. GENEVE here) ignores it with the reason.
//!
//! Groups (one file each under tests/kernel/): exception, min_pmtu,
//! list_flush, cleanup, multipath, vxlan + geneve (encap.rs) — pmtu.sh's
//! behaviours — and expiry, plpmtud, ecmp, ipv6_min, veth, tcp, tunnel_df
//! beyond it. Each check also proves its checker rejects a wrong
//! expectation (check.rs); behaviours with a switch have a `::control`
//! trial with it switched off. `cargo test --test kernel`.

use libtest_mimic::Trial;

mod common;

#[path = "kernel/check.rs"]
mod check;
#[path = "kernel/cleanup.rs"]
mod cleanup;
#[path = "kernel/ecmp.rs"]
mod ecmp;
#[path = "kernel/encap.rs"]
mod encap;
#[path = "kernel/exception.rs"]
mod exception;
#[path = "kernel/expiry.rs"]
mod expiry;
#[path = "kernel/ipv6_min.rs"]
mod ipv6_min;
#[path = "kernel/kit.rs"]
mod kit;
#[path = "kernel/labs.rs"]
mod labs;
#[path = "kernel/list_flush.rs"]
mod list_flush;
#[path = "kernel/min_pmtu.rs"]
mod min_pmtu;
#[path = "kernel/multipath.rs"]
mod multipath;
#[path = "kernel/plpmtud.rs"]
mod plpmtud;
#[path = "kernel/tcp.rs"]
mod tcp;
#[path = "kernel/tunnel_df.rs"]
mod tunnel_df;
#[path = "kernel/veth.rs"]
mod veth;

fn main() {
    let args = common::args();
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
    common::run(&args, trials)
}
