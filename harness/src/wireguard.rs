//! WireGuard keys, ports and peers over generic netlink (the `wireguard`
//! family, what `wg set` sends), with the rust-netlink crates
//! (netlink-packet-wireguard, netlink-packet-generic) on a synchronous
//! socket like [`crate::netlink::Rtnl`]. Chosen over running Debian's `wg`
//! inside each node: no tool to install or find in a guest kernel's root,
//! no key material on command lines, and the kernel's own errors come
//! back typed.
//!
//! The keys are lab keys, not secrets: each end's private key is derived
//! from the lab id, the tunnel and the end, and its public key is read
//! back from the kernel (which computes it when the private key is set),
//! so no curve25519 code is needed here. Each end gets one peer, the other
//! end, at its underlay address and port, allowed `0.0.0.0/0` and `::/0`:
//! whatever the routes send into the device goes to that peer, and
//! whatever comes out of it is accepted.
//!
//! Sockets belong to the namespace of the thread that opens them: call
//! these inside [`crate::netns::Netns::run`].

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::Duration;

use netlink_packet_core::{
    NetlinkDeserializable, NetlinkHeader, NetlinkMessage, NetlinkPayload, NetlinkSerializable,
    NLM_F_ACK, NLM_F_REQUEST,
};
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlFamily, GenlMessage};
use netlink_packet_wireguard::{
    WireguardAddressFamily, WireguardAllowedIp, WireguardAllowedIpAttr, WireguardAttribute,
    WireguardCmd, WireguardMessage, WireguardPeer, WireguardPeerAttribute, WireguardPeerFlags,
};
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr as NlAddr};

/// Every generic netlink reply is waited for at most this long.
const TIMEOUT: Duration = Duration::from_secs(5);

/// A WireGuard key (curve25519, 32 bytes).
pub type Key = [u8; 32];

/// A synchronous generic netlink socket in the calling thread's namespace.
pub struct Genl {
    socket: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl Genl {
    pub fn open() -> io::Result<Genl> {
        let mut socket = Socket::new(NETLINK_GENERIC)?;
        socket.bind(&NlAddr::new(0, 0))?;
        socket.connect(&NlAddr::new(0, 0))?;
        let tv = libc::timeval {
            tv_sec: TIMEOUT.as_secs() as libc::time_t,
            tv_usec: 0,
        };
        // SAFETY: a valid timeval for SO_RCVTIMEO on our own socket.
        let rc = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Genl {
            socket,
            seq: 0,
            buf: vec![0; 1 << 16],
        })
    }

