//! `diff::…` trials: `mtulab diff` on two bundled files.

use crate::common::*;
use libtest_mimic::Failed;

/// `mtulab diff` on two bundled files: exit code, stdout.
pub(crate) fn diff(before: &str, after: &str, format: &str) -> Result<(i32, String), Failed> {
    let d = topologies_dir();
    let o = mtulab()
        .arg("diff")
        .arg(d.join(before))
        .arg(d.join(after))
        .args(["--format", format])
        .output()?;
    Ok((
        o.status.code().unwrap_or(-1),
        text(&o.stdout) + &text(&o.stderr),
    ))
}

pub(crate) fn expect_diff(
    before: &str,
    after: &str,
    code: i32,
    needles: &[&str],
) -> Result<(), Failed> {
    let (c, out) = diff(before, after, "human")?;
    if c != code {
        return Err(format!("exit {c}, expected {code}:\n{out}").into());
    }
    for n in needles {
        if !out.contains(n) {
            return Err(format!("output lacks {n:?}:\n{out}").into());
        }
    }
    Ok(())
}
