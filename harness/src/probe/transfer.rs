//! TCP bulk transfer: does a large transfer complete promptly, and how?
//!
//! The listener is created inside the receiving node and the connecting
//! socket inside the sending node (bound to the namespaces they were made
//! in); both are then driven from ordinary threads, nonblocking, with
//! poll(2). The receiver checks every byte against a deterministic pattern
//! (byte `i` is `i mod 251`: a prime period, so a lost, duplicated or
//! misplaced segment cannot go unnoticed).
//!
//! The sender samples `TCP_INFO` every few milliseconds: ack progress
//! (`tcpi_bytes_acked`), RTO timeouts (`tcpi_total_rto`, Linux ≥ 6.7;
//! increases of `tcpi_retransmits` before that), `tcpi_pmtu`,
//! `tcpi_snd_mss`. The verdict:
//!
//! - `ok`: every byte arrived and no RTO fired;
//! - `recovered`: every byte arrived, but only after RTO timeouts — e.g. TCP
//!   PLPMTUD (`tcp_mtu_probing`) working around a blackhole;
//! - `blackhole`: acks stopped while the sender retransmitted on RTO.
//!   Without `net.ipv4.tcp_mtu_probing` on the sender nothing can repair
//!   that, so [`TransferOpts::stall_rtos`] RTOs without progress decide it
//!   (the RTO is the lab's: ≈ 30 ms with its fast timers, ≈ 0.6 s with
//!   stock ones, see [`crate::timers`]). With probing on, the kernel starts
//!   probing only when a retransmission times out `tcp_retries1` worth of
//!   backoff after the stall began, so the stall may last up to
//!   [`TransferOpts::probing_grace`], by default derived from the sender's
//!   own `tcp_retries1` and its socket's RTO ([`timers::plpmtud_grace`]).
//!
//! Every path out (verdict, error, timeout) closes both sockets with
//! `SO_LINGER` 0, so no connection lingers (no TIME_WAIT, no orphan
//! retransmitting into a blackhole) and the lab can be torn down at once.

use std::io;
use std::mem::offset_of;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::error::ProbeError;
use super::sock;
use crate::lab::Lab;
use crate::netns::Netns;
use crate::sysctl;
use mtulab_core::topology::Family;

use crate::timers;

/// How a [`transfer`] runs.
#[derive(Debug, Clone)]
pub struct TransferOpts {
    /// Bytes to send (design.md §4: 1 MiB by default).
    pub bytes: u64,
    /// Hard limit for the whole transfer, connection included.
    pub deadline: Duration,
    /// Without `tcp_mtu_probing` on the sender: this many RTO timeouts in a
    /// row without ack progress is a blackhole.
    pub stall_rtos: u32,
    /// With `tcp_mtu_probing` on the sender: this long without ack progress
    /// is a blackhole. None: [`timers::plpmtud_grace`] of the sender's
    /// `tcp_retries1` and its socket's RTO when the data starts.
    pub probing_grace: Option<Duration>,
    /// How often `TCP_INFO` is sampled.
    pub sample_every: Duration,
}

impl Default for TransferOpts {
    fn default() -> Self {
        TransferOpts {
            bytes: 1 << 20,
            deadline: Duration::from_secs(30),
            stall_rtos: 2,
            probing_grace: None,
            sample_every: Duration::from_millis(5),
        }
    }
}

/// A transfer's verdict: the core's `Verdict` (ok, recovered, blackhole).
pub use mtulab_core::topology::Verdict as TransferVerdict;

