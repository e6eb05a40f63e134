//! One host path being checked: what every per-path check needs to know
//! about it ([`PathCtx`]), and the kernel's DF ping in the report's terms.

use std::time::Duration;

use harness::probe::ping;
use harness::Lab;
use mtulab_core::model::PathPrediction;
use mtulab_core::plan::Hop;
use mtulab_core::{CheckId, Family};

use super::options::CheckOptions;
use crate::report::{PingReport, Violation};

/// How long a DF ping waits for an answer before calling it silence.
pub(super) const PING_DEADLINE: Duration = Duration::from_secs(1);

/// One ordered host pair in one family, as the checks probe it.
pub(super) struct PathCtx<'a> {
    pub lab: &'a Lab,
    pub opts: &'a CheckOptions,
    pub from: &'a str,
    pub to: &'a str,
    pub family: Family,
    /// The planned forwarding path.
    pub hops: &'a [Hop],
    /// The model's prediction for it, if it has one.
    pub pred: Option<&'a PathPrediction>,
    /// The path's smallest MTU (receiving ends included).
    pub expected: u32,
    /// `from -> to ipv4`.
    pub subject: String,
}

impl PathCtx<'_> {
    /// A violation of `check` on this path with its words and fix.
    pub fn violation(&self, check: CheckId, (message, fix): (String, Option<String>)) -> Violation {
        Violation {
            check,
            message,
            fix,
            from: Some(self.from.into()),
            to: Some(self.to.into()),
            family: Some(self.family),
            link: None,
            segment: None,
            tunnel: None,
        }
    }

    /// The routers on the path, in path order.
    pub fn routers(&self) -> Vec<String> {
        self.hops.iter().skip(1).map(|h| h.node.clone()).collect()
    }
}

/// A DF ping result as the report shows it: the answering address mapped
/// back to the lab node that owns it.
pub(super) fn ping_report(lab: &Lab, r: &ping::PingResult) -> PingReport {
    PingReport {
        size: r.size,
        outcome: r.outcome,
        mtu: r.mtu,
        from: r.from.map(|a| {
            lab.plan()
                .owner_of(a)
                .map(String::from)
                .unwrap_or_else(|| a.to_string())
        }),
    }
}
