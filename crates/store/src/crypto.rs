//! The master keyring that seals secret values: ChaCha20-Poly1305 with a fresh random nonce per
//! value. The first key seals; every key opens, so keys can rotate while values are re-sealed.
//! A key's id is a key check value (the first bytes of a known block sealed under it), so it
//! names the key without revealing it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::Rng;

/// Why a keyring could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// A configured key is not 32 bytes of base64.
    #[error(
        "a master key must be 32 random bytes in base64 (generate one with `openssl rand -base64 32`)"
    )]
    BadKey,
    /// The keyring is empty.
    #[error("no master key is configured")]
    NoKey,
    /// A value was sealed under a key the keyring does not hold.
    #[error("no master key with id {0} is configured (was a key removed too early?)")]
    UnknownKey(String),
    /// A value failed authentication (tampered, or sealed for another row).
    #[error("a secret value failed authentication")]
    Corrupt,
    /// The keyring file could not be read or written.
    #[error("keyring file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
}

/// A sealed value.
#[derive(Debug, Clone)]
pub struct Sealed {
    /// Id of the key that sealed it.
    pub key_id: String,
    /// The nonce (12 bytes).
    pub nonce: Vec<u8>,
    /// Ciphertext with its tag.
    pub ciphertext: Vec<u8>,
}

struct MasterKey {
    id: String,
    cipher: ChaCha20Poly1305,
}

/// Master keys, the first one current.
pub struct Keyring {
    keys: Vec<MasterKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("key_ids", &self.key_ids())
            .finish()
    }
}

impl Keyring {
    /// Parses base64 keys separated by commas, whitespace or newlines; the first seals.
    pub fn parse(text: &str) -> Result<Keyring, CryptoError> {
        let keys = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|k| !k.is_empty())
            .map(|encoded| {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded))
                    .map_err(|_| CryptoError::BadKey)?;
                if bytes.len() != 32 {
                    return Err(CryptoError::BadKey);
                }
                let cipher = ChaCha20Poly1305::new(Key::from_slice(&bytes));
                let check = cipher
                    .encrypt(Nonce::from_slice(&[0u8; 12]), [0u8; 16].as_slice())
                    .map_err(|_| CryptoError::BadKey)?;
                let id = check[..8].iter().map(|b| format!("{b:02x}")).collect();
                Ok(MasterKey { id, cipher })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            Err(CryptoError::NoKey)
        } else {
            Ok(Keyring { keys })
        }
    }

    /// A new random key, base64.
    pub fn generate_key() -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Id of the sealing key.
    pub fn current_id(&self) -> &str {
        self.keys.first().map_or("", |k| k.id.as_str())
    }

    /// Ids of every key, sealing key first.
    pub fn key_ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    /// Seals `plaintext`, binding `aad` to it.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Sealed, CryptoError> {
        let key = self.keys.first().ok_or(CryptoError::NoKey)?;
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = key
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Corrupt)?;
        Ok(Sealed {
            key_id: key.id.clone(),
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    /// Opens a sealed value.
    pub fn open(&self, aad: &[u8], sealed: &Sealed) -> Result<Vec<u8>, CryptoError> {
        let key = self
            .keys
            .iter()
            .find(|k| k.id == sealed.key_id)
            .ok_or_else(|| CryptoError::UnknownKey(sealed.key_id.clone()))?;
        if sealed.nonce.len() != 12 {
            return Err(CryptoError::Corrupt);
        }
        key.cipher
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Corrupt)
    }
}

/// The keyring a process uses. A file-backed one follows its file: it is reread when a value
/// names a key it has not seen, and before sealing when the file changed (another process ran
/// `ricochet secrets rekey`, which puts a new key first): a running server never seals with a
/// key the rekey has retired.
#[derive(Debug)]
pub struct SharedKeyring {
    current: RwLock<Loaded>,
    file: Option<PathBuf>,
}

/// The keyring as last read, with the identity of the file it was read from.
#[derive(Debug)]
struct Loaded {
    keyring: Arc<Keyring>,
    stamp: Option<Stamp>,
}

