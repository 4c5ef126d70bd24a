//! Finds the line of the node a JSON pointer designates in a JSON or YAML text, so that
//! errors can say `file:line`. Only used when something went wrong, so it re-reads the text
//! with a position-tracking YAML parser (JSON is YAML) instead of slowing down every load.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

enum Frame {
    Map { key: Option<String> },
    Seq { index: usize },
}

struct Finder {
    /// Paths looked for → their indexes in `found`.
    targets: std::collections::HashMap<Vec<String>, Vec<usize>>,
    /// Path of the innermost open container.
    path: Vec<String>,
    frames: Vec<Frame>,
    found: Vec<Option<usize>>,
}

impl Finder {
    /// Records `line` for every target at `path` not found yet.
    fn hit(&mut self, path: &[String], line: usize) {
        if let Some(indexes) = self.targets.get(path) {
            for &i in indexes {
                self.found[i].get_or_insert(line);
            }
        }
    }

    /// The path of the node that starts now, or `None` when it is a mapping key.
    fn node_path(&mut self, key_text: Option<&str>, line: usize) -> Option<Vec<String>> {
        let mut path = self.path.clone();
        match self.frames.last_mut() {
            Some(Frame::Map { key }) => match key.take() {
                None => {
                    let k = key_text.unwrap_or_default().to_owned();
                    path.push(k.clone());
                    *key = Some(k);
                    // Point at the key: that is where a reader looks.
                    self.hit(&path, line);
                    return None;
                }
                Some(k) => path.push(k),
            },
            Some(Frame::Seq { index }) => {
                path.push(index.to_string());
                *index += 1;
            }
            None => {}
        }
        self.hit(&path, line);
        Some(path)
    }
}

impl MarkedEventReceiver for Finder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let line = mark.line();
        match event {
            Event::Scalar(text, ..) => {
                self.node_path(Some(&text), line);
            }
            Event::Alias(_) => {
                self.node_path(None, line);
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_map = matches!(event, Event::MappingStart(..));
                let path = match self.node_path(None, line) {
                    Some(p) => p,
                    // A container used as a mapping key: give it a path no pointer matches.
                    None => {
                        let mut p = self.path.clone();
                        p.push("\u{0}".to_owned());
                        p
                    }
                };
                self.path = path;
                self.frames.push(if is_map {
                    Frame::Map { key: None }
                } else {
                    Frame::Seq { index: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.frames.pop();
                self.path.pop();
            }
            _ => {}
        }
    }
}

/// The 1-based line where the node at `pointer` (RFC 6901) starts in `text`, if it is there.
pub fn line_of(text: &str, pointer: &str) -> Option<usize> {
    lines_of(text, &[pointer]).pop().flatten()
}

/// [`line_of`] for several pointers, in one reading of `text`.
pub fn lines_of(text: &str, pointers: &[&str]) -> Vec<Option<usize>> {
    let mut targets: std::collections::HashMap<Vec<String>, Vec<usize>> =
        std::collections::HashMap::new();
    for (i, pointer) in pointers.iter().enumerate() {
        let target: Vec<String> = crate::pointer::tokens(pointer)
            .map(std::borrow::Cow::into_owned)
            .collect();
        targets.entry(target).or_default().push(i);
    }
    let mut finder = Finder {
        targets,
        path: Vec::new(),
        frames: Vec::new(),
        found: vec![None; pointers.len()],
    };
    let mut parser = Parser::new_from_str(text);
    // A parse error after the nodes were found does not matter; before, there is no line.
    let _ = parser.load(&mut finder, false);
    finder.found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_yaml_nodes() {
        let text = "openapi: 3.0.0\npaths:\n  /pets:\n    get:\n      parameters:\n        - name: a\n          in: query\n        - name: b\n";
        assert_eq!(line_of(text, "/paths/~1pets/get"), Some(4));
        assert_eq!(line_of(text, "/paths/~1pets/get/parameters/1"), Some(8));
        assert_eq!(
            line_of(text, "/paths/~1pets/get/parameters/1/name"),
            Some(8)
        );
        assert_eq!(line_of(text, "/paths/~1pets/get/parameters/0/in"), Some(7));
        assert_eq!(line_of(text, "/nope"), None);
    }

    #[test]
    fn finds_json_nodes() {
        let text = "{\n  \"a\": {\n    \"b\": [\n      1,\n      {\"c\": 2}\n    ]\n  }\n}\n";
        assert_eq!(line_of(text, "/a/b/1/c"), Some(5));
        assert_eq!(line_of(text, "/a/b"), Some(3));
        assert_eq!(
            lines_of(text, &["/a/b/1/c", "/x", "/a/b", "/a/b/1/c"]),
            vec![Some(5), None, Some(3), Some(5)]
        );
    }
}
