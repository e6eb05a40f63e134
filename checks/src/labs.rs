//! Which kept labs `mtulab down` removes and how `mtulab list` shows them.
//!
//! A lab is the caller's when it was built by the caller's user
//! (`harness::state::caller_uid`: `SUDO_UID` under sudo, else the uid) —
//! wherever and from whichever terminal: `mtulab down` removes what you put
//! up, never another user's labs. `--lab NAME` removes that lab whoever
//! built it; `--all` every kept lab. Labs recorded before owners were
//! (no `owner`) are nobody's: only `--lab` or `--all` remove them.

use harness::state::LabState;

/// What `down` removes, and how many kept labs it leaves to others.
pub struct Pick<'a> {
    pub remove: Vec<&'a LabState>,
    pub others: usize,
}

/// The kept labs `down` removes: the one named `lab` (id, or topology name),
/// every one with `all`, else those built by user `me`.
pub fn to_remove<'a>(kept: &'a [LabState], lab: Option<&str>, all: bool, me: u32) -> Pick<'a> {
    let remove: Vec<&LabState> = kept
        .iter()
        .filter(|l| match lab {
            Some(n) => l.id == n || l.topology == n,
            None => all || l.owner == Some(me),
        })
        .collect();
    let others = if lab.is_none() && !all {
        kept.len() - remove.len()
    } else {
        0
    };
    Pick { remove, others }
}

/// "; 2 kept labs of other users left (--all removes them)", or "".
pub fn others_note(others: usize) -> String {
    match others {
        0 => String::new(),
        1 => "; 1 kept lab of another user left (--lab NAME or --all removes it)".into(),
        n => format!("; {n} kept labs of other users left (--lab NAME or --all removes them)"),
    }
}

/// One `list` line: id, topology, node count, whose.
pub fn list_line(l: &LabState, me: u32) -> String {
    let whose = match l.owner {
        Some(o) if o == me => "yours".to_string(),
        Some(o) => format!("uid {o}"),
        None => "owner unknown".to_string(),
    };
    format!(
        "{}  {}  ({} nodes, {whose})",
        l.id,
        l.topology,
        l.namespaces.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab(id: &str, topology: &str, owner: Option<u32>) -> LabState {
        LabState {
            id: id.into(),
            topology: topology.into(),
            source: None,
            toml: String::new(),
            pid: 1,
            start_time: 0,
            kept: true,
            namespaces: Default::default(),
            owner,
            timers: None,
            segments: Default::default(),
        }
    }

    fn ids(p: &Pick) -> Vec<String> {
        p.remove.iter().map(|l| l.id.clone()).collect()
    }

    /// Without --lab: only the caller's labs (others counted, not
    /// removed); --all: every one; --lab: that one, whoever built it.
    #[test]
    fn down_removes_only_the_callers_labs_unless_told() {
        let kept = [
            lab("a-1", "a", Some(1000)),
            lab("b-2", "b", Some(1001)),
            lab("c-3", "c", None),
            lab("d-4", "d", Some(1000)),
        ];
        let mine = to_remove(&kept, None, false, 1000);
        assert_eq!(ids(&mine), ["a-1", "d-4"]);
        assert_eq!(mine.others, 2);
        let theirs = to_remove(&kept, None, false, 1001);
        assert_eq!(ids(&theirs), ["b-2"]);
        let all = to_remove(&kept, None, true, 1000);
        assert_eq!(ids(&all), ["a-1", "b-2", "c-3", "d-4"]);
        assert_eq!(all.others, 0);
        assert_eq!(ids(&to_remove(&kept, Some("b"), false, 1000)), ["b-2"]);
        assert_eq!(ids(&to_remove(&kept, Some("c-3"), false, 1000)), ["c-3"]);
        assert!(to_remove(&kept, Some("zz"), false, 1000).remove.is_empty());
        assert!(to_remove(&kept, None, false, 7).remove.is_empty());
    }
}
