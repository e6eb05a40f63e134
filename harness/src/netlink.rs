//! rtnetlink, synchronously. Every link, address and route the harness makes,
//! and every route lookup it reads back, goes through here.
//!
//! A [`Rtnl`] socket belongs to the namespace of the thread that opened it
//! (open it inside [`crate::netns::Netns::run`] or `create_with`) and may then
//! be used from any thread. Requests are pipelined: a whole batch is written
//! with one `sendmsg` and the acks collected after, so building a node costs
//! one round trip instead of one per object.

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, RawFd};

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage,
};
use netlink_packet_route::link::{
    BridgeStpState, InfoBridge, InfoData, InfoKind, InfoVeth, InfoVxlan, LinkAttribute, LinkFlags,
    LinkInfo, LinkMessage, State, VxlanDf,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteMetric, RouteNextHop,
    RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use mtulab_core::plan::IfAddr;

#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error("open rtnetlink socket: {0}")]
    Open(io::Error),
    #[error("rtnetlink i/o: {0}")]
    Io(io::Error),
    #[error("{what}: {source}")]
    Request { what: String, source: io::Error },
    #[error("malformed rtnetlink reply: {0}")]
    Decode(String),
}

/// One request of a batch, with the words to use if the kernel refuses it.
pub struct Request {
    pub what: String,
    pub message: RouteNetlinkMessage,
    pub flags: u16,
}

impl Request {
    /// A create request (`NLM_F_CREATE | NLM_F_EXCL`).
    pub fn create(what: impl Into<String>, message: RouteNetlinkMessage) -> Request {
        Request {
            what: what.into(),
            message,
            flags: NLM_F_CREATE | NLM_F_EXCL,
        }
    }
    /// A request without create flags (delete, set).
    pub fn plain(what: impl Into<String>, message: RouteNetlinkMessage) -> Request {
        Request {
            what: what.into(),
            message,
            flags: 0,
        }
    }
}

/// Largest pipelined chunk [`Rtnl::execute`] sends in one `sendmsg`.
pub const CHUNK_BYTES: usize = 32 * 1024;
/// Most requests in one chunk (bounds the acks waiting in the receive buffer).
pub const CHUNK_REQUESTS: usize = 128;

