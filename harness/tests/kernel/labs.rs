//! The labs the kernel suite builds, each drawn once here. Node names and
//! default interface names (on X, the link to Y is "Y"); addresses as the
//! planner gives them (link i: 198.18.i.0/24 and 2001:db8:0:i::/64, end 0
//! `.1`/`::1`, end 1 `.2`/`::2`).
//!
//! ```text
//! routing (pmtu.sh's, used by exception, min_pmtu, list_flush, cleanup,
//! multipath):
//!
//!        a_r1 (link 0)        b_r1 (link 1)
//!     .---------------- r1 ----------------.      a_r1: 2000
//!   a                                        b    b_r1: 1400 (N1)
//!     '---------------- r2 ----------------'      a_r2: 2000
//!        a_r2 (link 2)        b_r2 (link 3)       b_r2: 1500 (N2)
//!
//!   dst1 = b's address on b_r1 (reached via r1),
//!   dst2 = b's address on b_r2 (reached via r2; set explicitly in a).
//!
//! encap (pmtu.sh's tunnel tests: vxlan / geneve between a and b over r1;
//! c is bridged to the tunnel in a when bridged):
//!
//!   c ---5000--- a ---5000--- r1 ---4000--- b
//!          br0 [c-port, tunnel]    tunnel a <=====> b (MTU 5000)
//! ```

use std::net::IpAddr;

use libtest_mimic::Failed;
use mtulab_core::Family;

use super::kit::{self, KLab};

/// The routing lab with b_r1 = `n1`, b_r2 = `n2`.
pub struct Routing {
    pub lab: KLab,
    pub dst1: IpAddr,
    pub dst2: IpAddr,
}

pub fn routing(family: Family, n1: u32, n2: u32) -> Result<Routing, Failed> {
    let toml = format!(
        r#"name = "k-routing"
[nodes.a]
[nodes.r1]
router = true
[nodes.r2]
router = true
[nodes.b]
[[links]]
between = ["a", "r1"]
mtu = 2000
[[links]]
between = ["r1", "b"]
mtu = {n1}
[[links]]
between = ["a", "r2"]
mtu = 2000
[[links]]
between = ["r2", "b"]
mtu = {n2}
"#
    );
    let lab = kit::build(&toml)?;
    let dst1 = lab.iface_addr("b", "r1", family)?;
    let dst2 = lab.iface_addr("b", "r2", family)?;
    // The planner routes each address on its own (a host route) and breaks
    // the a -> dst2 tie by link order (via r1): send dst2 via r2.
    let via2 = lab.iface_addr("r2", "a", family)?.to_string();
    lab.ip(
        "a",
        &[
            "route",
            "replace",
            &dst2.to_string(),
            "via",
            &via2,
            "dev",
            "r2",
        ],
    )?;
    lab.reachable("a", dst1, std::time::Duration::from_secs(3))?;
    lab.reachable("a", dst2, std::time::Duration::from_secs(3))?;
    Ok(Routing { lab, dst1, dst2 })
}

/// The routing lab, a's routes to dst1 and dst2 through nexthop objects
/// (`ip nexthop add id N via GW dev DEV; ip route replace SUBNET nhid N`),
/// as pmtu.sh's "- nexthop objects" re-runs set them up.
pub fn routing_nh(family: Family, n1: u32, n2: u32) -> Result<Routing, Failed> {
    let r = routing(family, n1, n2)?;
    let (sub1, sub2) = (r.dst1.to_string(), r.dst2.to_string());
    let gw1 = r.lab.iface_addr("r1", "a", family)?.to_string();
    let gw2 = r.lab.iface_addr("r2", "a", family)?.to_string();
    r.lab.ip_batch(
        "a",
        &format!(
            "nexthop add id 11 via {gw1} dev r1\n\
             nexthop add id 12 via {gw2} dev r2\n\
             route replace {sub1} nhid 11\n\
             route replace {sub2} nhid 12\n"
        ),
    )?;
    Ok(r)
}

/// Tunnel kind of the encap lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encap {
    Vxlan,
    Geneve,
}

