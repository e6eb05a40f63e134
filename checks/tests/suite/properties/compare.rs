//! One case of the model property: build the lab, predict, probe each
//! host path and judge every value through the shipped comparator.

use super::*;

/// What the model-versus-kernel comparisons counted, over all cases.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) cases: AtomicUsize,
    pub(crate) paths: AtomicUsize,
    pub(crate) compared: AtomicUsize,
    /// Comparisons skipped because the model says `Unknown`.
    pub(crate) unknown: AtomicUsize,
    /// Kernel silences and learned PMTUs re-probed with long deadlines,
    /// and `recovered` transfers the model calls `ok` run again, before
    /// counting as a difference.
    pub(crate) reprobed: AtomicUsize,
    /// Microseconds spent per activity: lab, path MTU and learned PMTU, pings, transfers.
    pub(crate) micros: [AtomicU64; 4],
    /// Kernel transfer verdicts: ok, recovered, blackhole.
    pub(crate) verdicts: [AtomicUsize; 3],
    /// Transfers compared where the model predicts an MSS clamp lowers
    /// the sender's segments, and of those, where the model's verdict
    /// without the topology's clamps differs (the clamp decides).
    pub(crate) clamped: AtomicUsize,
    pub(crate) clamp_decides: AtomicUsize,
    /// Cases with a segment, of those with an odd member; cases with a
    /// host that ignores PMTU ICMP.
    pub(crate) segments: AtomicUsize,
    pub(crate) odd_segments: AtomicUsize,
    pub(crate) ignoring: AtomicUsize,
}

impl Tally {
    pub(crate) fn line(&self) -> String {
        format!(
            "{} cases, {} host paths, {} comparisons, {} skipped as Unknown by the model, {} re-probed",
            self.cases.load(Ordering::Relaxed),
            self.paths.load(Ordering::Relaxed),
            self.compared.load(Ordering::Relaxed),
            self.unknown.load(Ordering::Relaxed),
            self.reprobed.load(Ordering::Relaxed)
        ) + &format!(
            "; seconds in labs {:.1}, path MTU + learned {:.1}, pings {:.1}, transfers {:.1} \
             (ok {}, recovered {}, blackhole {}; {} under an MSS clamp, {} decided by it)",
            self.secs(LABS),
            self.secs(LEARN),
            self.secs(PINGS),
            self.secs(TRANSFERS),
            self.verdicts[0].load(Ordering::Relaxed),
            self.verdicts[1].load(Ordering::Relaxed),
            self.verdicts[2].load(Ordering::Relaxed),
            self.clamped.load(Ordering::Relaxed),
            self.clamp_decides.load(Ordering::Relaxed)
        ) + &format!(
            "; {} with a segment ({} with an odd member), {} with a host that ignores PMTU ICMP",
            self.segments.load(Ordering::Relaxed),
            self.odd_segments.load(Ordering::Relaxed),
            self.ignoring.load(Ordering::Relaxed)
        )
    }

    fn secs(&self, what: usize) -> f64 {
        self.micros[what].load(Ordering::Relaxed) as f64 / 1e6
    }

    fn spent(&self, what: usize, since: Instant) {
        self.micros[what].fetch_add(since.elapsed().as_micros() as u64, Ordering::Relaxed);
    }
}

pub(crate) const LABS: usize = 0;
pub(crate) const LEARN: usize = 1;
pub(crate) const PINGS: usize = 2;
pub(crate) const TRANSFERS: usize = 3;

