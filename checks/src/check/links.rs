//! `link-mtu-match`: every end of every link (every member of every
//! segment) has the same MTU, as configured and as read back from the
//! kernel. A segment's odd members are named first.

use harness::Lab;
use mtulab_core::model::{odd_members, Model};
use mtulab_core::CheckId;

use crate::report::{CheckLine, Report, Violation};

pub(super) fn check(lab: &Lab, model: &Model, report: &mut Report) {
    let mut bad = 0;
    let findings = model.findings();
    let n_links = lab.topology().links.len();
    let n_segments = lab.topology().segments.len();
    for (i, link) in lab.plan().links.iter().enumerate() {
        let ends = 0..link.between.len();
        let read: Vec<Option<u32>> = ends
            .clone()
            .map(|e| lab.mtu(&link.between[e], &link.names[e]))
            .collect();
        let configured_ok = link.mtu.iter().all(|&m| m == link.mtu[0]);
        let kernel_ok = read[0].is_some() && read.iter().all(|r| *r == read[0]);
        if configured_ok && kernel_ok {
            continue;
        }
        bad += 1;
        let side = |end: usize| {
            format!(
                "{}:{} {}",
                link.between[end],
                link.names[end],
                read[end]
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| "missing".into())
            )
        };
        // A segment names its odd members (as read back) first.
        let (odd, rest): (Vec<usize>, Vec<usize>) = if link.segment.is_some() {
            let (_, odd) = odd_members(&read.iter().map(|r| r.unwrap_or(0)).collect::<Vec<_>>());
            ends.clone().partition(|e| odd.contains(e))
        } else {
            (vec![0], vec![1])
        };
        let join = |set: &[usize]| set.iter().map(|&e| side(e)).collect::<Vec<_>>().join(", ");
        let shown = format!("{} vs {}", join(&odd), join(&rest));
        let subject = mtulab_core::plan::link_name(i, lab.topology());
        let as_configured = read
            .iter()
            .zip(&link.mtu)
            .all(|(r, m)| r.is_none_or(|r| r == *m));
        let (message, fix) = match findings
            .iter()
            .find(|f| f.check == CheckId::LinkMtuMatch && f.subject == subject)
        {
            Some(f) if kernel_ok || as_configured => (
                format!("{subject} ({shown}, read back from the kernel): {}", f.seen),
                f.fix.clone(),
            ),
            _ => {
                let configured: Vec<String> = link.mtu.iter().map(u32::to_string).collect();
                let odd_nodes: Vec<&str> = odd.iter().map(|&e| link.between[e].as_str()).collect();
                let (what, at) = if link.segment.is_some() {
                    (
                        "the members differ",
                        format!("odd: {}", odd_nodes.join(", ")),
                    )
                } else {
                    (
                        "the ends differ",
                        format!("{} <-> {}", link.between[0], link.between[1]),
                    )
                };
                (
                    format!(
                        "{subject} ({shown}, read back from the kernel; configured {}): {what}",
                        configured.join(" vs ")
                    ),
                    format!("equalise MTU on {subject} ({at})"),
                )
            }
        };
        report.violations.push(Violation {
            check: CheckId::LinkMtuMatch,
            message,
            fix: Some(fix),
            from: None,
            to: None,
            family: None,
            link: (i < n_links).then_some(i + 1),
            segment: link.segment.clone(),
            tunnel: (i >= n_links + n_segments).then(|| i - n_links - n_segments + 1),
        });
    }
    let n = lab.plan().links.len();
    let t = lab.topology();
    let mut kinds: Vec<&str> = Vec::new();
    if !t.links.is_empty() {
        kinds.push(if n == 1 { "link" } else { "links" });
    }
    if !t.segments.is_empty() {
        kinds.push("segments");
    }
    if !t.tunnels.is_empty() {
        kinds.push("tunnels");
    }
    let what = kinds.join(" and ");
    let all = if t.segments.is_empty() { "both" } else { "all" };
    report.checks.push(CheckLine {
        check: CheckId::LinkMtuMatch,
        subject: "links".into(),
        holds: bad == 0,
        detail: if bad == 0 {
            format!("{n} {what}, {all} ends equal (configured and read back)")
        } else {
            format!("{bad} of {n} {what} have unequal ends")
        },
    });
}
