//! One session installs two contracts from the same module with different entry-point sets:
//! `first` = {`inc`, `get`}, `second` = {`get`, `reset`, `double`}. Both stored modules are
//! optimised from the same preprocessed session module, each down to its own export names.
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

fn read() -> u64 {
    storage::read(counter()).unwrap_or_revert().unwrap_or_revert()
}

#[no_mangle]
pub extern "C" fn inc() {
    storage::add(counter(), 1u64);
}

#[no_mangle]
pub extern "C" fn get() {
    runtime::ret(CLValue::from_t(read()).unwrap_or_revert());
}

#[no_mangle]
pub extern "C" fn reset() {
    storage::write(counter(), 0u64);
}

#[no_mangle]
pub extern "C" fn double() {
    let v = read();
    storage::write(counter(), v.wrapping_mul(2));
}

fn ep(name: &str, ret: CLType) -> EntryPoint {
    EntryPoint::new(name, Vec::new(), ret, EntryPointAccess::Public, EntryPointType::Contract)
}

fn install(entry_points: EntryPoints, start: u64, key: &str) {
    let mut named_keys = NamedKeys::new();
    named_keys.insert(String::from("counter"), Key::URef(storage::new_uref(start)));
    let (hash, _) = storage::new_contract(entry_points, Some(named_keys), None, None);
    runtime::put_key(key, Key::Hash(hash.value()));
}

#[no_mangle]
pub extern "C" fn call() {
    let mut first = EntryPoints::new();
    first.add_entry_point(ep("inc", CLType::Unit));
    first.add_entry_point(ep("get", CLType::U64));
    install(first, 0, "two_contracts_first");

    let mut second = EntryPoints::new();
    second.add_entry_point(ep("get", CLType::U64));
    second.add_entry_point(ep("reset", CLType::Unit));
    second.add_entry_point(ep("double", CLType::Unit));
    install(second, 100, "two_contracts_second");
}