impl Encap {
    pub fn as_str(self) -> &'static str {
        match self {
            Encap::Vxlan => "vxlan",
            Encap::Geneve => "geneve",
        }
    }
    pub fn cap(self) -> kit::Cap {
        match self {
            Encap::Vxlan => kit::Cap::Vxlan,
            Encap::Geneve => kit::Cap::Geneve,
        }
    }
}

/// The encap lab: addresses inside the tunnel.
pub struct Tunnel {
    pub lab: KLab,
    /// b's address inside the tunnel (inner family).
    pub b: IpAddr,
    /// The exception the sender must learn: 4000 − outer IP − UDP (8) −
    /// VXLAN/GENEVE (8) − inner Ethernet (14).
    pub expected: u32,
}

/// Underlay MTU between r1 and b.
pub const LL_MTU: u32 = 4000;

/// Build the encap lab: `encap` over `outer` carrying `inner`, with c
/// bridged to the tunnel in a when `bridged`. The tunnel is made with
/// `ip link add` in a and b as pmtu.sh makes it (`df set` over IPv4).
pub fn tunnel(encap: Encap, outer: Family, inner: Family, bridged: bool) -> Result<Tunnel, Failed> {
    let big = LL_MTU + 1000;
    let c = if bridged {
        format!("[nodes.c]\n[[links]]\nbetween = [\"c\", \"a\"]\nmtu = {big}\n")
    } else {
        String::new()
    };
    // a forwards only so the planner accepts c behind it; bridged frames
    // never meet a's IP forwarding.
    let a_router = if bridged { "router = true\n" } else { "" };
    let toml = format!(
        r#"name = "k-{kind}"
[nodes.a]
{a_router}[nodes.r1]
router = true
[nodes.b]
[[links]]
between = ["a", "r1"]
mtu = {big}
[[links]]
between = ["r1", "b"]
mtu = {LL_MTU}
{c}"#,
        kind = encap.as_str()
    );
    let lab = kit::build(&toml)?;
    let ua = lab.iface_addr("a", "r1", outer)?.to_string();
    let ub = lab.iface_addr("b", "r1", outer)?.to_string();
    let kind = encap.as_str();
    let opts = |local: &str, remote: &str| -> String {
        let df = if outer == Family::V4 { " df set" } else { "" };
        match encap {
            Encap::Vxlan => {
                format!("vxlan id 1 local {local} remote {remote} ttl 64 dstport 4789{df}")
            }
            Encap::Geneve => format!("geneve id 1 remote {remote}{df}"),
        }
    };
    let (a4, b4, c4) = ("198.19.2.1/24", "198.19.2.2/24", "198.19.2.3/24");
    let (a6, b6, c6) = (
        "2001:db8:ff02::a/64",
        "2001:db8:ff02::b/64",
        "2001:db8:ff02::c/64",
    );
    let a_dev = if bridged { "br0" } else { "tun" };
    let mut a_cmds = format!("link add tun mtu {big} type {}\n", opts(&ua, &ub));
    if bridged {
        a_cmds += &format!(
            "link add br0 mtu {big} type bridge\n\
             link set tun master br0\n\
             link set c master br0\n\
             link set br0 up\n"
        );
    }
    a_cmds +=
        &format!("addr add {a4} dev {a_dev}\naddr add {a6} dev {a_dev} nodad\nlink set tun up\n");
    lab.ip_batch("a", &a_cmds)?;
    lab.ip_batch(
        "b",
        &format!(
            "link add tun mtu {big} type {}\naddr add {b4} dev tun\n\
             addr add {b6} dev tun nodad\nlink set tun up\n",
            opts(&ub, &ua)
        ),
    )?;
    if bridged {
        lab.ip_batch(
            "c",
            &format!("addr add {c4} dev a\naddr add {c6} dev a nodad\n"),
        )?;
    }
    let b: IpAddr = match inner {
        Family::V4 => "198.19.2.2",
        Family::V6 => "2001:db8:ff02::b",
    }
    .parse()?;
    let _ = kind;
    let outer_ip = if outer == Family::V4 { 20 } else { 40 };
    Ok(Tunnel {
        lab,
        b,
        expected: LL_MTU - outer_ip - 8 - 8 - 14,
    })
}
