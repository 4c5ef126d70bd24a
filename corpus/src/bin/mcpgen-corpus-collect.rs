//! `mcpgen-corpus-collect`: lays out the second corpus from unpacked registry packages.
//!
//! Reads the sources list (`corpus/sources2.tsv`), finds the OpenAPI and Swagger documents in
//! each package unpacked under `OUT/packages/<registry>/<package>@<version>/`, drops those the
//! first corpus has (by content and by title) and repeats, and writes `OUT/MANIFEST.tsv` and
//! `OUT/SAMPLE.tsv` (the documents of the sources marked `ci`), whose paths are relative to OUT.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mcpgen_corpus::collect::{self, Found, Seen};

const USAGE: &str = "\
usage: mcpgen-corpus-collect --sources SOURCES.tsv --out OUT [--exclude MANIFEST.tsv]...
                             [--per-project N] [--sample-per-project M] [--only-ci]

  --sources FILE          registry, package, version, project and `ci` columns (tab-separated)
  --out OUT               the corpus folder: packages are read from OUT/packages/<registry>/
                          <package>@<version>/ (a `/` in a package name written as `__`)
  --exclude MANIFEST      a manifest of the first corpus: its documents' content and titles are
                          left out of this one
  --per-project N         at most N documents of one project, evenly spread (default 40)
  --sample-per-project M  at most M documents of each `ci` project in SAMPLE.tsv (default 4)
  --only-ci               read only the sources marked `ci`, and write only SAMPLE.tsv";

struct Source {
    registry: String,
    package: String,
    version: String,
    project: String,
    ci: bool,
}

impl Source {
    fn folder(&self, out: &Path) -> PathBuf {
        out.join("packages").join(&self.registry).join(format!(
            "{}@{}",
            self.package.replace('/', "__"),
            self.version
        ))
    }
}

fn read_sources(path: &Path) -> Result<Vec<Source>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 4 {
            return Err(format!(
                "{}:{}: expected registry, package, version and project separated by tabs",
                path.display(),
                i + 1
            ));
        }
        out.push(Source {
            registry: cols[0].to_owned(),
            package: cols[1].to_owned(),
            version: cols[2].to_owned(),
            project: cols[3].to_owned(),
            ci: cols.get(4).is_some_and(|c| c.trim() == "ci"),
        });
    }
    Ok(out)
}

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mcpgen-corpus-collect: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let mut sources = None;
    let mut out = None;
    let mut excludes = Vec::new();
    let mut per_project = 40usize;
    let mut sample_per_project = 4usize;
    let mut only_ci = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--sources" => sources = Some(PathBuf::from(value()?)),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--exclude" => excludes.push(PathBuf::from(value()?)),
            "--per-project" => {
                per_project = value()?.parse().map_err(|_| "--per-project: a number")?;
            }
            "--sample-per-project" => {
                sample_per_project = value()?
                    .parse()
                    .map_err(|_| "--sample-per-project: a number")?;
            }
            "--only-ci" => only_ci = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let sources = read_sources(&sources.ok_or("--sources is required")?)?;
    let out = out.ok_or("--out is required")?;

    let mut first = Seen::default();
    for manifest in &excludes {
        let docs = mcpgen_corpus::select::from_manifest(manifest)
            .map_err(|e| format!("{}: {e}", manifest.display()))?;
        for doc in docs {
            if let Some(found) = collect::examine(&doc) {
                first.add(&found);
            }
        }
    }

    let mut seen = Seen::default();
    let mut by_project: BTreeMap<String, Vec<(Found, bool, String)>> = BTreeMap::new();
    let mut dropped_content = 0;
    let mut dropped_title = 0;
    let mut dropped_repeat = 0;
    let mut report = String::new();
    for source in sources.iter().filter(|s| s.ci || !only_ci) {
        let folder = source.folder(&out);
        let files = collect::candidates(&folder).map_err(|e| {
            format!(
                "{}: {e} (is {}@{} unpacked?)",
                folder.display(),
                source.package,
                source.version
            )
        })?;
        let mut kept = 0;
        for file in files {
            let Some(found) = collect::examine(&file) else {
                continue;
            };
            if first.has_content(&found) {
                dropped_content += 1;
            } else if first.has_title(&found) {
                dropped_title += 1;
            } else if seen.has_content(&found) {
                dropped_repeat += 1;
            } else {
                seen.add(&found);
                kept += 1;
                by_project.entry(source.project.clone()).or_default().push((
                    found,
                    source.ci,
                    format!("{}:{}@{}", source.registry, source.package, source.version),
                ));
            }
        }
        let _ = writeln!(
            report,
            "  {:<8} {:<55} {kept:>4} new documents",
            source.registry,
            format!("{}@{}", source.package, source.version)
        );
    }

    let relative = |p: &Path| -> String {
        p.strip_prefix(&out)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    };
    let mut manifest = String::from("path\tproject\tsource\tversion\ttitle\n");
    let mut sample = String::from("path\tproject\tsource\tversion\ttitle\n");
    let mut total = 0;
    let mut registries = BTreeSet::new();
    for (project, docs) in &by_project {
        let chosen = collect::spread(docs, per_project);
        let line = |(found, _, source): &(Found, bool, String)| {
            format!(
                "{}\t{project}\t{source}\t{}\t{}\n",
                relative(&found.path),
                found.version,
                found.title.replace(['\t', '\n', '\r'], " ")
            )
        };
        for doc in &chosen {
            manifest.push_str(&line(doc));
            // PyPI's wheels and source distributions come from one registry.
            let registry = match doc.2.split(':').next().unwrap_or("") {
                "wheel" => "pypi",
                other => other,
            };
            registries.insert(registry.to_owned());
        }
        total += chosen.len();
        let in_ci: Vec<_> = chosen.iter().filter(|d| d.1).cloned().collect();
        for doc in collect::spread(&in_ci, sample_per_project) {
            sample.push_str(&line(&doc));
        }
    }
    let write = |name: &str, text: &str| {
        std::fs::write(out.join(name), text).map_err(|e| format!("{}: {e}", name))
    };
    if !only_ci {
        write("MANIFEST.tsv", &manifest)?;
    }
    write("SAMPLE.tsv", &sample)?;
    eprint!("{report}");
    eprintln!(
        "==> {total} documents from {} projects ({} registries); left out: {dropped_content} \
         with the content and {dropped_title} with the title of a first-corpus document, \
         {dropped_repeat} repeats; {} in the sample",
        by_project.len(),
        registries.len(),
        sample.lines().count() - 1
    );
    Ok(())
}
