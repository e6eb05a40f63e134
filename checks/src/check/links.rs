//! `link-mtu-match`: both ends of every link have the same MTU, as
//! configured and as read back from the kernel.

use harness::Lab;
use mtulab_core::model::Model;
use mtulab_core::CheckId;

use crate::report::{CheckLine, Report, Violation};

pub(super) fn check(lab: &Lab, model: &Model, report: &mut Report) {
    let mut bad = 0;
    let findings = model.findings();
    for (i, link) in lab.plan().links.iter().enumerate() {
        let read = |end: usize| lab.mtu(&link.between[end], &link.names[end]);
        let (a, b) = (read(0), read(1));
        let configured_ok = link.mtu[0] == link.mtu[1];
        let kernel_ok = a.is_some() && a == b;
        if configured_ok && kernel_ok {
            continue;
        }
        bad += 1;
        let side = |end: usize, v: Option<u32>| {
            format!(
                "{}:{} {}",
                link.between[end],
                link.names[end],
                v.map(|m| m.to_string()).unwrap_or_else(|| "missing".into())
            )
        };
        let subject = format!("link {}", i + 1);
        let (message, fix) = match findings
            .iter()
            .find(|f| f.check == CheckId::LinkMtuMatch && f.subject == subject)
        {
            Some(f) if kernel_ok || a.is_none() || b.is_none() || (a, b) == (Some(link.mtu[0]), Some(link.mtu[1])) => (
                format!(
                    "{subject} ({} vs {}, read back from the kernel): {}",
                    side(0, a),
                    side(1, b),
                    f.seen
                ),
                f.fix.clone(),
            ),
            _ => (
                format!(
                    "{subject} ({} vs {}, read back from the kernel; configured {} vs {}): the ends differ",
                    side(0, a),
                    side(1, b),
                    link.mtu[0],
                    link.mtu[1]
                ),
                format!(
                    "equalise MTU on {subject} ({} <-> {})",
                    link.between[0], link.between[1]
                ),
            ),
        };
        report.violations.push(Violation {
            check: CheckId::LinkMtuMatch,
            message,
            fix: Some(fix),
            from: None,
            to: None,
            family: None,
            link: Some(i),
        });
    }
    report.checks.push(CheckLine {
        check: CheckId::LinkMtuMatch,
        subject: "links".into(),
        holds: bad == 0,
        detail: if bad == 0 {
            format!(
                "{} link{}, both ends equal (configured and read back)",
                lab.plan().links.len(),
                if lab.plan().links.len() == 1 { "" } else { "s" }
            )
        } else {
            format!(
                "{bad} of {} links have unequal ends",
                lab.plan().links.len()
            )
        },
    });
}
