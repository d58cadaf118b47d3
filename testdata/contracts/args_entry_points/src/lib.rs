//! Reads the runtime argument `entry_points: Vec<String>` and installs a contract whose entry
//! points are exactly those names. The module exports `alpha`, `beta`, `gamma`, `delta`; the
//! stored module keeps only the ones named. Contract hash under `args_entry_points_contract`.
#![no_std]

extern crate alloc;

use alloc::{string::String, vec::Vec};

use casper_contract::{
    contract_api::{runtime, storage},
    unwrap_or_revert::UnwrapOrRevert,
};
use casper_types::{
    contracts::NamedKeys, CLType, EntryPoint, EntryPointAccess, EntryPointType, EntryPoints, Key,
    URef,
};

fixture_support::bump_allocator!();

fn value() -> URef {
    runtime::get_key("value").unwrap_or_revert().into_uref().unwrap_or_revert()
}

#[no_mangle]
pub extern "C" fn alpha() {
    storage::add(value(), 1u64);
}

#[no_mangle]
pub extern "C" fn beta() {
    storage::add(value(), 10u64);
}

#[no_mangle]
pub extern "C" fn gamma() {
    let v: u64 = storage::read(value()).unwrap_or_revert().unwrap_or_revert();
    storage::write(value(), v.wrapping_mul(3));
}

#[no_mangle]
pub extern "C" fn delta() {
    storage::write(value(), 0u64);
}

#[no_mangle]
pub extern "C" fn call() {
    let names: Vec<String> = runtime::get_named_arg("entry_points");
    let mut entry_points = EntryPoints::new();
    for name in names {
        entry_points.add_entry_point(EntryPoint::new(
            name,
            Vec::new(),
            CLType::Unit,
            EntryPointAccess::Public,
            EntryPointType::Contract,
        ));
    }
    let mut named_keys = NamedKeys::new();
    named_keys.insert(String::from("value"), Key::URef(storage::new_uref(0u64)));
    let (hash, _) = storage::new_contract(entry_points, Some(named_keys), None, None);
    runtime::put_key("args_entry_points_contract", Key::Hash(hash.value()));
}