/// DF pings: a short deadline (answers on veth take well under a
/// millisecond once the warm-up resolved the neighbours); a silence the
/// model did not predict is re-probed with a long one before it counts.
pub(crate) const PING_SHORT: Duration = Duration::from_millis(100);
pub(crate) const PING_LONG: Duration = Duration::from_secs(2);
/// The sender's CheckId::Pmtud, fast: once a TTL is silent every higher one is
/// too (the same packet meets the same drop), and answers on veth take
/// well under a millisecond. A learned PMTU the model did not predict is
/// measured again with iputils-like patience before it counts.
pub(crate) const TRACE_FAST: TraceOpts = TraceOpts {
    max_hops: 30,
    probe_timeout: Duration::from_millis(25),
    attempts: 1,
    max_silent_hops: 1,
    initial_mtu: 65535,
    base_port: 44444,
};
/// Bulk transfer size: enough full-size segments to hit any bottleneck.
pub(crate) const TRANSFER_BYTES: u64 = 64 << 10;

/// Compare one path's predictions with the kernel; push every difference
/// (with `all` false, stop at the first one: what shrinking needs).
pub(crate) fn compare_path(
    lab: &Lab,
    p: &model::PathPrediction,
    unclamped: Option<&model::PathPrediction>,
    judge: &Judge<'_>,
    diffs: &mut Vec<String>,
) -> Result<(), String> {
    let Judge {
        comparator,
        all,
        tally,
    } = *judge;
    let (from, to, family) = (p.from.as_str(), p.to.as_str(), p.family);
    let subject = format!("{from} -> {to} {family}");
    let probe = |e: harness::probe::error::ProbeError| format!("{subject}: {e}");
    // The shipped comparator judges (`check`'s model-mismatch uses the
    // same one); `detail` is shown only with a difference. True: stop here
    // (a difference, and only the first one is wanted).
    let mut differ = |compared: Compared, detail: String| match compared {
        Compared::Unknown => {
            tally.unknown.fetch_add(1, Ordering::Relaxed);
            false
        }
        Compared::Same => {
            tally.compared.fetch_add(1, Ordering::Relaxed);
            false
        }
        Compared::Differ(d) => {
            tally.compared.fetch_add(1, Ordering::Relaxed);
            diffs.push(format!("{subject}: {d}{detail}"));
            !all
        }
    };
    let unknown = || {
        tally.unknown.fetch_add(1, Ordering::Relaxed);
    };
    let (sender, receiver) = (
        lab.node(from).ok_or("sender")?,
        lab.node(to).ok_or("receiver")?,
    );
    // Only the two ends can hold an exception after a probe between them:
    // the kernel caches one where a too-big arrives about a packet the node
    // sent (the probes, their replies and ACKs); routers only forward and
    // answer (`model_case` checks that no router ever holds one). So
    // flushing both ends before each probe starts it from the state a flush
    // of the whole lab would (what the `*_hosts` probes do, at three times
    // the cost on a six-node lab). Only this family's exceptions: the other
    // family's path between the same ends may be probed meanwhile
    // (`compare_paths`), and a too-big only ever makes an exception in its
    // own family.
    let fresh = || -> Result<(), String> {
        flush_family(sender, family).map_err(|e| format!("{subject}: {e}"))?;
        flush_family(receiver, family).map_err(|e| format!("{subject}: {e}"))?;
        Ok(())
    };
    // A minimal echo first, once per path: the path is up and neighbours
    // are resolved, so a silence later can only mean the size.
    let small = match family {
        Family::V4 => 28,
        Family::V6 => 48,
    };
    let warm = ping::df_ping(sender.ns(), p.dst, small, PING_LONG).map_err(probe)?;
    if warm.outcome != PingOutcome::Reply {
        return Err(format!(
            "{subject}: a {small}-byte echo got {:?}: the path is down",
            warm.outcome
        ));
    }

    // Path MTU as routed.
    let t0 = Instant::now();
    let (kernel_mtu, way) = kernel_path_mtu(lab, from, to, p.dst)?;
    if differ(
        comparator.path_mtu(p, kernel_mtu),
        format!(" (kernel route: {way})"),
    ) {
        return Ok(());
    }

    // What the sender learns: tracepath (the sender's CheckId::Pmtud), then its route lookup.
    match p.learned_pmtu.known() {
        None => unknown(),
        Some(l) => {
            let own = lab
                .mtu(from, &p.hops[0].out_iface)
                .unwrap_or(p.hops[0].out_mtu);
            let learn = |opts: &TraceOpts| -> Result<_, String> {
                fresh()?;
                let trace =
                    tracepath::tracepath_in(lab, sender.ns(), p.dst, opts).map_err(probe)?;
                let got = exceptions::route_get(sender, p.dst).map_err(probe)?;
                Ok(((got.mtu.unwrap_or(own), got.locked), trace))
            };
            let (mut got, mut trace) = learn(&TRACE_FAST)?;
            if got != (l.mtu, l.locked) {
                tally.reprobed.fetch_add(1, Ordering::Relaxed);
                (got, trace) = learn(&TraceOpts::default())?;
            }
            if differ(
                comparator.learned_pmtu(p, got.0, Some(got.1)),
                format!(
                    " (tracepath, then route lookup; tracepath: pmtu {}, reached {}, hops {:?})",
                    trace.pmtu,
                    trace.reached,
                    trace
                        .hops
                        .iter()
                        .map(|h| (h.addr.map(|a| node_of(lab.plan(), a)), h.pmtu))
                        .collect::<Vec<_>>()
                ),
            ) {
                return Ok(());
            }
        }
    }

    tally.spent(LEARN, t0);
    // DF pings at the path MTU and one byte over (each from a flushed lab).
    let t0 = Instant::now();
    for (probe_kind, size, pred) in [
        (PingProbe::AtPmtu, p.path_mtu, &p.ping_at_pmtu),
        (PingProbe::OverPmtu, p.path_mtu + 1, &p.ping_over_pmtu),
    ] {
        let Some(pred) = pred.known() else {
            unknown();
            continue;
        };
        fresh()?;
        let mut got = ping::df_ping_in(lab, sender.ns(), p.dst, size, PING_SHORT).map_err(probe)?;
        if got.outcome == PingOutcome::Silence && *pred != model::Ping::Silence {
            tally.reprobed.fetch_add(1, Ordering::Relaxed);
            fresh()?;
            got = ping::df_ping_in(lab, sender.ns(), p.dst, size, PING_LONG).map_err(probe)?;
        }
        if differ(
            comparator.ping(p, probe_kind, &kernel_ping(lab.plan(), &got)),
            String::new(),
        ) {
            return Ok(());
        }
    }

    tally.spent(PINGS, t0);
    // The bulk transfer's verdict.
    let t0 = Instant::now();
    match p.transfer.known() {
        None => unknown(),
        Some(_) => {
            let opts = TransferOpts {
                bytes: TRANSFER_BYTES,
                ..Default::default()
            };
            let run = || -> Result<_, String> {
                fresh()?;
                transfer::transfer(sender.ns(), receiver.ns(), p.dst, &opts).map_err(probe)
            };
            let mut t = run()?;
            // One lost segment makes a prompt transfer need one RTO:
            // `recovered` where the model says `ok`. A loaded machine does
            // lose some (every namespace's veths share the CPU's backlog,
            // net.core.netdev_max_backlog, which is the host's to set), so
            // that difference is measured again before it counts; a real one
            // (a too-big that does not arrive in time) recurs.
            if t.verdict == TransferVerdict::Recovered
                && matches!(comparator.transfer(p, TransferVerdict::Ok), Compared::Same)
            {
                tally.reprobed.fetch_add(1, Ordering::Relaxed);
                t = run()?;
            }
            let k = match t.verdict {
                TransferVerdict::Ok => 0,
                TransferVerdict::Recovered => 1,
                TransferVerdict::Blackhole => 2,
            };
            tally.verdicts[k].fetch_add(1, Ordering::Relaxed);
            if p.mss_clamp.is_some() {
                tally.clamped.fetch_add(1, Ordering::Relaxed);
                if unclamped.is_some_and(|u| u.transfer.known() != p.transfer.known()) {
                    tally.clamp_decides.fetch_add(1, Ordering::Relaxed);
                }
            }
            let detail = format!(
                " ({} of {} bytes in {:.2} s, pmtu {}, snd_mss {}, {} RTOs)",
                t.bytes, t.requested, t.seconds, t.pmtu, t.snd_mss, t.rtos
            );
            if differ(comparator.transfer(p, t.verdict), detail) {
                return Ok(());
            }
        }
    }
    tally.spent(TRANSFERS, t0);
    // The next probe flushes first, as every probe does.
    Ok(())
}

