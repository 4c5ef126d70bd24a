//! The closing summary of a run.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use crate::document::{DocResult, Status};

/// Cuts `text` to at most `max` characters on one line, marking the cut.
pub fn clip(text: &str, max: usize) -> String {
    let one_line = text.replace('\n', " ⏎ ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut out: String = one_line.chars().take(max).collect();
    out.push('…');
    out
}

/// The `FAIL <kind> <path>: <message>` lines of one document: every failure, and the
/// rejection when there is one.
pub fn failure_lines(result: &DocResult, per_kind: usize) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(error) = &result.error {
        let note = match (&result.retry_error, result.tools) {
            (Some(_), _) => " [skip_broken: rejected too]".to_owned(),
            (None, tools) => format!(
                " [skip_broken: {tools} of {} operations generate]",
                result.operations
            ),
        };
        lines.push(format!(
            "FAIL {} {}: {}{note}",
            error.kind,
            result.path,
            clip(strip_path(&error.message, &result.path), 300)
        ));
    }
    let mut shown: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in &result.failures {
        let n = shown.entry(finding.kind.as_str()).or_default();
        *n += 1;
        if *n <= per_kind {
            let tool = finding
                .tool
                .as_deref()
                .map(|t| format!(" tool {t}:"))
                .unwrap_or_default();
            lines.push(format!(
                "FAIL {} {}:{tool} {}",
                finding.kind,
                result.path,
                clip(&finding.message, 300)
            ));
        }
    }
    for (kind, n) in shown {
        if n > per_kind {
            lines.push(format!(
                "FAIL {kind} {}: ... and {} more",
                result.path,
                n - per_kind
            ));
        }
    }
    lines
}

/// The message without the document path the generator puts in front of it.
fn strip_path<'m>(message: &'m str, path: &str) -> &'m str {
    let rest = message.strip_prefix(path).unwrap_or(message);
    let rest = rest.trim_start_matches(|c: char| c == ':' || c.is_ascii_digit());
    rest.trim_start()
}

/// Words kept when a JSON pointer is reduced to its shape.
const POINTER_WORDS: &[&str] = &[
    "paths",
    "components",
    "schemas",
    "parameters",
    "responses",
    "requestBody",
    "requestBodies",
    "content",
    "schema",
    "properties",
    "items",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "additionalProperties",
    "headers",
    "securitySchemes",
    "security",
    "definitions",
    "callbacks",
    "links",
    "examples",
    "servers",
    "get",
    "put",
    "post",
    "delete",
    "options",
    "head",
    "patch",
    "trace",
    "$ref",
];

/// A message with names, numbers and the varying parts of pointers blanked out, so that the
/// same problem in different documents groups together.
pub fn shape(message: &str) -> String {
    let mut out = String::new();
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' | '"' | '\'' => {
                let mut inner = String::new();
                let mut closed = false;
                for d in chars.by_ref() {
                    if d == c {
                        closed = true;
                        break;
                    }
                    inner.push(d);
                }
                if closed && inner.len() < 200 {
                    out.push(c);
                    out.push('…');
                    out.push(c);
                } else {
                    out.push(c);
                    out.push_str(&shape(&inner));
                }
            }
            '/' if out.is_empty() || out.ends_with(' ') || out.ends_with('(') => {
                let mut pointer = String::from("/");
                while let Some(&d) = chars.peek() {
                    if d == ' ' || d == ',' || d == ')' || (d == ':' && pointer.len() > 1) {
                        break;
                    }
                    pointer.push(d);
                    chars.next();
                }
                out.push_str(&pointer_shape(&pointer));
            }
            '0'..='9' => {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
                out.push('N');
            }
            _ => out.push(c),
        }
    }
    out
}

