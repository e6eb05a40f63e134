//! The kernel suite's only contact with the harness's `Lab` API (so the
//! re-lay's accessors are ported here and nowhere else): build a lab from a
//! topology string, find addresses and interfaces, run `ip` in a node,
//! change MTUs and sysctls, ping, read and flush exceptions, transfer.
//! Also the trial constructor: root gate (`common::live`) plus the kernel
//! capabilities a trial needs (missing → ignored with the reason).

use std::net::IpAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use harness::netlink::{self, LinkState, Request, RouteLookup};
use harness::netns::Netns;
use harness::probe::exceptions;
use harness::probe::ping::{df_ping, PingOutcome, PingResult};
use harness::probe::transfer::{transfer, Transfer, TransferOpts};
use harness::{sysctl, Lab};
use libtest_mimic::{Failed, Trial};
use mtulab_core::{Family, Topology};
use serde_json::Value;

use crate::common;

/// A kernel feature a trial needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    Vxlan,
    Geneve,
    Bridge,
}

impl Cap {
    /// The module that provides it.
    fn module(self) -> &'static str {
        match self {
            Cap::Vxlan => "vxlan",
            Cap::Geneve => "geneve",
            Cap::Bridge => "bridge",
        }
    }
}

/// Why the running kernel lacks `cap`, or None when it has it: the module
/// is loaded or built in (`/sys/module/NAME`), or loadable (listed in
/// `/lib/modules/RELEASE/modules.dep` or `modules.builtin`). Cheap (a few
/// file reads), so listing stays cheap.
pub fn missing(cap: Cap) -> Option<String> {
    let m = cap.module();
    if Path::new("/sys/module").join(m).exists() {
        return None;
    }
    let release = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = Path::new("/lib/modules").join(&release);
    for list in ["modules.dep", "modules.builtin"] {
        let text = std::fs::read_to_string(dir.join(list)).unwrap_or_default();
        let listed = text.lines().any(|l| {
            let path = l.split(':').next().unwrap_or("");
            let file = path.rsplit('/').next().unwrap_or("");
            file.split('.').next() == Some(m)
        });
        if listed {
            return None;
        }
    }
    Some(format!(
        "kernel {release} lacks {m} (no /sys/module/{m}, not in /lib/modules/{release})"
    ))
}

/// A live trial named `name`, ignored with the reason where labs cannot be
/// built or the kernel lacks one of `caps`; never passed unrun.
pub fn trial(
    name: String,
    caps: &[Cap],
    f: impl FnOnce() -> Result<(), Failed> + Send + 'static,
) -> Trial {
    if let Some(why) = caps.iter().find_map(|&c| missing(c)) {
        // A missing capability is the kernel's, not the environment's:
        // ignored even under MTULAB_REQUIRE_ROOT=1.
        return Trial::test(name, f).with_ignored_flag(true).with_kind(why);
    }
    common::live(name, f)
}

/// `kernel::GROUP::NAME::FAMILY`.
pub fn name(group: &str, name: &str, family: Family) -> String {
    format!("kernel::{group}::{name}::{}", family.as_str())
}

/// A built lab (dropping it removes it).
pub struct KLab {
    lab: Lab,
}

/// Build a lab from a topology in TOML.
pub fn build(toml: &str) -> Result<KLab, Failed> {
    let topo = Topology::from_str(toml, Path::new("tests/kernel.rs (inline topology)"))
        .map_err(|e| format!("kernel suite topology does not parse: {e}\n{toml}"))?;
    let lab = Lab::build(&topo).map_err(|e| format!("build lab: {e}"))?;
    Ok(KLab { lab })
}

/// Build a bundled scenario (`topologies/NAME.toml`); its topology too.
pub fn build_bundled(name: &str) -> Result<(KLab, Topology), Failed> {
    let topo = common::load(name);
    let lab = Lab::build(&topo).map_err(|e| format!("build lab {name}: {e}"))?;
    Ok((KLab { lab }, topo))
}

