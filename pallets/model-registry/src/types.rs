//! Types of the model registry that only the pallet and its callers need; the model record itself
//! and its parts are in [`gateless_primitives::model`], shared with the other pallets and clients.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use gateless_primitives::model::{ModelUri, MAX_URIS};
use scale_info::TypeInfo;
use sp_core::{ConstU32, H256};
use sp_runtime::Perbill;

/// Where a model's bytes are, as given to `register_model`.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxInline))]
pub enum ModelSource<MaxInline: Get<u32>> {
	/// The ONNX file itself, stored on chain (a deposit per byte is held for it).
	Inline(BoundedVec<u8, MaxInline>),
	/// http(s) URIs serving the ONNX file; validators try them in order.
	Uris(BoundedVec<ModelUri, ConstU32<MAX_URIS>>),
	/// The ONNX file as content that nodes provide (the builder's own node first; see
	/// `gateless_putModelContent`): `content` is the hash of its chunk list
	/// (`gateless_primitives::content::Manifest`). URIs that serve it too are optional.
	Peers { content: H256, uris: BoundedVec<ModelUri, ConstU32<MAX_URIS>> },
}

/// What the registry keeps of a model's reference vectors beside the vectors themselves.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
	Default,
)]
pub struct ReferenceRecord {
	/// The bytes the vectors take in storage (their share of the deposit).
	pub stored_len: u32,
	/// Validators whose attestation that the model loads included matching every vector.
	pub checked_by: u32,
}

/// The registry's parameters, set by the admin origin.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub struct RegistryParams<Balance> {
	/// The share of the active validator set whose agreeing attestations decide a model (rounded
	/// up, at least one validator). More than half, so that one set cannot decide both ways.
	pub attestation_quorum: Perbill,
	/// The most bytes of a model stored inline (at most the runtime's `MaxInlineModelBytes`).
	pub max_inline_bytes: u32,
	/// The largest model, inline or behind URIs, that may be registered, in bytes.
	pub max_model_bytes: u64,
	/// Held for every model, whatever its size.
	pub deposit_base: Balance,
	/// Held per byte the model stores on chain (its record and any inline bytes).
	pub deposit_per_byte: Balance,
	/// The share of a rejected model's deposit that is slashed.
	pub rejection_penalty: Perbill,
}
