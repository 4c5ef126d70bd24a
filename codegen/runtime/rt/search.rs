//! Ranked text search over operations, for servers that offer their operations through
//! `search_operations` instead of one tool each.
//!
//! Ranking is BM25F: each operation is a document with five fields (name, title, path and
//! method, tags, description), each weighted and length-normalised on its own, and the
//! weighted term frequencies go through one BM25 saturation per term. Text is split into
//! words at non-alphanumeric characters and at camelCase boundaries (`getPetById` is `get pet
//! by id`, `/repos/{owner}` is `repos owner`), lower-cased, and plural endings are removed
//! (`repositories` is `repository`). Query words also match a few common synonyms and
//! abbreviations, and words they share a long prefix with (`deploy` finds `deployment`), at a
//! lower weight. Everything is computed in a fixed order, so the same query always gives the
//! same ranking, ties going to the operation that comes first in the table.

use std::collections::HashMap;

/// The text of one operation, as the index reads it.
#[derive(Debug, Clone, Copy)]
pub struct SearchDoc<'a> {
    /// The tool name.
    pub name: &'a str,
    /// The operation's summary.
    pub title: Option<&'a str>,
    /// The description.
    pub description: &'a str,
    /// The operation's tags.
    pub tags: &'a [&'a str],
    /// The HTTP method.
    pub method: &'a str,
    /// The path template.
    pub path: &'a str,
}

/// One result: the operation's position among the documents given to
/// [`SearchIndex::build`], and its score (higher is better).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Index of the document.
    pub doc: usize,
    /// BM25F score.
    pub score: f64,
}

const FIELDS: usize = 5;
const NAME: usize = 0;
const TITLE: usize = 1;
const PATH: usize = 2;
const TAGS: usize = 3;
const DESCRIPTION: usize = 4;

/// How much a match in each field counts: a word of the name or summary says more about what
/// the operation does than one deep in its description.
const WEIGHTS: [f64; FIELDS] = [3.0, 2.5, 2.0, 1.5, 1.0];
/// Length normalisation per field: short fields barely vary in length, descriptions do.
const LENGTH_NORM: [f64; FIELDS] = [0.3, 0.5, 0.3, 0.3, 0.75];
/// BM25 saturation: how quickly repeated matches stop adding to the score.
const K1: f64 = 1.2;
/// Weight of a synonym, abbreviation or prefix match relative to the word itself.
const RELATED_WEIGHT: f64 = 0.4;
/// How much an operation whose name or summary is made of the query's words gains over one
/// that merely contains them: `Create a fork` is a better answer to "fork a repository" than
/// `Get fork PR contributor approval permissions for a repository`.
const COVERAGE_BOOST: f64 = 2.0;
/// Query words beyond this many are ignored.
const MAX_QUERY_WORDS: usize = 32;
/// Descriptions are cut here: the opening says what the operation does, and some APIs put
/// pages of reference text after it.
const MAX_DESCRIPTION_CHARS: usize = 2000;

/// Words that say nothing about which operation is meant.
const STOP_WORDS: &[&str] = &[
    "a", "am", "an", "and", "any", "are", "as", "at", "be", "by", "can", "do", "doe", "for",
    "from", "how", "if", "in", "into", "is", "it", "its", "of", "on", "or", "our", "that", "the",
    "their", "them", "then", "there", "these", "this", "those", "to", "use", "using", "want",
    "was", "we", "what", "when", "which", "who", "will", "with", "you", "your",
];

/// Groups of words a query may use for one another (after stemming).
const RELATED: &[&[&str]] = &[
    &["delete", "remove", "destroy", "erase"],
    &[
        "create", "add", "new", "make", "post", "insert", "open", "publish", "register",
    ],
    &[
        "update", "edit", "modify", "change", "patch", "set", "replace",
    ],
    &[
        "get", "fetch", "retrieve", "read", "show", "view", "find", "lookup",
    ],
    &["list", "all", "enumerate", "browse"],
    &["search", "query", "find", "filter"],
    &["org", "organization", "organisation"],
    &["repo", "repository"],
    &["pr", "pull"],
    &["config", "configuration", "setting"],
    &["env", "environment"],
    &["auth", "authentication", "authorization", "login"],
    &["app", "application"],
    &["info", "information", "detail"],
    &["admin", "administrator"],
    &["user", "account"],
    // APIs say "the authenticated user" where people say "my" or "me".
    &["me", "my", "i", "authenticated", "current"],
    &["file", "content", "document"],
    &["star", "starred", "favorite"],
    &["cancel", "abort", "stop"],
    &["request", "ask", "invite"],
    &["run", "execute", "trigger", "start"],
    &["count", "number", "total", "many"],
    &["image", "picture", "photo"],
];

