//! casper-contract 5.0.0 with the 4.0 signatures of `new_contract`, `new_locked_contract` and
//! `add_contract_version` (no message topics), taking the entry points of `fixture-types-v2`.
//! casper-contract 5.0.0 installs through `casper_add_contract_version_with_message_topics`, a
//! 2.x host function: the `*_v2` fixtures run on node 2.x only.
#![no_std]

pub mod unwrap_or_revert {
    pub use casper_contract::unwrap_or_revert::*;
}

pub mod contract_api {
    pub mod runtime {
        pub use casper_contract::contract_api::runtime::*;
    }

    pub mod storage {
        extern crate alloc;

        use alloc::{collections::BTreeMap, string::String};

        use casper_types::{
            contracts::{ContractHash, ContractPackageHash, NamedKeys},
            EntityVersion, EntryPoints,
        };

        pub use casper_contract::contract_api::storage::*;

        pub fn new_contract(
            entry_points: EntryPoints,
            named_keys: Option<NamedKeys>,
            hash_name: Option<String>,
            uref_name: Option<String>,
        ) -> (ContractHash, EntityVersion) {
            casper_contract::contract_api::storage::new_contract(
                entry_points.0,
                named_keys,
                hash_name,
                uref_name,
                None,
            )
        }

        pub fn new_locked_contract(
            entry_points: EntryPoints,
            named_keys: Option<NamedKeys>,
            hash_name: Option<String>,
            uref_name: Option<String>,
        ) -> (ContractHash, EntityVersion) {
            casper_contract::contract_api::storage::new_locked_contract(
                entry_points.0,
                named_keys,
                hash_name,
                uref_name,
                None,
            )
        }

        pub fn add_contract_version(
            package_hash: ContractPackageHash,
            entry_points: EntryPoints,
            named_keys: NamedKeys,
        ) -> (ContractHash, EntityVersion) {
            casper_contract::contract_api::storage::add_contract_version(
                package_hash,
                entry_points.0,
                named_keys,
                BTreeMap::new(),
            )
        }
    }
}