/// What tells a keyring file's versions apart: a rewrite renames a new file over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    device: u64,
    inode: u64,
    modified_ns: i128,
    len: u64,
}

impl Stamp {
    fn of(path: &Path) -> std::io::Result<Stamp> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path)?;
        Ok(Stamp {
            device: m.dev(),
            inode: m.ino(),
            modified_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            len: m.len(),
        })
    }
}

impl SharedKeyring {
    /// A fixed keyring (from configuration).
    pub fn fixed(keyring: Keyring) -> SharedKeyring {
        SharedKeyring {
            current: RwLock::new(Loaded {
                keyring: Arc::new(keyring),
                stamp: None,
            }),
            file: None,
        }
    }

    /// The keyring in `path`, generating the file with one new key when it does not exist.
    pub fn from_file(path: &Path) -> Result<SharedKeyring, CryptoError> {
        let loaded = read_or_create(path)?;
        Ok(SharedKeyring {
            current: RwLock::new(loaded),
            file: Some(path.to_owned()),
        })
    }

    /// The keyring as now known.
    pub fn get(&self) -> Arc<Keyring> {
        self.current.read().map_or_else(
            |poisoned| poisoned.into_inner().keyring.clone(),
            |k| k.keyring.clone(),
        )
    }

    fn stamp(&self) -> Option<Stamp> {
        self.current
            .read()
            .map_or_else(|poisoned| poisoned.into_inner().stamp, |k| k.stamp)
    }

    fn set(&self, loaded: Loaded) {
        match self.current.write() {
            Ok(mut current) => *current = loaded,
            Err(poisoned) => *poisoned.into_inner() = loaded,
        }
    }

    /// Opens `sealed`, reloading the file once if its key is unknown.
    pub fn open(&self, aad: &[u8], sealed: &Sealed) -> Result<Vec<u8>, CryptoError> {
        match self.get().open(aad, sealed) {
            Err(CryptoError::UnknownKey(_)) if self.file.is_some() => {
                self.reload()?;
                self.get().open(aad, sealed)
            }
            other => other,
        }
    }

