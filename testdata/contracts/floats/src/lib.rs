//! The entry point `scale` does f64 arithmetic on a run-time value (stored value and block time):
//! `f64.convert_i64_u`, `f64.mul`, `f64.add`, `f64.div`, `i64.trunc_f64_u`. Casper's gas rules
//! forbid float instructions, so every node rejects the module during gas injection.
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
pub extern "C" fn scale() {
    let v: u64 = storage::read(value()).unwrap_or_revert().unwrap_or_revert();
    let now: u64 = runtime::get_blocktime().into();
    let x = v as f64 * 1.0625 + (now % 1000) as f64 / 3.0;
    storage::write(value(), x as u64);
}

fn ep(name: &str, ret: CLType) -> EntryPoint {
    EntryPoint::new(name, Vec::new(), ret, EntryPointAccess::Public, EntryPointType::Contract)
}

#[no_mangle]
pub extern "C" fn call() {
    let mut entry_points = EntryPoints::new();
    entry_points.add_entry_point(ep("scale", CLType::Unit));
    let mut named_keys = NamedKeys::new();
    named_keys.insert(String::from("value"), Key::URef(storage::new_uref(1000u64)));
    let (hash, _) = storage::new_contract(entry_points, Some(named_keys), None, None);
    runtime::put_key("floats_contract", Key::Hash(hash.value()));
}
