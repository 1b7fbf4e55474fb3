//! Tests of the result verification pallet.

use crate::mock::*;

#[test]
fn builds() {
	build_and_execute(|| {
		open(0, &[V1, V2, V3], tolerance());
		let output = scores(&[0.1, 0.2, 0.7]);
		commit_all(0, &[(V1, output.clone()), (V2, output.clone()), (V3, output.clone())]);
		reveal_all(0, &[(V1, output.clone()), (V2, output.clone()), (V3, output)]);
		assert!(matches!(take_calls().last(), Some(Call::Finalized(0, _))));
	});
}
