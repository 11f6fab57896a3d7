//! The layout of core (docs/architecture.md) as a test: one folder per
//! area; model and rules files import neither the engine nor storage; no
//! two files import each other, directly or round a longer loop; no file
//! over 600 lines.
//!
//! Imports are read from the source: every `crate::…` and `super::…` path
//! outside comments, resolved to the file that defines the longest module
//! prefix. `pub use` re-exports (an area's public facade) are not counted:
//! they give a path, not a dependency of the file's own code.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Files that may drive the store: commands, queries, store traits, the engine itself.
fn may_use_engine(module: &str) -> bool {
    let last = module.rsplit("::").next().unwrap_or(module);
    matches!(last, "commands" | "queries" | "store" | "accounts" | "addresses" | "editing")
        || matches!(module, "crate" | "engine" | "storage")
}

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Module path of a file under src: `catalog/search.rs` → `catalog::search`.
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(src()).unwrap().with_extension("");
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).filter(|p| *p != "mod").collect();
    if parts == ["lib"] { "crate".to_owned() } else { parts.join("::") }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without comments and without `pub use` statements.
fn code(text: &str) -> String {
    let mut out = String::new();
    let mut in_pub_use = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("//") {
            continue;
        }
        if t.starts_with("pub use ") || t.starts_with("pub(crate) use ") {
            in_pub_use = !t.trim_end().ends_with(';');
            continue;
        }
        if in_pub_use {
            in_pub_use = !t.trim_end().ends_with(';');
            continue;
        }
        let line = line.split(" //").next().unwrap_or(line);
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Module paths named in `code` of module `me` (`crate::a::b`, `super::x`,
/// and the names inside `use crate::a::{b, c::d}` groups).
fn named_paths(me: &str, code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let text = code;
    for (start, prefix) in [("crate::", "crate"), ("super::", "super")] {
        let mut from = 0;
        while let Some(i) = text[from..].find(start) {
            let at = from + i;
            from = at + start.len();
            let rest = &text[from..];
            let path: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            let base = if prefix == "super" {
                let mut parts: Vec<&str> = me.split("::").collect();
                parts.pop();
                parts.join("::")
            } else {
                String::new()
            };
            let join = |p: &str| {
                let p = p.trim_end_matches(':');
                match (base.is_empty(), p.is_empty()) {
                    (true, _) => p.to_owned(),
                    (false, true) => base.clone(),
                    (false, false) => format!("{base}::{p}"),
                }
            };
            let path = path.trim_end_matches(':').to_owned();
            // a group: `crate::a::{b, c::d}`
            let after = &rest[path.len()..];
            if let Some(group) = after.strip_prefix("::{") {
                let body: String = group.chars().take_while(|c| *c != '}').collect();
                for item in body.split(',') {
                    let item = item.split_whitespace().next().unwrap_or("");
                    if !item.is_empty() {
                        out.push(join(&format!("{path}::{item}")));
                    }
                }
            }
            out.push(join(&path));
        }
    }
    out
}

/// The file (module) a path lands in: its longest prefix that is a module.
fn resolve<'a>(path: &str, modules: &'a BTreeSet<String>) -> Option<&'a String> {
    let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
    (1..=parts.len()).rev().find_map(|n| modules.get(&parts[..n].join("::")))
}

fn graph() -> (BTreeMap<String, BTreeSet<String>>, BTreeMap<String, usize>) {
    let mut paths = Vec::new();
    files(&src(), &mut paths);
    let texts: Vec<(String, String)> =
        paths.iter().map(|p| (module_of(p), std::fs::read_to_string(p).unwrap())).collect();
    let modules: BTreeSet<String> = texts.iter().map(|(m, _)| m.clone()).collect();
    let mut edges = BTreeMap::new();
    let mut lines = BTreeMap::new();
    for (me, text) in &texts {
        lines.insert(me.clone(), text.lines().count());
        let to: BTreeSet<String> = named_paths(me, &code(text))
            .iter()
            .filter_map(|p| resolve(p, &modules))
            .filter(|m| *m != me && *m != "crate")
            .cloned()
            .collect();
        edges.insert(me.clone(), to);
    }
    (edges, lines)
}

#[test]
fn no_two_files_import_each_other() {
    let (edges, _) = graph();
    // Depth-first search for a back edge, reporting the loop.
    fn visit(
        at: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(at.to_owned(), 1);
        stack.push(at.to_owned());
        for next in edges.get(at).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|m| m == next).unwrap_or(0);
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(next, edges, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(at.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for module in edges.keys() {
        if state.get(module).copied().unwrap_or(0) == 0 {
            let cycle = visit(module, &edges, &mut state, &mut Vec::new());
            assert!(cycle.is_none(), "core's files import each other in a loop: {}", cycle.unwrap().join(" → "));
        }
    }
}

#[test]
fn model_and_rules_import_neither_the_engine_nor_storage() {
    let (edges, _) = graph();
    let offenders: Vec<String> = edges
        .iter()
        .filter(|(m, _)| !may_use_engine(m))
        .flat_map(|(m, to)| {
            to.iter().filter(|t| *t == "engine" || *t == "storage").map(move |t| format!("{m} imports {t}"))
        })
        .collect();
    assert!(offenders.is_empty(), "{offenders:#?}");
}

#[test]
fn every_area_is_a_folder_and_no_file_is_over_600_lines() {
    let (edges, lines) = graph();
    let long: Vec<String> = lines.iter().filter(|(_, n)| **n > 600).map(|(m, n)| format!("{m}: {n}")).collect();
    assert!(long.is_empty(), "files over 600 lines: {long:?}");
    for area in [
        "catalog",
        "inventory",
        "cart",
        "coupon",
        "pricing",
        "points",
        "checkout",
        "order",
        "payment",
        "after_sales",
        "identity",
        "storefront",
    ] {
        assert!(edges.contains_key(area), "no module {area}");
        let folder = src().join(area);
        assert!(folder.join("mod.rs").is_file(), "{area} is not a folder");
    }
    // The graph is not empty: the reader found real imports.
    assert!(edges["checkout::commands"].contains("engine"));
    assert!(edges["pricing"].contains("money"));
}
