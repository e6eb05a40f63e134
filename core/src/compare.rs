//! The one model-vs-kernel comparator: `mtulab check`'s `model-mismatch`
//! and the `property::model_matches_kernel` test both judge through
//! [`Comparator`], so the property tests the comparison users run. Every
//! difference carries both values; what the model cannot know is counted
//! as [`Compared::Unknown`], never compared.

use std::fmt;

use crate::model::{Learned, PathPrediction, Ping};
use crate::observe::{PathReport, PingOutcome, PingReport};
use crate::topology::{Family, Verdict};

/// One comparison's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compared {
    /// The model cannot know this value (a ruleset, timing): not compared.
    Unknown,
    Same,
    Differ(Difference),
}

/// A value the model and the kernel disagree on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// What was compared, e.g. `DF ping one byte over (1201 bytes)`.
    pub what: String,
    pub model: String,
    pub kernel: String,
}

impl fmt::Display for Difference {
    /// `transfer: model ok, kernel blackhole`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: model {}, kernel {}",
            self.what, self.model, self.kernel
        )
    }
}

/// Which of the two DF pings of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingProbe {
    /// Exactly the path MTU.
    AtPmtu,
    /// One byte over the path MTU.
    OverPmtu,
}

impl PingProbe {
    fn label(self) -> &'static str {
        match self {
            PingProbe::AtPmtu => "DF ping at the path MTU",
            PingProbe::OverPmtu => "DF ping one byte over",
        }
    }
}

/// The comparator. `Comparator::default()` is the one `mtulab check` ships.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Comparator {
    /// Plant a bug on purpose: compare each DF ping with the model's
    /// prediction for the *other* size (at ↔ one over), so a test can show
    /// the property judges through this comparator. Never set outside
    /// such tests.
    pub planted_bug: bool,
}

fn judge(what: String, model: Option<String>, kernel: String) -> Compared {
    match model {
        None => Compared::Unknown,
        Some(m) if m == kernel => Compared::Same,
        Some(m) => Compared::Differ(Difference {
            what,
            model: m,
            kernel,
        }),
    }
}

impl Comparator {
    /// The path MTU: the model's against the kernel's (as routed).
    pub fn path_mtu(&self, pred: &PathPrediction, kernel: u32) -> Compared {
        judge(
            "path MTU".into(),
            Some(pred.path_mtu.to_string()),
            kernel.to_string(),
        )
    }

    /// The PMTU the sender learned; `locked` is compared where the probe
    /// read it (None: the MTU alone).
    pub fn learned_pmtu(
        &self,
        pred: &PathPrediction,
        kernel: u32,
        locked: Option<bool>,
    ) -> Compared {
        let show = |mtu: u32, locked: Option<bool>| match locked {
            Some(true) => format!("{mtu} locked"),
            _ => mtu.to_string(),
        };
        judge(
            "learned PMTU".into(),
            pred.learned_pmtu
                .known()
                .map(|l: &Learned| show(l.mtu, locked.map(|_| l.locked))),
            show(kernel, locked),
        )
    }

    /// One DF ping; `kernel.from` is the answering node (or address).
    pub fn ping(&self, pred: &PathPrediction, probe: PingProbe, kernel: &PingReport) -> Compared {
        let at = match (probe, self.planted_bug) {
            (PingProbe::AtPmtu, false) | (PingProbe::OverPmtu, true) => &pred.ping_at_pmtu,
            (PingProbe::OverPmtu, false) | (PingProbe::AtPmtu, true) => &pred.ping_over_pmtu,
        };
        judge(
            format!("{} ({} bytes)", probe.label(), kernel.size),
            at.known()
                .map(|p| predicted_ping(p, kernel.size, &pred.to).to_string()),
            kernel.to_string(),
        )
    }

    /// The bulk transfer's verdict.
    pub fn transfer(&self, pred: &PathPrediction, kernel: Verdict) -> Compared {
        judge(
            "transfer".into(),
            pred.transfer.known().map(|v| v.as_str().to_string()),
            kernel.as_str().to_string(),
        )
    }

    /// Whether `router`'s crafted frag-needed / packet-too-big arrived.
    pub fn icmp(&self, pred: &PathPrediction, router: &str, arrived: bool) -> Compared {
        let words = |arrives: bool| if arrives { "arrives" } else { "dropped" }.to_string();
        let model = pred
            .icmp
            .iter()
            .find(|p| p.router == router)
            .and_then(|p| p.reaches.known().copied());
        judge(
            format!("{} from {router}", icmp_short(pred.family)),
            model.map(words),
            words(arrived),
        )
    }

    /// Everything the kernel measured on one path, in report order: path
    /// MTU, learned PMTU, the two DF pings, the transfer, each router's ICMP.
    pub fn path(&self, pred: &PathPrediction, seen: &PathReport) -> Vec<Compared> {
        let mut out = vec![self.path_mtu(pred, seen.expected_pmtu)];
        if let Some(k) = seen.observed_pmtu {
            out.push(self.learned_pmtu(pred, k, None));
        }
        for (probe, kernel) in [
            (PingProbe::AtPmtu, &seen.ping_at_pmtu),
            (PingProbe::OverPmtu, &seen.ping_over_pmtu),
        ] {
            if let Some(k) = kernel {
                out.push(self.ping(pred, probe, k));
            }
        }
        if let Some(v) = seen.transfer {
            out.push(self.transfer(pred, v));
        }
        for i in &seen.icmp {
            out.push(self.icmp(pred, &i.router, i.arrived));
        }
        out
    }
}

/// The model's ping prediction in the report's terms (`to` answers a reply).
pub fn predicted_ping(p: &Ping, size: u32, to: &str) -> PingReport {
    let (outcome, mtu, from) = match p {
        Ping::Reply => (PingOutcome::Reply, None, Some(to.to_string())),
        Ping::TooBig { mtu, from_node } => {
            (PingOutcome::TooBig, Some(*mtu), Some(from_node.clone()))
        }
        Ping::LocalTooBig { mtu } => (PingOutcome::LocalTooBig, Some(*mtu), None),
        Ping::Silence => (PingOutcome::Silence, None, None),
    };
    PingReport {
        size,
        outcome,
        mtu,
        from,
    }
}

/// The short name of the PMTU ICMP error of `family`.
pub fn icmp_short(family: Family) -> &'static str {
    match family {
        Family::V4 => "frag-needed",
        Family::V6 => "packet-too-big",
    }
}

#[cfg(test)]
mod tests;
