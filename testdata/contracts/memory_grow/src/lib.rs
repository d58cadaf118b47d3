//! Explicit `memory.grow` (`core::arch::wasm32::memory_grow`) in the session and in the entry
//! point `grow`; the global allocator is the growing one (`fixture_support::growing_allocator!`).
//! The node adds its grow counter (`add_grow_counter`) for such modules.
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

fixture_support::growing_allocator!();

fn pages() -> URef {
    runtime::get_key("pages").unwrap_or_revert().into_uref().unwrap_or_revert()
}

#[no_mangle]
pub extern "C" fn grow() {
    let previous = core::arch::wasm32::memory_grow(0, 1);
    if previous == usize::MAX {
        runtime::revert(casper_types::ApiError::User(1));
    }
    storage::write(pages(), core::arch::wasm32::memory_size(0) as u32);
}

#[no_mangle]
pub extern "C" fn get() {
    let v: u32 = storage::read(pages()).unwrap_or_revert().unwrap_or_revert();
    runtime::ret(CLValue::from_t(v).unwrap_or_revert());
}

fn ep(name: &str, ret: CLType) -> EntryPoint {
    EntryPoint::new(name, Vec::new(), ret, EntryPointAccess::Public, EntryPointType::Contract)
}

#[no_mangle]
pub extern "C" fn call() {
    let previous = core::arch::wasm32::memory_grow(0, 2);
    if previous == usize::MAX {
        runtime::revert(casper_types::ApiError::User(2));
    }
    let mut entry_points = EntryPoints::new();
    entry_points.add_entry_point(ep("grow", CLType::Unit));
    entry_points.add_entry_point(ep("get", CLType::U32));
    let mut named_keys = NamedKeys::new();
    let now = core::arch::wasm32::memory_size(0) as u32;
    named_keys.insert(String::from("pages"), Key::URef(storage::new_uref(now)));
    let (hash, _) = storage::new_contract(entry_points, Some(named_keys), None, None);
    runtime::put_key("memory_grow_contract", Key::Hash(hash.value()));
}
