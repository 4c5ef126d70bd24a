//! `cargo mcpgen`: generates MCP server crates from OpenAPI documents.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use mcpgen_codegen::{RuntimeDependency, Settings, standalone};

/// Invoked by cargo as `cargo-mcpgen mcpgen <command>`; also works as `cargo-mcpgen <command>`.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo")]
enum CargoCli {
    /// Generate MCP servers from OpenAPI documents.
    Mcpgen(Cli),
}

#[derive(Debug, Parser)]
#[command(version, about = "Generate MCP servers from OpenAPI documents")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a standalone MCP server crate for an OpenAPI document.
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
struct GenerateArgs {
    /// The OpenAPI document (Swagger 2.0, OpenAPI 3.0 or 3.1; JSON or YAML).
    spec: PathBuf,
    /// The folder to write the crate to (created if missing).
    #[arg(long, short)]
    out: PathBuf,
    /// Crate and server name (default: from the API title, plus `-mcp`).
    #[arg(long)]
    name: Option<String>,
    /// Version of the generated crate.
    #[arg(long, default_value = "0.1.0")]
    crate_version: String,
    /// Prefix of the server's environment variables (default: from the crate name).
    #[arg(long)]
    env_prefix: Option<String>,
    /// Leave out operations that cannot be read, with a warning, instead of failing.
    #[arg(long)]
    skip_broken: bool,
    /// Depend on the published `mcpgen` runtime at this version instead of inlining it.
    #[arg(long, conflicts_with = "runtime_path")]
    runtime_version: Option<String>,
    /// Depend on the `mcpgen` runtime at this path instead of inlining it.
    #[arg(long)]
    runtime_path: Option<PathBuf>,
    /// Write nothing; exit 1 if the files in --out differ from what would be generated.
    #[arg(long)]
    check: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().collect();
    // `cargo mcpgen ...` runs `cargo-mcpgen mcpgen ...`; accept the direct form too.
    if args.get(1).map(String::as_str) != Some("mcpgen") {
        args.insert(1, "mcpgen".to_owned());
    }
    let CargoCli::Mcpgen(cli) = CargoCli::parse_from(args);
    match cli.command {
        Command::Generate(args) => generate(args),
    }
}

fn generate(args: GenerateArgs) -> ExitCode {
    let started = Instant::now();
    let mut settings = Settings::new()
        .crate_version(args.crate_version)
        .skip_broken(args.skip_broken);
    if let Some(name) = args.name {
        settings = settings.crate_name(name);
    }
    if let Some(prefix) = args.env_prefix {
        settings = settings.env_prefix(prefix);
    }
    if let Some(v) = args.runtime_version {
        settings = settings.runtime(RuntimeDependency::Version(v));
    } else if let Some(p) = args.runtime_path {
        settings = settings.runtime(RuntimeDependency::Path(p));
    }
    let generated = match mcpgen_codegen::generate_crate(&args.spec, &settings) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if !args.quiet {
        for w in &generated.warnings {
            eprintln!("warning: {}: {w}", args.spec.display());
        }
    }
    if args.check {
        let stale = standalone::stale_files(&generated, &args.out);
        if stale.is_empty() {
            if !args.quiet {
                eprintln!("{} is up to date", args.out.display());
            }
            return ExitCode::SUCCESS;
        }
        for path in stale {
            eprintln!("stale: {}", args.out.join(path).display());
        }
        eprintln!(
            "the generated crate is out of date; run `cargo mcpgen generate {} --out {}`",
            args.spec.display(),
            args.out.display()
        );
        return ExitCode::FAILURE;
    }
    match standalone::write_crate(&generated, &args.out) {
        Ok(written) => {
            if !args.quiet {
                eprintln!(
                    "generated {} ({} tools) in {}: {} files written, {} unchanged, {:.0?}",
                    generated.crate_name,
                    generated.tool_count,
                    args.out.display(),
                    written.len(),
                    generated.files.len() - written.len(),
                    started.elapsed()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
