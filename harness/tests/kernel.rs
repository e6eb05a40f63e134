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

mod common;
#[path = "kernel/mod.rs"]
mod kernel;

fn main() {
    let args = common::args();
    common::run(&args, kernel::trials())
}
