//! Benchmark input: a large module (≥ 250 KB, mostly code) that every node accepts.
//! `build.rs` generates 400 distinct integer-only function bodies, each behind an exported entry
//! point `ep_0000` … `ep_0399`, plus `route` (a 200-way `match` → `br_table` with 200 targets).
//! The session installs one contract with all 401 entry points (`big_contract`).
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

#[inline(never)]
fn seed() -> u64 {
    let v: u64 = storage::read(value()).unwrap_or_revert().unwrap_or_revert();
    let now: u64 = runtime::get_blocktime().into();
    v ^ now
}

#[inline(never)]
fn store(v: u64) {
    storage::write(value(), v);
}

include!(concat!(env!("OUT_DIR"), "/generated.rs"));

#[no_mangle]
pub extern "C" fn route() {
    store(route_value(seed()));
}

fn ep(name: &str) -> EntryPoint {
    EntryPoint::new(name, Vec::new(), CLType::Unit, EntryPointAccess::Public, EntryPointType::Contract)
}

#[no_mangle]
pub extern "C" fn call() {
    let mut entry_points = EntryPoints::new();
    for name in ENTRY_POINTS.iter() {
        entry_points.add_entry_point(ep(name));
    }
    entry_points.add_entry_point(ep("route"));
    let mut named_keys = NamedKeys::new();
    named_keys.insert(String::from("value"), Key::URef(storage::new_uref(0x1234_5678u64)));
    let (hash, _) = storage::new_contract(entry_points, Some(named_keys), None, None);
    runtime::put_key("big_contract", Key::Hash(hash.value()));
}
