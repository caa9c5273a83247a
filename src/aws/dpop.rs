//! DPoP proofs (RFC 9449) for Sign-In's token endpoint: an ES256 JWT whose
//! header carries the public half of the `aws login` session's P-256 key.
//!
//! The key comes from the login cache's `dpopKey`: PEM, either SEC1
//! (`EC PRIVATE KEY`, what the AWS CLI writes) or PKCS#8 (`PRIVATE KEY`).
//! Signing is ring's (already built for rustls): it needs the public point,
//! which both writers store next to the scalar; a key without it, or on
//! another curve, is refused with a message that says so.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use zeroize::Zeroize;

/// id-ecPublicKey (1.2.840.10045.2.1).
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// prime256v1 / P-256 (1.2.840.10045.3.1.7).
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// Curves a key might be on instead, for the message.
const OTHER_CURVES: &[(&[u8], &str)] = &[
    (&[0x2b, 0x81, 0x04, 0x00, 0x22], "P-384"),
    (&[0x2b, 0x81, 0x04, 0x00, 0x23], "P-521"),
    (&[0x2b, 0x81, 0x04, 0x00, 0x0a], "secp256k1"),
];

/// Why a `dpopKey` cannot be used. Never holds key material.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("the dpopKey is not a PEM private key")]
    NotPem,
    #[error("the dpopKey is a {0} key, not an EC private key")]
    NotEc(String),
    #[error("the dpopKey is a {0} key, not P-256")]
    WrongCurve(String),
    #[error("the dpopKey is not a well-formed EC private key ({0})")]
    Malformed(&'static str),
    #[error("the dpopKey holds no public key")]
    NoPublicKey,
    #[error("the dpopKey's public key does not match its private key")]
    Mismatch,
}

/// The session's signing key and its public point.
pub struct DpopKey {
    pair: EcdsaKeyPair,
    x: [u8; 32],
    y: [u8; 32],
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKey").field("jwk", &self.jwk()).finish()
    }
}

impl DpopKey {
    /// Reads a PEM `EC PRIVATE KEY` (SEC1) or `PRIVATE KEY` (PKCS#8).
    pub fn from_pem(pem: &str) -> Result<DpopKey, KeyError> {
        let (label, mut der) = pem_body(pem)?;
        let parsed = match label.as_str() {
            "EC PRIVATE KEY" => sec1(&der, None),
            "PRIVATE KEY" => pkcs8(&der),
            other => Err(KeyError::NotEc(other.to_string())),
        };
        der.zeroize();
        let (mut scalar, point) = parsed?;
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_private_key_and_public_key(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &scalar,
            &point,
            &rng,
        )
        .map_err(|_| KeyError::Mismatch);
        scalar.zeroize();
        let mut x = [0u8; 32];
        let mut y = [0u8; 32];
        x.copy_from_slice(&point[1..33]);
        y.copy_from_slice(&point[33..65]);
        Ok(DpopKey { pair: pair?, x, y })
    }

    /// The public key as a JWK (RFC 7517): `kty`, `crv`, `x`, `y`.
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(self.x),
            "y": URL_SAFE_NO_PAD.encode(self.y),
        })
    }

    /// A DPoP proof for one request: `htm` `htu`, issued at `iat` (Unix
    /// seconds), with a new random `jti`.
    pub fn proof(&self, htm: &str, htu: &str, iat: u64) -> Result<String, String> {
        let header = serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk()});
        let payload = serde_json::json!({"htm": htm, "htu": htu, "iat": iat, "jti": uuid_v4()?});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let signature = self
            .pair
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|_| "cannot sign the DPoP proof".to_string())?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }
}

