//! What the environment must provide (root, tools), checked up front so a
//! missing piece is reported as such: exit 2 from the CLI, an *ignored*
//! trial (never a pass) in the test targets — or a failure when
//! `MTULAB_REQUIRE_ROOT=1`, as CI sets it.

/// Why live tests cannot run here, or None when they can.
pub fn live_unavailable() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("needs root (network namespaces)".to_string());
    }
    if let Some(tool) = missing_tool(&["nft"]) {
        return Some(format!("needs {tool} (apt-get install nftables)"));
    }
    None
}

/// The first of `tools` not found on PATH.
pub fn missing_tool<'a>(tools: &[&'a str]) -> Option<&'a str> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    tools
        .iter()
        .copied()
        .find(|t| !std::env::split_paths(&path).any(|d| d.join(t).is_file()))
}

/// `MTULAB_REQUIRE_ROOT=1`: a live test that cannot run is a failure.
pub fn live_required() -> bool {
    std::env::var("MTULAB_REQUIRE_ROOT").is_ok_and(|v| v == "1")
}

/// What a live test should do here: the one decision every test target's
/// trial gate makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveGate {
    /// Labs can be built: run it.
    Run,
    /// Labs cannot be built (the reason): report the trial *ignored*, never passed.
    Ignore(String),
    /// Labs cannot be built but `MTULAB_REQUIRE_ROOT=1`: fail it with this message.
    Fail(String),
}

/// [`LiveGate`] for this process.
pub fn live_gate() -> LiveGate {
    gate(live_unavailable(), live_required())
}

/// A live trial: ignored (with the reason) where labs cannot be built,
/// failed instead when `MTULAB_REQUIRE_ROOT=1`. Never passed unrun.
#[cfg(feature = "test-support")]
pub fn live(
    name: impl Into<String>,
    f: impl FnOnce() -> Result<(), libtest_mimic::Failed> + Send + 'static,
) -> libtest_mimic::Trial {
    use libtest_mimic::Trial;
    match live_gate() {
        LiveGate::Run => Trial::test(name, f),
        LiveGate::Ignore(why) => Trial::test(name, f).with_ignored_flag(true).with_kind(why),
        LiveGate::Fail(msg) => Trial::test(name, move || Err(msg.into())),
    }
}

/// A live trial of a topology with these tunnels (kind, underlay): as
/// [`live`], but ignored (never passed, and not failed even with
/// MTULAB_REQUIRE_ROOT=1: it is the kernel, not the machine's setup) when
/// the running kernel lacks one of them; the reason is the trial's kind,
/// e.g. `[unsupported: the running kernel has no GRE support (…)]`.
#[cfg(feature = "test-support")]
pub fn live_tunnels(
    name: impl Into<String>,
    tunnels: impl IntoIterator<
        Item = (
            mtulab_core::topology::TunnelKind,
            mtulab_core::topology::Family,
        ),
    >,
    f: impl FnOnce() -> Result<(), libtest_mimic::Failed> + Send + 'static,
) -> libtest_mimic::Trial {
    if live_gate() == LiveGate::Run {
        if let Some((_, why)) = crate::tunnels::first_unsupported(tunnels) {
            return libtest_mimic::Trial::test(name, f)
                .with_ignored_flag(true)
                .with_kind(format!("unsupported: {why}"));
        }
    }
    live(name, f)
}

/// A live test target's command line: libtest-mimic's, with
/// [`live_test_threads`] trials at once unless `--test-threads` says
/// otherwise.
#[cfg(feature = "test-support")]
pub fn live_arguments() -> libtest_mimic::Arguments {
    live_arguments_per_core(4)
}

/// [`live_arguments`] with `per_core` trials per core by default (not 4).
/// checks' suite uses 6: measured 5 December on 2 cores, 17.3 s with 8
/// threads, 14.0–15.6 s with 12 (10 runs, all green) and 15.1 with 16;
/// the harness's live target gained nothing from 12 (6.3–6.9 s against
/// 6.1–6.7) and one of its load-sensitive trials (anycast hash_l4) failed
/// once in 10 runs there, so it keeps 4.
#[cfg(feature = "test-support")]
pub fn live_arguments_per_core(per_core: usize) -> libtest_mimic::Arguments {
    let mut args = libtest_mimic::Arguments::from_args();
    args.test_threads = args
        .test_threads
        .or(Some(live_test_threads_per_core(per_core)));
    args
}

fn gate(unavailable: Option<String>, required: bool) -> LiveGate {
    match unavailable {
        None => LiveGate::Run,
        Some(why) if required => LiveGate::Fail(format!("MTULAB_REQUIRE_ROOT=1 but {why}")),
        Some(why) => LiveGate::Ignore(why),
    }
}

/// How many trials a live test target runs at once unless told
/// (`--test-threads`, `RUST_TEST_THREADS`): four per core. Live trials
/// spend most of their time waiting on the kernel (timers, round trips),
/// not on a CPU; measured on 2 cores, the scenario target took 17.8 s with
/// 2 threads, 11.8 s with 4 and 7.8 s with 8, verdicts unchanged.
pub fn live_test_threads() -> usize {
    live_test_threads_per_core(4)
}

fn live_test_threads_per_core(per_core: usize) -> usize {
    if let Some(n) = std::env::var("RUST_TEST_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    per_core * std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_runs_ignores_or_fails() {
        assert_eq!(gate(None, false), LiveGate::Run);
        assert_eq!(gate(None, true), LiveGate::Run);
        assert_eq!(
            gate(Some("needs root".into()), false),
            LiveGate::Ignore("needs root".into())
        );
        assert_eq!(
            gate(Some("needs root".into()), true),
            LiveGate::Fail("MTULAB_REQUIRE_ROOT=1 but needs root".into())
        );
    }
}
