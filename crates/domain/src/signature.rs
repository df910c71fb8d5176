//! Standard Webhooks signatures (standardwebhooks.com): `whsec_` signing keys and the
//! `webhook-signature` value, `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one entry per
//! key that still signs (the current one, and those in their grace period after a rotation).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use rand::Rng;
use sha2::Sha256;

/// The prefix of a signing key's text form.
pub const KEY_PREFIX: &str = "whsec_";
/// Fewest random bytes in a signing key (the specification's lower bound).
pub const MIN_KEY_BYTES: usize = 24;
/// Most random bytes in a signing key (the specification's upper bound).
pub const MAX_KEY_BYTES: usize = 64;
/// Bytes in a key Ricochet makes.
pub const GENERATED_KEY_BYTES: usize = 32;

/// A signing key: 24 to 64 bytes. Its `Debug` form hides the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(Vec<u8>);

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
        SigningKey(bytes)
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
            Ok(SigningKey(bytes))
        } else {
            Err(BadSigningKey)
        }
    }

    /// The raw bytes (to seal at rest).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text form a receiver configures: `whsec_` + standard padded base64.
    pub fn to_text(&self) -> String {
        format!("{KEY_PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// `v1,<signature>` of one message.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC accepts keys of any length");
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` value: one `v1` entry per key, space-separated, in the given order.
pub fn signature_header(keys: &[SigningKey], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|key| key.sign(msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let header = signature_header(&[a.clone(), b.clone()], "m", 1, b"{}");
        assert_eq!(
            header,
            format!("{} {}", a.sign("m", 1, b"{}"), b.sign("m", 1, b"{}"))
        );
    }
}
