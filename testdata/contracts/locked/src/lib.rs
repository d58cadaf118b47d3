//! Installs a locked contract (`new_locked_contract`) with entry points `ping` and `get`;
//! `unused_poke` is exported dead code.
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

fn pings() -> URef {
    runtime::get_key("pings").unwrap_or_revert().into_uref().unwrap_or_revert()
}

#[no_mangle]
pub extern "C" fn ping() {
    storage::add(pings(), 1u32);
}

#[no_mangle]
pub extern "C" fn get() {
    let v: u32 = storage::read(pings()).unwrap_or_revert().unwrap_or_revert();
    runtime::ret(CLValue::from_t(v).unwrap_or_revert());
}

#[no_mangle]
pub extern "C" fn unused_poke() {
    storage::write(pings(), 7u32);
}

fn ep(name: &str, ret: CLType) -> EntryPoint {
    EntryPoint::new(name, Vec::new(), ret, EntryPointAccess::Public, EntryPointType::Contract)
}

#[no_mangle]
pub extern "C" fn call() {
    let mut entry_points = EntryPoints::new();
    entry_points.add_entry_point(ep("ping", CLType::Unit));
    entry_points.add_entry_point(ep("get", CLType::U32));
    let mut named_keys = NamedKeys::new();
    named_keys.insert(String::from("pings"), Key::URef(storage::new_uref(0u32)));
    let (hash, _) = storage::new_locked_contract(entry_points, Some(named_keys), None, None);
    runtime::put_key("locked_contract", Key::Hash(hash.value()));
}
