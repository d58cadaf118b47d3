//! The mainnet cost tables as repro-diff cost profiles: repro-core's Casper knowledge (which
//! instruction costs what under which protocol version) plugged into repro-diff's generic check
//! of a module's metering.

use repro_diff::CostProfile;
use repro_diff::wasmparser::Operator;

/// The cost table, stack limit and grow cost of one mainnet protocol version (repro-core's
/// built-in table), through [`repro_core::metering`].
#[derive(Debug)]
pub struct MainnetProfile {
    name: String,
    protocol: repro_core::Protocol,
}

impl MainnetProfile {
    /// The protocol version whose table this is.
    pub fn version(&self) -> repro_core::ProtocolVersion {
        self.protocol.version()
    }
}

impl CostProfile for MainnetProfile {
    fn name(&self) -> &str {
        &self.name
    }
    fn instruction_cost(&self, op: &Operator<'_>) -> Option<u64> {
        repro_core::metering::instruction_cost(&self.protocol, op).map(u64::from)
    }
    fn stack_limit(&self) -> Option<u32> {
        Some(repro_core::metering::stack_limit(&self.protocol))
    }
    fn grow_cost(&self) -> Option<u32> {
        repro_core::metering::grow_cost(&self.protocol)
    }
}

/// One profile per mainnet protocol version in repro-core's table, oldest first.
pub fn mainnet() -> Vec<MainnetProfile> {
    repro_core::mainnet::releases()
        .into_iter()
        .filter_map(|r| {
            let protocol = repro_core::Protocol::mainnet(r.version).ok()?;
            Some(MainnetProfile {
                name: format!("mainnet {}", r.version),
                protocol,
            })
        })
        .collect()
}

/// The profiles as repro-diff takes them.
pub fn as_dyn(profiles: &[MainnetProfile]) -> Vec<&dyn CostProfile> {
    profiles.iter().map(|p| p as &dyn CostProfile).collect()
}