pub struct Rtnl {
    socket: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl AsRawFd for Rtnl {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

fn family_of(addr: IpAddr) -> AddressFamily {
    match addr {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

impl Rtnl {
    /// Open a socket in the calling thread's network namespace.
    pub fn open() -> Result<Rtnl, NetlinkError> {
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(NetlinkError::Open)?;
        socket
            .bind(&SocketAddr::new(0, 0))
            .map_err(NetlinkError::Open)?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(NetlinkError::Open)?;
        // Extended acks: the kernel's own words on a refused request.
        let _ = socket.set_ext_ack(true);
        let _ = socket.set_netlink_get_strict_chk(true);
        Ok(Rtnl {
            socket,
            seq: 0,
            buf: vec![0; 1 << 16],
        })
    }

    fn encode(&mut self, out: &mut Vec<u8>, message: RouteNetlinkMessage, flags: u16) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = self.seq;
        let mut msg = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
        msg.finalize();
        let start = out.len();
        out.resize(start + msg.buffer_len(), 0);
        msg.serialize(&mut out[start..]);
        self.seq
    }

    /// Receive one datagram and decode every message in it.
    fn recv_batch(&mut self) -> Result<Vec<NetlinkMessage<RouteNetlinkMessage>>, NetlinkError> {
        let n = loop {
            // SAFETY: buf is a valid, writable buffer of buf.len() bytes.
            let n = unsafe {
                libc::recv(
                    self.socket.as_raw_fd(),
                    self.buf.as_mut_ptr().cast(),
                    self.buf.len(),
                    0,
                )
            };
            if n >= 0 {
                break n as usize;
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(NetlinkError::Io(e));
            }
        };
        let mut out = Vec::new();
        let mut off = 0;
        while off + 16 <= n {
            let len = u32::from_ne_bytes(self.buf[off..off + 4].try_into().unwrap()) as usize;
            if len < 16 || off + len > n {
                return Err(NetlinkError::Decode(format!("bad message length {len}")));
            }
            let msg = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&self.buf[off..off + len])
                .map_err(|e| NetlinkError::Decode(e.to_string()))?;
            out.push(msg);
            off += (len + 3) & !3;
        }
        Ok(out)
    }

    fn send(&self, bytes: &[u8]) -> Result<(), NetlinkError> {
        let sent = self.socket.send(bytes, 0).map_err(NetlinkError::Io)?;
        if sent != bytes.len() {
            return Err(NetlinkError::Io(io::Error::other("short netlink send")));
        }
        Ok(())
    }

    /// Send the requests pipelined, then wait for their acks. Returns the
    /// first refusal (naming the request) after draining the rest.
    ///
    /// A batch goes out in chunks of at most [`CHUNK_BYTES`] /
    /// [`CHUNK_REQUESTS`], each chunk's acks collected before the next is
    /// sent: one `sendmsg` larger than the socket's buffers fails with
    /// ENOBUFS (measured: a router with 300 veths), and the acks of an
    /// unbounded batch (an error ack quotes the whole request) could
    /// overflow the receive buffer.
    pub fn execute(&mut self, requests: Vec<Request>) -> Result<(), NetlinkError> {
        let mut first_err = None;
        let mut bytes = Vec::with_capacity(CHUNK_BYTES.min(1 << 20) + 1024);
        let mut pending: Vec<(u32, String)> = Vec::new();
        let count = requests.len();
        for (i, r) in requests.into_iter().enumerate() {
            let seq = self.encode(&mut bytes, r.message, r.flags | NLM_F_ACK);
            pending.push((seq, r.what));
            let last = i + 1 == count;
            if last || bytes.len() >= CHUNK_BYTES || pending.len() >= CHUNK_REQUESTS {
                self.send(&bytes)?;
                bytes.clear();
                let err = self.collect_acks(std::mem::take(&mut pending))?;
                first_err = first_err.or(err);
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Wait for the ack of every request in `pending`; the first refusal.
    fn collect_acks(
        &mut self,
        mut pending: Vec<(u32, String)>,
    ) -> Result<Option<NetlinkError>, NetlinkError> {
        let mut first_err = None;
        while !pending.is_empty() {
            for msg in self.recv_batch()? {
                if let NetlinkPayload::Error(e) = msg.payload {
                    let seq = msg.header.sequence_number;
                    if let Some(pos) = pending.iter().position(|(s, _)| *s == seq) {
                        let (_, what) = pending.swap_remove(pos);
                        if e.code.is_some() && first_err.is_none() {
                            first_err = Some(NetlinkError::Request {
                                what,
                                source: e.to_io(),
                            });
                        }
                    }
                }
            }
        }
        Ok(first_err)
    }

    /// A request answered by a dump (`NLM_F_DUMP`) or a single reply.
    pub fn query(
        &mut self,
        what: &str,
        message: RouteNetlinkMessage,
        dump: bool,
    ) -> Result<Vec<RouteNetlinkMessage>, NetlinkError> {
        let mut bytes = Vec::new();
        let flags = if dump { NLM_F_DUMP } else { 0 };
        let seq = self.encode(&mut bytes, message, flags);
        self.send(&bytes)?;
        let mut out = Vec::new();
        loop {
            for msg in self.recv_batch()? {
                if msg.header.sequence_number != seq {
                    continue;
                }
                match msg.payload {
                    NetlinkPayload::InnerMessage(m) => {
                        out.push(m);
                        if !dump {
                            return Ok(out);
                        }
                    }
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::Error(e) => {
                        if e.code.is_some() {
                            return Err(NetlinkError::Request {
                                what: what.to_string(),
                                source: e.to_io(),
                            });
                        }
                        return Ok(out);
                    }
                    _ => {}
                }
            }
        }
    }

    /// Every link in this namespace: (index, name, mtu).
    pub fn links(&mut self) -> Result<Vec<LinkState>, NetlinkError> {
        let replies = self.query(
            "list links",
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            true,
        )?;
        let mut out = Vec::new();
        for r in replies {
            if let RouteNetlinkMessage::NewLink(l) = r {
                let mut st = LinkState {
                    index: l.header.index,
                    name: String::new(),
                    mtu: 0,
                    up: l.header.flags.contains(LinkFlags::Up),
                    oper_up: false,
                };
                for a in l.attributes {
                    match a {
                        LinkAttribute::IfName(n) => st.name = n,
                        LinkAttribute::Mtu(m) => st.mtu = m,
                        LinkAttribute::OperState(o) => st.oper_up = o == State::Up,
                        _ => {}
                    }
                }
                out.push(st);
            }
        }
        Ok(out)
    }

    /// Every link, with all its attributes (`RTM_GETLINK` dump): what
    /// [`crate::snapshot`] decodes.
    pub fn dump_links(&mut self) -> Result<Vec<LinkMessage>, NetlinkError> {
        let replies = self.query(
            "dump links",
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            true,
        )?;
        Ok(replies
            .into_iter()
            .filter_map(|r| match r {
                RouteNetlinkMessage::NewLink(l) => Some(l),
                _ => None,
            })
            .collect())
    }

    /// Every address of both families (`RTM_GETADDR` dump).
    pub fn dump_addresses(&mut self) -> Result<Vec<AddressMessage>, NetlinkError> {
        let replies = self.query(
            "dump addresses",
            RouteNetlinkMessage::GetAddress(AddressMessage::default()),
            true,
        )?;
        Ok(replies
            .into_iter()
            .filter_map(|r| match r {
                RouteNetlinkMessage::NewAddress(a) => Some(a),
                _ => None,
            })
            .collect())
    }

    /// Every route of one family in every table (`RTM_GETROUTE` dump, no
    /// table filter; cached exceptions are not included).
    pub fn dump_routes(&mut self, v6: bool) -> Result<Vec<RouteMessage>, NetlinkError> {
        let mut msg = RouteMessage::default();
        msg.header.address_family = if v6 {
            AddressFamily::Inet6
        } else {
            AddressFamily::Inet
        };
        let replies = self.query("dump routes", RouteNetlinkMessage::GetRoute(msg), true)?;
        Ok(replies
            .into_iter()
            .filter_map(|r| match r {
                RouteNetlinkMessage::NewRoute(r)
                    if !r.header.flags.contains(RouteFlags::Cloned) =>
                {
                    Some(r)
                }
                _ => None,
            })
            .collect())
    }

    /// The kernel's route lookup from this namespace to `dst`
    /// (`ip route get DST`): device, gateway and any PMTU exception.
    pub fn route_get(&mut self, dst: IpAddr) -> Result<RouteLookup, NetlinkError> {
        self.route_get_oif(dst, None)
    }

    /// [`Rtnl::route_get`] leaving through interface `oif` when given
    /// (`ip route get DST oif DEV`): on a multipath route, the lookup of
    /// one next hop and its own exception.
    pub fn route_get_oif(
        &mut self,
        dst: IpAddr,
        oif: Option<u32>,
    ) -> Result<RouteLookup, NetlinkError> {
        let mut msg = RouteMessage::default();
        msg.header.address_family = family_of(dst);
        msg.header.destination_prefix_length = if dst.is_ipv4() { 32 } else { 128 };
        msg.attributes
            .push(RouteAttribute::Destination(RouteAddress::from(dst)));
        if let Some(oif) = oif {
            msg.attributes.push(RouteAttribute::Oif(oif));
        }
        let replies = self.query(
            &format!("route lookup to {dst}"),
            RouteNetlinkMessage::GetRoute(msg),
            false,
        )?;
        let Some(RouteNetlinkMessage::NewRoute(r)) = replies.into_iter().next() else {
            return Err(NetlinkError::Decode(format!(
                "no reply to route lookup to {dst}"
            )));
        };
        Ok(RouteLookup::from_message(dst, &r))
    }

    /// Cached route exceptions (PMTU, redirects) of one family: what
    /// `ip route show cache` / `ip -6 route show cache` list.
    pub fn exceptions(&mut self, v6: bool) -> Result<Vec<RouteLookup>, NetlinkError> {
        let mut msg = RouteMessage::default();
        msg.header.address_family = if v6 {
            AddressFamily::Inet6
        } else {
            AddressFamily::Inet
        };
        msg.header.flags = RouteFlags::Cloned;
        let replies = self.query(
            "list route exceptions",
            RouteNetlinkMessage::GetRoute(msg),
            true,
        )?;
        let mut out = Vec::new();
        for r in replies {
            if let RouteNetlinkMessage::NewRoute(r) = r {
                if !r.header.flags.contains(RouteFlags::Cloned) {
                    continue;
                }
                let dst = r.attributes.iter().find_map(|a| match a {
                    RouteAttribute::Destination(RouteAddress::Inet(a)) => Some(IpAddr::V4(*a)),
                    RouteAttribute::Destination(RouteAddress::Inet6(a)) => Some(IpAddr::V6(*a)),
                    _ => None,
                });
                if let Some(dst) = dst {
                    out.push(RouteLookup::from_message(dst, &r));
                }
            }
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkState {
    pub index: u32,
    pub name: String,
    pub mtu: u32,
    pub up: bool,
    /// Operationally up (`IF_OPER_UP`: carrier, and the kernel's link
    /// watch has processed it).
    pub oper_up: bool,
}

/// What the kernel says about the route to one destination.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RouteLookup {
    pub dst: IpAddr,
    pub oif: Option<u32>,
    pub gateway: Option<IpAddr>,
    /// The route's MTU metric: a PMTU exception's MTU when one is cached.
    pub mtu: Option<u32>,
    /// The MTU is locked (`RTAX_LOCK`): learned below min_pmtu.
    pub locked: bool,
    /// Seconds until the exception expires (0: none).
    pub expires: u32,
    /// The reply came from the exception cache (`RTM_F_CLONED`).
    pub cloned: bool,
}

impl RouteLookup {
    fn from_message(dst: IpAddr, r: &RouteMessage) -> RouteLookup {
        let mut out = RouteLookup {
            dst,
            oif: None,
            gateway: None,
            mtu: None,
            locked: false,
            expires: 0,
            cloned: r.header.flags.contains(RouteFlags::Cloned),
        };
        for a in &r.attributes {
            match a {
                RouteAttribute::Oif(i) => out.oif = Some(*i),
                RouteAttribute::Gateway(RouteAddress::Inet(g)) => out.gateway = Some((*g).into()),
                RouteAttribute::Gateway(RouteAddress::Inet6(g)) => out.gateway = Some((*g).into()),
                RouteAttribute::Metrics(ms) => {
                    for m in ms {
                        match m {
                            RouteMetric::Mtu(v) => out.mtu = Some(*v),
                            // RTAX_MTU is metric 2: its lock bit is 1 << 2.
                            RouteMetric::Lock(bits) => out.locked = bits & (1 << 2) != 0,
                            _ => {}
                        }
                    }
                }
                RouteAttribute::CacheInfo(ci) => out.expires = ci.expires / 100,
                RouteAttribute::Expires(e) => out.expires = *e,
                _ => {}
            }
        }
        out
    }
}

/// A veth pair: end `a` in the socket's namespace (created up), end `b`
/// created directly in the namespace `b_ns` (bring it up with [`set_up`];
/// the carrier comes on then). Indexes are chosen by the caller so no
/// lookup round trip is needed afterwards.
pub fn new_veth(a: &VethEnd, b: &VethEnd, b_ns: RawFd) -> RouteNetlinkMessage {
    let mut peer = LinkMessage::default();
    // The peer cannot be created up (veth_open returns ENOTCONN while its
    // own peer is not yet attached): it is set up in a second batch.
    peer.header.index = b.index;
    peer.attributes.push(LinkAttribute::IfName(b.name.clone()));
    peer.attributes.push(LinkAttribute::Mtu(b.mtu));
    peer.attributes.push(LinkAttribute::NetNsFd(b_ns));

    let veth = InfoData::Veth(InfoVeth::Peer(peer));
    new_link_up(a.index, &a.name, a.mtu, InfoKind::Veth, veth)
}

/// A new link in the socket's namespace, created up: index, name, MTU, and
/// its kind with the kind's data.
fn new_link_up(
    index: u32,
    name: &str,
    mtu: u32,
    kind: InfoKind,
    data: InfoData,
) -> RouteNetlinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    msg.header.flags = LinkFlags::Up;
    msg.header.change_mask = LinkFlags::Up;
    msg.attributes.push(LinkAttribute::IfName(name.to_owned()));
    msg.attributes.push(LinkAttribute::Mtu(mtu));
    msg.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(kind),
        LinkInfo::Data(data),
    ]));
    RouteNetlinkMessage::NewLink(msg)
}

pub struct VethEnd {
    pub name: String,
    pub index: u32,
    pub mtu: u32,
}

/// One end of a VXLAN tunnel, created up in the socket's namespace.
pub struct VxlanEnd {
    pub name: String,
    pub index: u32,
    pub mtu: u32,
    pub vni: u32,
    /// Underlay source address (IPv4 or IPv6; `remote` is the same family).
    pub local: IpAddr,
    pub remote: IpAddr,
}

/// A point-to-point VXLAN device (`ip link add NAME type vxlan id VNI
/// local L remote R dstport 4789 nolearning df unset`): the default FDB
/// entry sends everything, ARP/ND included, to `remote`. No underlay device
/// is bound, so the kernel would default the MTU to 1500: it is always set.
/// DF on the outer header stays unset (the kernel default): an underlay
/// narrower than the tunnel fragments outer packets rather than dropping
/// them (measured; with `df set` forwarded traffic was silently dropped).
pub fn new_vxlan(v: &VxlanEnd) -> RouteNetlinkMessage {
    let mut data = vec![InfoVxlan::Id(v.vni)];
    match (v.local, v.remote) {
        (IpAddr::V4(l), IpAddr::V4(r)) => {
            data.push(InfoVxlan::Local(l));
            data.push(InfoVxlan::Group(r));
        }
        (IpAddr::V6(l), IpAddr::V6(r)) => {
            data.push(InfoVxlan::Local6(l));
            data.push(InfoVxlan::Group6(r));
        }
        // Mixed families: let the kernel refuse it with its own words.
        (l, r) => {
            for a in [l, r] {
                match a {
                    IpAddr::V4(a) => data.push(InfoVxlan::Local(a)),
                    IpAddr::V6(a) => data.push(InfoVxlan::Group6(a)),
                }
            }
        }
    }
    data.push(InfoVxlan::Port(mtulab_core::plan::tunnel::VXLAN_PORT));
    data.push(InfoVxlan::Learning(false));
    data.push(InfoVxlan::Df(VxlanDf::Unset));
    let vxlan = InfoData::Vxlan(data);
    new_link_up(v.index, &v.name, v.mtu, InfoKind::Vxlan, vxlan)
}

/// A Linux bridge for a segment, created up: no STP, forward delay 0 (a
/// port forwards as soon as it is up), no multicast snooping (IPv6
/// neighbour solicitations are flooded to every port, so ND needs no MLD
/// querier). What `ip link add NAME type bridge stp_state 0 forward_delay 0
/// mcast_snooping 0` sends.
pub fn new_bridge(index: u32, name: &str, mtu: u32) -> RouteNetlinkMessage {
    let data = InfoData::Bridge(vec![
        InfoBridge::StpState(BridgeStpState::Disabled),
        InfoBridge::ForwardDelay(0),
        InfoBridge::MulticastSnooping(false),
    ]);
    new_link_up(index, name, mtu, InfoKind::Bridge, data)
}

/// Enslave link `index` to the bridge `master` and bring it up
/// (`ip link set PORT master BR up`).
pub fn set_master_up(index: u32, master: u32) -> RouteNetlinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    msg.header.flags = LinkFlags::Up;
    msg.header.change_mask = LinkFlags::Up;
    msg.attributes.push(LinkAttribute::Controller(master));
    RouteNetlinkMessage::SetLink(msg)
}

/// Bring a link up (e.g. `lo`).
pub fn set_up(index: u32) -> RouteNetlinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    msg.header.flags = LinkFlags::Up;
    msg.header.change_mask = LinkFlags::Up;
    RouteNetlinkMessage::SetLink(msg)
}

/// Change a link's MTU.
pub fn set_mtu(index: u32, mtu: u32) -> RouteNetlinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    msg.attributes.push(LinkAttribute::Mtu(mtu));
    RouteNetlinkMessage::SetLink(msg)
}

