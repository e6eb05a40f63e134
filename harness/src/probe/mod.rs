//! Probes: what the kernel *does* on a lab's paths, measured with the socket
//! API the way a real application meets it.
//!
//! - [`ping`]: one DF echo request of a given IP packet size (reply,
//!   too-big with the reporting router and MTU, local too-big, silence);
//! - [`tracepath`]: the iputils method, hop by hop, learning the path MTU;
//! - [`transfer`]: a TCP bulk transfer watched through `TCP_INFO`, with a
//!   fast blackhole verdict;
//! - [`exceptions`]: the kernel's cached PMTU exceptions, read and flushed;
//! - [`icmp_delivery`]: whether a router's frag-needed / packet-too-big can
//!   reach a host at all, whether or not any packet is too big today;
//! - [`anycast`]: downloads from an anycast address behind ECMP, per flow:
//!   which member accepted it, which received its ICMP, the verdict.
//!
//! Every probe has a deadline and waits on socket readiness (poll(2)), never
//! on fixed sleeps; a probe that expects silence ends it early with an
//! ordering barrier ([`barrier`]: a marker behind the probe along the same
//! route) instead of waiting out its deadline; every socket a probe opens is closed before it returns.
//! Sockets are created on a thread inside the node's namespace
//! ([`crate::netns::Netns::run`]) and then used from ordinary threads.

pub mod anycast;
mod barrier;
pub mod error;
pub mod exceptions;
pub mod icmp_delivery;
pub mod ping;
mod sock;
pub mod tracepath;
pub mod transfer;