/// The result of [`transfer`]; JSON fields as in design.md §5.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Transfer {
    pub verdict: TransferVerdict,
    /// Bytes the receiver got and verified.
    pub bytes: u64,
    /// From the start of the connection to completion or verdict.
    pub seconds: f64,
    /// Bytes asked for.
    pub requested: u64,
    pub dst: SocketAddr,
    /// The sender's `tcpi_pmtu` at the end: the path MTU its socket used.
    pub pmtu: u32,
    /// The sender's `tcpi_snd_mss` at the end.
    pub snd_mss: u32,
    /// The MSS the sender advertised (`tcpi_advmss`).
    pub advmss: u32,
    /// RTO timeouts the sender met after connecting.
    pub rtos: u32,
    /// Segments the sender retransmitted (`tcpi_total_retrans`).
    pub total_retrans: u32,
    /// `net.ipv4.tcp_mtu_probing` in the sender's namespace (it covers
    /// IPv6 too).
    pub mtu_probing: u32,
    /// The sender's RTO when the data started (`tcpi_rto`), milliseconds:
    /// shows the lab's timers at work.
    pub rto_ms: f64,
    /// For a blackhole: seconds from the last ack progress to the verdict.
    pub stalled_for: Option<f64>,
}

/// The `struct tcp_info` of the running kernel's UAPI (libc's copy stops
/// before `tcpi_bytes_acked`). A shorter answer from an older kernel leaves
/// the tail zero; `total_rto` is used only when the kernel filled it.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
struct TcpInfo {
    state: u8,
    ca_state: u8,
    retransmits: u8,
    probes: u8,
    backoff: u8,
    options: u8,
    wscale: u8,
    app_limited_fastopen: u8,
    rto: u32,
    ato: u32,
    snd_mss: u32,
    rcv_mss: u32,
    unacked: u32,
    sacked: u32,
    lost: u32,
    retrans: u32,
    fackets: u32,
    last_data_sent: u32,
    last_ack_sent: u32,
    last_data_recv: u32,
    last_ack_recv: u32,
    pmtu: u32,
    rcv_ssthresh: u32,
    rtt: u32,
    rttvar: u32,
    snd_ssthresh: u32,
    snd_cwnd: u32,
    advmss: u32,
    reordering: u32,
    rcv_rtt: u32,
    rcv_space: u32,
    total_retrans: u32,
    pacing_rate: u64,
    max_pacing_rate: u64,
    bytes_acked: u64,
    bytes_received: u64,
    segs_out: u32,
    segs_in: u32,
    notsent_bytes: u32,
    min_rtt: u32,
    data_segs_in: u32,
    data_segs_out: u32,
    delivery_rate: u64,
    busy_time: u64,
    rwnd_limited: u64,
    sndbuf_limited: u64,
    delivered: u32,
    delivered_ce: u32,
    bytes_sent: u64,
    bytes_retrans: u64,
    dsack_dups: u32,
    reord_seen: u32,
    rcv_ooopack: u32,
    snd_wnd: u32,
    rcv_wnd: u32,
    rehash: u32,
    total_rto: u16,
    total_rto_recoveries: u16,
    total_rto_time: u32,
}

/// Counts RTO timeouts from successive `TCP_INFO` samples.
struct RtoCounter {
    exact: Option<u32>,
    last_retransmits: u8,
    counted: u32,
}

impl RtoCounter {
    fn new(first: &TcpInfo, filled: usize) -> RtoCounter {
        let exact =
            (filled >= offset_of!(TcpInfo, total_rto) + 2).then_some(first.total_rto as u32);
        RtoCounter {
            exact,
            last_retransmits: first.retransmits,
            counted: 0,
        }
    }
    /// RTOs since the counter was made.
    fn update(&mut self, info: &TcpInfo) -> u32 {
        if let Some(base) = self.exact {
            return (info.total_rto as u32).wrapping_sub(base) & 0xffff;
        }
        // icsk_retransmits counts RTOs in a row and resets on progress.
        if info.retransmits > self.last_retransmits {
            self.counted += (info.retransmits - self.last_retransmits) as u32;
        }
        self.last_retransmits = info.retransmits;
        self.counted
    }
}

fn tcp_info(s: &Socket) -> io::Result<(TcpInfo, usize)> {
    let mut info = TcpInfo::default();
    let n = sock::get_struct(s, libc::IPPROTO_TCP, libc::TCP_INFO, &mut info)?;
    Ok((info, n))
}

