//! Built with `-C target-feature=+sign-ext`. The session (`call`) and the entry point `narrow`
//! sign-extend a run-time value (block time / stored value) through `widen64` / `widen32`
//! (`as i8` / `as i16` / `as i32` casts; see testdata/README.md for the opcodes actually emitted).
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

/// Every cast result is consumed at its own width and the casts apply to the argument itself (a
/// shift before the cast would let LLVM use `shl` + `shr_s` instead): `(x as i8) as i64` on a
/// 64-bit value → `i64.extend8_s`, `as i16` → `i64.extend16_s`, `as i32` → `i64.extend32_s`; on a
/// 32-bit value consumed as `i32` → `i32.extend8_s` / `i32.extend16_s`.
#[inline(never)]
fn widen64(v: u64) -> (i64, i64, i64) {
    ((v as i8) as i64, (v as i16) as i64, (v as i32) as i64)
}

#[inline(never)]
fn widen32(v: u32) -> (i32, i32) {
    ((v as i8) as i32, (v as i16) as i32)
}

fn store_all(now: u64) -> NamedKeys {
    let (a, b, c) = widen64(now);
    let (d, e) = widen32((now >> 3) as u32);
    let mut named_keys = NamedKeys::new();
    named_keys.insert(String::from("value"), Key::URef(storage::new_uref(a ^ b ^ c)));
    named_keys.insert(String::from("w8"), Key::URef(storage::new_uref(d)));
    named_keys.insert(String::from("w16"), Key::URef(storage::new_uref(e)));
    named_keys
}

#[no_mangle]
pub extern "C" fn narrow() {
    let v: i64 = storage::read(value()).unwrap_or_revert().unwrap_or_revert();
    let now: u64 = runtime::get_blocktime().into();
    let n = v as u64 ^ now;
    let (a, b, c) = widen64(n);
    let (d, e) = widen32(n as u32);
    storage::write(value(), a.wrapping_add(b).wrapping_sub(c));
    let w8 = runtime::get_key("w8").unwrap_or_revert().into_uref().unwrap_or_revert();
    storage::write(w8, d ^ e);
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
    let named_keys = store_all(now);
    let (hash, _) = storage::new_contract(entry_points, Some(named_keys), None, None);
    runtime::put_key("sign_ext_contract", Key::Hash(hash.value()));
}
