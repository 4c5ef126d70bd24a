//! The help of `cargo mcpgen` and of each of its commands, compared with the snapshots under
//! `tests/snapshots/help/`: a flag renamed, added or removed shows as a diff there.
//! `EXPECTORATE=overwrite cargo test -p cargo-mcpgen --test help` refreshes them after an
//! intended change.

use std::process::Command;

/// What `cargo-mcpgen ARGS` prints on stdout (cargo runs `cargo mcpgen X` as
/// `cargo-mcpgen mcpgen X`), without the spaces clap pads blank lines of long help with, which
/// editors strip from snapshots.
fn help(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_cargo-mcpgen"))
        .args(args)
        // Plain text whatever the environment asks for.
        .env_remove("CLICOLOR_FORCE")
        .env("NO_COLOR", "1")
        .output()
        .expect("cargo-mcpgen runs");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("the help is UTF-8");
    text.lines()
        .map(|line| line.trim_end().to_owned() + "\n")
        .collect()
}

/// The commands a help lists, but for clap's own `help`.
fn commands(help: &str) -> Vec<&str> {
    help.lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|command| *command != "help")
        .collect()
}

#[test]
fn the_help_of_every_command_matches_its_snapshot() {
    let top = help(&["mcpgen", "--help"]);
    expectorate::assert_contents("tests/snapshots/help/cargo-mcpgen.txt", &top);
    let commands = commands(&top);
    for known in ["generate", "diff", "inspect"] {
        assert!(commands.contains(&known), "{known} is not in {commands:?}");
    }
    // A command added later has no snapshot yet: the comparison fails until it gets one.
    for command in commands {
        expectorate::assert_contents(
            format!("tests/snapshots/help/{command}.txt"),
            &help(&["mcpgen", command, "--help"]),
        );
    }
}

/// `cargo-mcpgen COMMAND`, without cargo's `mcpgen` in front, prints the same help.
#[test]
fn the_direct_form_prints_the_same_help() {
    assert_eq!(help(&["--help"]), help(&["mcpgen", "--help"]));
    assert_eq!(
        help(&["generate", "--help"]),
        help(&["mcpgen", "generate", "--help"])
    );
}