/// A search index over a fixed set of operations.
#[derive(Debug, Clone)]
pub struct SearchIndex {
    names: Vec<String>,
    /// `method path`, lower-case, for queries that name an operation that way.
    operations: Vec<(String, String)>,
    /// Per document, the distinct words of its name and of its title.
    headings: Vec<[Vec<String>; 2]>,
    /// Per document and field, the number of words.
    lengths: Vec<[u32; FIELDS]>,
    average: [f64; FIELDS],
    /// Per word, the documents containing it with the count per field, in document order.
    postings: HashMap<String, Vec<(u32, [u16; FIELDS])>>,
    /// Every word of the index, sorted, for prefix matches.
    vocabulary: Vec<String>,
}

impl SearchIndex {
    /// Indexes `docs`; hits refer to them by position.
    pub fn build<'a>(docs: impl IntoIterator<Item = SearchDoc<'a>>) -> Self {
        let mut names = Vec::new();
        let mut operations = Vec::new();
        let mut headings = Vec::new();
        let mut lengths = Vec::new();
        let mut postings: HashMap<String, Vec<(u32, [u16; FIELDS])>> = HashMap::new();
        for (index, doc) in docs.into_iter().enumerate() {
            let description: String = doc
                .description
                .chars()
                .take(MAX_DESCRIPTION_CHARS)
                .collect();
            let mut fields: [Vec<String>; FIELDS] = Default::default();
            fields[NAME] = tokenize(doc.name);
            fields[TITLE] = tokenize(doc.title.unwrap_or_default());
            fields[PATH] = tokenize(doc.path);
            fields[PATH].extend(tokenize(doc.method));
            fields[TAGS] = doc.tags.iter().flat_map(|t| tokenize(t)).collect();
            fields[DESCRIPTION] = tokenize(&description);
            let mut counts: HashMap<&str, [u16; FIELDS]> = HashMap::new();
            let mut length = [0u32; FIELDS];
            for (field, words) in fields.iter_mut().enumerate() {
                // Single letters are initials and list markers (`i.e.`, `a)`), not words.
                words.retain(|w| w.chars().count() > 1);
                length[field] = words.len() as u32;
                for word in words.iter() {
                    let slot = &mut counts.entry(word.as_str()).or_default()[field];
                    *slot = slot.saturating_add(1);
                }
            }
            for (word, count) in counts {
                postings
                    .entry(word.to_owned())
                    .or_default()
                    .push((index as u32, count));
            }
            let distinct = |words: &[String]| {
                let mut unique: Vec<String> = Vec::new();
                for w in words {
                    if !unique.contains(w) {
                        unique.push(w.clone());
                    }
                }
                unique
            };
            headings.push([distinct(&fields[NAME]), distinct(&fields[TITLE])]);
            names.push(doc.name.to_ascii_lowercase());
            operations.push((
                doc.method.to_ascii_lowercase(),
                doc.path.to_ascii_lowercase(),
            ));
            lengths.push(length);
        }
        let mut average = [0.0; FIELDS];
        if !lengths.is_empty() {
            for (field, avg) in average.iter_mut().enumerate() {
                let total: u64 = lengths.iter().map(|l| u64::from(l[field])).sum();
                *avg = (total as f64 / lengths.len() as f64).max(1.0);
            }
        }
        let mut vocabulary: Vec<String> = postings.keys().cloned().collect();
        vocabulary.sort();
        SearchIndex {
            names,
            operations,
            headings,
            lengths,
            average,
            postings,
            vocabulary,
        }
    }

    /// How many operations the index holds.
    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// Whether the index holds no operation.
    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    /// The best `limit` operations for `query`, best first. An operation whose name is the
    /// query itself always comes first.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        if limit == 0 || self.is_empty() {
            return Vec::new();
        }
        let mut scores = vec![0.0f64; self.len()];
        let concepts = self.query_concepts(query);
        for concept in &concepts {
            self.add_concept(concept, &mut scores);
        }
        let terms: Vec<Term> = concepts.into_iter().flatten().collect();
        for (doc, score) in scores.iter_mut().enumerate() {
            if *score > 0.0 {
                let coverage = self.headings[doc]
                    .iter()
                    .map(|words| coverage(words, &terms))
                    .fold(0.0, f64::max);
                *score *= 1.0 + COVERAGE_BOOST * coverage;
            }
        }
        for exact in self.exact_matches(query) {
            // Above any text score: the caller named the operation.
            scores[exact] = f64::MAX;
        }
        let mut hits: Vec<Hit> = scores
            .into_iter()
            .enumerate()
            .filter(|(_, s)| *s > 0.0)
            .map(|(doc, score)| Hit { doc, score })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.doc.cmp(&b.doc)));
        hits.truncate(limit);
        hits
    }

    /// Operations the query names outright: by tool name, or as `METHOD /path` or `/path`.
    fn exact_matches(&self, query: &str) -> Vec<usize> {
        let wanted = query.trim().to_ascii_lowercase();
        if let Some(exact) = self.names.iter().position(|n| *n == wanted) {
            return vec![exact];
        }
        let (method, path) = match wanted.split_once(char::is_whitespace) {
            Some((method, path)) if path.trim_start().starts_with('/') => {
                (Some(method), path.trim())
            }
            _ if wanted.starts_with('/') => (None, wanted.as_str()),
            _ => return Vec::new(),
        };
        self.operations
            .iter()
            .enumerate()
            .filter(|(_, (m, p))| p == path && method.is_none_or(|wanted| wanted == m))
            .map(|(i, _)| i)
            .collect()
    }

    /// What to look up for `query`: per query word, the word itself and its relatives
    /// (synonyms, abbreviations, words sharing a long prefix), weaker and never counting for
    /// more than the word they stand for.
    fn query_concepts(&self, query: &str) -> Vec<Vec<Term>> {
        let mut concepts = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        // A query is a task, not a document: the first words say it, and the bound keeps the
        // cost of a pasted wall of text small.
        for word in tokenize(query).into_iter().take(MAX_QUERY_WORDS) {
            if seen.contains(&word) {
                continue;
            }
            seen.push(word.clone());
            let mut relatives: Vec<&str> = RELATED
                .iter()
                .filter(|g| g.contains(&word.as_str()))
                .flat_map(|g| g.iter().copied())
                .filter(|o| *o != word.as_str())
                .collect();
            relatives.extend(self.prefix_relatives(&word));
            relatives.sort_unstable();
            relatives.dedup();
            // A word the index does not know still brings its relatives, but at the weight of
            // the most common of them: a query about "my repositories" must not become one
            // about whichever of "current", "me" and "authenticated" is rarest.
            let cap = self.idf(&word).unwrap_or_else(|| {
                relatives
                    .iter()
                    .filter_map(|r| self.idf(r))
                    .fold(f64::INFINITY, f64::min)
            });
            let mut concept = vec![Term {
                word: word.clone(),
                weight: 1.0,
                max_idf: f64::INFINITY,
            }];
            concept.extend(relatives.into_iter().map(|r| Term {
                word: r.to_owned(),
                weight: RELATED_WEIGHT,
                max_idf: cap,
            }));
            concepts.push(concept);
        }
        concepts
    }

    fn idf(&self, word: &str) -> Option<f64> {
        let df = self.postings.get(word)?.len() as f64;
        let n = self.len() as f64;
        Some(((n - df + 0.5) / (df + 0.5) + 1.0).ln())
    }

    /// Words of the index that `word` is a prefix of, or that are a prefix of `word`, when the
    /// shared part is long enough to mean the same thing (`deploy`, `deployment`).
    fn prefix_relatives<'s>(&'s self, word: &str) -> Vec<&'s str> {
        const MIN_SHARED: usize = 5;
        const MAX_LEN: usize = 40;
        let mut out = Vec::new();
        if !(MIN_SHARED..=MAX_LEN).contains(&word.len()) {
            return out;
        }
        // Longer words starting with `word`: a contiguous run of the sorted vocabulary.
        let start = self.vocabulary.partition_point(|w| w.as_str() < word);
        for other in &self.vocabulary[start..] {
            if !other.starts_with(word) {
                break;
            }
            if other != word {
                out.push(other.as_str());
            }
        }
        // Shorter words that `word` starts with.
        for end in MIN_SHARED..word.len() {
            if let Some((known, _)) = word.get(..end).and_then(|p| self.postings.get_key_value(p)) {
                out.push(known.as_str());
            }
        }
        out
    }

    /// Adds one query word's share to every document's score: the best of the word itself
    /// and its relatives (the strongest match counts once, so that a document using two
    /// synonyms of one word does not count it twice).
    fn add_concept(&self, concept: &[Term], scores: &mut [f64]) {
        let mut best = vec![0.0f64; scores.len()];
        for term in concept {
            let (Some(postings), Some(idf)) = (self.postings.get(&term.word), self.idf(&term.word))
            else {
                continue;
            };
            let idf = idf.min(term.max_idf);
            for (doc, counts) in postings {
                let doc = *doc as usize;
                let mut tf = 0.0;
                for field in 0..FIELDS {
                    if counts[field] == 0 {
                        continue;
                    }
                    let length = f64::from(self.lengths[doc][field]);
                    let norm = 1.0 - LENGTH_NORM[field]
                        + LENGTH_NORM[field] * length / self.average[field];
                    tf += WEIGHTS[field] * f64::from(counts[field]) / norm;
                }
                let share = term.weight * idf * tf / (K1 + tf);
                best[doc] = best[doc].max(share);
            }
        }
        for (score, share) in scores.iter_mut().zip(best) {
            *score += share;
        }
    }
}

