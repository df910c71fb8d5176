//! Secrets Ricochet needs to start: taken from configuration, or generated once into the data
//! directory (mode 0600) so a new user needs no setup.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};

/// Where a secret came from.
#[derive(Debug)]
pub enum Origin {
    /// Flag or environment variable.
    Configured,
    /// A file in the data directory (maybe generated just now).
    File(PathBuf),
}

/// `configured`, else the content of `<data_dir>/<file>`, generating it when missing.
pub fn load_or_generate(
    configured: Option<&SecretString>,
    data_dir: &Path,
    file: &str,
    min_len: usize,
    what: &str,
) -> anyhow::Result<(SecretString, Origin)> {
    if let Some(secret) = configured {
        if secret.expose_secret().len() < min_len {
            bail!("the configured {what} is too short: use at least {min_len} characters");
        }
        return Ok((secret.clone(), Origin::Configured));
    }
    let path = data_dir.join(file);
    if !path.exists() {
        fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        // create_new: two processes starting at once must not overwrite each other's key.
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(mut f) => f
                .write_all(secret.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
        }
    }
    let secret =
        fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let secret = secret.trim().to_owned();
    if secret.len() < min_len {
        bail!(
            "{} holds a {what} shorter than {min_len} characters; delete it to generate a new one",
            path.display()
        );
    }
    Ok((SecretString::from(secret), Origin::File(path)))
}
