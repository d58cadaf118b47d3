//! Factory. The session installs a contract with entry points `create`, `child_inc`, `child_get`
//! (all `EntryPointType::Contract`) and stores its contract hash under `factory_contract`.
//! `create` calls `new_contract` with entry points `child_inc`, `child_get`: the child's code is the
//! factory's own exported functions, so the node derives the child module from the factory's
//! *stored* (already preprocessed) module, optimised down to those two names. `create` records the
//! child's contract hash in the factory's named keys under `child_contract`.
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

fn ep(name: &str, ret: CLType) -> EntryPoint {
    EntryPoint::new(name, Vec::new(), ret, EntryPointAccess::Public, EntryPointType::Contract)
}

fn child_entry_points() -> EntryPoints {
    let mut entry_points = EntryPoints::new();
    entry_points.add_entry_point(ep("child_inc", CLType::Unit));
    entry_points.add_entry_point(ep("child_get", CLType::U64));
    entry_points
}

#[no_mangle]
pub extern "C" fn child_inc() {
    storage::add(counter(), 1u64);
}

#[no_mangle]
pub extern "C" fn child_get() {
    let v: u64 = storage::read(counter()).unwrap_or_revert().unwrap_or_revert();
    runtime::ret(CLValue::from_t(v).unwrap_or_revert());
}

#[no_mangle]
pub extern "C" fn create() {
    let mut named_keys = NamedKeys::new();
    named_keys.insert(String::from("counter"), Key::URef(storage::new_uref(0u64)));
    let (hash, _) = storage::new_contract(child_entry_points(), Some(named_keys), None, None);
    runtime::put_key("child_contract", Key::Hash(hash.value()));
}

#[no_mangle]
pub extern "C" fn call() {
    let mut entry_points = child_entry_points();
    entry_points.add_entry_point(ep("create", CLType::Unit));
    let mut named_keys = NamedKeys::new();
    named_keys.insert(String::from("counter"), Key::URef(storage::new_uref(0u64)));
    let (hash, _) = storage::new_contract(entry_points, Some(named_keys), None, None);
    runtime::put_key("factory_contract", Key::Hash(hash.value()));
}
