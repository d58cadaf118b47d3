//! Creates a contract package (`create_contract_package_at_hash`) and adds version 1 with entry
//! points `inc` and `get_v1`. Stores the package hash under `upgrade_package`, the access URef
//! under `upgrade_access` (needed by `upgrade_v2`) and the contract hash under
//! `upgrade_contract_v1`.
#![no_std]

extern crate alloc;

use alloc::{string::String, vec::Vec};

use casper_contract::{
    contract_api::{runtime, storage},
    unwrap_or_revert::UnwrapOrRevert,
};
use casper_types::{
    contracts::NamedKeys, CLType, CLValue, EntryPoint, EntryPointAccess, EntryPointType,
    EntryPoints, Key, URef,
};

fixture_support::bump_allocator!();

fn counter() -> URef {
    runtime::get_key("counter").unwrap_or_revert().into_uref().unwrap_or_revert()
}

#[no_mangle]
pub extern "C" fn inc() {
    storage::add(counter(), 1u64);
}

#[no_mangle]
pub extern "C" fn get_v1() {
    let v: u64 = storage::read(counter()).unwrap_or_revert().unwrap_or_revert();
    runtime::ret(CLValue::from_t(v).unwrap_or_revert());
}

fn ep(name: &str, ret: CLType) -> EntryPoint {
    EntryPoint::new(name, Vec::new(), ret, EntryPointAccess::Public, EntryPointType::Contract)
}

#[no_mangle]
pub extern "C" fn call() {
    let (package_hash, access_uref) = storage::create_contract_package_at_hash();
    runtime::put_key("upgrade_package", Key::Hash(package_hash.value()));
    runtime::put_key("upgrade_access", Key::URef(access_uref));

    let mut entry_points = EntryPoints::new();
    entry_points.add_entry_point(ep("inc", CLType::Unit));
    entry_points.add_entry_point(ep("get_v1", CLType::U64));
    let mut named_keys = NamedKeys::new();
    named_keys.insert(String::from("counter"), Key::URef(storage::new_uref(0u64)));
    let (hash, _) = storage::add_contract_version(package_hash, entry_points, named_keys);
    runtime::put_key("upgrade_contract_v1", Key::Hash(hash.value()));
}
