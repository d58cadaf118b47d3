//! The fixture sources are written against casper-types 4.0 (node 1.x). Node 2.x deserialises the
//! entry points given to `add_contract_version` as casper-types 5 `EntityEntryPoint`s, which carry
//! one more field (`EntryPointPayment`), so a module built with casper-types 4 cannot install a
//! contract on 2.x ("Deserialization error: formatting"). The `*_v2` fixture crates compile the
//! *same* sources against this crate (renamed to `casper-types`): everything is casper-types
//! 5.0.1, except `EntryPoint`, `EntryPointType` and `EntryPoints`, which keep the 4.0 constructor
//! shapes and build 5.0 entry points (`EntryPointPayment::Caller`, the 1.x behaviour).
#![no_std]

extern crate alloc;

use alloc::string::String;

pub use casper_types::contracts::ContractPackageHash;
pub use casper_types::*;

/// The 4.0 `EntryPointType` variants the fixtures use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryPointType {
    /// 4.0 `Session` = 5.0 `Caller`.
    Session,
    /// 4.0 `Contract` = 5.0 `Called`.
    Contract,
}

impl From<EntryPointType> for casper_types::EntryPointType {
    fn from(t: EntryPointType) -> Self {
        match t {
            EntryPointType::Session => casper_types::EntryPointType::Caller,
            EntryPointType::Contract => casper_types::EntryPointType::Called,
        }
    }
}

/// A 5.0 `EntityEntryPoint` built with the 4.0 `EntryPoint::new` arguments.
pub struct EntryPoint(pub EntityEntryPoint);

impl EntryPoint {
    pub fn new<T: Into<String>>(
        name: T,
        args: Parameters,
        ret: CLType,
        access: EntryPointAccess,
        entry_point_type: EntryPointType,
    ) -> Self {
        EntryPoint(EntityEntryPoint::new(
            name,
            args,
            ret,
            access,
            entry_point_type.into(),
            EntryPointPayment::Caller,
        ))
    }
}

/// 5.0 `EntryPoints` with the 4.0 `add_entry_point(EntryPoint)`.
pub struct EntryPoints(pub casper_types::EntryPoints);

impl EntryPoints {
    pub fn new() -> Self {
        EntryPoints(casper_types::EntryPoints::new())
    }

    pub fn add_entry_point(&mut self, entry_point: EntryPoint) {
        self.0.add_entry_point(entry_point.0);
    }
}

impl Default for EntryPoints {
    fn default() -> Self {
        Self::new()
    }
}