/// Paths of one lab compared at the same time (MTULAB_PROPERTY_LANES,
/// default 2; 1 runs them one after the other).
pub(crate) fn lanes() -> usize {
    std::env::var("MTULAB_PROPERTY_LANES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
        .max(1)
}

/// `compare_path` for each of `paths` (with its clamp-less twin), on up to
/// `lanes()` threads, never two paths of one family with a node in common
/// at the same time: each probe starts by flushing its two ends' PMTU
/// exceptions of its family (IPv4 has no finer flush than all of them),
/// and a too-big only makes an exception in its own family at the node it
/// reaches, so paths of different families, or of one family with four
/// different ends, share no state the comparison reads (routers hold no
/// exceptions: `model_case` checks; PMTU ICMP is exempt from the kernel's
/// ICMP rate limits). So a path's IPv4 and IPv6 probes overlap, and in a
/// tree of four hosts two paths of one family may. The differences come
/// in path order (with `all` false, no new path starts after the first).
pub(crate) fn compare_paths(
    lab: &Lab,
    paths: &[(&model::PathPrediction, Option<&model::PathPrediction>)],
    judge: &Judge<'_>,
) -> Result<Vec<String>, String> {
    let (all, tally) = (judge.all, judge.tally);
    struct Lanes<'a> {
        pending: Vec<usize>,
        busy: Vec<(&'a str, Family)>,
        diffs: Vec<(usize, Vec<String>)>,
        error: Option<String>,
    }
    let state = Mutex::new(Lanes {
        pending: (0..paths.len()).collect(),
        busy: Vec::new(),
        diffs: Vec::new(),
        error: None,
    });
    let freed = Condvar::new();
    let lock = || state.lock().unwrap_or_else(|e| e.into_inner());
    let lane = || {
        let mut g = lock();
        loop {
            let done = g.error.is_some() || (!all && !g.diffs.is_empty()) || g.pending.is_empty();
            if done {
                freed.notify_all();
                return;
            }
            let free = g.pending.iter().position(|&i| {
                let p = paths[i].0;
                !g.busy.contains(&(p.from.as_str(), p.family))
                    && !g.busy.contains(&(p.to.as_str(), p.family))
            });
            let Some(at) = free else {
                g = freed.wait(g).unwrap_or_else(|e| e.into_inner());
                continue;
            };
            let i = g.pending.remove(at);
            let (p, u) = paths[i];
            g.busy
                .extend([(p.from.as_str(), p.family), (p.to.as_str(), p.family)]);
            drop(g);
            tally.paths.fetch_add(1, Ordering::Relaxed);
            let mut diffs = Vec::new();
            let r = compare_path(lab, p, u, judge, &mut diffs);
            g = lock();
            g.busy
                .retain(|&(n, f)| f != p.family || (n != p.from && n != p.to));
            match r {
                Err(e) => g.error = g.error.take().or(Some(e)),
                Ok(()) if !diffs.is_empty() => g.diffs.push((i, diffs)),
                Ok(()) => {}
            }
            freed.notify_all();
        }
    };
    std::thread::scope(|s| {
        for _ in 1..lanes() {
            s.spawn(lane);
        }
        lane();
    });
    let mut done = state.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = done.error {
        return Err(e);
    }
    done.diffs.sort_by_key(|(i, _)| *i);
    Ok(done.diffs.into_iter().flat_map(|(_, d)| d).collect())
}

/// How one case judges: the comparator (the shipped one, or one with a
/// planted bug), whether to go on after the first difference, the tally.
#[derive(Clone, Copy)]
pub(crate) struct Judge<'a> {
    pub(crate) comparator: Comparator,
    pub(crate) all: bool,
    pub(crate) tally: &'a Tally,
}

