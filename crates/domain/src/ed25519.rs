//! Standard Webhooks asymmetric signatures (`v1a`): an Ed25519 key whose secret form is
//! `whsk_` + base64 of seed‖public key (64 bytes, as Svix writes it) and whose public form,
//! what receivers are given, is `whpk_` + base64 of the 32-byte public key. The entry is
//! `v1a,<base64 Ed25519 signature of "id.timestamp.body">`.

use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::Rng;
use std::cell::RefCell;

/// The prefix of a secret (private) key's text form.
pub const SECRET_PREFIX: &str = "whsk_";
/// The prefix of a public key's text form.
pub const PUBLIC_PREFIX: &str = "whpk_";
/// Bytes in an Ed25519 seed (the private key) and in a public key.
pub const KEY_BYTES: usize = 32;

/// An Ed25519 signing key. Its `Debug` form shows only the public key.
#[derive(Clone)]
pub struct Ed25519Key {
    seed: [u8; KEY_BYTES],
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for Ed25519Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ed25519Key({})", self.public_text())
    }
}

impl PartialEq for Ed25519Key {
    fn eq(&self, other: &Self) -> bool {
        self.seed == other.seed
    }
}

impl Eq for Ed25519Key {}

/// Why an Ed25519 key's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "must be `whsk_` followed by the standard (padded) base64 of a 32-byte Ed25519 seed, or of the seed followed by its 32-byte public key"
)]
pub struct BadEd25519Key;

impl Ed25519Key {
    /// A new random key.
    pub fn generate() -> Ed25519Key {
        let mut seed = [0u8; KEY_BYTES];
        rand::rng().fill_bytes(&mut seed);
        Ed25519Key::from_seed(&seed).expect("every 32-byte seed is an Ed25519 key")
    }

    /// The key of a 32-byte seed.
    pub fn from_seed(seed: &[u8]) -> Result<Ed25519Key, BadEd25519Key> {
        let seed: [u8; KEY_BYTES] = seed.try_into().map_err(|_| BadEd25519Key)?;
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| BadEd25519Key)?;
        Ok(Ed25519Key { seed, pair })
    }

    /// Parses `whsk_<base64>` of the seed‖public key (checked to match) or of the seed alone.
    pub fn parse(text: &str) -> Result<Ed25519Key, BadEd25519Key> {
        let encoded = text.strip_prefix(SECRET_PREFIX).ok_or(BadEd25519Key)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| BadEd25519Key)?;
        match bytes.len() {
            KEY_BYTES => Ed25519Key::from_seed(&bytes),
            n if n == 2 * KEY_BYTES => {
                let (seed, public) = bytes.split_at(KEY_BYTES);
                let key = Ed25519Key::from_seed(seed)?;
                if key.public_bytes() == public {
                    Ok(key)
                } else {
                    Err(BadEd25519Key)
                }
            }
            _ => Err(BadEd25519Key),
        }
    }

    /// The seed (to seal at rest).
    pub fn seed(&self) -> &[u8] {
        &self.seed
    }

    /// The 32-byte public key.
    pub fn public_bytes(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// `whpk_` + base64 of the public key: what a receiver verifies with.
    pub fn public_text(&self) -> String {
        format!("{PUBLIC_PREFIX}{}", STANDARD.encode(self.public_bytes()))
    }

    /// `whsk_` + base64 of seed‖public key.
    pub fn secret_text(&self) -> String {
        let mut bytes = self.seed.to_vec();
        bytes.extend_from_slice(self.public_bytes());
        format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
    }

    /// `v1a,<signature>` of one message. Ed25519 signs its message whole (it hashes it twice),
    /// so `id.timestamp.body` is put together in a buffer this thread keeps for the next
    /// signature, not in one allocated per message.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let signature = CONTENT.with_borrow_mut(|content| {
            signed_content(content, msg_id, timestamp, body);
            let signature = self.pair.sign(content);
            if content.capacity() > KEPT_CONTENT_BYTES {
                *content = Vec::new();
            }
            signature
        });
        format!("v1a,{}", STANDARD.encode(signature.as_ref()))
    }
}

