//! Ordering barriers: how a probe learns "nothing is coming" without
//! waiting out a timeout.
//!
//! A probe that expects silence (a DF ping into a blackhole, a crafted
//! frag-needed that a filter drops) used to wait its whole deadline. In a
//! lab every packet crosses veth pairs, and a veth without XDP hands each
//! packet to `netif_rx`, which queues it on the backlog of the CPU that sent
//! it; each router's forwarding, each ICMP error it generates, and each
//! reply runs from that backlog, in order, and queues its own output on the
//! same backlog. So two packets sent one after the other from one CPU along
//! the same route are handled in the order they were sent at every hop, and
//! anything the first one provokes (a reply, an error, a drop) happens
//! before the second one is even looked at. A small *marker* sent right
//! after the real probe, along the same route, is therefore a barrier: once
//! its answer is back, the probe's answer is back too, or never will be.
//!
//! That holds only while nothing spreads one CPU's packets over others:
//! receive packet steering (`rps_cpus`, or `net.core.rps_default_mask` for
//! new devices) would. [`sound`] checks the default mask; where barriers
//! are not sound, probes fall back to their deadlines. The sending thread
//! is pinned to its CPU for the two sends ([`SameCpu`]), so the scheduler
//! cannot move it between them.

use std::io;
use std::os::fd::RawFd;
use std::time::Instant;

use crate::lab::Lab;

/// Barriers are sound in the calling thread's namespace: no default RPS
/// mask (a lab's veths are new devices and get that mask).
pub(crate) fn sound() -> bool {
    match std::fs::read_to_string("/proc/sys/net/core/rps_default_mask") {
        Ok(mask) => mask.trim().chars().all(|c| c == '0' || c == ','),
        // Kernels before 6.2 have no default mask: new devices get none.
        Err(e) => e.kind() == io::ErrorKind::NotFound,
    }
}

/// Barriers need the marker to take the probe's route hop for hop: a lab
/// with a multipath route may hash the two (or an ICMP error and the
/// marker) onto paths of different lengths, so none are used there.
pub(crate) fn lab_allows(lab: &Lab) -> bool {
    lab.plan().nodes.iter().all(|n| n.multipath.is_empty())
}

/// Wait until one of `fds` has an error queued or data to read, or until
/// `deadline`; returns each fd's `revents` (all 0 on timeout).
pub(crate) fn wait_any(fds: &[RawFd], deadline: Instant) -> io::Result<Vec<i16>> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        let mut pfds: Vec<libc::pollfd> = fds
            .iter()
            .map(|&fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: a valid array of pollfds of the given length.
        let r = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok(pfds.iter().map(|p| p.revents).collect());
    }
}

/// Pins the calling thread to the CPU it runs on until dropped, then
/// restores its affinity. If pinning fails, nothing is pinned and
/// [`SameCpu::pinned`] says so.
pub(crate) struct SameCpu {
    old: Option<libc::cpu_set_t>,
}

impl SameCpu {
    pub(crate) fn new() -> SameCpu {
        // SAFETY: plain syscalls on a zeroed cpu_set_t of the right size,
        // for the calling thread (pid 0).
        unsafe {
            let mut old: libc::cpu_set_t = std::mem::zeroed();
            if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut old) != 0 {
                return SameCpu { old: None };
            }
            let cpu = libc::sched_getcpu();
            if cpu < 0 {
                return SameCpu { old: None };
            }
            let mut one: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu as usize, &mut one);
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &one) != 0 {
                return SameCpu { old: None };
            }
            SameCpu { old: Some(old) }
        }
    }

    pub(crate) fn pinned(&self) -> bool {
        self.old.is_some()
    }
}

impl Drop for SameCpu {
    fn drop(&mut self) {
        if let Some(old) = &self.old {
            // SAFETY: restores the mask read in `new` for the same thread.
            unsafe {
                libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinning_restores_the_mask() {
        let before = unsafe {
            let mut m: libc::cpu_set_t = std::mem::zeroed();
            libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut m);
            libc::CPU_COUNT(&m)
        };
        {
            let g = SameCpu::new();
            if g.pinned() {
                let now = unsafe {
                    let mut m: libc::cpu_set_t = std::mem::zeroed();
                    libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut m);
                    libc::CPU_COUNT(&m)
                };
                assert_eq!(now, 1);
            }
        }
        let after = unsafe {
            let mut m: libc::cpu_set_t = std::mem::zeroed();
            libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut m);
            libc::CPU_COUNT(&m)
        };
        assert_eq!(before, after);
    }
}
