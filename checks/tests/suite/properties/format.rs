//! `property::format_round_trip`: `to_toml` parses back equal; mutated
//! files never make the parser panic.

use super::*;

pub(crate) fn format_round_trip() -> Result<(), Failed> {
    let n = cases(256);
    let started = Instant::now();
    let mut runner = TestRunner::new(config(n, regressions!("format_round_trip")));
    let strategy = any_topology(Allow {
        mismatches: true,
        filters: true,
    });
    let r = runner.run(&strategy, |t| {
        let text = t.to_toml();
        let back = Topology::from_str(&text, Path::new("generated.toml"))
            .map_err(|e| TestCaseError::fail(format!("to_toml output rejected: {e}\n{text}")))?;
        let mut back = back;
        back.source = None;
        prop_assert_eq!(&back, &t, "round trip differs; written as:\n{}", text);
        Ok(())
    });
    outcome("format_round_trip", started, n, r)?;

    // The live trees too: sysctls, MSS clamps and their interfaces.
    let started = Instant::now();
    let mut runner = TestRunner::new(config(n, regressions!("format_round_trip_trees")));
    let r = runner.run(&tree_topology("tree"), |t| {
        let text = t.to_toml();
        let mut back = Topology::from_str(&text, Path::new("generated.toml"))
            .map_err(|e| TestCaseError::fail(format!("to_toml output rejected: {e}\n{text}")))?;
        back.source = None;
        prop_assert_eq!(&back, &t, "round trip differs; written as:\n{}", text);
        Ok(())
    });
    outcome("format_round_trip (trees)", started, n, r)?;

    // Mutated files: Ok or Err, never a panic.
    let started = Instant::now();
    let mut runner = TestRunner::new(config(n, regressions!("format_mutations")));
    let edits = prop::collection::vec((0u8..6, any::<prop::sample::Index>(), "\\PC{0,8}"), 1..6);
    let strategy = (
        any_topology(Allow {
            mismatches: true,
            filters: true,
        }),
        edits,
    );
    let r = runner.run(&strategy, |(t, edits)| {
        let text = mutate(&t.to_toml(), &edits);
        let got = std::panic::catch_unwind(|| {
            let _ = Topology::from_str(&text, Path::new("mutated.toml"));
        });
        prop_assert!(got.is_ok(), "from_str panicked on:\n{}", text);
        Ok(())
    });
    let secs = started.elapsed().as_secs_f64();
    match r {
        Ok(()) => {
            println!("format_mutations: {n} cases passed in {secs:.1} s");
            Ok(())
        }
        Err(TestError::Fail(why, (_, edits))) => {
            Err(format!("from_str panicked: {why} (edits {edits:?})").into())
        }
        Err(TestError::Abort(why)) => Err(format!("aborted: {why}").into()),
    }
}

/// Apply byte and line edits to `text`.
pub(crate) fn mutate(text: &str, edits: &[(u8, prop::sample::Index, String)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for (kind, at, ins) in edits {
        let len = bytes.len().max(1);
        let i = at.index(len).min(bytes.len());
        match kind {
            0 => {
                // delete a byte
                if i < bytes.len() {
                    bytes.remove(i);
                }
            }
            1 => {
                // insert a string
                bytes.splice(i..i, ins.bytes());
            }
            2 => {
                // replace a byte with an arbitrary one
                if i < bytes.len() {
                    bytes[i] = ins.bytes().next().unwrap_or(0xff);
                }
            }
            kind => {
                let s = String::from_utf8_lossy(&bytes).into_owned();
                let mut lines: Vec<String> = s.lines().map(String::from).collect();
                if lines.is_empty() {
                    continue;
                }
                let l = at.index(lines.len());
                match kind {
                    3 => {
                        lines.remove(l);
                    }
                    4 => {
                        let dup = lines[l].clone();
                        lines.insert(l, dup);
                    }
                    _ => {
                        let m = (l + 1) % lines.len();
                        lines.swap(l, m);
                    }
                }
                bytes = lines.join("\n").into_bytes();
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
