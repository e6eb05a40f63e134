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

fn gate(unavailable: Option<String>, required: bool) -> LiveGate {
    match unavailable {
        None => LiveGate::Run,
        Some(why) if required => LiveGate::Fail(format!("MTULAB_REQUIRE_ROOT=1 but {why}")),
        Some(why) => LiveGate::Ignore(why),
    }
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
