//! Built with `-C target-feature=+sign-ext`. The session (`call`) and the entry point `narrow`
//! sign-extend a run-time value (block time / stored value) with `as i8` / `as i16` / `as i32`
//! casts, which LLVM lowers to `i64.extend8_s`, `i64.extend16_s`, `i64.extend32_s`
//! (opcodes 0xC2–0xC4) and `i32.extend8_s` / `i32.extend16_s` (0xC0, 0xC1).
//! Node 1.x rejects the module; 2.0 accepts and meters it.
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

#[inline(never)]
fn mix(v: u64) -> i64 {
    let a = (v as i8) as i64; // i64.extend8_s
    let b = ((v >> 8) as i16) as i64; // i64.extend16_s
    let c = ((v >> 16) as i32) as i64; // i64.extend32_s
    let d = ((v >> 5) as u32 as i8) as i32; // i32.extend8_s
    let e = ((v >> 3) as u32 as i16) as i32; // i32.extend16_s
    a.wrapping_mul(3) ^ b.wrapping_add(c) ^ ((d as i64) << 7) ^ ((e as i64) << 13)
}

#[no_mangle]
pub extern "C" fn narrow() {
    let v: i64 = storage::read(value()).unwrap_or_revert().unwrap_or_revert();
    let now: u64 = runtime::get_blocktime().into();
    let n = (v as u64 ^ now) as u32;
    let narrowed = ((n as i8) as i64).wrapping_add((n as i16) as i64);
    storage::write(value(), narrowed);
}

#[no_mangle]
pub extern "C" fn get() {
    let v: i64 = storage::read(value()).unwrap_or_revert().unwrap_or_revert();
    runtime::ret(CLValue::from_t(v).unwrap_or_revert());
}

fn ep(name: &str, ret: CLType) -> EntryPoint {
    EntryPoint::new(name, Vec::new(), ret, EntryPointAccess::Public, EntryPointType::Contract)
}

#[no_mangle]
pub extern "C" fn call() {
    let now: u64 = runtime::get_blocktime().into();
    let mut entry_points = EntryPoints::new();
    entry_points.add_entry_point(ep("narrow", CLType::Unit));
    entry_points.add_entry_point(ep("get", CLType::I64));
    let mut named_keys = NamedKeys::new();
    named_keys.insert(String::from("value"), Key::URef(storage::new_uref(mix(now))));
    let (hash, _) = storage::new_contract(entry_points, Some(named_keys), None, None);
    runtime::put_key("sign_ext_contract", Key::Hash(hash.value()));
}
