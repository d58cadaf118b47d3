//! The mainnet cost tables as repro-diff cost profiles: repro-core's Casper knowledge (which
//! instruction costs what under which protocol version) plugged into repro-diff's generic check
//! of a module's metering.

use repro_diff::CostProfile;
use repro_diff::wasmparser::Operator;

/// The cost table, stack limit and grow cost of one protocol's Wasm configuration (a mainnet
/// version of repro-core's built-in table, or any chainspec's), through
/// [`repro_core::metering`].
#[derive(Debug)]
pub struct TableProfile {
    name: String,
    protocol: repro_core::Protocol,
}

impl TableProfile {
    /// The profile of `protocol`'s configuration, reported as `name`.
    pub fn new(name: impl Into<String>, protocol: repro_core::Protocol) -> Self {
        TableProfile {
            name: name.into(),
            protocol,
        }
    }

    /// The protocol whose configuration this is.
    pub fn protocol(&self) -> &repro_core::Protocol {
        &self.protocol
    }

    /// The protocol version whose table this is.
    pub fn version(&self) -> repro_core::ProtocolVersion {
        self.protocol.version()
    }
}

impl CostProfile for TableProfile {
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
pub fn mainnet() -> Vec<TableProfile> {
    repro_core::mainnet::releases()
        .into_iter()
        .filter_map(|r| {
            let protocol = repro_core::Protocol::mainnet(r.version).ok()?;
            Some(TableProfile::new(
                format!("mainnet {}", r.version),
                protocol,
            ))
        })
        .collect()
}

/// The profiles as repro-diff takes them.
pub fn as_dyn(profiles: &[TableProfile]) -> Vec<&dyn CostProfile> {
    profiles.iter().map(|p| p as &dyn CostProfile).collect()
}
