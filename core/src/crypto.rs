//! A pure-Rust set of signature verification algorithms over RustCrypto crates.
//!
//! This is what the wasm build uses (no C, no assembly); native hosts usually pass their
//! rustls `CryptoProvider`'s algorithms instead. It covers what client certificates use in
//! practice: ECDSA P-256/P-384 with SHA-256/384, Ed25519, and RSA PKCS#1 v1.5 and PSS with
//! SHA-256/384/512 for moduli of 2048 to 8192 bits.
//!
//! `rsa` 0.9 carries RUSTSEC-2023-0071 (Marvin timing attack); it concerns private-key
//! operations, and this module only verifies signatures with public keys.

use pki_types::alg_id;
use pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};
use rustls_pki_types as pki_types;

/// Every algorithm in this module, for `Validator::builder` / `Validator::from_policy`.
pub static ALL: &[&dyn SignatureVerificationAlgorithm] = &[
    #[cfg(feature = "rustcrypto-p256")]
    &EcdsaP256Sha256,
    #[cfg(feature = "rustcrypto-p256")]
    &EcdsaP256Sha384,
    #[cfg(feature = "rustcrypto-p384")]
    &EcdsaP384Sha384,
    #[cfg(feature = "rustcrypto-p384")]
    &EcdsaP384Sha256,
    #[cfg(feature = "rustcrypto-ed25519")]
    &Ed25519,
    #[cfg(feature = "rustcrypto-rsa")]
    &Rsa {
        padding: Padding::Pkcs1,
        hash: Hash::Sha256,
    },
    #[cfg(feature = "rustcrypto-rsa")]
    &Rsa {
        padding: Padding::Pkcs1,
        hash: Hash::Sha384,
    },
    #[cfg(feature = "rustcrypto-rsa")]
    &Rsa {
        padding: Padding::Pkcs1,
        hash: Hash::Sha512,
    },
    #[cfg(feature = "rustcrypto-rsa")]
    &Rsa {
        padding: Padding::Pss,
        hash: Hash::Sha256,
    },
    #[cfg(feature = "rustcrypto-rsa")]
    &Rsa {
        padding: Padding::Pss,
        hash: Hash::Sha384,
    },
    #[cfg(feature = "rustcrypto-rsa")]
    &Rsa {
        padding: Padding::Pss,
        hash: Hash::Sha512,
    },
];

pub use crate::host::{RSA_MAX_BITS, RSA_MIN_BITS};

#[cfg(any(feature = "rustcrypto-p256", feature = "rustcrypto-p384"))]
macro_rules! ecdsa_alg {
    ($name:ident, $curve:ident, $pk:expr, $sig:expr, $digest:ty) => {
        #[derive(Debug)]
        struct $name;

        impl SignatureVerificationAlgorithm for $name {
            fn public_key_alg_id(&self) -> AlgorithmIdentifier {
                $pk
            }
            fn signature_alg_id(&self) -> AlgorithmIdentifier {
                $sig
            }
            fn verify_signature(
                &self,
                public_key: &[u8],
                message: &[u8],
                signature: &[u8],
            ) -> Result<(), InvalidSignature> {
                use sha2::Digest;
                use $curve::ecdsa::signature::hazmat::PrehashVerifier;
                let key = $curve::ecdsa::VerifyingKey::from_sec1_bytes(public_key)
                    .map_err(|_| InvalidSignature)?;
                let sig =
                    $curve::ecdsa::Signature::from_der(signature).map_err(|_| InvalidSignature)?;
                let digest = <$digest>::digest(message);
                key.verify_prehash(&digest, &sig)
                    .map_err(|_| InvalidSignature)
            }
        }
    };
}

#[cfg(feature = "rustcrypto-p256")]
ecdsa_alg!(
    EcdsaP256Sha256,
    p256,
    alg_id::ECDSA_P256,
    alg_id::ECDSA_SHA256,
    sha2::Sha256
);
#[cfg(feature = "rustcrypto-p256")]
ecdsa_alg!(
    EcdsaP256Sha384,
    p256,
    alg_id::ECDSA_P256,
    alg_id::ECDSA_SHA384,
    sha2::Sha384
);
#[cfg(feature = "rustcrypto-p384")]
ecdsa_alg!(
    EcdsaP384Sha384,
    p384,
    alg_id::ECDSA_P384,
    alg_id::ECDSA_SHA384,
    sha2::Sha384
);
#[cfg(feature = "rustcrypto-p384")]
ecdsa_alg!(
    EcdsaP384Sha256,
    p384,
    alg_id::ECDSA_P384,
    alg_id::ECDSA_SHA256,
    sha2::Sha256
);

