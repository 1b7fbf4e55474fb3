//! Tests of the inference jobs pallet.

use crate::mock::*;

#[test]
fn builds() {
	ExtBuilder::default().build_and_execute(|| {});
}