const PERIOD: usize = 251;
const CHUNK: usize = 64 * 1024;

/// `CHUNK + PERIOD` bytes of the pattern starting at offset 0, so any
/// offset's chunk is a slice of it. Built once per process (every
/// transfer's sender and receiver use it).
fn pattern() -> &'static [u8] {
    static PATTERN: std::sync::LazyLock<Vec<u8>> =
        std::sync::LazyLock::new(|| (0..CHUNK + PERIOD).map(|i| (i % PERIOD) as u8).collect());
    &PATTERN
}

/// Close without lingering: an RST instead of FIN + TIME_WAIT, and no
/// orphaned retransmissions after a blackhole.
fn close_now(s: Socket) {
    let _ = s.set_linger(Some(Duration::ZERO));
    drop(s);
}

/// What the receiving thread reports.
struct Receiver {
    received: AtomicU64,
    eof: AtomicBool,
    stop: AtomicBool,
    error: Mutex<Option<String>>,
    /// An eventfd the receiver signals when it is done (end of data or an
    /// error), so the sender's loop wakes at once instead of at its next
    /// sample.
    done: OwnedFd,
}

impl Receiver {
    fn new() -> io::Result<Receiver> {
        // SAFETY: eventfd returns a new descriptor we own, or -1.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Receiver {
            received: AtomicU64::new(0),
            eof: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            error: Mutex::new(None),
            // SAFETY: fd is valid and owned by nobody else.
            done: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    fn signal_done(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a valid u64 to our eventfd.
        unsafe {
            libc::write(self.done.as_raw_fd(), (&one as *const u64).cast(), 8);
        }
    }
}

/// Wait until `s` is ready for `events`, `done` is signalled, or
/// `deadline` passes.
fn wait_or_done(s: &Socket, events: i16, done: &OwnedFd, deadline: Instant) -> io::Result<()> {
    let left = deadline.saturating_duration_since(Instant::now());
    let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
    let mut pfds = [
        libc::pollfd {
            fd: s.as_raw_fd(),
            events,
            revents: 0,
        },
        libc::pollfd {
            fd: done.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    // SAFETY: two valid pollfds.
    let r = unsafe { libc::poll(pfds.as_mut_ptr(), 2, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(())
}

fn receive(s: &Socket, state: &Receiver) {
    let pat = pattern();
    let mut buf = vec![0u8; CHUNK];
    let mut offset: u64 = 0;
    let fail = |msg: String| {
        *state.error.lock().unwrap_or_else(|e| e.into_inner()) = Some(msg);
        state.signal_done();
    };
    while !state.stop.load(Ordering::Relaxed) {
        let deadline = Instant::now() + Duration::from_millis(20);
        match sock::wait(s.as_raw_fd(), libc::POLLIN, deadline) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(e) => return fail(format!("poll: {e}")),
        }
        loop {
            // SAFETY: buf is writable for its length.
            let n = unsafe {
                libc::recv(
                    s.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n == 0 {
                state.eof.store(true, Ordering::Release);
                state.signal_done();
                return;
            }
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::WouldBlock {
                    break;
                }
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return fail(format!("recv after {offset} bytes: {e}"));
            }
            let got = &buf[..n as usize];
            let start = (offset % PERIOD as u64) as usize;
            let want = &pat[start..start + got.len()];
            if got != want {
                let k = got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(0);
                return fail(format!(
                    "byte {} is {}, expected {}",
                    offset + k as u64,
                    got[k],
                    want[k]
                ));
            }
            offset += got.len() as u64;
            state.received.store(offset, Ordering::Release);
        }
    }
}

/// Send `opts.bytes` from a socket made in `from` to a listener made in
/// `to` on `to_addr` (an ephemeral port), and judge how it went.
///
/// Reads the namespaces as they are (cached PMTU exceptions included);
/// [`transfer_hosts`] flushes first.
pub fn transfer(
    from: &Netns,
    to: &Netns,
    to_addr: IpAddr,
    opts: &TransferOpts,
) -> Result<Transfer, ProbeError> {
    let domain = match to_addr {
        IpAddr::V4(_) => Domain::IPV4,
        IpAddr::V6(_) => Domain::IPV6,
    };
    let err_in = |node: &str, what: &str| {
        let (node, what) = (node.to_string(), format!("{what} (transfer to {to_addr})"));
        move |e: io::Error| ProbeError::io(&node, what, e)
    };
    let tcp = from
        .run(SenderTcp::read)?
        .map_err(err_in(from.name(), "read net.ipv4.tcp_mtu_probing"))?;

    let listener = to
        .run(|| -> io::Result<Socket> {
            let s = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
            s.bind(&SocketAddr::new(to_addr, 0).into())?;
            s.listen(1)?;
            s.set_nonblocking(true)?;
            Ok(s)
        })?
        .map_err(err_in(to.name(), "listen"))?;
    let dst = listener
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .ok_or_else(|| err_in(to.name(), "read listening port")(io::Error::other("no address")))?;
    let sender = from
        .run(|| Socket::new(domain, Type::STREAM, Some(Protocol::TCP)))?
        .map_err(err_in(from.name(), "open TCP socket"))?;
    sender
        .set_nonblocking(true)
        .map_err(err_in(from.name(), "set nonblocking"))?;

    let started = Instant::now();
    let deadline = started + opts.deadline;
    let timeout = |what: &'static str, detail: String| ProbeError::Transfer {
        what,
        dst: dst.to_string(),
        detail,
    };

    // Connect and accept.
    match sender.connect(&SockAddr::from(dst)) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(err_in(from.name(), "connect")(e)),
    }
    let receiver = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(err_in(to.name(), "accept")(e)),
        }
        if let Ok(Some(e)) = sender.take_error() {
            return Err(err_in(from.name(), "connect")(e));
        }
        if sock::wait(
            listener.as_raw_fd(),
            libc::POLLIN,
            deadline.min(Instant::now() + Duration::from_millis(50)),
        )
        .map_err(err_in(to.name(), "poll listener"))?
            == 0
            && Instant::now() >= deadline
        {
            close_now(sender);
            return Err(timeout(
                "connect",
                format!("no connection within {:?}", opts.deadline),
            ));
        }
    };
    drop(listener);
    receiver
        .set_nonblocking(true)
        .map_err(err_in(to.name(), "set nonblocking"))?;
    run_connected(
        sender,
        receiver,
        (from.name(), to.name()),
        dst,
        opts,
        (started, deadline),
        tcp,
    )
}

/// The sender namespace's sysctls a transfer's verdict depends on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SenderTcp {
    /// `net.ipv4.tcp_mtu_probing` (covers IPv6 too).
    pub mtu_probing: u32,
    /// `net.ipv4.tcp_retries1` (3 when unreadable: the kernel default).
    pub retries1: u32,
}

