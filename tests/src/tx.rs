//! Signed transactions built with the runtime's own types, as any Rust client of Gateless would.

use codec::Encode;
use gateless_runtime::{
	Address, Runtime, RuntimeCall, Signature, SignedPayload, TxExtension, UncheckedExtrinsic,
};
use sp_core::{crypto::Pair, sr25519, H256};
use sp_runtime::generic::Era;

/// What a transaction commits to besides its call: the chain and runtime it is valid for.
#[derive(Clone, Copy, Debug)]
pub struct ChainContext {
	pub genesis_hash: H256,
	pub spec_version: u32,
	pub transaction_version: u32,
}

/// An immortal transaction signed by `signer` with nonce `nonce`, SCALE-encoded.
pub fn signed_extrinsic(
	call: RuntimeCall,
	signer: &sr25519::Pair,
	nonce: u32,
	context: ChainContext,
) -> Vec<u8> {
	let tx_extension: TxExtension = (
		frame_system::AuthorizeCall::<Runtime>::new(),
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(Era::Immortal),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
		frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
		frame_system::WeightReclaim::<Runtime>::new(),
	);
	// What the extensions add to the signed payload without putting it in the transaction; the
	// runtime would read it from state, a client knows it from the chain.
	let implicit = (
		(),
		(),
		context.spec_version,
		context.transaction_version,
		context.genesis_hash,
		// An immortal era commits to the genesis hash.
		context.genesis_hash,
		(),
		(),
		(),
		None,
		(),
	);
	let payload = SignedPayload::from_raw(call.clone(), tx_extension.clone(), implicit);
	let signature = payload.using_encoded(|bytes| signer.sign(bytes));
	let signer_account: gateless_runtime::AccountId = signer.public().into();
	UncheckedExtrinsic::new_signed(
		call,
		Address::Id(signer_account),
		Signature::Sr25519(signature),
		tx_extension,
	)
	.encode()
}