#[cfg(feature = "rustcrypto-ed25519")]
#[derive(Debug)]
struct Ed25519;

#[cfg(feature = "rustcrypto-ed25519")]
impl SignatureVerificationAlgorithm for Ed25519 {
    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ED25519
    }
    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ED25519
    }
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let key: [u8; 32] = public_key.try_into().map_err(|_| InvalidSignature)?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&key).map_err(|_| InvalidSignature)?;
        let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| InvalidSignature)?;
        key.verify_strict(message, &sig)
            .map_err(|_| InvalidSignature)
    }
}

#[cfg(feature = "rustcrypto-rsa")]
use rsa_algs::{Hash, Padding, Rsa};

/// RSA over the `rsa` crate.
#[cfg(feature = "rustcrypto-rsa")]
mod rsa_algs {
    use super::*;

    #[derive(Debug, Clone, Copy)]
    pub(super) enum Hash {
        Sha256,
        Sha384,
        Sha512,
    }

    /// Decodes a PKCS#1 RSAPublicKey and enforces the modulus size range.
    fn rsa_key(public_key: &[u8]) -> Result<rsa::RsaPublicKey, InvalidSignature> {
        use rsa::traits::PublicKeyParts;
        // `from_pkcs1_der` caps moduli at 4096 bits; decode the parts and apply our own range.
        let parsed =
            rsa::pkcs1::RsaPublicKey::try_from(public_key).map_err(|_| InvalidSignature)?;
        let n = rsa::BigUint::from_bytes_be(parsed.modulus.as_bytes());
        let e = rsa::BigUint::from_bytes_be(parsed.public_exponent.as_bytes());
        let key = rsa::RsaPublicKey::new_with_max_size(n, e, RSA_MAX_BITS)
            .map_err(|_| InvalidSignature)?;
        if key.n().bits() < RSA_MIN_BITS {
            return Err(InvalidSignature);
        }
        Ok(key)
    }

    #[derive(Debug, Clone, Copy)]
    pub(super) enum Padding {
        Pkcs1,
        Pss,
    }

    /// RSA with PKCS#1 v1.5 or PSS padding (salt length = digest length, as the PSS alg ids
    /// pin it: RFC 4055 / rustls-webpki).
    #[derive(Debug)]
    pub(super) struct Rsa {
        pub(super) padding: Padding,
        pub(super) hash: Hash,
    }

    impl SignatureVerificationAlgorithm for Rsa {
        fn public_key_alg_id(&self) -> AlgorithmIdentifier {
            alg_id::RSA_ENCRYPTION
        }
        fn signature_alg_id(&self) -> AlgorithmIdentifier {
            match (self.padding, self.hash) {
                (Padding::Pkcs1, Hash::Sha256) => alg_id::RSA_PKCS1_SHA256,
                (Padding::Pkcs1, Hash::Sha384) => alg_id::RSA_PKCS1_SHA384,
                (Padding::Pkcs1, Hash::Sha512) => alg_id::RSA_PKCS1_SHA512,
                (Padding::Pss, Hash::Sha256) => alg_id::RSA_PSS_SHA256,
                (Padding::Pss, Hash::Sha384) => alg_id::RSA_PSS_SHA384,
                (Padding::Pss, Hash::Sha512) => alg_id::RSA_PSS_SHA512,
            }
        }
        fn verify_signature(
            &self,
            public_key: &[u8],
            message: &[u8],
            signature: &[u8],
        ) -> Result<(), InvalidSignature> {
            let key = rsa_key(public_key)?;
            match self.hash {
                Hash::Sha256 => rsa_verify::<sha2::Sha256>(self.padding, key, message, signature),
                Hash::Sha384 => rsa_verify::<sha2::Sha384>(self.padding, key, message, signature),
                Hash::Sha512 => rsa_verify::<sha2::Sha512>(self.padding, key, message, signature),
            }
        }
    }

    fn rsa_verify<D>(
        padding: Padding,
        key: rsa::RsaPublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature>
    where
        D: sha2::Digest + sha2::digest::FixedOutputReset + const_oid::AssociatedOid,
    {
        use rsa::signature::Verifier;
        let ok = match padding {
            Padding::Pkcs1 => {
                let sig =
                    rsa::pkcs1v15::Signature::try_from(signature).map_err(|_| InvalidSignature)?;
                rsa::pkcs1v15::VerifyingKey::<D>::new(key).verify(message, &sig)
            }
            Padding::Pss => {
                let sig = rsa::pss::Signature::try_from(signature).map_err(|_| InvalidSignature)?;
                rsa::pss::VerifyingKey::<D>::new(key).verify(message, &sig)
            }
        };
        ok.map_err(|_| InvalidSignature)
    }
}