    /// Send one request and collect its replies (one, or a dump) until
    /// its ack or `NLMSG_DONE`.
    fn request<F>(&mut self, payload: GenlMessage<F>, flags: u16) -> io::Result<Vec<F>>
    where
        F: GenlFamily + netlink_packet_core::Emitable + std::fmt::Debug,
        GenlMessage<F>: NetlinkSerializable + NetlinkDeserializable,
    {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        header.sequence_number = self.seq;
        let mut msg = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(payload));
        msg.finalize();
        let mut bytes = vec![0; msg.buffer_len()];
        msg.serialize(&mut bytes);
        self.socket.send(&bytes, 0)?;
        let mut out = Vec::new();
        loop {
            let n = loop {
                match self.socket.recv(&mut &mut self.buf[..], 0) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("no generic netlink reply within {TIMEOUT:?}"),
                        ))
                    }
                    Err(e) => return Err(e),
                }
            };
            let mut off = 0;
            while off + 16 <= n {
                let len = u32::from_ne_bytes(self.buf[off..off + 4].try_into().expect("4 bytes"))
                    as usize;
                if len < 16 || off + len > n {
                    return Err(io::Error::other(format!("bad netlink length {len}")));
                }
                let m = NetlinkMessage::<GenlMessage<F>>::deserialize(&self.buf[off..off + len])
                    .map_err(|e| io::Error::other(e.to_string()))?;
                off += (len + 3) & !3;
                if m.header.sequence_number != self.seq {
                    continue;
                }
                match m.payload {
                    NetlinkPayload::InnerMessage(g) => out.push(g.payload),
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            Some(_) => Err(e.to_io()),
                            None => Ok(out),
                        };
                    }
                    _ => {}
                }
            }
        }
    }

    /// The id of the generic netlink family `wireguard` (ENOENT: the
    /// kernel has no WireGuard).
    pub fn wireguard_family(&mut self) -> io::Result<u16> {
        let replies = self.request(
            GenlMessage::from_payload(GenlCtrl {
                cmd: GenlCtrlCmd::GetFamily,
                nlas: vec![GenlCtrlAttrs::FamilyName(
                    WireguardMessage::family_name().to_owned(),
                )],
            }),
            0,
        )?;
        replies
            .iter()
            .flat_map(|r| &r.nlas)
            .find_map(|a| match a {
                GenlCtrlAttrs::FamilyId(id) => Some(*id),
                _ => None,
            })
            .ok_or_else(|| io::Error::other("no family id in the controller's reply"))
    }

    fn wireguard(
        &mut self,
        family: u16,
        cmd: WireguardCmd,
        attributes: Vec<WireguardAttribute>,
        flags: u16,
    ) -> io::Result<Vec<WireguardMessage>> {
        let mut msg = GenlMessage::from_payload(WireguardMessage { cmd, attributes });
        msg.set_resolved_family_id(family);
        self.request(msg, flags)
    }

    /// Set the private key and listen port of device `ifindex`; returns
    /// the public key the kernel computed.
    pub fn set_identity(
        &mut self,
        family: u16,
        ifindex: u32,
        private: Key,
        port: u16,
    ) -> io::Result<Key> {
        self.wireguard(
            family,
            WireguardCmd::SetDevice,
            vec![
                WireguardAttribute::IfIndex(ifindex),
                WireguardAttribute::PrivateKey(private),
                WireguardAttribute::ListenPort(port),
            ],
            0,
        )?;
        let got = self.wireguard(
            family,
            WireguardCmd::GetDevice,
            vec![WireguardAttribute::IfIndex(ifindex)],
            netlink_packet_core::NLM_F_DUMP,
        )?;
        got.iter()
            .flat_map(|m| &m.attributes)
            .find_map(|a| match a {
                WireguardAttribute::PublicKey(k) => Some(*k),
                _ => None,
            })
            .ok_or_else(|| io::Error::other("the kernel returned no public key"))
    }

    /// Make `peer` (at `endpoint`) the only peer of device `ifindex`,
    /// allowed every address of both families.
    pub fn set_peer(
        &mut self,
        family: u16,
        ifindex: u32,
        peer: Key,
        endpoint: SocketAddr,
    ) -> io::Result<()> {
        let any = |f: WireguardAddressFamily, addr: IpAddr| {
            WireguardAllowedIp(vec![
                WireguardAllowedIpAttr::Family(f),
                WireguardAllowedIpAttr::IpAddr(addr),
                WireguardAllowedIpAttr::Cidr(0),
            ])
        };
        self.wireguard(
            family,
            WireguardCmd::SetDevice,
            vec![
                WireguardAttribute::IfIndex(ifindex),
                WireguardAttribute::Peers(vec![WireguardPeer(vec![
                    WireguardPeerAttribute::PublicKey(peer),
                    WireguardPeerAttribute::Flags(WireguardPeerFlags::ReplaceAllowedIps),
                    WireguardPeerAttribute::Endpoint(endpoint),
                    WireguardPeerAttribute::AllowedIps(vec![
                        any(WireguardAddressFamily::Ipv4, Ipv4Addr::UNSPECIFIED.into()),
                        any(WireguardAddressFamily::Ipv6, Ipv6Addr::UNSPECIFIED.into()),
                    ]),
                ])]),
            ],
            0,
        )?;
        Ok(())
    }
}

/// The `wireguard` family id, looked up from the calling thread.
pub fn family_id() -> io::Result<u16> {
    Genl::open()?.wireguard_family()
}

/// A lab private key for end `end` of tunnel `tunnel` of lab `lab`:
/// distinct per lab, tunnel and end, stable for one lab. Not a secret.
pub fn lab_key(lab: &str, tunnel: usize, end: usize) -> Key {
    let mut key = [0u8; 32];
    for (i, chunk) in key.chunks_mut(8).enumerate() {
        let mut h = DefaultHasher::new();
        (lab, tunnel, end, i).hash(&mut h);
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys differ per tunnel and end and are stable.
    #[test]
    fn lab_keys() {
        let a = lab_key("lab1", 0, 0);
        assert_eq!(a, lab_key("lab1", 0, 0));
        assert_ne!(a, lab_key("lab1", 0, 1));
        assert_ne!(a, lab_key("lab1", 1, 0));
        assert_ne!(a, lab_key("lab2", 0, 0));
    }
}