impl SenderTcp {
    /// Read in the calling thread's namespace.
    pub(crate) fn read() -> io::Result<SenderTcp> {
        let mtu_probing = sysctl::read("net.ipv4.tcp_mtu_probing")?
            .parse()
            .unwrap_or(0);
        let retries1 = sysctl::read("net.ipv4.tcp_retries1")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3);
        Ok(SenderTcp {
            mtu_probing,
            retries1,
        })
    }
}

/// The data phase of a transfer over an established connection: `sender`
/// (in node `names.0`) writes `opts.bytes` of the pattern, `receiver` (in
/// `names.1`) verifies them; both are closed without lingering on every
/// way out. `times` is (connection start, hard deadline). Shared with the
/// anycast probe, whose sender is the side that accepted.
pub(crate) fn run_connected(
    sender: Socket,
    receiver: Socket,
    names: (&str, &str),
    dst: SocketAddr,
    opts: &TransferOpts,
    (started, deadline): (Instant, Instant),
    tcp: SenderTcp,
) -> Result<Transfer, ProbeError> {
    let to_addr = dst.ip();
    let err_in = |node: &str, what: &str| {
        let (node, what) = (node.to_string(), format!("{what} (transfer to {to_addr})"));
        move |e: io::Error| ProbeError::io(&node, what, e)
    };
    let timeout = |what: &'static str, detail: String| ProbeError::Transfer {
        what,
        dst: dst.to_string(),
        detail,
    };
    let state = match Receiver::new() {
        Ok(r) => r,
        Err(e) => {
            close_now(sender);
            close_now(receiver);
            return Err(err_in(names.0, "eventfd")(e));
        }
    };
    let outcome = std::thread::scope(|scope| {
        scope.spawn(|| receive(&receiver, &state));
        let r = drive(&sender, &state, opts, deadline, tcp);
        state.stop.store(true, Ordering::Relaxed);
        r
    });
    let last = tcp_info(&sender).ok().map(|(i, _)| i).unwrap_or_default();
    close_now(sender);
    close_now(receiver);
    let bytes = state.received.load(Ordering::Acquire);
    let seconds = started.elapsed().as_secs_f64();
    let driven = outcome.map_err(|e| err_in(names.0, "send")(e))?;
    if let Some(msg) = state.error.lock().unwrap_or_else(|e| e.into_inner()).take() {
        return Err(timeout(
            "verify data",
            format!("receiver in {}: {msg}", names.1),
        ));
    }
    let rto_ms = driven.1;
    let (verdict, rtos, stalled_for) = match driven.0 {
        Driven::Done { rtos } if bytes != opts.bytes => {
            return Err(timeout(
                "verify data",
                format!(
                    "receiver saw the end after {bytes} of {} bytes ({rtos} RTOs)",
                    opts.bytes
                ),
            ))
        }
        Driven::Done { rtos: 0 } => (TransferVerdict::Ok, 0, None),
        Driven::Done { rtos } => (TransferVerdict::Recovered, rtos, None),
        Driven::Stalled { rtos, stalled_for } => {
            (TransferVerdict::Blackhole, rtos, Some(stalled_for))
        }
        Driven::TimedOut { rtos } => {
            return Err(timeout(
                "complete",
                format!(
                    "{bytes} of {} bytes after {seconds:.1} s ({rtos} RTOs), still progressing",
                    opts.bytes
                ),
            ))
        }
    };
    Ok(Transfer {
        verdict,
        bytes,
        seconds,
        requested: opts.bytes,
        dst,
        pmtu: last.pmtu,
        snd_mss: last.snd_mss,
        advmss: last.advmss,
        rtos,
        total_retrans: last.total_retrans,
        mtu_probing: tcp.mtu_probing,
        rto_ms,
        stalled_for,
    })
}

