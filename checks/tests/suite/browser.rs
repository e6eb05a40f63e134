//! The pictures in a real browser (Debian's Chromium, headless): every node
//! and every MTU label of every drawing is rendered, non-empty, inside its
//! drawing, on top at its centre and clear of every other node and label —
//! measured by the browser's own layout (`getBoundingClientRect`,
//! `elementFromPoint`), not by our arithmetic. A control page with one label
//! moved onto another and one hidden must be caught. The live trial renders
//! `mtulab check --html` of icmp_blackhole and keeps a screenshot in
//! `target/browser/`.
//!
//! How the browser is driven: `chromium --headless --dump-dom` on a copy of
//! the page with a small checking script appended; the script writes its
//! findings (JSON) into the DOM, which Chromium prints. No driver, no
//! protocol client, no network.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use libtest_mimic::{Failed, Trial};
use mtulab::draw::{self, Diagram};
use mtulab_core::{Plan, Topology};

const CHROMIUM: &str = "chromium";
/// Chromium is killed if a page takes longer than this.
const BROWSER_DEADLINE: Duration = Duration::from_secs(90);

/// The flags that work on a closed machine (no network, no GPU, no sandbox
/// as root), with a fresh profile.
fn chromium(profile: &Path) -> Command {
    let mut c = Command::new(CHROMIUM);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=1400,1000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// Run `cmd` to completion within [`BROWSER_DEADLINE`] (killed after it).
fn run_bounded(mut cmd: Command) -> Result<String, Failed> {
    let out = std::env::temp_dir().join(format!(
        "mtulab-browser-{}-{:?}.out",
        std::process::id(),
        std::thread::current().id()
    ));
    let file = std::fs::File::create(&out)?;
    let mut child = cmd.stdout(file).stderr(Stdio::null()).spawn()?;
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if started.elapsed() > BROWSER_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("chromium did not finish within {BROWSER_DEADLINE:?}").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = std::fs::read_to_string(&out)?;
    let _ = std::fs::remove_file(&out);
    if !status.success() {
        return Err(format!("chromium exited {status}").into());
    }
    Ok(text)
}

/// The checking script: for every drawing, every node box and MTU label.
const CHECK_JS: &str = r#"
<script>
window.addEventListener('load', () => {
  const out = { nodes: 0, labels: 0, problems: [] };
  const items = [];
  for (const svg of document.querySelectorAll('svg.mtulab-drawing')) {
    const topo = svg.dataset.topology;
    const sb = svg.getBoundingClientRect();
    for (const g of svg.querySelectorAll('g.node[data-node], g.mtu')) {
      const label = g.classList.contains('mtu');
      const name = topo + ' ' + (label ? 'label ' + g.dataset.node + ':' + g.dataset.iface + ' ' + g.dataset.mtu : 'node ' + g.dataset.node);
      if (label) out.labels++; else out.nodes++;
      const r = g.getBoundingClientRect();
      const cs = getComputedStyle(g);
      if (!(r.width > 0 && r.height > 0)) { out.problems.push(name + ': zero size'); continue; }
      if (cs.visibility !== 'visible' || cs.display === 'none' || parseFloat(cs.opacity) === 0)
        out.problems.push(name + ': hidden');
      if (r.left < sb.left - 0.5 || r.top < sb.top - 0.5 || r.right > sb.right + 0.5 || r.bottom > sb.bottom + 0.5)
        out.problems.push(name + ': outside its drawing');
      const text = g.querySelector(label ? 'text' : 'text.name');
      const want = label ? g.dataset.mtu : g.dataset.node;
      if (!text || text.textContent !== want) out.problems.push(name + ': text is not ' + want);
      const sx = window.scrollX, sy = window.scrollY;
      items.push({ g, name, topo, box: { l: r.left + sx, t: r.top + sy, r: r.right + sx, b: r.bottom + sy } });
    }
  }
  for (let i = 0; i < items.length; i++)
    for (let j = i + 1; j < items.length; j++) {
      const a = items[i], b = items[j];
      if (a.topo !== b.topo) continue;
      if (a.box.l < b.box.r && b.box.l < a.box.r && a.box.t < b.box.b && b.box.t < a.box.b)
        out.problems.push(a.name + ' overlaps ' + b.name);
    }
  for (const it of items) {
    it.g.scrollIntoView({ block: 'center', inline: 'center' });
    const r = it.g.getBoundingClientRect();
    const el = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    if (!el || !it.g.contains(el)) {
      const by = el ? (el.closest('g[data-node]') ? el.closest('g[data-node]').dataset.node : el.tagName) : 'nothing';
      out.problems.push(it.name + ': not on top at its centre (' + by + ')');
    }
  }
  const pre = document.createElement('pre');
  pre.id = 'mtulab-result';
  pre.textContent = 'MTULAB-' + 'RESULT' + JSON.stringify(out).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026') + 'MTULAB-' + 'END';
  // Hidden (the DOM dump still has it) and back at the top, so a
  // screenshot taken in the same run shows the page as a reader opens it.
  pre.hidden = true;
  document.body.appendChild(pre);
  window.scrollTo(0, 0);
});
</script>
"#;

#[derive(Debug, serde::Deserialize)]
struct Findings {
    nodes: usize,
    labels: usize,
    problems: Vec<String>,
}

/// Load `html` in Chromium with the checking script and return what it
/// found; with `screenshot`, the same Chromium run also saves a PNG there.
fn check_in_browser(html: &str, what: &str, screenshot: Option<&Path>) -> Result<Findings, Failed> {
    let dir = Scratch::new(&format!("browser-{what}"));
    let page = dir.0.join("page.html");
    let with_script = match html.rfind("</body>") {
        Some(i) => format!("{}{CHECK_JS}{}", &html[..i], &html[i..]),
        None => format!("{html}{CHECK_JS}"),
    };
    std::fs::write(&page, with_script)?;
    let mut cmd = chromium(&dir.0.join("profile"));
    cmd.arg("--dump-dom");
    if let Some(shot) = screenshot {
        cmd.arg(format!("--screenshot={}", shot.display()));
    }
    cmd.arg(format!("file://{}", page.display()));
    let dom = run_bounded(cmd)?;
    let json = dom
        .split("MTULAB-RESULT")
        .nth(1)
        .and_then(|s| s.split("MTULAB-END").next())
        .ok_or_else(|| {
            format!(
                "no result in the page Chromium printed ({} bytes)",
                dom.len()
            )
        })?;
    Ok(serde_json::from_str(json)?)
}

fn bundled() -> Vec<PathBuf> {
    let root = topologies_dir();
    let mut files = toml_files(&root);
    files.extend(toml_files(&root.join("fixtures")));
    files.sort();
    files
}

/// All bundled drawings on one page, and how many nodes and labels they have.
fn drawings_page(files: &[PathBuf]) -> (String, usize, usize) {
    let mut html =
        String::from("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>\n");
    let (mut nodes, mut labels) = (0, 0);
    for f in files {
        let t = Topology::from_file(f).expect("bundled topology parses");
        let d = Diagram::new(&t, &Plan::new(&t));
        let l = draw::layout(&d);
        nodes += d.nodes.len();
        labels += l.labels.len();
        html.push_str(&format!("<h2>{}</h2>\n", t.name));
        html.push_str(&draw::svg::svg(&d, &l, true));
    }
    html.push_str("</body></html>\n");
    (html, nodes, labels)
}

fn assert_clean(f: &Findings, nodes: usize, labels: usize) -> Result<(), Failed> {
    if f.nodes != nodes || f.labels != labels {
        return Err(format!(
            "the browser saw {} nodes and {} labels, the drawings have {nodes} and {labels}",
            f.nodes, f.labels
        )
        .into());
    }
    if !f.problems.is_empty() {
        return Err(format!("{} problems: {:#?}", f.problems.len(), f.problems).into());
    }
    Ok(())
}

/// Every bundled topology's drawing, as `mtulab draw` makes it.
fn every_drawing_visible() -> Result<(), Failed> {
    let files = bundled();
    let (html, nodes, labels) = drawings_page(&files);
    let f = check_in_browser(&html, "drawings", None)?;
    assert_clean(&f, nodes, labels)
}

/// The control: one label moved onto another, one hidden, one pushed out
/// of its drawing; the browser check must name each. The page holds the
/// drawing twice, unchanged (it must come out clean, so what is found is
/// caused by the edits) and edited (as topology `edited`), so one Chromium
/// run checks both.
fn control_misplaced_labels_caught() -> Result<(), Failed> {
    let file = topologies_dir().join("icmp_blackhole.toml");
    let (html, nodes, labels) = drawings_page(std::slice::from_ref(&file));
    let mut bad = html.clone();
    // Label of router-a:router-b gets the transform that puts it on router-a:client's place.
    let pos = |h: &str, needle: &str| -> Result<(f64, f64), Failed> {
        let i = h.find(needle).ok_or_else(|| format!("no {needle}"))?;
        let rest = &h[i..];
        let x = rest
            .split("<rect x=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .ok_or("x")?;
        let y = rest
            .split("\" y=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .ok_or("y")?;
        Ok((x.parse()?, y.parse()?))
    };
    let a = "data-node=\"router-a\" data-iface=\"client\"";
    let b = "data-node=\"router-a\" data-iface=\"router-b\"";
    let (ax, ay) = pos(&bad, a)?;
    let (bx, by) = pos(&bad, b)?;
    bad = bad.replacen(
        &format!("<g class=\"mtu\" {b}"),
        &format!(
            "<g class=\"mtu\" transform=\"translate({},{})\" {b}",
            ax - bx + 3.0,
            ay - by + 2.0
        ),
        1,
    );
    let c = "data-node=\"server\" data-iface=\"router-b\"";
    bad = bad.replacen(
        &format!("<g class=\"mtu\" {c}"),
        &format!("<g class=\"mtu\" style=\"visibility:hidden\" {c}"),
        1,
    );
    let d = "data-node=\"client\" data-iface=\"router-a\"";
    bad = bad.replacen(
        &format!("<g class=\"mtu\" {d}"),
        &format!("<g class=\"mtu\" transform=\"translate(-400,0)\" {d}"),
        1,
    );
    let bad = bad.replacen(
        "data-topology=\"icmp_blackhole\"",
        "data-topology=\"edited\"",
        1,
    );
    let body = |h: &str| -> Result<String, Failed> {
        let start = h.find("<body>").ok_or("no <body>")? + "<body>".len();
        let end = h.rfind("</body>").ok_or("no </body>")?;
        Ok(h[start..end].to_string())
    };
    let both = html.replacen("</body>", &format!("{}</body>", body(&bad)?), 1);
    let f = check_in_browser(&both, "control", None)?;
    if f.nodes != 2 * nodes || f.labels != 2 * labels {
        return Err(format!(
            "the browser saw {} nodes and {} labels, the two drawings have {} and {}",
            f.nodes,
            f.labels,
            2 * nodes,
            2 * labels
        )
        .into());
    }
    let unchanged: Vec<_> = f
        .problems
        .iter()
        .filter(|p| p.starts_with("icmp_blackhole "))
        .collect();
    if !unchanged.is_empty() {
        return Err(format!("the unchanged drawing is not clean: {unchanged:#?}").into());
    }
    let found = |words: &[&str]| {
        f.problems
            .iter()
            .any(|p| p.starts_with("edited ") && words.iter().all(|w| p.contains(w)))
    };
    let want: [(&str, &[&str]); 3] = [
        ("moved label", &["router-a:router-b 1200", "overlaps"]),
        ("hidden label", &["server:router-b 9000", "hidden"]),
        ("label outside", &["client:router-a 1500", "outside"]),
    ];
    for (what, words) in want {
        if !found(words) {
            return Err(format!("the {what} was not caught; problems: {:#?}", f.problems).into());
        }
    }
    Ok(())
}

/// `mtulab check --html` on icmp_blackhole: the report renders, every node
/// and label is visible, and the failing path list is there. Keeps a
/// screenshot in target/browser/icmp_blackhole.png.
fn live_report_visible() -> Result<(), Failed> {
    let dir = Scratch::new("browser-report");
    let page = dir.0.join("report.html");
    let file = topologies_dir().join("icmp_blackhole.toml");
    let out = mtulab()
        .arg("check")
        .arg(&file)
        .arg("--html")
        .arg(&page)
        .output()?;
    if out.status.code() != Some(1) {
        return Err(format!(
            "check exited {:?}: {}",
            out.status.code(),
            text(&out.stderr)
        )
        .into());
    }
    let html = std::fs::read_to_string(&page)?;
    for needle in ["<script", "http://", "https://", "src=", "@import", "url("] {
        // The SVG namespace is an identifier, not a fetch.
        let hits = html.matches(needle).count()
            - html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
                * usize::from(needle == "http://");
        if hits > 0 {
            return Err(
                format!("the report is not self-contained: {needle} appears {hits} times").into(),
            );
        }
    }
    if !html.contains("server → router-b → router-a → client") {
        return Err("the failing path server → … → client is not listed".into());
    }
    let t = Topology::from_file(&file)?;
    let d = Diagram::new(&t, &Plan::new(&t));
    let l = draw::layout(&d);
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser");
    std::fs::create_dir_all(&shots)?;
    let shot = shots.join("icmp_blackhole.png");
    let _ = std::fs::remove_file(&shot);
    let f = check_in_browser(&html, "report-check", Some(&shot))?;
    assert_clean(&f, d.nodes.len(), l.labels.len())?;
    let size = std::fs::metadata(&shot)?.len();
    if size < 10_000 {
        return Err(format!("screenshot {} is only {size} bytes", shot.display()).into());
    }
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    needs_tool(
        CHROMIUM,
        vec![
            Trial::test(
                "browser::drawings::every_bundled_topology",
                every_drawing_visible,
            ),
            Trial::test(
                "browser::drawings::control_misplaced_labels_caught",
                control_misplaced_labels_caught,
            ),
            live("browser::report::icmp_blackhole", live_report_visible),
        ],
    )
}