/// An address without duplicate address detection (`IFA_F_NODAD`): usable
/// at once, no 1–2 s DAD stall before the first IPv6 connection.
pub fn new_address(index: u32, a: &IfAddr) -> RouteNetlinkMessage {
    let mut msg = AddressMessage::default();
    msg.header.family = family_of(a.addr);
    msg.header.prefix_len = a.prefix_len;
    msg.header.index = index;
    msg.header.flags = AddressHeaderFlags::Nodad | AddressHeaderFlags::Permanent;
    msg.attributes.push(AddressAttribute::Local(a.addr));
    msg.attributes.push(AddressAttribute::Address(a.addr));
    RouteNetlinkMessage::NewAddress(msg)
}

/// [`new_address`] without the prefix route the kernel would add for it
/// (`IFA_F_NOPREFIXROUTE`, `ip addr add ... noprefixroute`): the caller
/// installs that route itself with [`new_prefix_route`], e.g. to give it
/// metrics.
pub fn new_address_noprefixroute(index: u32, a: &IfAddr) -> RouteNetlinkMessage {
    let RouteNetlinkMessage::NewAddress(mut msg) = new_address(index, a) else {
        unreachable!("new_address builds a NewAddress");
    };
    // IFA_F_NOPREFIXROUTE does not fit the header's 8 flag bits: IFA_FLAGS
    // carries them all.
    msg.attributes.push(AddressAttribute::Flags(
        AddressFlags::Nodad | AddressFlags::Permanent | AddressFlags::Noprefixroute,
    ));
    RouteNetlinkMessage::NewAddress(msg)
}

