//! Linked with `-C link-arg=--growable-table`: the function table has no maximum (the node
//! rewrites it to max 4096). The entry point `apply` calls through the table (`call_indirect`).
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

fn value() -> URef {
    runtime::get_key("value").unwrap_or_revert().into_uref().unwrap_or_revert()
}

fn read() -> u64 {
    storage::read(value()).unwrap_or_revert().unwrap_or_revert()
}

fn twice(v: u64) -> u64 {
    v.wrapping_mul(2)
}
fn plus_nine(v: u64) -> u64 {
    v.wrapping_add(9)
}
fn swap_halves(v: u64) -> u64 {
    v.rotate_left(32)
}

static OPS: [fn(u64) -> u64; 3] = [twice, plus_nine, swap_halves];

/// Entry point: applies an operation chosen at run time (block time) through the function table.
#[no_mangle]
pub extern "C" fn apply() {
    let now: u64 = runtime::get_blocktime().into();
    let op = OPS[(now % OPS.len() as u64) as usize];
    let v = op(read());
    storage::write(value(), v);
}

#[no_mangle]
pub extern "C" fn get() {
    runtime::ret(CLValue::from_t(read()).unwrap_or_revert());
}

fn ep(name: &str, ret: CLType) -> EntryPoint {
    EntryPoint::new(name, Vec::new(), ret, EntryPointAccess::Public, EntryPointType::Contract)
}

#[no_mangle]
pub extern "C" fn call() {
    let mut entry_points = EntryPoints::new();
    entry_points.add_entry_point(ep("apply", CLType::Unit));
    entry_points.add_entry_point(ep("get", CLType::U64));
    let mut named_keys = NamedKeys::new();
    named_keys.insert(String::from("value"), Key::URef(storage::new_uref(1u64)));
    let (hash, _) = storage::new_contract(entry_points, Some(named_keys), None, None);
    runtime::put_key("table_no_max_contract", Key::Hash(hash.value()));
}
