//! The Gateless pallets' docs where wallets and polkadot.js read them (each call's and error's
//! `///` doc reaches the metadata): every call says its origin, errors and events and is listed
//! in its pallet's module docs; every error is documented, listed there and produced by a test.

use scale_info::{TypeDef, TypeInfo};

/// A Gateless pallet's call and error types, module docs and tests, as source.
struct PalletDocs {
	name: &'static str,
	call: scale_info::Type,
	error: scale_info::Type,
	module_docs: &'static str,
	tests: &'static [&'static str],
}

fn gateless_pallets() -> [PalletDocs; 4] {
	[
		PalletDocs {
			name: "model registry",
			call: pallet_model_registry::Call::<crate::Runtime>::type_info(),
			error: pallet_model_registry::Error::<crate::Runtime>::type_info(),
			module_docs: include_str!("../../../pallets/model-registry/src/lib.rs"),
			tests: &[include_str!("../../../pallets/model-registry/src/tests.rs")],
		},
		PalletDocs {
			name: "validator staking",
			call: pallet_validator_staking::Call::<crate::Runtime>::type_info(),
			error: pallet_validator_staking::Error::<crate::Runtime>::type_info(),
			module_docs: include_str!("../../../pallets/staking/src/lib.rs"),
			tests: &[
				include_str!("../../../pallets/staking/src/tests.rs"),
				// `SessionsFollowEpochs` needs BABE's epochs, which only the runtime has.
				include_str!("governance.rs"),
			],
		},
		PalletDocs {
			name: "inference jobs",
			call: pallet_inference_jobs::Call::<crate::Runtime>::type_info(),
			error: pallet_inference_jobs::Error::<crate::Runtime>::type_info(),
			module_docs: include_str!("../../../pallets/inference-jobs/src/lib.rs"),
			tests: &[include_str!("../../../pallets/inference-jobs/src/tests.rs")],
		},
		PalletDocs {
			name: "result verification",
			call: pallet_result_verification::Call::<crate::Runtime>::type_info(),
			error: pallet_result_verification::Error::<crate::Runtime>::type_info(),
			module_docs: include_str!("../../../pallets/verification/src/lib.rs"),
			tests: &[include_str!("../../../pallets/verification/src/tests.rs")],
		},
	]
}

#[test]
fn every_call_and_error_is_documented_listed_and_every_error_produced_by_a_test() {
	let mut problems = Vec::new();
	for pallet in gateless_pallets() {
		let TypeDef::Variant(calls) = &pallet.call.type_def else {
			panic!("the {} pallet's Call is not an enum", pallet.name)
		};
		let TypeDef::Variant(errors) = &pallet.error.type_def else {
			panic!("the {} pallet's Error is not an enum", pallet.name)
		};
		let module_docs: String = pallet
			.module_docs
			.lines()
			.filter_map(|line| line.strip_prefix("//!"))
			.collect::<Vec<_>>()
			.join("\n");
		for call in &calls.variants {
			let name = call.name;
			let doc = call.docs.join(" ").to_lowercase();
			for needed in ["origin", "error", "event"] {
				if !doc.contains(needed) {
					problems
						.push(format!("{}: {name}'s doc does not say its {needed}", pallet.name));
				}
			}
			if !module_docs.contains(&format!("[`Call::{name}`]")) {
				problems.push(format!("{}: the module docs do not list {name}", pallet.name));
			}
		}
		for error in &errors.variants {
			let name = error.name;
			if error.docs.iter().all(|line| line.trim().is_empty()) {
				problems.push(format!("{}: {name} has no doc", pallet.name));
			}
			if !module_docs.contains(&format!("[`Error::{name}`]")) {
				problems.push(format!("{}: the module docs do not list {name}", pallet.name));
			}
			let produced = ["Error::<Test>::", "Error::<Runtime>::", "Error::"]
				.map(|path| path.to_owned() + name);
			let tested = pallet.tests.iter().any(|source| {
				produced.iter().any(|pattern| {
					source.match_indices(pattern.as_str()).any(|(at, _)| {
						// Not a prefix of a longer name.
						!source[at + pattern.len()..]
							.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
					})
				})
			});
			if !tested {
				problems.push(format!("{}: no test produces {name}", pallet.name));
			}
		}
	}
	assert!(problems.is_empty(), "{}", problems.join("\n"));
}
