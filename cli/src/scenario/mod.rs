//! QA scenarios: files that set up a catalog, users, tiers and coupon
//! templates, then walk steps against the in-memory store, each with
//! expectations. The format is in docs/scenarios.md.

pub mod model;
pub mod run;

use std::path::{Path, PathBuf};

/// Every scenario file named by `paths`: files as given, directories
/// searched (not recursively) for `*.toml`, sorted by name.
///
/// # Errors
/// A message naming a path that does not exist or cannot be read.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(format!("{}: no such file or directory", path.display()));
        }
    }
    Ok(files)
}

/// Reads and parses one scenario file.
///
/// # Errors
/// The file's path with the read or parse error (which names the field).
pub fn load(path: &Path) -> Result<model::ScenarioFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}