/// How [`drive`] ended; `rtos` counts RTO timeouts since connecting.
enum Driven {
    Done { rtos: u32 },
    Stalled { rtos: u32, stalled_for: f64 },
    TimedOut { rtos: u32 },
}

/// Write the pattern, watch `TCP_INFO`, and decide. Also returns the
/// socket's RTO (ms) at the start.
fn drive(
    s: &Socket,
    rx: &Receiver,
    opts: &TransferOpts,
    deadline: Instant,
    tcp: SenderTcp,
) -> io::Result<(Driven, f64)> {
    let pat = pattern();
    let total = opts.bytes;
    let mut sent: u64 = 0;
    let mut shut = false;
    let (first, filled) = tcp_info(s)?;
    let rto = Duration::from_micros(first.rto as u64);
    let rto_ms = rto.as_secs_f64() * 1e3;
    // The lab's timers decide how long PLPMTUD may take (None: no probing).
    let grace = (tcp.mtu_probing != 0).then(|| {
        opts.probing_grace
            .unwrap_or_else(|| timers::plpmtud_grace(tcp.retries1, rto))
    });
    let mut rtos = RtoCounter::new(&first, filled);
    let mut acked = first.bytes_acked;
    let mut last_progress = Instant::now();
    let mut rtos_at_progress = 0;
    loop {
        if rx.eof.load(Ordering::Acquire) || rx.error.lock().map(|e| e.is_some()).unwrap_or(true) {
            let (info, _) = tcp_info(s)?;
            let done = Driven::Done {
                rtos: rtos.update(&info),
            };
            return Ok((done, rto_ms));
        }
        while sent < total {
            let start = (sent % PERIOD as u64) as usize;
            let len = ((total - sent) as usize).min(CHUNK);
            match s.send(&pat[start..start + len]) {
                Ok(n) => sent += n as u64,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if sent == total && !shut {
            s.shutdown(std::net::Shutdown::Write)?;
            shut = true;
        }
        let (info, _) = tcp_info(s)?;
        let now = Instant::now();
        let n_rtos = rtos.update(&info);
        if info.bytes_acked > acked {
            acked = info.bytes_acked;
            last_progress = now;
            rtos_at_progress = n_rtos;
        }
        let stalled = match grace {
            Some(grace) => now.duration_since(last_progress) >= grace,
            None => n_rtos - rtos_at_progress >= opts.stall_rtos,
        };
        if stalled {
            let stall = Driven::Stalled {
                rtos: n_rtos,
                stalled_for: now.duration_since(last_progress).as_secs_f64(),
            };
            return Ok((stall, rto_ms));
        }
        if now >= deadline {
            return Ok((Driven::TimedOut { rtos: n_rtos }, rto_ms));
        }
        let events = if sent < total { libc::POLLOUT } else { 0 };
        wait_or_done(s, events, &rx.done, (now + opts.sample_every).min(deadline))?;
    }
}

/// [`transfer`] between two hosts of a lab over `family`, after checking
/// the path carries a minimal echo (a lost first SYN would cost a 1 s
/// retransmission) and flushing every PMTU exception in the lab so earlier
/// probes cannot help or hurt.
pub fn transfer_hosts(
    lab: &Lab,
    from: &str,
    to: &str,
    family: Family,
    opts: &TransferOpts,
) -> Result<Transfer, ProbeError> {
    let (from_node, addr) = super::ping::ready(lab, from, to, family)?;
    let to_node = lab
        .node(to)
        .ok_or_else(|| ProbeError::NoNode(to.to_string()))?;
    transfer(from_node.ns(), to_node.ns(), addr, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The offsets of `struct tcp_info` in include/uapi/linux/tcp.h (6.7+;
    /// checked against the installed header up to `tcpi_snd_wnd`).
    #[test]
    fn tcp_info_matches_the_kernel_layout() {
        assert_eq!(offset_of!(TcpInfo, rto), 8);
        assert_eq!(offset_of!(TcpInfo, pmtu), 60);
        assert_eq!(offset_of!(TcpInfo, total_retrans), 100);
        assert_eq!(offset_of!(TcpInfo, bytes_acked), 120);
        assert_eq!(offset_of!(TcpInfo, delivery_rate), 160);
        assert_eq!(offset_of!(TcpInfo, bytes_sent), 200);
        assert_eq!(offset_of!(TcpInfo, total_rto), 240);
        assert_eq!(std::mem::size_of::<TcpInfo>(), 248);
    }

    #[test]
    fn pattern_has_a_prime_period() {
        let p = pattern();
        assert_eq!(&p[..PERIOD], &p[PERIOD..2 * PERIOD]);
        assert_eq!(p[250], 250);
        assert_eq!(p[251], 0);
    }

    #[test]
    fn verdicts_serialise_as_the_report_contract() {
        let v = [
            TransferVerdict::Ok,
            TransferVerdict::Recovered,
            TransferVerdict::Blackhole,
        ];
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"["ok","recovered","blackhole"]"#
        );
    }
}
