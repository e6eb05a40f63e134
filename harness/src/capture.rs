//! Packet capture inside a lab's namespaces, on named interfaces: one
//! `AF_PACKET` socket per interface, opened and bound on a thread inside
//! the node's namespace (the socket stays there), read by a capture thread
//! of ours into a bounded buffer, written out as pcapng (interface name,
//! nanosecond timestamps, direction flags) for tcpdump and Wireshark.
//!
//! [`Capture`] owns the threads: [`Capture::stop`] (or dropping it, also on
//! panic) sets the stop flag and joins them; each read waits at most
//! [`POLL`], so stopping takes at most that long. A capture also ends by
//! itself after [`CaptureOpts::max_duration`] or [`CaptureOpts::max_packets`].

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::Lab;

/// How long one read waits before the stop flag is looked at again.
pub const POLL: Duration = Duration::from_millis(50);

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("capture on {node}:{iface}: no such node")]
    NoNode { node: String, iface: String },
    #[error("capture on {node}:{iface}: {step}: {source}")]
    Socket {
        node: String,
        iface: String,
        step: &'static str,
        source: io::Error,
    },
    #[error("capture on {node}:{iface}: {source}")]
    Netns {
        node: String,
        iface: String,
        source: crate::netns::NetnsError,
    },
    #[error("write {path}: {message}")]
    Write { path: String, message: String },
}

#[derive(Debug, Clone)]
pub struct CaptureOpts {
    /// Bytes kept of each packet (headers are what a PMTU story needs).
    pub snaplen: u32,
    /// Packets kept per interface; later ones are counted, not kept.
    pub max_packets: usize,
    /// A capture thread stops by itself after this long.
    pub max_duration: Duration,
}

impl Default for CaptureOpts {
    fn default() -> Self {
        CaptureOpts {
            snaplen: 256,
            max_packets: 20_000,
            max_duration: Duration::from_secs(120),
        }
    }
}

/// One captured packet.
#[derive(Debug, Clone)]
pub struct Packet {
    /// Since the Unix epoch.
    pub ts: Duration,
    /// Length on the wire.
    pub len: u32,
    /// The first `snaplen` bytes, from the Ethernet header on.
    pub data: Vec<u8>,
    /// Sent by this interface (else received).
    pub outgoing: bool,
}

/// What one interface saw.
#[derive(Debug, Clone)]
pub struct Captured {
    pub node: String,
    pub iface: String,
    pub snaplen: u32,
    pub packets: Vec<Packet>,
    /// Packets seen after `max_packets` (not kept).
    pub overflow: u64,
}

struct Worker {
    node: String,
    iface: String,
    handle: Option<JoinHandle<Captured>>,
}

/// Captures running on some interfaces of a lab; stopped and joined on drop.
pub struct Capture {
    stop: Arc<AtomicBool>,
    workers: Vec<Worker>,
}

/// An `AF_PACKET` socket bound to `iface` of the calling thread's
/// namespace, all protocols. Created with protocol 0 (it receives nothing
/// until bound), so no packet of another interface slips in before `bind`.
fn packet_socket(iface: &str) -> Result<OwnedFd, (&'static str, io::Error)> {
    let name = std::ffi::CString::new(iface)
        .map_err(|_| ("interface name", io::ErrorKind::InvalidInput.into()))?;
    // SAFETY: a plain libc call with a valid C string.
    let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if ifindex == 0 {
        return Err(("find interface", io::Error::last_os_error()));
    }
    // SAFETY: socket(2) with constant arguments; the fd is owned below.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(("socket(AF_PACKET)", io::Error::last_os_error()));
    }
    // SAFETY: fd is a fresh descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let sock = socket2::SockRef::from(&fd);
    sock.set_read_timeout(Some(POLL))
        .map_err(|e| ("SO_RCVTIMEO", e))?;
    // A bulk transfer's burst must not overflow the queue between reads.
    let _ = sock.set_recv_buffer_size(8 << 20);
    // SAFETY: sockaddr_ll is plain data; zeroed is a valid start.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    sll.sll_ifindex = ifindex as i32;
    // SAFETY: bind(2) with a properly sized sockaddr_ll.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        )
    };
    if rc < 0 {
        return Err(("bind", io::Error::last_os_error()));
    }
    Ok(fd)
}

/// Read one packet (waits at most [`POLL`]); None on timeout.
fn read_one(fd: &OwnedFd, buf: &mut [u8], flags: i32) -> io::Result<Option<(usize, bool)>> {
    // SAFETY: sockaddr_ll is plain data.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: buf and sll are valid for the sizes given; MSG_TRUNC makes
    // the return value the packet's real length.
    let n = unsafe {
        libc::recvfrom(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            flags | libc::MSG_TRUNC,
            &mut sll as *mut libc::sockaddr_ll as *mut libc::sockaddr,
            &mut len,
        )
    };
    if n < 0 {
        let e = io::Error::last_os_error();
        return match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted => {
                Ok(None)
            }
            _ => Err(e),
        };
    }
    Ok(Some((n as usize, sll.sll_pkttype == libc::PACKET_OUTGOING)))
}