/// The connected (prefix) route the kernel adds for address `a` on `oif`,
/// as it adds it: IPv4 `NET/LEN dev X proto kernel scope link src ADDR`,
/// IPv6 `NET/LEN dev X proto kernel metric 256`.
pub fn new_prefix_route(oif: u32, a: &IfAddr) -> RouteNetlinkMessage {
    let net = network_of(a.addr, a.prefix_len);
    let mut msg = RouteMessage::default();
    msg.header = RouteHeader {
        address_family: family_of(a.addr),
        destination_prefix_length: a.prefix_len,
        table: RouteHeader::RT_TABLE_MAIN,
        protocol: RouteProtocol::Kernel,
        scope: if a.addr.is_ipv4() {
            RouteScope::Link
        } else {
            RouteScope::Universe
        },
        kind: RouteType::Unicast,
        ..RouteHeader::default()
    };
    msg.attributes
        .push(RouteAttribute::Destination(RouteAddress::from(net)));
    msg.attributes.push(RouteAttribute::Oif(oif));
    match a.addr {
        IpAddr::V4(_) => msg
            .attributes
            .push(RouteAttribute::PrefSource(RouteAddress::from(a.addr))),
        // IP6_RT_PRIO_ADDRCONF
        IpAddr::V6(_) => msg.attributes.push(RouteAttribute::Priority(256)),
    }
    RouteNetlinkMessage::NewRoute(msg)
}