/// Build a bundled scenario with `from` replaced by `to` in its text.
pub fn build_varied(file: &str, from: &str, to: &str) -> Result<KLab, Failed> {
    let topo = common::varied(file, from, to);
    let lab = Lab::build(&topo).map_err(|e| format!("build lab {file}: {e}"))?;
    Ok(KLab { lab })
}

impl KLab {
    /// The harness lab itself, for probes that take one.
    pub fn lab(&self) -> &Lab {
        &self.lab
    }

    fn ns(&self, node: &str) -> Result<&Netns, Failed> {
        Ok(self
            .lab
            .node(node)
            .ok_or_else(|| format!("no node {node}"))?
            .ns())
    }

    /// `node`'s address in `family` (as planned: its first interface's).
    pub fn addr(&self, node: &str, family: Family) -> Result<IpAddr, Failed> {
        self.lab
            .plan()
            .address_of(node, family)
            .ok_or_else(|| format!("{node} has no {} address", family.as_str()).into())
    }

    /// `node`'s address on its interface `iface` (as planned).
    pub fn iface_addr(&self, node: &str, iface: &str, family: Family) -> Result<IpAddr, Failed> {
        self.lab
            .plan()
            .node(node)
            .and_then(|n| n.iface(iface))
            .and_then(|i| i.addr(family))
            .map(|a| a.addr)
            .ok_or_else(|| format!("{node}:{iface} has no {} address", family.as_str()).into())
    }

    /// The kernel index of `node`'s interface `iface`.
    pub fn ifindex(&self, node: &str, iface: &str) -> Result<u32, Failed> {
        if let Some(i) = self.lab.ifindex(node, iface) {
            return Ok(i);
        }
        // Made after the build (`ip link add`): ask the kernel.
        self.links(node)?
            .into_iter()
            .find(|l| l.name == iface)
            .map(|l| l.index)
            .ok_or_else(|| format!("{node} has no interface {iface}").into())
    }

    /// Every link of `node`, as the kernel has them now.
    pub fn links(&self, node: &str) -> Result<Vec<LinkState>, Failed> {
        let n = self
            .lab
            .node(node)
            .ok_or_else(|| format!("no node {node}"))?;
        Ok(n.rtnl().links().map_err(|e| format!("{node}: {e}"))?)
    }

