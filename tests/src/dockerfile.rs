//! A reader of Dockerfiles, enough for tests to check one without a container engine:
//! instructions with their line numbers (continued lines joined, comment lines dropped, as
//! Docker does), options (`--name=value`), the exec form read as JSON, `LABEL` pairs with
//! Docker's double-quote escapes, and the stages `FROM` starts.

/// One instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// The line the instruction starts on (1-based).
    pub line: usize,
    /// The instruction's name, in capitals (`FROM`, `RUN`, ...).
    pub keyword: String,
    /// Everything after the name, continuation lines joined with a space.
    pub rest: String,
}

/// A build stage: a `FROM` and the instructions up to the next.
#[derive(Debug, Clone)]
pub struct Stage {
    /// The base image.
    pub base: String,
    /// The name after `AS`, if any.
    pub name: Option<String>,
    /// The stage's instructions, `FROM` excluded.
    pub instructions: Vec<Instruction>,
}

impl Stage {
    /// The stage's instructions named `keyword`.
    pub fn all<'a>(&'a self, keyword: &str) -> impl Iterator<Item = &'a Instruction> + 'a {
        let keyword = keyword.to_owned();
        self.instructions
            .iter()
            .filter(move |i| i.keyword == keyword)
    }

    /// The stage's one instruction named `keyword`; panics when there are none or several.
    pub fn one(&self, keyword: &str) -> &Instruction {
        let found: Vec<&Instruction> = self.all(keyword).collect();
        assert_eq!(
            found.len(),
            1,
            "the stage from {} has {} {keyword} instructions",
            self.base,
            found.len()
        );
        found[0]
    }
}

/// Parses `text`, panicking on what Docker would refuse to read: a continued last line, an
/// instruction name that is not a word.
pub fn parse(text: &str) -> Vec<Instruction> {
    let mut instructions = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        // Comment lines and empty lines are dropped, inside a continued instruction too.
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (body, continues) = match trimmed.strip_suffix('\\') {
            Some(body) => (body.trim(), true),
            None => (trimmed, false),
        };
        match &mut current {
            Some((_, text)) => {
                text.push(' ');
                text.push_str(body);
            }
            None => current = Some((index + 1, body.to_owned())),
        }
        if !continues {
            let (line, text) = current.take().expect("an instruction was started");
            let (keyword, rest) = text.split_once(' ').unwrap_or((&text, ""));
            assert!(
                !keyword.is_empty() && keyword.chars().all(|c| c.is_ascii_alphabetic()),
                "line {line}: {keyword:?} is not an instruction"
            );
            instructions.push(Instruction {
                line,
                keyword: keyword.to_ascii_uppercase(),
                rest: rest.trim().to_owned(),
            });
        }
    }
    assert!(
        current.is_none(),
        "the last instruction continues past the end"
    );
    instructions
}

/// The instructions grouped by stage; panics when something comes before the first `FROM`.
pub fn stages(instructions: &[Instruction]) -> Vec<Stage> {
    let mut stages: Vec<Stage> = Vec::new();
    for instruction in instructions {
        if instruction.keyword == "FROM" {
            let (options, rest) = instruction.options();
            assert!(
                options.is_empty(),
                "line {}: FROM options",
                instruction.line
            );
            let words: Vec<&str> = rest.split_whitespace().collect();
            let (base, name) = match words.as_slice() {
                [base] => (*base, None),
                [base, as_, name] if as_.eq_ignore_ascii_case("as") => (*base, Some(*name)),
                _ => panic!("line {}: FROM {rest}", instruction.line),
            };
            stages.push(Stage {
                base: base.to_owned(),
                name: name.map(str::to_owned),
                instructions: Vec::new(),
            });
        } else {
            stages
                .last_mut()
                .unwrap_or_else(|| {
                    panic!(
                        "line {}: {} before the first FROM",
                        instruction.line, instruction.keyword
                    )
                })
                .instructions
                .push(instruction.clone());
        }
    }
    stages
}

