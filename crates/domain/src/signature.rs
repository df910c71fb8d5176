//! Standard Webhooks signatures (standardwebhooks.com): `whsec_` signing keys and the
//! `webhook-signature` value, `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one entry per
//! key that still signs (the current one, and those in their grace period after a rotation).
//! An integration may sign with Ed25519 (`v1a`, see [`crate::ed25519`]) instead or as well.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::ed25519::Ed25519Key;

/// The prefix of a signing key's text form.
pub const KEY_PREFIX: &str = "whsec_";
/// Fewest random bytes in a signing key (the specification's lower bound).
pub const MIN_KEY_BYTES: usize = 24;
/// Most random bytes in a signing key (the specification's upper bound).
pub const MAX_KEY_BYTES: usize = 64;
/// Bytes in a key Ricochet makes.
pub const GENERATED_KEY_BYTES: usize = 32;

/// A signing key: 24 to 64 bytes. Its `Debug` form hides the bytes.
#[derive(Clone)]
pub struct SigningKey {
    bytes: Vec<u8>,
    /// HMAC keyed with `bytes`, its key schedule done once: each signature starts from a copy.
    mac: Hmac<Sha256>,
}

impl PartialEq for SigningKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for SigningKey {}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

/// Why a key's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "must be `whsec_` followed by the standard (padded) base64 of {MIN_KEY_BYTES} to {MAX_KEY_BYTES} random bytes"
)]
pub struct BadSigningKey;

impl SigningKey {
    /// A new key of [`GENERATED_KEY_BYTES`] random bytes.
    pub fn generate() -> SigningKey {
        let mut bytes = vec![0u8; GENERATED_KEY_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        SigningKey::keyed(bytes)
    }

    /// Parses `whsec_<base64>` (the prefix is required, as receivers are given it).
    pub fn parse(text: &str) -> Result<SigningKey, BadSigningKey> {
        let encoded = text.strip_prefix(KEY_PREFIX).ok_or(BadSigningKey)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| BadSigningKey)?;
        SigningKey::from_bytes(bytes)
    }

    /// A key from its raw bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<SigningKey, BadSigningKey> {
        if (MIN_KEY_BYTES..=MAX_KEY_BYTES).contains(&bytes.len()) {
            Ok(SigningKey::keyed(bytes))
        } else {
            Err(BadSigningKey)
        }
    }

    fn keyed(bytes: Vec<u8>) -> SigningKey {
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&bytes)
            .expect("HMAC accepts keys of any length");
        SigningKey { bytes, mac }
    }

    /// The raw bytes (to seal at rest).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The text form a receiver configures: `whsec_` + standard padded base64.
    pub fn to_text(&self) -> String {
        format!("{KEY_PREFIX}{}", STANDARD.encode(&self.bytes))
    }

    /// `v1,<signature>` of one message.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(decimal(timestamp, &mut [0; 20]));
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// `timestamp` in decimal, written into `buffer` (20 bytes hold every `i64`), as the signed
/// content spells it.
pub(crate) fn decimal(timestamp: i64, buffer: &mut [u8; 20]) -> &[u8] {
    use std::io::Write as _;
    let mut rest = &mut buffer[..];
    // 20 bytes hold "-9223372036854775808": the write cannot run out of room.
    let _ = write!(rest, "{timestamp}");
    let written = 20 - rest.len();
    &buffer[..written]
}

/// Which Standard Webhooks signatures an integration's deliveries carry.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
pub enum SignatureScheme {
    /// `v1`: HMAC-SHA256 with a shared `whsec_` secret (the default: every Standard Webhooks
    /// library verifies it).
    #[default]
    #[serde(rename = "v1")]
    V1,
    /// `v1a`: Ed25519; receivers verify with the public `whpk_` key and hold no secret.
    #[serde(rename = "v1a")]
    V1a,
    /// Both entries on every request, so receivers can move from one to the other.
    #[serde(rename = "both")]
    Both,
}

impl SignatureScheme {
    /// The kinds of key that sign under this scheme.
    pub fn kinds(self) -> &'static [KeyKind] {
        match self {
            SignatureScheme::V1 => &[KeyKind::V1],
            SignatureScheme::V1a => &[KeyKind::V1a],
            SignatureScheme::Both => &[KeyKind::V1, KeyKind::V1a],
        }
    }
}

/// `settings.signature`: how deliveries are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignatureSettings {
    /// `v1` (HMAC, the default), `v1a` (Ed25519) or `both`.
    #[serde(default)]
    pub scheme: SignatureScheme,
}

/// The kind of a signing key, as stored (`v1` or `v1a`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// An HMAC `whsec_` key.
    V1,
    /// An Ed25519 `whsk_` key.
    V1a,
}

