//! The recent-studies list: up to ten paths in the user's config directory
//! ($XDG_CONFIG_HOME/systole/recent.json, else ~/.config/systole/recent.json), written
//! atomically. A missing or unreadable list is an empty one.

use std::path::{Path, PathBuf};

const MAX: usize = 10;

#[derive(Debug, Clone, Default)]
pub struct Recent {
    pub paths: Vec<PathBuf>,
    file: Option<PathBuf>,
}

fn default_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("systole").join("recent.json"))
}

impl Recent {
    pub fn load() -> Recent {
        Self::load_from(default_file())
    }

    pub fn load_from(file: Option<PathBuf>) -> Recent {
        let paths = file
            .as_ref()
            .and_then(|f| std::fs::read_to_string(f).ok())
            .and_then(|s| serde_json::from_str::<Vec<PathBuf>>(&s).ok())
            .unwrap_or_default();
        Recent { paths, file }
    }

    /// Puts `path` first (once) and saves; a failure to save only loses the list.
    pub fn add(&mut self, path: &Path) {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.paths.retain(|p| p != &path);
        self.paths.insert(0, path);
        self.paths.truncate(MAX);
        if let Some(f) = &self.file
            && let Ok(json) = serde_json::to_string_pretty(&self.paths)
        {
            if let Some(dir) = f.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = crate::io::write_atomic(f, json.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_recent_first_without_duplicates_and_persisted() {
        let dir = std::env::temp_dir().join(format!("systole-recent-{}", std::process::id()));
        let file = dir.join("recent.json");
        let mut r = Recent::load_from(Some(file.clone()));
        assert!(r.paths.is_empty());
        for i in 0..12 {
            r.add(Path::new(&format!("/study/{i}")));
        }
        r.add(Path::new("/study/5"));
        let again = Recent::load_from(Some(file));
        assert_eq!(again.paths.len(), MAX);
        assert_eq!(again.paths[0], PathBuf::from("/study/5"));
        assert_eq!(
            again
                .paths
                .iter()
                .filter(|p| p.as_path() == Path::new("/study/5"))
                .count(),
            1
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