fn run(fd: OwnedFd, mut out: Captured, stop: Arc<AtomicBool>, opts: CaptureOpts) -> Captured {
    let started = Instant::now();
    let mut buf = vec![0u8; out.snaplen as usize];
    let take = |n: usize, outgoing: bool, out: &mut Captured, buf: &[u8]| {
        if out.packets.len() >= opts.max_packets {
            out.overflow += 1;
            return;
        }
        out.packets.push(Packet {
            ts: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
            len: n as u32,
            data: buf[..n.min(buf.len())].to_vec(),
            outgoing,
        });
    };
    while !stop.load(Ordering::Relaxed) && started.elapsed() < opts.max_duration {
        match read_one(&fd, &mut buf, 0) {
            Ok(Some((n, o))) => take(n, o, &mut out, &buf),
            Ok(None) => {}
            Err(_) => return out,
        }
    }
    // What was queued before the stop still belongs to the capture.
    while let Ok(Some((n, o))) = read_one(&fd, &mut buf, libc::MSG_DONTWAIT) {
        take(n, o, &mut out, &buf);
    }
    out
}

impl Capture {
    /// Start capturing on each `(node, interface)`; every socket is bound
    /// when this returns, so traffic sent afterwards is seen.
    pub fn start(
        lab: &Lab,
        ifaces: &[(String, String)],
        opts: &CaptureOpts,
    ) -> Result<Capture, CaptureError> {
        let mut cap = Capture {
            stop: Arc::new(AtomicBool::new(false)),
            workers: Vec::new(),
        };
        for (node, iface) in ifaces {
            let Some(n) = lab.node(node) else {
                return Err(CaptureError::NoNode {
                    node: node.clone(),
                    iface: iface.clone(),
                });
            };
            let fd = n
                .ns()
                .run(|| packet_socket(iface))
                .map_err(|source| CaptureError::Netns {
                    node: node.clone(),
                    iface: iface.clone(),
                    source,
                })?
                .map_err(|(step, source)| CaptureError::Socket {
                    node: node.clone(),
                    iface: iface.clone(),
                    step,
                    source,
                })?;
            let captured = Captured {
                node: node.clone(),
                iface: iface.clone(),
                snaplen: opts.snaplen,
                packets: Vec::new(),
                overflow: 0,
            };
            let (stop, o) = (cap.stop.clone(), opts.clone());
            let handle = std::thread::Builder::new()
                .name(format!("capture {node}:{iface}"))
                .spawn(move || run(fd, captured, stop, o))
                .map_err(|source| CaptureError::Socket {
                    node: node.clone(),
                    iface: iface.clone(),
                    step: "spawn capture thread",
                    source,
                })?;
            cap.workers.push(Worker {
                node: node.clone(),
                iface: iface.clone(),
                handle: Some(handle),
            });
        }
        Ok(cap)
    }

    /// Stop every capture thread and return what each interface saw, in
    /// the order given to [`Capture::start`].
    pub fn stop(mut self) -> Vec<Captured> {
        self.stop.store(true, Ordering::Relaxed);
        let mut out = Vec::new();
        for w in &mut self.workers {
            let got = w.handle.take().and_then(|h| h.join().ok());
            out.push(got.unwrap_or_else(|| Captured {
                node: w.node.clone(),
                iface: w.iface.clone(),
                snaplen: 0,
                packets: Vec::new(),
                overflow: 0,
            }));
        }
        out
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for w in &mut self.workers {
            if let Some(h) = w.handle.take() {
                let _ = h.join();
            }
        }
    }
}

/// Write `c` as a pcapng file: one Ethernet interface named
/// `NODE:IFACE`, nanosecond timestamps, each packet's direction.
pub fn write_pcapng(c: &Captured, path: &Path, comment: &str) -> Result<(), CaptureError> {
    use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
    use pcap_file::pcapng::blocks::interface_description::{
        InterfaceDescriptionBlock, InterfaceDescriptionOption,
    };
    use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
    use pcap_file::pcapng::PcapNgWriter;
    use pcap_file::DataLink;
    use std::borrow::Cow;

    let werr = |e: &dyn std::fmt::Display| CaptureError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let file = std::fs::File::create(path).map_err(|e| werr(&e))?;
    let section = SectionHeaderBlock {
        options: vec![
            SectionHeaderOption::UserApplication(Cow::Borrowed("mtulab")),
            SectionHeaderOption::Comment(Cow::Owned(comment.to_string())),
        ],
        ..Default::default()
    };
    let mut w = PcapNgWriter::with_section_header(std::io::BufWriter::new(file), section)
        .map_err(|e| werr(&e))?;
    w.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: DataLink::ETHERNET,
        snaplen: c.snaplen,
        options: vec![
            InterfaceDescriptionOption::IfName(Cow::Owned(format!("{}:{}", c.node, c.iface))),
            InterfaceDescriptionOption::IfTsResol(9),
        ],
    })
    .map_err(|e| werr(&e))?;
    for p in &c.packets {
        w.write_pcapng_block(EnhancedPacketBlock {
            interface_id: 0,
            timestamp: p.ts,
            original_len: p.len,
            data: Cow::Borrowed(&p.data),
            // epb_flags bits 0-1: 1 inbound, 2 outbound.
            options: vec![EnhancedPacketOption::Flags(if p.outgoing { 2 } else { 1 })],
        })
        .map_err(|e| werr(&e))?;
    }
    use std::io::Write as _;
    w.into_inner().flush().map_err(|e| werr(&e))?;
    Ok(())
}
