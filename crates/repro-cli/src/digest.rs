//! The one digest every report uses.

pub use repro_chain::sha256_hex;
