//! Which documents to run: from a manifest, a folder, or one file; optionally a seeded sample.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Extensions of the files a folder walk picks up.
const EXTENSIONS: &[&str] = &["json", "yaml", "yml"];

/// Reads a manifest: a tab-separated file whose first column is a document path, relative to
/// the manifest's folder unless absolute. A first line whose first column is `path` is a
/// header; blank lines and lines starting with `#` are skipped.
pub fn from_manifest(manifest: &Path) -> io::Result<Vec<PathBuf>> {
    let text = fs::read_to_string(manifest)?;
    let base = manifest.parent().unwrap_or(Path::new(""));
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let first = line.split('\t').next().unwrap_or("").trim();
        if first.is_empty() || first.starts_with('#') || (i == 0 && first == "path") {
            continue;
        }
        out.push(base.join(first));
    }
    Ok(out)
}

/// The documents under `root` (`.json`, `.yaml`, `.yml`, at any depth, hidden entries
/// skipped), sorted; or `root` itself when it is a file.
pub fn from_path(root: &Path) -> io::Result<Vec<PathBuf>> {
    if fs::metadata(root)?.is_file() {
        return Ok(vec![root.to_owned()]);
    }
    let mut out = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if entry.file_type()?.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A pseudo-random generator (SplitMix64): the same seed always gives the same sample.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `count` documents chosen with `seed`, in their original order.
pub fn sample(docs: Vec<PathBuf>, count: usize, seed: u64) -> Vec<PathBuf> {
    if count >= docs.len() {
        return docs;
    }
    let mut indices: Vec<usize> = (0..docs.len()).collect();
    let mut rng = SplitMix64(seed);
    for i in 0..count {
        let j = i + rng.below(indices.len() - i);
        indices.swap(i, j);
    }
    let mut chosen = indices[..count].to_vec();
    chosen.sort_unstable();
    let mut docs: Vec<Option<PathBuf>> = docs.into_iter().map(Some).collect();
    chosen.into_iter().filter_map(|i| docs[i].take()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_deterministic_and_ordered() {
        let docs: Vec<PathBuf> = (0..100).map(|i| PathBuf::from(format!("{i:03}"))).collect();
        let a = sample(docs.clone(), 10, 7);
        assert_eq!(a, sample(docs.clone(), 10, 7));
        assert_ne!(a, sample(docs.clone(), 10, 8));
        assert_eq!(a.len(), 10);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(sample(docs.clone(), 200, 1), docs);
    }

    #[test]
    fn manifests() {
        let dir = std::env::temp_dir().join(format!("mcpgen-corpus-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let manifest = dir.join("MANIFEST.tsv");
        fs::write(
            &manifest,
            "path\tversion\na/b.json\t3.0\n\n# note\n/abs/c.yaml\n",
        )
        .unwrap();
        let docs = from_manifest(&manifest).unwrap();
        assert_eq!(docs, [dir.join("a/b.json"), PathBuf::from("/abs/c.yaml")]);
        assert_eq!(
            from_path(&manifest).unwrap(),
            std::slice::from_ref(&manifest)
        );
        fs::write(dir.join("x.yaml"), "").unwrap();
        assert_eq!(from_path(&dir).unwrap(), [dir.join("x.yaml")]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
