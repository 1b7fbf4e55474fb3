//! The inference key: the session key that validators' offchain workers sign their attestations,
//! commitments and reveals with, so that the keys that run models are not the keys that hold
//! funds or author blocks.

use sp_core::crypto::KeyTypeId;

/// The key type of inference keys in the keystore (`infr`).
pub const INFERENCE_KEY_TYPE: KeyTypeId = KeyTypeId(*b"infr");

/// sr25519 keys of type [`INFERENCE_KEY_TYPE`].
pub mod inference {
	use super::INFERENCE_KEY_TYPE;
	use sp_application_crypto::{app_crypto, sr25519};
	app_crypto!(sr25519, INFERENCE_KEY_TYPE);
}

/// The public inference key of a validator.
pub type InferenceId = inference::Public;
