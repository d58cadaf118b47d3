//! The era cache: switch blocks the finality walk accepted, one file per network and era
//! (`DIR/<network>/era-<N>.json`, the node's `chain_get_block` answer as it came). An entry is
//! only a shortcut for the search: it is checked again like any answer before it is used, and one
//! that does not pass is ignored. Files are written whole (a temporary file renamed into place).

use std::path::{Path, PathBuf};

use serde_json::Value;

pub(super) struct EraCache {
    dir: PathBuf,
}

impl EraCache {
    pub(super) fn new(root: &Path, chain_name: &str) -> Self {
        // The network's name as a directory name: its safe characters and a digest of it all, so
        // that two names never share a directory.
        let safe: String = chain_name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .take(64)
            .collect();
        let digest = &crate::sha256_hex(chain_name.as_bytes())[..12];
        Self {
            dir: root.join(format!("{safe}-{digest}")),
        }
    }

    fn file(&self, era: u64) -> PathBuf {
        self.dir.join(format!("era-{era}.json"))
    }

    pub(super) fn get(&self, era: u64) -> Option<Value> {
        let text = std::fs::read_to_string(self.file(era)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Best effort: a cache that cannot be written costs a search next time, nothing else.
    pub(super) fn put(&self, era: u64, answer: &Value) {
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(&self.dir)?;
            let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
            std::io::Write::write_all(&mut tmp, answer.to_string().as_bytes())?;
            tmp.persist(self.file(era)).map_err(|e| e.error)?;
            Ok(())
        };
        if let Err(e) = write() {
            tracing::warn!(era, dir = %self.dir.display(), "the era cache was not written: {e}");
        }
    }
}
