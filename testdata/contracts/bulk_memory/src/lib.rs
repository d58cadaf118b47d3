//! Built with `-C target-feature=+bulk-memory`: LLVM lowers `memcpy`/`memset` of run-time length to
//! `memory.copy` / `memory.fill` (prefix 0xFC). The entry point `fill` and the session use buffers
//! whose length depends on block time. Every Casper node rejects the module at deserialisation.
#![no_std]

extern crate alloc;

use alloc::{string::String, vec, vec::Vec};

use casper_contract::{
    contract_api::{runtime, storage},
    unwrap_or_revert::UnwrapOrRevert,
};
use casper_types::{
    contracts::NamedKeys, CLType, EntryPoint, EntryPointAccess, EntryPointType, EntryPoints, Key,
    URef,
};

fixture_support::bump_allocator!();

fn data() -> URef {
    runtime::get_key("data").unwrap_or_revert().into_uref().unwrap_or_revert()
}

#[inline(never)]
fn make(len: usize, byte: u8) -> Vec<u8> {
    let src = vec![byte; len]; // memset → memory.fill
    let mut dst = vec![0u8; len + 8];
    dst[8..].copy_from_slice(&src); // memcpy → memory.copy
    dst
}

#[no_mangle]
pub extern "C" fn fill() {
    let now: u64 = runtime::get_blocktime().into();
    storage::write(data(), make(16 + (now % 97) as usize, now as u8));
}

fn ep(name: &str, ret: CLType) -> EntryPoint {
    EntryPoint::new(name, Vec::new(), ret, EntryPointAccess::Public, EntryPointType::Contract)
}

#[no_mangle]
pub extern "C" fn call() {
    let now: u64 = runtime::get_blocktime().into();
    let mut entry_points = EntryPoints::new();
    entry_points.add_entry_point(ep("fill", CLType::Unit));
    let mut named_keys = NamedKeys::new();
    let initial = make(32 + (now % 31) as usize, 0x5a);
    named_keys.insert(String::from("data"), Key::URef(storage::new_uref(initial)));
    let (hash, _) = storage::new_contract(entry_points, Some(named_keys), None, None);
    runtime::put_key("bulk_memory_contract", Key::Hash(hash.value()));
}