/// `addr` with the bits past `prefix_len` cleared.
fn network_of(addr: IpAddr, prefix_len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - prefix_len as u32).unwrap_or(0);
            IpAddr::V4((u32::from(a) & mask).into())
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - prefix_len as u32).unwrap_or(0);
            IpAddr::V6((u128::from(a) & mask).into())
        }
    }
}

/// Add `metrics` (`RTA_METRICS`: e.g. `rto_min`, `quickack`) to a route
/// request; nothing when empty.
pub fn with_metrics(msg: RouteNetlinkMessage, metrics: &[RouteMetric]) -> RouteNetlinkMessage {
    match msg {
        RouteNetlinkMessage::NewRoute(mut r) if !metrics.is_empty() => {
            r.attributes.push(RouteAttribute::Metrics(metrics.to_vec()));
            RouteNetlinkMessage::NewRoute(r)
        }
        other => other,
    }
}

/// A static unicast route in the main table to `dst`, next hops not yet
/// given: what [`new_route`] and [`new_multipath_route`] share.
fn static_route_to(dst: &IfAddr) -> RouteMessage {
    let mut msg = RouteMessage::default();
    msg.header = RouteHeader {
        address_family: family_of(dst.addr),
        destination_prefix_length: dst.prefix_len,
        table: RouteHeader::RT_TABLE_MAIN,
        protocol: RouteProtocol::Static,
        scope: RouteScope::Universe,
        kind: RouteType::Unicast,
        ..RouteHeader::default()
    };
    msg.attributes
        .push(RouteAttribute::Destination(RouteAddress::from(dst.addr)));
    msg
}