impl Instruction {
    /// The leading `--name=value` options and the text after them.
    pub fn options(&self) -> (Vec<(String, String)>, &str) {
        let mut options = Vec::new();
        let mut rest = self.rest.as_str();
        while let Some(option) = rest.strip_prefix("--") {
            let (word, after) = option.split_once(' ').unwrap_or((option, ""));
            let (name, value) = word.split_once('=').unwrap_or((word, ""));
            options.push((name.to_owned(), value.to_owned()));
            rest = after.trim_start();
        }
        (options, rest)
    }

    /// The value of the option `--name`, if given.
    pub fn option(&self, name: &str) -> Option<String> {
        self.options()
            .0
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// The exec form of the instruction's command (after its options, and after `CMD` for a
    /// `HEALTHCHECK`): a JSON array of strings. `None` for the shell form.
    pub fn exec_form(&self) -> Option<Vec<String>> {
        let (_, mut rest) = self.options();
        if self.keyword == "HEALTHCHECK" {
            rest = rest
                .strip_prefix("CMD")
                .unwrap_or_else(|| panic!("line {}: HEALTHCHECK without CMD", self.line))
                .trim_start();
        }
        if !rest.starts_with('[') {
            return None;
        }
        let words: Vec<String> = serde_json::from_str(rest).unwrap_or_else(|e| {
            panic!(
                "line {}: {} is not a JSON array of strings: {e}",
                self.line, self.keyword
            )
        });
        Some(words)
    }

    /// `LABEL` pairs, each value read as Docker's shell lexer reads a word: double quotes with
    /// `\"`, `\$` and `\\` escapes inside, a backslash escape outside; panics on a `$` that
    /// would be expanded.
    pub fn label_pairs(&self) -> Vec<(String, String)> {
        assert_eq!(self.keyword, "LABEL");
        let mut pairs = Vec::new();
        let mut chars = self.rest.chars().peekable();
        loop {
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            if chars.peek().is_none() {
                break;
            }
            let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=')).collect();
            assert_eq!(
                chars.next(),
                Some('='),
                "line {}: {key} has no `=`",
                self.line
            );
            let mut value = String::new();
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                match c {
                    '"' => loop {
                        match chars.next() {
                            Some('"') => break,
                            Some('\\') => match chars.next() {
                                Some(e @ ('"' | '$' | '\\')) => value.push(e),
                                Some(other) => {
                                    value.push('\\');
                                    value.push(other);
                                }
                                None => panic!("line {}: unterminated quote", self.line),
                            },
                            Some('$') => panic!("line {}: `$` would be expanded", self.line),
                            Some(c) => value.push(c),
                            None => panic!("line {}: unterminated quote", self.line),
                        }
                    },
                    '\\' => value.extend(chars.next()),
                    '$' => panic!("line {}: `$` would be expanded", self.line),
                    c => value.push(c),
                }
            }
            pairs.push((key, value));
        }
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_instructions_stages_and_forms() {
        let text = "# syntax comment\nFROM rust:1 AS build\nRUN a \\\n    # dropped\n    && b\n\nFROM scratch\nLABEL a=\"x \\\"y\\\" \\\\\" \\\n  b=c\nHEALTHCHECK --interval=5s CMD [\"/bin/x\", \"--y\"]\nENTRYPOINT /bin/sh -c x\n";
        let instructions = parse(text);
        assert_eq!(instructions.len(), 6);
        assert_eq!(instructions[1].rest, "a && b");
        assert_eq!(instructions[1].line, 3);
        let stages = stages(&instructions);
        assert_eq!(stages.len(), 2);
        assert_eq!(stages[0].name.as_deref(), Some("build"));
        assert_eq!(
            stages[1].one("LABEL").label_pairs(),
            [
                ("a".to_owned(), "x \"y\" \\".to_owned()),
                ("b".to_owned(), "c".to_owned())
            ]
        );
        let check = stages[1].one("HEALTHCHECK");
        assert_eq!(check.option("interval").as_deref(), Some("5s"));
        assert_eq!(check.exec_form().unwrap(), ["/bin/x", "--y"]);
        assert_eq!(stages[1].one("ENTRYPOINT").exec_form(), None);
    }
}