/// What a model property runs: the model's options and the comparator.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Setup {
    pub(crate) model: ModelOptions,
    pub(crate) comparator: Comparator,
}

/// One case of `model_matches_kernel`: build the lab, predict with
/// `setup.model`, compare every host path in both families through
/// `setup.comparator` (with `all` false, stop at the first difference).
pub(crate) fn model_case(
    t: &Topology,
    setup: &Setup,
    all: bool,
    tally: &Tally,
) -> Result<(), TestCaseError> {
    let options = &setup.model;
    let t0 = Instant::now();
    let lab = Lab::build(t).map_err(|e| TestCaseError::fail(format!("lab: {e}")))?;
    tally.spent(LABS, t0);
    let predicted = model::predict_with(t, lab.plan(), options);
    // The same topology without its clamps, to count the verdicts a clamp decides.
    let mut bare = t.clone();
    for n in bare.nodes.values_mut() {
        n.mss_clamp = None;
    }
    let unclamped = model::predict_with(&bare, lab.plan(), options);
    let paths: Vec<_> = predicted
        .paths
        .iter()
        .map(|p| {
            let u = unclamped
                .paths
                .iter()
                .find(|u| u.from == p.from && u.to == p.to && u.family == p.family);
            (p, u)
        })
        .collect();
    let judge = Judge {
        comparator: setup.comparator,
        all,
        tally,
    };
    let diffs = compare_paths(&lab, &paths, &judge).map_err(TestCaseError::fail)?;
    // What lets `compare_path` flush only the two ends: no router learned anything.
    let left = exceptions::live_in(&lab).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let on_routers: Vec<_> = left
        .iter()
        .filter(|(n, _)| lab.plan().node(n).is_some_and(|p| p.router))
        .map(|(n, e)| format!("{n}: {} mtu {:?}", e.dst, e.mtu))
        .collect();
    prop_assert!(
        on_routers.is_empty(),
        "routers hold PMTU exceptions after the probes: {:?}",
        on_routers
    );
    tally.cases.fetch_add(1, Ordering::Relaxed);
    if !t.segments.is_empty() {
        tally.segments.fetch_add(1, Ordering::Relaxed);
    }
    if t.segments
        .iter()
        .any(|s| s.mtu.iter().any(|&m| m != s.mtu[0]))
    {
        tally.odd_segments.fetch_add(1, Ordering::Relaxed);
    }
    if t.nodes.values().any(|n| n.pmtu_icmp == PmtuIcmp::Ignore) {
        tally.ignoring.fetch_add(1, Ordering::Relaxed);
    }
    let t0 = Instant::now();
    drop(lab);
    tally.spent(LABS, t0);
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(TestCaseError::fail(format!(
            "{} model-versus-kernel differences:\n  {}",
            diffs.len(),
            diffs.join("\n  ")
        )))
    }
}

/// The shrunk failing topology, run again comparing everything: every
/// model-versus-kernel difference, then the topology as a file.
pub(crate) fn explain(t: &Topology, setup: &Setup, first: &str) -> String {
    let all = match model_case(t, setup, true, &Tally::default()) {
        Err(TestCaseError::Fail(why) | TestCaseError::Reject(why)) => why.message().to_string(),
        Ok(()) => format!("(it passed when run again: a flaky difference) {first}"),
    };
    format!("{all}\n{}", as_file(t))
}
