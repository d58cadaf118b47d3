//! Reads the package hash stored by `upgrade_install` under `upgrade_package` and adds version 2
//! with a different entry-point set: `inc`, `get`, `reset` (no `get_v1`). The access URef
//! `upgrade_access` is in the account's named keys, which authorises the upgrade.
//! Stores the new contract hash under `upgrade_contract_v2`.
#![no_std]

extern crate alloc;

use alloc::{string::String, vec::Vec};

use casper_contract::{
    contract_api::{runtime, storage},
    unwrap_or_revert::UnwrapOrRevert,
};
use casper_types::{
    contracts::NamedKeys, CLType, CLValue, ContractPackageHash, EntryPoint, EntryPointAccess,
    EntryPointType, EntryPoints, Key, URef,
};

fixture_support::bump_allocator!();

fn counter() -> URef {
    runtime::get_key("counter").unwrap_or_revert().into_uref().unwrap_or_revert()
}

#[no_mangle]
pub extern "C" fn inc() {
    storage::add(counter(), 2u64);
}

#[no_mangle]
pub extern "C" fn get() {
    let v: u64 = storage::read(counter()).unwrap_or_revert().unwrap_or_revert();
    runtime::ret(CLValue::from_t(v).unwrap_or_revert());
}

#[no_mangle]
pub extern "C" fn reset() {
    storage::write(counter(), 0u64);
}

fn ep(name: &str, ret: CLType) -> EntryPoint {
    EntryPoint::new(name, Vec::new(), ret, EntryPointAccess::Public, EntryPointType::Contract)
}

#[no_mangle]
pub extern "C" fn call() {
    let package_key = runtime::get_key("upgrade_package").unwrap_or_revert();
    #[cfg(not(feature = "casper-2"))]
    let package_hash = ContractPackageHash::new(package_key.into_hash().unwrap_or_revert());
    #[cfg(feature = "casper-2")]
    let package_hash = ContractPackageHash::new(package_key.into_hash_addr().unwrap_or_revert());

    let mut entry_points = EntryPoints::new();
    entry_points.add_entry_point(ep("inc", CLType::Unit));
    entry_points.add_entry_point(ep("get", CLType::U64));
    entry_points.add_entry_point(ep("reset", CLType::Unit));
    let mut named_keys = NamedKeys::new();
    named_keys.insert(String::from("counter"), Key::URef(storage::new_uref(1000u64)));
    let (hash, _) = storage::add_contract_version(package_hash, entry_points, named_keys);
    runtime::put_key("upgrade_contract_v2", Key::Hash(hash.value()));
}
