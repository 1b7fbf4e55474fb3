//! The configuration of every pallet of the runtime, one module per group of pallets (see the
//! pallet index table in the crate docs).

mod consensus;
mod gateless;
mod governance;
mod money;
mod staking;
mod system;

pub use consensus::*;
pub use gateless::*;
pub use governance::*;
pub use money::*;
pub use staking::*;
pub use system::*;