/// A unicast route in the main table to `dst` via `gateway` out of `oif`.
pub fn new_route(dst: &IfAddr, gateway: IpAddr, oif: u32) -> RouteNetlinkMessage {
    let mut msg = static_route_to(dst);
    msg.attributes
        .push(RouteAttribute::Gateway(RouteAddress::from(gateway)));
    msg.attributes.push(RouteAttribute::Oif(oif));
    RouteNetlinkMessage::NewRoute(msg)
}

/// A multipath (ECMP) route in the main table to `dst`: one `RTA_MULTIPATH`
/// next hop per (gateway, oif), equal weights. What
/// `ip route add DST nexthop via A dev X nexthop via B dev Y` sends.
pub fn new_multipath_route(dst: &IfAddr, nexthops: &[(IpAddr, u32)]) -> RouteNetlinkMessage {
    let mut msg = static_route_to(dst);
    let hops = nexthops
        .iter()
        .map(|&(gateway, oif)| {
            let mut hop = RouteNextHop::default();
            hop.interface_index = oif;
            hop.attributes
                .push(RouteAttribute::Gateway(RouteAddress::from(gateway)));
            hop
        })
        .collect();
    msg.attributes.push(RouteAttribute::MultiPath(hops));
    RouteNetlinkMessage::NewRoute(msg)
}