fn pointer_shape(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        out.push('/');
        if POINTER_WORDS.contains(&segment) || segment.starts_with("x-") {
            out.push_str(segment);
        } else {
            out.push('*');
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

fn seconds(ms: f64) -> String {
    format!("{:.2} s", ms / 1000.0)
}

fn kilobytes(bytes: usize) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

/// Whether the run is clean: no document failed (no panic, crash, time-out, internal error,
/// failed generation or rule-breaking tool). Rejected documents do not count.
pub fn clean(results: &[DocResult]) -> bool {
    results.iter().all(|r| r.status != Status::Failed)
}

/// The closing summary.
pub fn summary(results: &[DocResult], elapsed: Duration, jobs: usize) -> String {
    let mut s = String::new();
    let count = |status| results.iter().filter(|r| r.status == status).count();
    let mut by_version: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results {
        *by_version.entry(r.version.as_str()).or_default() += 1;
    }
    let mut rejected_by_kind: BTreeMap<&str, Vec<&DocResult>> = BTreeMap::new();
    for r in results.iter().filter(|r| r.error.is_some()) {
        let error = r.error.as_ref().expect("filtered on error");
        if error.is_rejection() {
            rejected_by_kind
                .entry(error.kind.as_str())
                .or_default()
                .push(r);
        }
    }
    let mut failed_by_kind: BTreeMap<&str, Vec<(&DocResult, usize)>> = BTreeMap::new();
    for r in results {
        for (i, f) in r.failures.iter().enumerate() {
            let docs = failed_by_kind.entry(f.kind.as_str()).or_default();
            match docs.last_mut() {
                Some((last, _)) if std::ptr::eq(*last, r) => {}
                _ => docs.push((r, i)),
            }
        }
    }
    let findings_of = |kind: &str| -> usize {
        results
            .iter()
            .flat_map(|r| &r.failures)
            .filter(|f| f.kind == kind)
            .count()
    };
    let docs_with = |kinds: &[&str]| {
        results
            .iter()
            .filter(|r| r.failures.iter().any(|f| kinds.contains(&f.kind.as_str())))
            .count()
    };
    let operations: usize = results.iter().map(|r| r.operations).sum();
    let tools: usize = results.iter().map(|r| r.tools).sum();
    let skipped: usize = results.iter().map(|r| r.skipped).sum();
    let skipped_docs = results.iter().filter(|r| r.skipped > 0).count();
    let warnings: usize = results.iter().map(|r| r.warnings).sum();
    let generated = results
        .iter()
        .filter(|r| r.generated_files.is_some())
        .count();
    let generate_failed = docs_with(&["generate"]);
    let document_ms: f64 = results.iter().map(|r| r.total_ms).sum();

    let _ = writeln!(s, "\n== mcpgen-corpus summary");
    let versions: Vec<String> = by_version
        .iter()
        .map(|(v, n)| format!("{v}: {n}"))
        .collect();
    let _ = writeln!(
        s,
        "documents        {:>7}   ({})",
        results.len(),
        versions.join(", ")
    );
    let _ = writeln!(s, "passed           {:>7}", count(Status::Passed));
    let rejected: Vec<String> = rejected_by_kind
        .iter()
        .map(|(k, d)| format!("{k} {}", d.len()))
        .collect();
    let _ = writeln!(
        s,
        "rejected         {:>7}   ({}; documents the generator refused with a located error)",
        count(Status::Rejected),
        if rejected.is_empty() {
            "none".to_owned()
        } else {
            rejected.join(", ")
        }
    );
    let failed: Vec<String> = failed_by_kind
        .iter()
        .map(|(k, d)| format!("{k} {}", d.len()))
        .collect();
    let _ = writeln!(
        s,
        "failed           {:>7}   ({})",
        count(Status::Failed),
        if failed.is_empty() {
            "none".to_owned()
        } else {
            failed.join(", ")
        }
    );
    let _ = writeln!(s, "panics           {:>7}", docs_with(&["panic"]));
    let _ = writeln!(
        s,
        "crashes          {:>7}   (worker died or was stopped: {} out of memory, {} timed out)",
        docs_with(&["crash", "timeout", "out-of-memory"]),
        docs_with(&["out-of-memory"]),
        docs_with(&["timeout"])
    );
    let invalid_tools: usize = results
        .iter()
        .flat_map(|r| &r.failures)
        .filter(|f| f.tool.is_some())
        .count();
    let _ = writeln!(s, "invalid tools    {invalid_tools:>7}   (rule violations)");
    let _ = writeln!(s, "operations       {operations:>7}");
    let _ = writeln!(s, "tools            {tools:>7}");
    let _ = writeln!(
        s,
        "tools skipped    {skipped:>7}   (operations that became no tool, in {skipped_docs} documents)"
    );
    let _ = writeln!(s, "warnings         {warnings:>7}");
    let _ = writeln!(
        s,
        "generate_crate   {generated:>7}   succeeded ({generate_failed} failed)"
    );
    let _ = writeln!(
        s,
        "total time       {:>9}   ({jobs} jobs; {} of document time)",
        seconds(elapsed.as_secs_f64() * 1000.0),
        seconds(document_ms)
    );

    if !failed_by_kind.is_empty() {
        let _ = writeln!(s, "\n== failures by kind (generator bugs)");
        for (kind, docs) in &failed_by_kind {
            let _ = writeln!(
                s,
                "{kind}: {} findings in {} documents",
                findings_of(kind),
                docs.len()
            );
            for (r, i) in docs.iter().take(5) {
                let f = &r.failures[*i];
                let tool = f
                    .tool
                    .as_deref()
                    .map(|t| format!(" tool {t}:"))
                    .unwrap_or_default();
                let _ = writeln!(s, "   {}:{tool} {}", r.path, clip(&f.message, 300));
            }
            if docs.len() > 5 {
                let _ = writeln!(s, "   ... and {} more documents", docs.len() - 5);
            }
        }
    }

    if !rejected_by_kind.is_empty() {
        let _ = writeln!(
            s,
            "\n== rejected by kind (judge whether each document is really broken)"
        );
        for (kind, docs) in &rejected_by_kind {
            let _ = writeln!(s, "{kind}: {} documents", docs.len());
            let mut shapes: BTreeMap<String, Vec<&DocResult>> = BTreeMap::new();
            for r in docs {
                let message = strip_path(&r.error.as_ref().expect("rejected").message, &r.path);
                shapes.entry(shape(message)).or_default().push(r);
            }
            let mut shapes: Vec<_> = shapes.into_iter().collect();
            shapes.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
            for (shape, docs) in &shapes {
                let _ = writeln!(s, "  {:>4} × {}", docs.len(), clip(shape, 240));
                for r in docs.iter().take(3) {
                    let e = r.error.as_ref().expect("rejected");
                    let _ = writeln!(
                        s,
                        "         {}: {}",
                        r.path,
                        clip(strip_path(&e.message, &r.path), 300)
                    );
                }
            }
            let _ = writeln!(s, "  every {kind} document:");
            for r in docs {
                let e = r.error.as_ref().expect("rejected");
                let generated = match &r.retry_error {
                    Some(_) => "none generate".to_owned(),
                    None => format!("{}/{} generate", r.tools, r.operations),
                };
                let _ = writeln!(
                    s,
                    "    {} [{generated}]: {}",
                    r.path,
                    clip(strip_path(&e.message, &r.path), 300)
                );
            }
        }
    }

    let mut slowest: Vec<&DocResult> = results.iter().collect();
    slowest.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
    let _ = writeln!(s, "\n== slowest documents");
    for r in slowest.iter().take(5) {
        let _ = writeln!(
            s,
            "  {:>9}  {} (map {}, check {}, generate {}; {} tools)",
            seconds(r.total_ms),
            r.path,
            seconds(r.map_ms),
            seconds(r.check_ms),
            seconds(r.generate_ms),
            r.tools
        );
    }
    let mut largest: Vec<&DocResult> = results.iter().collect();
    largest.sort_by_key(|r| std::cmp::Reverse(r.list_bytes));
    let _ = writeln!(s, "\n== largest tools/list");
    for r in largest.iter().take(5) {
        let _ = writeln!(
            s,
            "  {:>10}  {} ({} tools; largest tool {} at {})",
            kilobytes(r.list_bytes),
            r.path,
            r.tools,
            r.largest_tool.as_deref().unwrap_or("-"),
            kilobytes(r.largest_tool_bytes)
        );
    }
    let _ = writeln!(s, "\nrejected: {}", count(Status::Rejected));
    let _ = writeln!(
        s,
        "{} passed, {} failed",
        count(Status::Passed),
        count(Status::Failed)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_group_similar_messages() {
        assert_eq!(
            shape(
                "/paths/~1pets~1{id}/get/parameters/3: `in` must be one of \"query\", found `body`"
            ),
            "/paths/*/get/parameters/*: `…` must be one of \"…\", found `…`"
        );
        assert_eq!(
            shape("unknown reference /components/schemas/Foo at line 12"),
            "unknown reference /components/schemas/* at line N"
        );
    }

    #[test]
    fn paths_are_stripped() {
        assert_eq!(strip_path("a/b.json:12: /x: bad", "a/b.json"), "/x: bad");
        assert_eq!(strip_path("a/b.json: /x: bad", "a/b.json"), "/x: bad");
    }

    #[test]
    fn clipping() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "abc…");
        assert_eq!(clip("a\nb", 10), "a ⏎ b");
    }
}