/// A random (version 4) UUID, as Sign-In's own clients make the `jti`.
fn uuid_v4() -> Result<String, String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| format!("no random bytes for the DPoP proof: {e}"))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = crate::env_vars::hex(&b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

/// The label (`EC PRIVATE KEY`) and decoded body of the first PEM block.
fn pem_body(pem: &str) -> Result<(String, Vec<u8>), KeyError> {
    let mut lines = pem.lines().map(str::trim).skip_while(|l| l.is_empty());
    let label = lines
        .next()
        .and_then(|l| l.strip_prefix("-----BEGIN "))
        .and_then(|l| l.strip_suffix("-----"))
        .ok_or(KeyError::NotPem)?
        .to_string();
    let end = format!("-----END {label}-----");
    let mut body = String::new();
    for line in lines.by_ref() {
        if line == end {
            let der = STANDARD.decode(&body).map_err(|_| KeyError::NotPem);
            body.zeroize();
            return Ok((label, der?));
        }
        body.push_str(line);
    }
    body.zeroize();
    Err(KeyError::NotPem)
}

/// A DER reader over one level of TLV items.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    /// The next item: its tag and contents.
    fn next(&mut self) -> Result<(u8, &'a [u8]), KeyError> {
        let bad = KeyError::Malformed("truncated DER");
        let (&tag, rest) = self.0.split_first().ok_or(bad.clone())?;
        let (&first, mut rest) = rest.split_first().ok_or(bad.clone())?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 3 || rest.len() < n {
                return Err(bad);
            }
            let len = rest[..n]
                .iter()
                .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
            rest = &rest[n..];
            len
        };
        if rest.len() < len {
            return Err(bad);
        }
        let (value, after) = rest.split_at(len);
        self.0 = after;
        Ok((tag, value))
    }

    fn expect(&mut self, tag: u8, what: &'static str) -> Result<&'a [u8], KeyError> {
        match self.next()? {
            (t, value) if t == tag => Ok(value),
            _ => Err(KeyError::Malformed(what)),
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const BIT_STRING: u8 = 0x03;
const OID: u8 = 0x06;
const PARAMETERS: u8 = 0xa0;
const PUBLIC_KEY: u8 = 0xa1;

/// The curve's name for a message.
fn curve_name(oid: &[u8]) -> String {
    OTHER_CURVES
        .iter()
        .find(|(o, _)| *o == oid)
        .map(|(_, name)| name.to_string())
        .unwrap_or_else(|| "non-P-256".to_string())
}

fn check_curve(oid: &[u8]) -> Result<(), KeyError> {
    if oid == OID_P256 {
        Ok(())
    } else {
        Err(KeyError::WrongCurve(curve_name(oid)))
    }
}

/// SEC1 `ECPrivateKey` (RFC 5915): the 32-byte scalar and the 65-byte
/// uncompressed public point. `curve` is what an outer PKCS#8 said.
fn sec1(der: &[u8], curve: Option<&[u8]>) -> Result<(Vec<u8>, Vec<u8>), KeyError> {
    let mut outer = Der(der);
    let mut key = Der(outer.expect(SEQUENCE, "no ECPrivateKey sequence")?);
    if key.expect(INTEGER, "no version")? != [1] {
        return Err(KeyError::Malformed("not version 1"));
    }
    let scalar = key.expect(OCTET_STRING, "no private key")?;
    let mut point = None;
    let mut curve_seen = curve.is_some();
    while !key.is_empty() {
        match key.next()? {
            (PARAMETERS, params) => {
                check_curve(Der(params).expect(OID, "parameters are not a named curve")?)?;
                curve_seen = true;
            }
            (PUBLIC_KEY, public) => point = Some(Der(public).expect(BIT_STRING, "bad public key")?),
            _ => {}
        }
    }
    if !curve_seen {
        // RFC 5915 lets the curve be implied; a 32-byte scalar is P-256's
        // size, and ring checks the point is on P-256.
        if scalar.len() != 32 {
            return Err(KeyError::WrongCurve(format!("{}-bit", scalar.len() * 8)));
        }
    }
    if scalar.len() != 32 {
        return Err(KeyError::Malformed("the private key is not 32 bytes"));
    }
    // A BIT STRING: one byte of unused bits (0), then 0x04 || X || Y.
    let point = match point {
        None => return Err(KeyError::NoPublicKey),
        Some([0, rest @ ..]) if rest.len() == 65 && rest[0] == 4 => rest,
        Some(_) => {
            return Err(KeyError::Malformed(
                "the public key is not an uncompressed P-256 point",
            ))
        }
    };
    Ok((scalar.to_vec(), point.to_vec()))
}

/// PKCS#8 `PrivateKeyInfo` (RFC 5208/5958) holding an EC key.
fn pkcs8(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), KeyError> {
    let mut outer = Der(der);
    let mut info = Der(outer.expect(SEQUENCE, "no PrivateKeyInfo sequence")?);
    info.expect(INTEGER, "no version")?;
    let mut algorithm = Der(info.expect(SEQUENCE, "no algorithm")?);
    let kind = algorithm.expect(OID, "no algorithm id")?;
    if kind != OID_EC_PUBLIC_KEY {
        let name = match kind {
            [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01] => "RSA",
            [0x2b, 0x65, 0x70] => "Ed25519",
            _ => "non-EC",
        };
        return Err(KeyError::NotEc(name.to_string()));
    }
    let curve = algorithm.expect(OID, "no named curve")?;
    check_curve(curve)?;
    let inner = info.expect(OCTET_STRING, "no private key")?;
    sec1(inner, Some(curve))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};

    /// botocore's own test key (PKCS#8 with the public key).
    const PKCS8: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+PNauWi/ihtwHHbq\n1tgc8Vgpwx0qQlNSN38y+z0igWehRANCAAR2Ntw6BXJ1v8jb9XjzKZJ+gL5f/3Jq\nIqiH2PUGKWxoFwNlcNB83FivEXEzlTbuCQK5OezOYb3gbvHuzKkB0nDX\n-----END PRIVATE KEY-----";

    fn b64url(text: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(text).unwrap()
    }

    /// The same key as SEC1 with the curve named: the PKCS#8 body's inner
    /// ECPrivateKey with `[0] prime256v1` added, as the AWS CLI writes it.
    fn sec1_pem() -> String {
        let (_, der) = pem_body(PKCS8).unwrap();
        let (scalar, point) = pkcs8(&der).unwrap();
        let mut key = vec![0x02, 0x01, 0x01, 0x04, 0x20];
        key.extend(&scalar);
        key.extend([0xa0, 0x0a, 0x06, 0x08]);
        key.extend(OID_P256);
        key.extend([0xa1, 0x44, 0x03, 0x42, 0x00]);
        key.extend(&point);
        let mut der = vec![0x30, key.len() as u8];
        der.extend(key);
        format!(
            "-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----\n",
            STANDARD.encode(der)
        )
    }

    #[test]
    fn a_proof_verifies_with_the_jwk_in_its_header() {
        for pem in [PKCS8.to_string(), sec1_pem()] {
            let key = DpopKey::from_pem(&pem).unwrap();
            let proof = key
                .proof("POST", "https://x/v1/token", 1_700_000_000)
                .unwrap();
            let parts: Vec<&str> = proof.split('.').collect();
            assert_eq!(parts.len(), 3);
            let header: serde_json::Value = serde_json::from_slice(&b64url(parts[0])).unwrap();
            let payload: serde_json::Value = serde_json::from_slice(&b64url(parts[1])).unwrap();
            assert_eq!(header["typ"], "dpop+jwt");
            assert_eq!(header["alg"], "ES256");
            assert_eq!(payload["htm"], "POST");
            assert_eq!(payload["htu"], "https://x/v1/token");
            assert_eq!(payload["iat"], 1_700_000_000u64);
            assert_eq!(payload["jti"].as_str().unwrap().len(), 36);
            let jwk = &header["jwk"];
            let mut point = vec![4u8];
            point.extend(b64url(jwk["x"].as_str().unwrap()));
            point.extend(b64url(jwk["y"].as_str().unwrap()));
            let signed = format!("{}.{}", parts[0], parts[1]);
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
                .verify(signed.as_bytes(), &b64url(parts[2]))
                .unwrap();
            let again = key
                .proof("POST", "https://x/v1/token", 1_700_000_000)
                .unwrap();
            let payload2: serde_json::Value =
                serde_json::from_slice(&b64url(again.split('.').nth(1).unwrap())).unwrap();
            assert_ne!(payload["jti"], payload2["jti"], "a new jti per proof");
        }
    }

    #[test]
    fn both_formats_give_the_same_public_key() {
        let a = DpopKey::from_pem(PKCS8).unwrap().jwk();
        let b = DpopKey::from_pem(&sec1_pem()).unwrap().jwk();
        assert_eq!(a, b);
    }

    #[test]
    fn other_keys_are_refused_with_what_they_are() {
        let p384 = ring::signature::EcdsaKeyPair::generate_pkcs8(
            &ring::signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            &SystemRandom::new(),
        )
        .unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(p384.as_ref())
        );
        assert_eq!(
            DpopKey::from_pem(&pem).unwrap_err(),
            KeyError::WrongCurve("P-384".into())
        );
        let ed = ring::signature::Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(ed.as_ref())
        );
        assert_eq!(
            DpopKey::from_pem(&pem).unwrap_err(),
            KeyError::NotEc("Ed25519".into())
        );
        assert_eq!(
            DpopKey::from_pem(
                "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----"
            )
            .unwrap_err(),
            KeyError::NotEc("RSA PRIVATE KEY".into())
        );
        assert_eq!(DpopKey::from_pem("garbage").unwrap_err(), KeyError::NotPem);
        assert_eq!(
            DpopKey::from_pem("-----BEGIN EC PRIVATE KEY-----\n!!\n-----END EC PRIVATE KEY-----")
                .unwrap_err(),
            KeyError::NotPem
        );
        assert!(matches!(
            DpopKey::from_pem(
                "-----BEGIN EC PRIVATE KEY-----\nMAMCAQE=\n-----END EC PRIVATE KEY-----"
            )
            .unwrap_err(),
            KeyError::Malformed(_)
        ));
    }

    #[test]
    fn a_key_without_its_public_half_or_with_a_foreign_one_is_refused() {
        let (_, der) = pem_body(PKCS8).unwrap();
        let (scalar, point) = pkcs8(&der).unwrap();
        let mut key = vec![0x02, 0x01, 0x01, 0x04, 0x20];
        key.extend(&scalar);
        let mut der = vec![0x30, key.len() as u8];
        der.extend(&key);
        let pem = format!(
            "-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----",
            STANDARD.encode(&der)
        );
        assert_eq!(DpopKey::from_pem(&pem).unwrap_err(), KeyError::NoPublicKey);
        let mut other = point.clone();
        other[64] ^= 1;
        key.extend([0xa1, 0x44, 0x03, 0x42, 0x00]);
        key.extend(&other);
        let mut der = vec![0x30, key.len() as u8];
        der.extend(&key);
        let pem = format!(
            "-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----",
            STANDARD.encode(&der)
        );
        assert_eq!(DpopKey::from_pem(&pem).unwrap_err(), KeyError::Mismatch);
    }
}