/// A word looked up for a query.
#[derive(Debug, Clone)]
struct Term {
    word: String,
    /// 1 for the query's own words, less for related ones.
    weight: f64,
    /// A related word counts for at most as much as the word it stands for.
    max_idf: f64,
}

/// How much of `words` (a name or title) the query covers: each word counts with the weight
/// of the term that matches it.
fn coverage(words: &[String], terms: &[Term]) -> f64 {
    if words.is_empty() {
        return 0.0;
    }
    let matched: f64 = words
        .iter()
        .map(|w| {
            terms
                .iter()
                .filter(|t| t.word == *w)
                .map(|t| t.weight)
                .fold(0.0, f64::max)
        })
        .sum();
    matched / words.len() as f64
}

/// Splits text into lower-case, stemmed words without stop words: at every character that is
/// not a letter or digit, and between a lower-case letter or digit and an upper-case one
/// (`getPetByID` is `get pet by id`, `HTTPServer` is `http server`). Web addresses are
/// skipped: descriptions link to documentation, and those words match everything.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in text.split_whitespace() {
        if chunk.contains("://") {
            continue;
        }
        let chars: Vec<char> = chunk.chars().collect();
        let mut word = String::new();
        for (i, &c) in chars.iter().enumerate() {
            if !c.is_alphanumeric() {
                push_word(&mut out, &mut word);
                continue;
            }
            if c.is_uppercase() && i > 0 {
                let prev = chars[i - 1];
                let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
                // `getPet`: lower then upper. `HTTPServer`: the `S` of an upper run followed by
                // a lower-case letter starts a new word.
                if prev.is_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_uppercase() && next_lower)
                {
                    push_word(&mut out, &mut word);
                }
            }
            word.extend(c.to_lowercase());
        }
        push_word(&mut out, &mut word);
    }
    out
}

