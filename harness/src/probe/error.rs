//! The one error type every probe returns.

use std::io;
use std::net::IpAddr;

use crate::netlink::NetlinkError;
use crate::netns::NetnsError;

/// Why a probe could not produce a result. A probe that ran and saw the
/// network misbehave (silence, a blackhole) is a *result*, not an error.
///
/// Messages are lowercase fragments that read well after "failed to".
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("find node {0:?} in the lab")]
    NoNode(String),
    #[error("find a {family} address for host {node}")]
    NoAddress { node: String, family: &'static str },
    #[error("{what} in node {node}: {source}")]
    Io {
        node: String,
        what: String,
        source: io::Error,
    },
    #[error(transparent)]
    Netns(#[from] NetnsError),
    #[error("query routes in node {node}: {source}")]
    Netlink { node: String, source: NetlinkError },
    #[error("probe with a {size}-byte packet to {dst}: the smallest probe is {min} bytes")]
    TooSmall { size: u32, dst: IpAddr, min: u32 },
    #[error("flush PMTU exceptions in node {node}: {left} remain afterwards ({detail})")]
    FlushIncomplete {
        node: String,
        left: usize,
        detail: String,
    },
    #[error("transfer {what} to {dst}: {detail}")]
    Transfer {
        what: &'static str,
        dst: String,
        detail: String,
    },
    #[error(
        "reach {to} ({dst}) from {from} with a minimal echo first: {outcome} \
         (the path is down, whatever the packet size)"
    )]
    PathDown {
        from: String,
        to: String,
        dst: IpAddr,
        outcome: String,
    },
    #[error("run {tool} in node {node}: {detail}")]
    Tool {
        tool: String,
        node: String,
        detail: String,
    },
}

impl ProbeError {
    /// An I/O error in `node` while doing `what`.
    pub(crate) fn io(node: &str, what: impl Into<String>, source: io::Error) -> ProbeError {
        ProbeError::Io {
            node: node.to_string(),
            what: what.into(),
            source,
        }
    }
}