impl KeyKind {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::V1 => "v1",
            KeyKind::V1a => "v1a",
        }
    }

    /// The kind named `text`.
    pub fn parse(text: &str) -> Option<KeyKind> {
        match text {
            "v1" => Some(KeyKind::V1),
            "v1a" => Some(KeyKind::V1a),
            _ => None,
        }
    }
}

/// A key that signs: HMAC (`v1`) or Ed25519 (`v1a`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// `v1`.
    V1(SigningKey),
    /// `v1a`.
    V1a(Ed25519Key),
}

impl Signer {
    /// Which kind of key it is.
    pub fn kind(&self) -> KeyKind {
        match self {
            Signer::V1(_) => KeyKind::V1,
            Signer::V1a(_) => KeyKind::V1a,
        }
    }

    /// A new random key of `kind`.
    pub fn generate(kind: KeyKind) -> Signer {
        match kind {
            KeyKind::V1 => Signer::V1(SigningKey::generate()),
            KeyKind::V1a => Signer::V1a(Ed25519Key::generate()),
        }
    }

    /// The bytes sealed at rest: the HMAC key, or the Ed25519 seed.
    pub fn secret_bytes(&self) -> &[u8] {
        match self {
            Signer::V1(key) => key.as_bytes(),
            Signer::V1a(key) => key.seed(),
        }
    }

    /// The key of `kind` from its sealed bytes.
    pub fn from_bytes(kind: KeyKind, bytes: Vec<u8>) -> Option<Signer> {
        match kind {
            KeyKind::V1 => SigningKey::from_bytes(bytes).ok().map(Signer::V1),
            KeyKind::V1a => Ed25519Key::from_seed(&bytes).ok().map(Signer::V1a),
        }
    }

    /// One `webhook-signature` entry for a message.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        match self {
            Signer::V1(key) => key.sign(msg_id, timestamp, body),
            Signer::V1a(key) => key.sign(msg_id, timestamp, body),
        }
    }
}

/// The `webhook-signature` value: one entry per key, space-separated, in the given order.
pub fn signature_header(keys: &[Signer], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|key| key.sign(msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_in_decimal_whatever_their_size() {
        for n in [0, 7, -1, 1_796_656_072, i64::MAX, i64::MIN] {
            assert_eq!(decimal(n, &mut [0; 20]), n.to_string().as_bytes());
        }
    }

    #[test]
    fn signs_like_the_standardwebhooks_reference_library() {
        // Produced by PyPI standardwebhooks 1.1.0: Webhook(key).sign(id, timestamp, body).
        let key = SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("a key");
        assert_eq!(
            key.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_generated_key_round_trips_through_its_padded_standard_text() {
        let key = SigningKey::generate();
        let text = key.to_text();
        assert!(text.starts_with("whsec_") && text.ends_with('='));
        assert_eq!(SigningKey::parse(&text), Ok(key));
    }

    #[test]
    fn keys_of_the_wrong_size_or_alphabet_are_refused() {
        let short = format!("whsec_{}", STANDARD.encode([1u8; 23]));
        let long = format!("whsec_{}", STANDARD.encode([1u8; 65]));
        assert_eq!(SigningKey::parse(&short), Err(BadSigningKey));
        assert_eq!(SigningKey::parse(&long), Err(BadSigningKey));
        assert_eq!(
            SigningKey::parse(&STANDARD.encode([1u8; 32])),
            Err(BadSigningKey)
        );
        assert_eq!(SigningKey::parse("whsec_-_-_"), Err(BadSigningKey));
        assert!(!format!("{:?}", SigningKey::generate()).contains("whsec"));
    }

    #[test]
    fn every_key_signs_one_entry_separated_by_spaces() {
        let (a, b) = (SigningKey::generate(), SigningKey::generate());
        let header = signature_header(
            &[Signer::V1(a.clone()), Signer::V1(b.clone())],
            "m",
            1,
            b"{}",
        );
        assert_eq!(
            header,
            format!("{} {}", a.sign("m", 1, b"{}"), b.sign("m", 1, b"{}"))
        );
    }

    #[test]
    fn v1_and_v1a_keys_sign_side_by_side_and_round_trip_through_their_sealed_bytes() {
        let (v1, v1a) = (
            Signer::generate(KeyKind::V1),
            Signer::generate(KeyKind::V1a),
        );
        let header = signature_header(&[v1.clone(), v1a.clone()], "m", 1, b"{}");
        let entries: Vec<&str> = header.split(' ').collect();
        assert!(entries[0].starts_with("v1,") && entries[1].starts_with("v1a,"));
        for key in [v1, v1a] {
            let back = Signer::from_bytes(key.kind(), key.secret_bytes().to_vec());
            assert_eq!(back, Some(key));
        }
        assert_eq!(
            SignatureScheme::Both.kinds(),
            &[KeyKind::V1, KeyKind::V1a][..]
        );
    }
}