    /// Seals with the current key: the first of the keyring file as it is now (reread if it
    /// changed since it was read; a file gone meanwhile leaves the keys known).
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Sealed, CryptoError> {
        if let Some(path) = &self.file {
            match Stamp::of(path) {
                Ok(now) if Some(now) != self.stamp() => self.reload()?,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(CryptoError::File {
                        path: path.clone(),
                        source,
                    });
                }
            }
        }
        self.get().seal(aad, plaintext)
    }

    /// Rereads the keyring file (no-op for a fixed keyring). A file removed under the running
    /// process leaves it the keys it knows: none is made up in its place.
    pub fn reload(&self) -> Result<(), CryptoError> {
        let Some(path) = &self.file else {
            return Ok(());
        };
        match read(path) {
            Ok(loaded) => self.set(loaded),
            Err(CryptoError::File { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Puts a new key first in the keyring file, keeping the old ones (they still open values
    /// sealed before). Errors for a fixed keyring: its keys come from configuration.
    pub fn rotate_file(&self) -> Result<(), CryptoError> {
        let Some(path) = &self.file else {
            return Err(CryptoError::NoKey);
        };
        let existing = std::fs::read_to_string(path).map_err(|source| CryptoError::File {
            path: path.clone(),
            source,
        })?;
        write_private(
            path,
            &format!("{}\n{}", Keyring::generate_key(), existing.trim()),
        )?;
        self.reload()
    }
}

/// The keyring in `path`, generating the file with one new key when it does not exist.
fn read_or_create(path: &Path) -> Result<Loaded, CryptoError> {
    match read(path) {
        Err(CryptoError::File { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            write_private(path, &Keyring::generate_key())?;
            read(path)
        }
        other => other,
    }
}

/// The keyring in `path` with the file's stamp, taken before reading: a rewrite racing the read
/// changes the stamp, so the next seal reads again.
fn read(path: &Path) -> Result<Loaded, CryptoError> {
    let err = |source| CryptoError::File {
        path: path.to_owned(),
        source,
    };
    let stamp = Stamp::of(path).map_err(err)?;
    let keyring = Keyring::parse(&std::fs::read_to_string(path).map_err(err)?)?;
    Ok(Loaded {
        keyring: Arc::new(keyring),
        stamp: Some(stamp),
    })
}

/// Writes `text` to `path` with mode 0600, atomically (a temporary file renamed over it).
fn write_private(path: &Path, text: &str) -> Result<(), CryptoError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let err = |source| CryptoError::File {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(err)?;
    file.write_all(format!("{text}\n").as_bytes())
        .map_err(err)?;
    file.sync_all().map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_opens_only_with_its_associated_data() {
        let keyring = Keyring::parse(&Keyring::generate_key()).expect("a key");
        let sealed = keyring.seal(b"tenant/name", b"s3cr3t").expect("sealed");
        assert_eq!(
            keyring.open(b"tenant/name", &sealed).expect("opens"),
            b"s3cr3t"
        );
        assert!(matches!(
            keyring.open(b"tenant/other", &sealed),
            Err(CryptoError::Corrupt)
        ));
        assert!(!sealed.ciphertext.windows(6).any(|w| w == b"s3cr3t"));
    }

    #[test]
    fn an_old_key_still_opens_after_a_new_one_is_put_first() {
        let (old, new) = (Keyring::generate_key(), Keyring::generate_key());
        let sealed = Keyring::parse(&old)
            .expect("key")
            .seal(b"a", b"v")
            .expect("sealed");
        let both = Keyring::parse(&format!("{new},{old}")).expect("keys");
        assert_eq!(both.open(b"a", &sealed).expect("opens"), b"v");
        assert_ne!(both.current_id(), sealed.key_id);
        assert!(matches!(
            Keyring::parse(&new).expect("key").open(b"a", &sealed),
            Err(CryptoError::UnknownKey(_))
        ));
    }

    #[test]
    fn a_file_keyring_seals_with_the_key_another_process_put_first() {
        let dir = std::env::temp_dir().join(format!(
            "ricochet-keyring-{}-{}",
            std::process::id(),
            rand::rng().next_u64()
        ));
        let path = dir.join("master.keys");
        let server = SharedKeyring::from_file(&path).expect("a new keyring file");
        let old = server.get().current_id().to_owned();
        assert_eq!(server.seal(b"a", b"v").expect("sealed").key_id, old);

        // `ricochet secrets rekey`, in another process, puts a new key first.
        let rekey = SharedKeyring::from_file(&path).expect("the same file");
        rekey.rotate_file().expect("rotated");
        let new = rekey.get().current_id().to_owned();
        assert_ne!(new, old);

        let sealed = server.seal(b"a", b"v").expect("sealed");
        assert_eq!(
            sealed.key_id, new,
            "the server seals with the new first key"
        );
        assert_eq!(rekey.open(b"a", &sealed).expect("opens"), b"v");
        // A keyring file removed under a running server leaves it the keys it knows.
        std::fs::remove_dir_all(&dir).expect("removed");
        assert_eq!(server.seal(b"a", b"v").expect("sealed").key_id, new);
        let foreign = Keyring::parse(&Keyring::generate_key())
            .expect("a key")
            .seal(b"a", b"v")
            .expect("sealed");
        assert!(matches!(
            server.open(b"a", &foreign),
            Err(CryptoError::UnknownKey(_))
        ));
        assert_eq!(server.open(b"a", &sealed).expect("opens"), b"v");
        assert!(
            !path.exists(),
            "neither sealing nor opening makes a keyring file"
        );
    }

    #[test]
    fn a_bad_key_is_refused() {
        assert!(matches!(
            Keyring::parse("c2hvcnQ="),
            Err(CryptoError::BadKey)
        ));
        assert!(matches!(Keyring::parse(" "), Err(CryptoError::NoKey)));
    }
}
