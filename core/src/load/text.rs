//! A topology file as text: reading it (unreadable and non-UTF-8 files
//! named as such, a bad byte with its line) and turning toml's errors into
//! ours (one line, the duplicate key and where it was first given, a line
//! for errors toml gives none).

use std::path::Path;

use super::line_of;
use crate::topology::TopologyError;

/// The text of the topology file at `path`. A file that cannot be read has
/// no line (`FILE: cannot read …`); one that is not UTF-8 names the line
/// of its first bad byte.
pub(super) fn read_source(path: &Path) -> Result<String, TopologyError> {
    let err = |line, message| TopologyError {
        file: path.to_path_buf(),
        line,
        message,
    };
    let meta = std::fs::metadata(path)
        .map_err(|e| err(0, format!("cannot read topology file: {}", io_words(&e))))?;
    if !meta.is_file() {
        return Err(err(
            0,
            format!("cannot read topology file: it {}", not_regular(&meta)),
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| err(0, format!("cannot read topology file: {}", io_words(&e))))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        let column = at - bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
        err(
            line,
            format!(
                "not UTF-8 text: byte 0x{:02x} at column {column} (a topology file is TOML, which is UTF-8)",
                bytes[at]
            ),
        )
    })
}

/// An I/O error in words, without Rust's `(os error N)`.
pub(crate) fn io_words(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Why something that exists is not a regular file, in words.
pub(crate) fn not_regular(meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    let kind = if t.is_dir() {
        "a directory"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a named pipe"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    };
    format!("is {kind}, not a regular file")
}

/// toml's message without its own "TOML parse error at line…" snippet (we
/// print `FILE:LINE:` ourselves), on one line; a duplicate key is named,
/// with the line it was first given on.
pub(super) fn toml_message(e: &toml::de::Error, src: &str) -> String {
    let msg: Vec<&str> = e
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let msg = msg.join("; ");
    if msg == "duplicate key" {
        if let Some(span) = e.span() {
            return duplicate_key(src, span);
        }
    }
    if msg == "recursion limit" {
        return "nesting too deep (tables, arrays or dotted keys nested beyond toml's recursion limit)"
            .into();
    }
    let mut chars = msg.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => "invalid toml".to_owned(),
    }
}

/// "duplicate key "mtu" (first given on line 6)": the key is the text
/// toml's span covers; its first line is found in the same table (the
/// lines since the table's header) or, for a repeated table header, among
/// the headers before it.
fn duplicate_key(src: &str, span: std::ops::Range<usize>) -> String {
    let key = src
        .get(span.clone())
        .unwrap_or("")
        .trim()
        .trim_matches(|c| c == '"' || c == '\'');
    let line = line_of(src, span.start);
    let lines: Vec<&str> = src.lines().collect();
    let strip = |l: &str| -> String {
        let l = l.split('#').next().unwrap_or("");
        l.chars().filter(|c| !c.is_whitespace()).collect()
    };
    let this = lines.get(line - 1).copied().unwrap_or("");
    let first = if this.trim_start().starts_with('[') {
        let header = strip(this);
        lines[..line - 1]
            .iter()
            .position(|l| strip(l) == header)
            .map(|i| i + 1)
    } else {
        let col = span.start - src[..span.start].rfind('\n').map_or(0, |p| p + 1);
        let defines = |l: &str| {
            let l = l.trim_start();
            let l = l.strip_prefix('"').unwrap_or(l);
            l.strip_prefix(key).is_some_and(|rest| {
                let rest = rest.strip_prefix('"').unwrap_or(rest).trim_start();
                rest.starts_with('=') || rest.starts_with('.')
            })
        };
        // An inline table repeating a key on one line.
        let same_line = this.get(..col).is_some_and(|before| {
            before.contains(&format!("{key} ="))
                || before.contains(&format!("\"{key}\""))
                || before.contains(&format!("{key}="))
        });
        if same_line {
            Some(line)
        } else {
            (0..line - 1)
                .rev()
                .take_while(|&i| !lines[i].trim_start().starts_with('[') || defines(lines[i]))
                .find(|&i| defines(lines[i]))
                .map(|i| i + 1)
        }
    };
    match first {
        Some(f) => format!("duplicate key {key:?} (first given on line {f})"),
        None => format!("duplicate key {key:?}"),
    }
}

/// The line (1-based) of each `[[filters]]` entry of a topology's text, in
/// file order (its ruleset's line when it names one; 0 where it cannot be
/// told): for errors found after validation, such as a ruleset its tool
/// refuses.
pub fn filter_lines(src: &str) -> Vec<usize> {
    use toml::Spanned;
    #[derive(serde::Deserialize)]
    struct Filter {
        nft: Option<Spanned<String>>,
        iptables: Option<Spanned<String>>,
        ip6tables: Option<Spanned<String>>,
    }
    #[derive(serde::Deserialize)]
    struct Filters {
        #[serde(default)]
        filters: Vec<Spanned<Filter>>,
    }
    toml::from_str::<Filters>(src)
        .map(|f| {
            f.filters
                .iter()
                .map(|t| {
                    let f = t.get_ref();
                    let at = [&f.nft, &f.iptables, &f.ip6tables]
                        .into_iter()
                        .flatten()
                        .next()
                        .map_or(t.span().start, |v| v.span().start);
                    line_of(src, at)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// For an error toml gives no position (its recursion limit on dotted
/// keys): the line nested deepest, by brackets, braces and dots.
pub(super) fn deepest_line(src: &str) -> usize {
    src.lines()
        .enumerate()
        .max_by_key(|(i, l)| {
            (
                l.chars().filter(|c| matches!(c, '[' | '{' | '.')).count(),
                usize::MAX - i,
            )
        })
        .map_or(1, |(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::topology::Topology;

    fn err(src: &str) -> String {
        Topology::from_str(src, Path::new("t.toml"))
            .expect_err("rejected")
            .to_string()
    }

    const HEAD: &str = "name = \"a\"\n[nodes.a]\n[nodes.b]\n[[links]]\nbetween = [\"a\", \"b\"]\n";

    /// A duplicate key is named with the line it was first given on; a
    /// repeated table header too (control: one key, accepted).
    #[test]
    fn duplicate_key_names_key_and_first_line() {
        assert!(Topology::from_str(&format!("{HEAD}mtu = 1500\n"), Path::new("t.toml")).is_ok());
        assert_eq!(
            err(&format!("{HEAD}mtu = 1500\n\nmtu = 1400\n")),
            "t.toml:8: duplicate key \"mtu\" (first given on line 6)"
        );
        assert_eq!(
            err("name = \"a\"\n[nodes.a]\n[nodes.b]\n[nodes.a]\n"),
            "t.toml:4: duplicate key \"a\" (first given on line 2)"
        );
        let e = err("name = \"a\"\n[nodes.a]\nsysctl = { \"net.x\" = \"1\", \"net.x\" = \"2\" }\n");
        assert!(e.starts_with("t.toml:3: duplicate key \"net.x\""), "{e}");
    }

    /// A wrong type reads as one sentence, no `; )` (control: a right type).
    #[test]
    fn wrong_type_is_one_sentence() {
        for v in ["\"x\"", "[1, \"a\"]", "1.5", "true"] {
            let e = err(&format!("{HEAD}mtu = {v}\n"));
            assert!(e.starts_with("t.toml:6: mtu must be"), "{e}");
            assert!(
                !e.contains("; )") && !e.ends_with(' ') && !e.contains("\n"),
                "{e:?}"
            );
        }
    }

    /// Each `[[filters]]` entry's line, in order.
    #[test]
    fn filter_lines_in_order() {
        let src = "name = \"a\"\n[[filters]]\nnode = \"a\"\n\n[[filters]]\nnode = \"b\"\nnft = \"x.nft\"\n";
        assert_eq!(super::filter_lines(src), [2, 7]);
        assert!(super::filter_lines("name = \"a\"\n").is_empty());
    }

    /// Dotted keys nested past toml's limit: a line, not 0.
    #[test]
    fn deep_nesting_has_a_line() {
        let deep = format!("name = \"a\"\n[nodes.a]\n[{}]\n", vec!["x"; 1000].join("."));
        let e = err(&deep);
        assert!(e.starts_with("t.toml:3: nesting too deep"), "{e}");
    }

    /// Unreadable, not a regular file, not UTF-8: named as such; no `:0:`.
    #[test]
    fn unreadable_and_non_utf8_files() {
        let e = Topology::from_file(Path::new("/nonexistent/t.toml"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "/nonexistent/t.toml: cannot read topology file: No such file or directory"
        );
        let e = Topology::from_file(Path::new("/dev/null"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("character device, not a regular file"), "{e}");
        let dir = std::env::temp_dir().join(format!("mtulab-text-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("latin1.toml");
        std::fs::write(&f, b"name = \"a\"\n# caf\xe9\n[nodes.a]\n").unwrap();
        let e = Topology::from_file(&f).unwrap_err().to_string();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            e.ends_with("latin1.toml:2: not UTF-8 text: byte 0xe9 at column 6 (a topology file is TOML, which is UTF-8)"),
            "{e}"
        );
    }
}