fn push_word(out: &mut Vec<String>, word: &mut String) {
    if word.is_empty() {
        return;
    }
    let stemmed = stem(word);
    if !STOP_WORDS.contains(&stemmed.as_str()) {
        out.push(stemmed);
    }
    word.clear();
}

/// Removes a plural ending: `repositories` → `repository`, `branches` → `branch`, `pets` →
/// `pet`; words of three letters or fewer, and `ss`, `us`, `is` endings, are left alone.
pub fn stem(word: &str) -> String {
    if word.len() <= 3 || !word.is_ascii() {
        return word.to_owned();
    }
    if let Some(base) = word.strip_suffix("ies")
        && base.len() >= 2
    {
        return format!("{base}y");
    }
    for ending in ["sses", "ches", "shes", "xes", "zes"] {
        if word.ends_with(ending) {
            return word[..word.len() - 2].to_owned();
        }
    }
    if word.ends_with('s')
        && !(word.ends_with("ss") || word.ends_with("us") || word.ends_with("is"))
    {
        return word[..word.len() - 1].to_owned();
    }
    word.to_owned()
}

/// The first sentence of `text` on one line, at most `max` characters, for short listings.
pub fn one_line_summary(text: &str, max: usize) -> String {
    let paragraph = text.trim().split("\n\n").next().unwrap_or_default();
    let line = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
    let sentence = match line.find(". ") {
        Some(end) => &line[..=end],
        None => line.as_str(),
    };
    if sentence.chars().count() <= max {
        return sentence.trim_end().to_owned();
    }
    let cut: String = sentence.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc<'a>(name: &'a str, title: &'a str, method: &'a str, path: &'a str) -> SearchDoc<'a> {
        SearchDoc {
            name,
            title: Some(title),
            description: "",
            tags: &[],
            method,
            path,
        }
    }

    #[test]
    fn words_are_split_lowered_and_stemmed() {
        assert_eq!(tokenize("getPetById"), ["get", "pet", "id"]);
        assert_eq!(tokenize("HTTPServer"), ["http", "server"]);
        assert_eq!(
            tokenize("/repos/{owner}/{repo}/pulls"),
            ["repo", "owner", "repo", "pull"]
        );
        assert_eq!(
            tokenize("list_repositories-for_org"),
            ["list", "repository", "org"]
        );
        assert_eq!(
            tokenize("See https://docs.example.com/x for branches"),
            ["see", "branch"]
        );
        assert_eq!(stem("status"), "status");
        assert_eq!(stem("address"), "address");
        assert_eq!(stem("analysis"), "analysis");
        assert_eq!(stem("boxes"), "box");
    }

    #[test]
    fn ranking_prefers_names_and_titles_and_is_deterministic() {
        let docs = [
            doc("listPets", "List pets", "GET", "/pets"),
            doc("createPet", "Create a pet", "POST", "/pets"),
            doc("deletePet", "Delete a pet", "DELETE", "/pets/{petId}"),
            doc(
                "getInventory",
                "Count pets by status",
                "GET",
                "/store/inventory",
            ),
            doc(
                "createDeployment",
                "Create a deployment",
                "POST",
                "/deployments",
            ),
        ];
        let index = SearchIndex::build(docs);
        let top = |q: &str| index.search(q, 3).first().map(|h| docs[h.doc].name);
        assert_eq!(top("remove a pet"), Some("deletePet"));
        assert_eq!(top("add a new pet"), Some("createPet"));
        assert_eq!(top("all pets"), Some("listPets"));
        assert_eq!(top("inventory"), Some("getInventory"));
        assert_eq!(top("deploy"), Some("createDeployment"));
        assert_eq!(top("getinventory"), Some("getInventory"), "exact names win");
        assert!(index.search("zebra", 5).is_empty());
        assert_eq!(index.search("pet", 10), index.search("pet", 10));
        let limited = index.search("pet", 2);
        assert_eq!(limited.len(), 2);
    }

    #[test]
    fn summaries_are_one_short_line() {
        assert_eq!(
            one_line_summary("Lists pets. Pages of them.", 80),
            "Lists pets."
        );
        assert_eq!(one_line_summary("a\nb\n\nc", 80), "a b");
        assert_eq!(one_line_summary(&"x".repeat(100), 10).chars().count(), 10);
    }
}
