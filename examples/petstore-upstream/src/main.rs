//! `petstore-upstream [--port 8080]`: runs the Petstore example API on
//! 127.0.0.1 until Ctrl-C or SIGTERM.

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use petstore_upstream::Upstream;

const DEFAULT_PORT: u16 = 8080;

/// How long open connections may keep the server alive after a stop signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

const USAGE: &str = "\
usage: petstore-upstream [--port PORT]

Serves the Petstore example API on http://127.0.0.1:PORT/v1 until Ctrl-C or SIGTERM.

options:
  -p, --port PORT   port to listen on (default 8080, 0 picks a free one)
  -h, --help        print this help";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Serve { port: u16 },
    Help,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut port = DEFAULT_PORT;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-p" | "--port" => args.next().ok_or_else(|| format!("{arg} needs a value"))?,
            _ => match arg.strip_prefix("--port=") {
                Some(value) => value.to_owned(),
                None => return Err(format!("unexpected argument {arg:?}")),
            },
        };
        port = value
            .parse()
            .map_err(|_| format!("invalid port {value:?}: expected a number from 0 to 65535"))?;
    }
    Ok(Command::Serve { port })
}

#[tokio::main]
async fn main() -> ExitCode {
    let port = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Serve { port }) => port,
        Ok(Command::Help) => {
            let _ = writeln!(io::stdout().lock(), "{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            say(format_args!("petstore-upstream: {message}\n\n{USAGE}"));
            return ExitCode::from(2);
        }
    };
    let upstream = match Upstream::start(port).await {
        Ok(upstream) => upstream,
        Err(err) => {
            say(format_args!(
                "petstore-upstream: cannot listen on 127.0.0.1:{port}: {err}"
            ));
            return ExitCode::FAILURE;
        }
    };
    say(format_args!(
        "petstore upstream listening on {}",
        upstream.base_url()
    ));

    if let Err(err) = stop_signal().await {
        say(format_args!(
            "petstore-upstream: cannot wait for a stop signal: {err}"
        ));
        return ExitCode::FAILURE;
    }
    say(format_args!("petstore upstream shutting down"));
    match tokio::time::timeout(SHUTDOWN_GRACE, upstream.shutdown()).await {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(err)) => {
            say(format_args!("petstore-upstream: server error: {err}"));
            ExitCode::FAILURE
        }
        Err(_) => {
            say(format_args!(
                "petstore-upstream: closing connections still open after {SHUTDOWN_GRACE:?}"
            ));
            ExitCode::SUCCESS
        }
    }
}

/// Writes one line to stderr; a closed stderr is not worth failing for.
fn say(message: fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "{message}");
}

/// Resolves on Ctrl-C, or on SIGTERM where there is one.
async fn stop_signal() -> io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(|arg| arg.to_string()))
    }

    #[test]
    fn defaults_to_port_8080() {
        assert_eq!(parse(&[]), Ok(Command::Serve { port: 8080 }));
    }

    #[test]
    fn accepts_port_forms() {
        assert_eq!(
            parse(&["--port", "9000"]),
            Ok(Command::Serve { port: 9000 })
        );
        assert_eq!(parse(&["--port=0"]), Ok(Command::Serve { port: 0 }));
        assert_eq!(parse(&["-p", "1234"]), Ok(Command::Serve { port: 1234 }));
    }

    #[test]
    fn help_wins() {
        assert_eq!(parse(&["--port", "1", "--help"]), Ok(Command::Help));
        assert_eq!(parse(&["-h"]), Ok(Command::Help));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--port", "70000"]).is_err());
        assert!(parse(&["--port", "x"]).is_err());
        assert!(parse(&["--verbose"]).is_err());
    }
}