thread_local! {
    /// The signed content of this thread's last `v1a` signature, its allocation reused.
    static CONTENT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The largest buffer a thread keeps between signatures: one grown past it by a large body is
/// released after its signature.
const KEPT_CONTENT_BYTES: usize = 1 << 20;

/// Writes `id.timestamp.body` into `content` (emptied first).
fn signed_content(content: &mut Vec<u8>, msg_id: &str, timestamp: i64, body: &[u8]) {
    content.clear();
    content.reserve(msg_id.len() + body.len() + 22);
    content.extend_from_slice(msg_id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(crate::signature::decimal(timestamp, &mut [0; 20]));
    content.push(b'.');
    content.extend_from_slice(body);
}

/// Whether any `v1a` entry of a `webhook-signature` value verifies with the public key
/// `whpk_...`: what a receiver does (used by tests and documentation examples).
pub fn verify(public_key: &str, header: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> bool {
    let Some(public) = public_key
        .strip_prefix(PUBLIC_PREFIX)
        .and_then(|b| STANDARD.decode(b).ok())
    else {
        return false;
    };
    let mut content = Vec::new();
    signed_content(&mut content, msg_id, timestamp, body);
    let key = UnparsedPublicKey::new(&ED25519, public);
    header
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1a,"))
        .filter_map(|sig| STANDARD.decode(sig).ok())
        .any(|sig| key.verify(&content, &sig).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_the_public_key_only() {
        let key = Ed25519Key::generate();
        let entry = key.sign("msg_1", 1_700_000_000, br#"{"a":1}"#);
        assert!(entry.starts_with("v1a,"));
        let public = key.public_text();
        assert!(verify(
            &public,
            &entry,
            "msg_1",
            1_700_000_000,
            br#"{"a":1}"#
        ));
        assert!(!verify(
            &public,
            &entry,
            "msg_1",
            1_700_000_001,
            br#"{"a":1}"#
        ));
        assert!(!verify(
            &Ed25519Key::generate().public_text(),
            &entry,
            "msg_1",
            1_700_000_000,
            br#"{"a":1}"#
        ));
    }

    #[test]
    fn signatures_one_after_another_on_a_thread_sign_each_message_whole() {
        let key = Ed25519Key::generate();
        let large = vec![b'x'; KEPT_CONTENT_BYTES + 1];
        let small = br#"{"a":1}"#;
        // Ed25519 is deterministic: the same key over the same bytes gives the same signature.
        let expected = |id: &str, ts: i64, body: &[u8]| {
            let mut whole = format!("{id}.{ts}.").into_bytes();
            whole.extend_from_slice(body);
            format!("v1a,{}", STANDARD.encode(key.pair.sign(&whole).as_ref()))
        };
        assert_eq!(
            key.sign("msg_big", 1, &large),
            expected("msg_big", 1, &large)
        );
        // The large body's buffer is not kept for the next signature.
        CONTENT.with_borrow(|content| assert!(content.capacity() <= KEPT_CONTENT_BYTES));
        assert_eq!(key.sign("m", -7, small), expected("m", -7, small));
        assert_eq!(
            key.sign("msg_2", 1_700_000_000, b""),
            expected("msg_2", 1_700_000_000, b"")
        );
        assert!(verify(
            &key.public_text(),
            &key.sign("m", -7, small),
            "m",
            -7,
            small
        ));
    }

    #[test]
    fn the_secret_text_round_trips_and_a_bare_seed_is_accepted() {
        let key = Ed25519Key::generate();
        let text = key.secret_text();
        assert!(text.starts_with("whsk_"));
        assert_eq!(Ed25519Key::parse(&text), Ok(key.clone()));
        let seed_only = format!("whsk_{}", STANDARD.encode(key.seed()));
        assert_eq!(Ed25519Key::parse(&seed_only), Ok(key));
    }

    #[test]
    fn mismatched_or_malformed_secret_keys_are_refused() {
        let (a, b) = (Ed25519Key::generate(), Ed25519Key::generate());
        let mut mixed = a.seed().to_vec();
        mixed.extend_from_slice(b.public_bytes());
        for text in [
            format!("whsk_{}", STANDARD.encode(mixed)),
            format!("whsk_{}", STANDARD.encode([1u8; 31])),
            format!("whsec_{}", STANDARD.encode([1u8; 32])),
            "whsk_-_-_".to_owned(),
        ] {
            assert_eq!(Ed25519Key::parse(&text), Err(BadEd25519Key), "{text}");
        }
        assert!(!format!("{a:?}").contains(&a.secret_text()));
    }
}