/// Delete a cached exception (what `ip -6 route flush cache` sends for each).
pub fn del_exception(e: &RouteLookup) -> RouteNetlinkMessage {
    let mut msg = RouteMessage::default();
    msg.header.address_family = family_of(e.dst);
    msg.header.destination_prefix_length = if e.dst.is_ipv4() { 32 } else { 128 };
    msg.header.table = RouteHeader::RT_TABLE_MAIN;
    msg.header.flags = RouteFlags::Cloned;
    msg.attributes
        .push(RouteAttribute::Destination(RouteAddress::from(e.dst)));
    if let Some(oif) = e.oif {
        msg.attributes.push(RouteAttribute::Oif(oif));
    }
    if let Some(gw) = e.gateway {
        msg.attributes
            .push(RouteAttribute::Gateway(RouteAddress::from(gw)));
    }
    RouteNetlinkMessage::DelRoute(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_clears_host_bits() {
        let v4 = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(network_of(v4("198.18.0.5"), 31), v4("198.18.0.4"));
        assert_eq!(network_of(v4("198.18.0.5"), 32), v4("198.18.0.5"));
        assert_eq!(network_of(v4("198.18.0.5"), 0), v4("0.0.0.0"));
        assert_eq!(network_of(v4("2001:db8:0:1::2"), 64), v4("2001:db8:0:1::"));
        assert_eq!(network_of(v4("2001:db8::1"), 128), v4("2001:db8::1"));
    }
}
