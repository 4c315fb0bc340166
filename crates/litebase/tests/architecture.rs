//! The rules of the house (ARCHITECTURE.md), checked on the source: which of
//! litebase's top-level modules may import which. An import is a `crate::name`
//! path outside comments and outside the `#[cfg(test)] mod tests` of a file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level module → the top-level modules it imports.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The code of a file without its comments and its unit tests.
fn code_of(text: &str) -> String {
    let text = text
        .find("#[cfg(test)]\nmod tests")
        .map_or(text, |end| &text[..end]);
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `crate::name` paths of `code`.
fn imports(code: &str) -> BTreeSet<String> {
    code.match_indices("crate::")
        .filter(|(at, _)| {
            // Not `litebase_crate::` or the like.
            code[..*at]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
        })
        .map(|(at, _)| {
            code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

fn graph() -> anyhow::Result<(Graph, BTreeSet<String>)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files)?;
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|f| f.strip_prefix(&src).ok())
        .filter_map(|rel| rel.components().next())
        .map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string()
        })
        .collect();
    let mut graph = Graph::new();
    for file in &files {
        let Some(rel) = file.strip_prefix(&src).ok() else {
            continue;
        };
        let Some(top) = rel.components().next() else {
            continue;
        };
        let top = top
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let code = code_of(&std::fs::read_to_string(file)?);
        for target in imports(&code) {
            if target != top && modules.contains(&target) {
                graph.entry(top.clone()).or_default().insert(target);
            }
        }
    }
    Ok((graph, modules))
}

/// Whether `to` can be reached from `from` following imports.
fn reaches(graph: &Graph, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_string()];
    while let Some(m) = stack.pop() {
        for next in graph.get(&m).into_iter().flatten() {
            if next == to {
                return true;
            }
            if seen.insert(next.clone()) {
                stack.push(next.clone());
            }
        }
    }
    false
}

#[test]
fn no_import_circle_between_litebase_modules() -> anyhow::Result<()> {
    let (graph, _) = graph()?;
    let circles: Vec<String> = graph
        .iter()
        .flat_map(|(from, targets)| targets.iter().map(move |to| (from, to)))
        .filter(|(from, to)| reaches(&graph, to, from))
        .map(|(from, to)| format!("{from} -> {to} -> … -> {from}"))
        .collect();
    assert!(circles.is_empty(), "import circles: {circles:#?}");
    Ok(())
}

#[test]
fn domain_modules_never_import_the_http_layers() -> anyhow::Result<()> {
    let (graph, _) = graph()?;
    let mut wrong = Vec::new();
    for domain in [
        "records", "realtime", "db", "query", "auth", "schema", "changes", "hooks", "settings",
        "logs", "backups", "mail", "proxy", "error", "config", "webhooks", "oauth2", "outbound",
    ] {
        for layer in ["api", "admin", "core", "server", "cli"] {
            if graph.get(domain).is_some_and(|t| t.contains(layer)) {
                wrong.push(format!("{domain} imports {layer}"));
            }
        }
    }
    if graph.get("admin").is_some_and(|t| t.contains("api")) {
        wrong.push("admin imports api".into());
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    Ok(())
}

#[test]
fn the_checker_sees_imports_and_circles() {
    let code = code_of(
        "use crate::db::Db;\n// crate::api is only named here\nfn f() { crate::query::x(); }\n\
         #[cfg(test)]\nmod tests { use crate::admin; }",
    );
    assert_eq!(
        imports(&code),
        ["db", "query"].into_iter().map(String::from).collect()
    );
    let mut g = Graph::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    assert!(!reaches(&g, "c", "a"));
    g.entry("c".into()).or_default().insert("a".into());
    assert!(reaches(&g, "c", "a"), "a circle is found");
}
