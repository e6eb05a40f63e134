//! Leave nothing behind when killed: Ctrl-C tears down at once, and after a
//! SIGKILL the next run of any command reaps what the killed run left.
//! Its own target, so no other test's `mtulab` run reaps concurrently.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;
use libtest_mimic::{Arguments, Failed};

/// Start `mtulab up --wait` and return it once its lab is ready.
fn up_waiting() -> Result<(Child, Vec<String>), Failed> {
    let f = topologies_dir().join("icmp_blackhole.toml");
    let mut child = mtulab()
        .args(["up", "--wait", f.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("stdout")?;
    // Reads until "ready" (or EOF, if the child failed).
    for line in BufReader::new(stdout).lines() {
        if line?.starts_with("ready") {
            let ns = namespaces_of_pid(child.id());
            if ns.len() != 4 {
                return Err(format!("expected 4 namespaces, found {ns:?}").into());
            }
            return Ok((child, ns));
        }
    }
    let _ = child.kill();
    Err("mtulab up --wait ended before the lab was ready".into())
}

fn wait_exit(child: &mut Child, limit: Duration) -> Result<std::process::ExitStatus, Failed> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait()? {
            return Ok(st);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err("child did not exit in time".into());
        }
        // Bounded poll: the child exits within milliseconds of the signal.
        std::thread::park_timeout(Duration::from_millis(5));
    }
}

fn sigkill_then_reaper() -> Result<(), Failed> {
    let (mut child, ns) = up_waiting()?;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )?;
    wait_exit(&mut child, Duration::from_secs(5))?;
    // The control: a SIGKILLed run cannot clean up, so its lab is still there.
    let still: Vec<_> = ns
        .iter()
        .filter(|n| harness::netns::list_named(n).contains(n))
        .collect();
    if still.len() != ns.len() {
        return Err(
            format!("after SIGKILL expected all of {ns:?} present, found {still:?}").into(),
        );
    }
    // Any new run reaps it.
    let list = run(&["list"])?;
    if !list.status.success() {
        return Err(text(&list.stderr).into());
    }
    let left: Vec<_> = ns
        .iter()
        .filter(|n| harness::netns::list_named(n).contains(n))
        .collect();
    if !left.is_empty() {
        return Err(format!("the reaper left {left:?}").into());
    }
    Ok(())
}

fn ctrl_c_tears_down() -> Result<(), Failed> {
    let (mut child, ns) = up_waiting()?;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )?;
    let st = wait_exit(&mut child, Duration::from_secs(10))?;
    if st.success() {
        return Err("interrupted run exited 0".into());
    }
    let left: Vec<_> = ns
        .iter()
        .filter(|n| harness::netns::list_named(n).contains(n))
        .collect();
    if !left.is_empty() {
        return Err(format!("Ctrl-C left {left:?}").into());
    }
    Ok(())
}

/// The reaper never touches a live run's lab.
fn reaper_spares_live_labs() -> Result<(), Failed> {
    let (mut child, ns) = up_waiting()?;
    let list = run(&["list"])?;
    let present: Vec<_> = ns
        .iter()
        .filter(|n| harness::netns::list_named(n).contains(n))
        .collect();
    drop(child.stdin.take()); // end of input: the child removes its lab
    let st = wait_exit(&mut child, Duration::from_secs(10))?;
    if !list.status.success() || present.len() != ns.len() {
        return Err(format!("a live lab was reaped: {present:?} of {ns:?}").into());
    }
    if !st.success() || !namespaces_of_pid(child.id()).is_empty() {
        return Err("end of input did not remove the lab".into());
    }
    Ok(())
}

fn main() {
    let mut args = Arguments::from_args();
    // One at a time: each relies on no other mtulab run reaping meanwhile.
    args.test_threads = Some(1);
    let trials = vec![
        live("reaper::sigkill_then_any_run", sigkill_then_reaper),
        live("reaper::ctrl_c_tears_down", ctrl_c_tears_down),
        live("reaper::spares_live_labs", reaper_spares_live_labs),
    ];
    libtest_mimic::run(&args, trials).exit();
}