    /// Run `ip ARGS` in `node`; its failure (with stderr) is the trial's.
    pub fn ip(&self, node: &str, args: &[&str]) -> Result<(), Failed> {
        let out = self
            .lab
            .command(node, "ip")
            .ok_or("no such node")?
            .args(args)
            .stdin(Stdio::null())
            .output()?;
        if !out.status.success() {
            return Err(format!(
                "ip {} in {node}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )
            .into());
        }
        Ok(())
    }

    /// Run `ip -batch -` in `node` with these lines.
    pub fn ip_batch(&self, node: &str, lines: &str) -> Result<(), Failed> {
        use std::io::Write;
        let mut child = self
            .lab
            .command(node, "ip")
            .ok_or("no such node")?
            .args(["-batch", "-"])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        child
            .stdin
            .take()
            .ok_or("no stdin")?
            .write_all(lines.as_bytes())?;
        let out = child.wait_with_output()?;
        if !out.status.success() {
            return Err(format!(
                "ip -batch in {node}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )
            .into());
        }
        Ok(())
    }

    /// `ip -j ARGS` in `node`, parsed.
    pub fn ip_json(&self, node: &str, args: &[&str]) -> Result<Value, Failed> {
        common::ip_json(&self.lab, node, args)
    }

    /// Write a sysctl in `node`.
    pub fn sysctl(&self, node: &str, key: &str, value: &str) -> Result<(), Failed> {
        let (k, v) = (key.to_string(), value.to_string());
        self.ns(node)?
            .run(move || sysctl::write(&k, &v))?
            .map_err(|e| format!("{node}: {e}"))?;
        Ok(())
    }

    /// Set the MTU of `node`'s interface `iface` (rtnetlink).
    pub fn set_mtu(&self, node: &str, iface: &str, mtu: u32) -> Result<(), Failed> {
        let index = self.ifindex(node, iface)?;
        let n = self
            .lab
            .node(node)
            .ok_or_else(|| format!("no node {node}"))?;
        n.rtnl()
            .execute(vec![Request::plain(
                format!("set {iface} mtu {mtu}"),
                netlink::set_mtu(index, mtu),
            )])
            .map_err(|e| format!("{node}: {e}"))?;
        Ok(())
    }

    /// Set both ends of a link (`a`'s interface towards `b` and back; the
    /// default names) to `mtu`.
    pub fn link_mtu(&self, a: &str, b: &str, mtu: u32) -> Result<(), Failed> {
        self.set_mtu(a, b, mtu)?;
        self.set_mtu(b, a, mtu)
    }

    /// One DF echo request of `size` bytes from `from` to `dst`.
    pub fn ping(
        &self,
        from: &str,
        dst: IpAddr,
        size: u32,
        timeout: Duration,
    ) -> Result<PingResult, Failed> {
        Ok(df_ping(self.ns(from)?, dst, size, timeout)?)
    }

    /// Ping (small) until `dst` answers from `from`, within `deadline`: a
    /// fresh lab's first packets may wait on neighbour resolution.
    pub fn reachable(&self, from: &str, dst: IpAddr, deadline: Duration) -> Result<(), Failed> {
        let end = Instant::now() + deadline;
        let size = if dst.is_ipv4() { 100 } else { 120 };
        loop {
            let r = self.ping(from, dst, size, Duration::from_millis(300))?;
            if r.outcome == PingOutcome::Reply {
                return Ok(());
            }
            if Instant::now() >= end {
                return Err(format!("{from} cannot reach {dst}: {:?}", r.outcome).into());
            }
        }
    }

    /// The kernel's route lookup from `node` to `dst` (`ip route get`).
    pub fn route(&self, node: &str, dst: IpAddr) -> Result<RouteLookup, Failed> {
        let n = self
            .lab
            .node(node)
            .ok_or_else(|| format!("no node {node}"))?;
        Ok(exceptions::route_get(n, dst)?)
    }

    /// The lookup leaving through `node`'s interface `iface` (`ip route get
    /// DST oif IFACE`).
    pub fn route_oif(&self, node: &str, dst: IpAddr, iface: &str) -> Result<RouteLookup, Failed> {
        let oif = self.ifindex(node, iface)?;
        let n = self
            .lab
            .node(node)
            .ok_or_else(|| format!("no node {node}"))?;
        Ok(exceptions::route_get_oif(n, dst, oif)?)
    }

    /// `node`'s PMTU towards `dst` as pmtu.sh prints it (`1400`, `lock
    /// 552`, none when no exception).
    pub fn pmtu(&self, node: &str, dst: IpAddr) -> Result<Option<String>, Failed> {
        let r = self.route(node, dst)?;
        Ok(super::check::pmtu(r.mtu, r.locked))
    }

    /// Every exception cached in `node` (both families).
    pub fn exceptions(&self, node: &str) -> Result<Vec<RouteLookup>, Failed> {
        let n = self
            .lab
            .node(node)
            .ok_or_else(|| format!("no node {node}"))?;
        Ok(exceptions::list(n)?)
    }

    /// Remove every exception in the lab.
    pub fn flush(&self) -> Result<(), Failed> {
        exceptions::flush(&self.lab)?;
        Ok(())
    }

    /// A TCP transfer from `from` to a listener in `to` on `dst`.
    pub fn transfer(
        &self,
        from: &str,
        to: &str,
        dst: IpAddr,
        opts: &TransferOpts,
    ) -> Result<Transfer, Failed> {
        Ok(transfer(self.ns(from)?, self.ns(to)?, dst, opts)?)
    }

    /// Run `f` on a thread inside `node`.
    pub fn run_in<R: Send>(&self, node: &str, f: impl FnOnce() -> R + Send) -> Result<R, Failed> {
        Ok(self.ns(node)?.run(f)?)
    }

    /// A command that runs inside `node` (not owned by the lab: the caller
    /// waits for it or kills it).
    pub fn command(&self, node: &str, program: &str) -> Result<std::process::Command, Failed> {
        Ok(self.lab.command(node, program).ok_or("no such node")?)
    }
}
