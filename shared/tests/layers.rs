//! The layering rule of `shared/` (see `src/lib.rs`), checked on the source itself: every
//! `crate::` / `super::` path in non-test code is resolved to the top-level module it names,
//! and each layer may only reach the ones below it:
//!
//! | layer | modules | may import |
//! |---|---|---|
//! | core | `core`, `error` | core |
//! | ports | `ports` | core, ports |
//! | adapters | `adapters` | core, ports, adapters |
//! | use case | `intake`, `conversation`, `reporting`, `writeback`, `admin` | core, ports, itself |
//! | wiring | `config`, `wiring`, `function_url`, `lib.rs` | anything |
//!
//! Test code (from a `#[cfg(test)]` line on, and files in a `tests` module) may use anything:
//! use-case tests run on the in-memory twins in `adapters::memory`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Core,
    Ports,
    Adapters,
    UseCase,
    Wiring,
}

fn layer(top: &str) -> Layer {
    match top {
        "core" | "error" => Layer::Core,
        "ports" => Layer::Ports,
        "adapters" => Layer::Adapters,
        "intake" | "conversation" | "reporting" | "writeback" | "admin" => Layer::UseCase,
        "config" | "wiring" | "function_url" | "" => Layer::Wiring,
        other => panic!(
            "shared/src/{other}: a new top-level module; give it a layer in shared/tests/layers.rs"
        ),
    }
}

/// May code in module `from` name something in module `to` (both top-level names)?
fn allowed(from: &str, to: &str) -> bool {
    if from == to {
        return true;
    }
    let below: &[Layer] = match layer(from) {
        Layer::Core => &[Layer::Core],
        Layer::Ports => &[Layer::Core],
        Layer::Adapters => &[Layer::Core, Layer::Ports],
        Layer::UseCase => &[Layer::Core, Layer::Ports],
        Layer::Wiring => return true,
    };
    below.contains(&layer(to))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file: `adapters/slack/mod.rs` -> [adapters, slack].
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The top-level module each `crate::`/`super::` path in `code` names, from inside `module`.
fn references(module: &[String], code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let bytes = code.as_bytes();
    for (start, _) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        // Only whole path starts: not `foo_crate::` or a `super::` inside `super::super::`.
        let before = start.checked_sub(1).map(|i| bytes[i]);
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':') {
            continue;
        }
        let path = &code[start..];
        let (mut base, mut rest) = if let Some(rest) = path.strip_prefix("crate::") {
            (Vec::new(), rest)
        } else {
            (module.to_vec(), path)
        };
        while let Some(r) = rest.strip_prefix("super::") {
            base.pop();
            rest = r;
        }
        let next: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let top = base.first().cloned().unwrap_or(next);
        found.insert(top);
    }
    found
}

/// Production code only: stops at the first `#[cfg(test)]`, and skips comment lines (doc
/// links name modules without importing them).
fn production_code(text: &str) -> String {
    text.lines()
        .take_while(|l| l.trim() != "#[cfg(test)]")
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn each_layer_imports_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let module = module_of(relative);
        if module.iter().any(|m| m == "tests") {
            continue; // a test module's own file
        }
        let from = module.first().cloned().unwrap_or_default();
        let code = production_code(&fs::read_to_string(file).unwrap());
        for to in references(&module, &code) {
            if to != "Error" && to != "Result" && !allowed(&from, &to) {
                violations.push(format!("{} ({from}) imports {to}", relative.display()));
            }
        }
    }
    assert!(
        files.len() > 50,
        "the check must see the source tree ({} files)",
        files.len()
    );
    assert!(
        violations.is_empty(),
        "layering broken (see shared/tests/layers.rs for the rule):\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_checker_catches_what_it_should() {
    let module = |p: &str| module_of(Path::new(p));
    // A use case reaching an adapter, a port reaching a use case, two use cases: all caught.
    let refs = references(
        &module("conversation/deadlines.rs"),
        "use crate::intake::admit::X;",
    );
    assert_eq!(refs, BTreeSet::from(["intake".to_string()]));
    assert!(!allowed("conversation", "intake"));
    assert!(!allowed("ports", "writeback"));
    assert!(!allowed("adapters", "conversation"));
    assert!(!allowed("core", "ports"));
    // `super::` resolves from the file's module; `super::super` climbs out of it.
    let refs = references(&module("adapters/slack/mod.rs"), "use super::http;");
    assert_eq!(refs, BTreeSet::from(["adapters".to_string()]));
    let refs = references(
        &module("adapters/slack/blocks.rs"),
        "super::super::super::intake::X",
    );
    assert_eq!(refs, BTreeSet::from(["intake".to_string()]));
    // Test modules and comments are not production code.
    assert_eq!(
        production_code("use a;\n/// [`crate::intake`]\n#[cfg(test)]\nuse crate::intake;"),
        "use a;"
    );
    assert!(allowed("wiring", "adapters") && allowed("intake", "ports"));
}
