//! Session `call` installs one contract with entry points `inc`, `get`, `dispatch`.
//!
//! Dead code the node must strip from the stored module: the exported functions `unused_reset`,
//! `unused_double` and `unused_tag` (exported, `#[no_mangle]`, but not entry points) and the
//! session `call` itself. `dispatch` picks an operation at run time (block time) from an array of
//! function pointers and from trait objects, so the module has a function table and
//! `call_indirect`.
#![no_std]

extern crate alloc;

use alloc::{boxed::Box, string::String, vec, vec::Vec};

use casper_contract::{
    contract_api::{runtime, storage},
    unwrap_or_revert::UnwrapOrRevert,
};
use casper_types::{
    contracts::NamedKeys, CLType, CLValue, EntryPoint, EntryPointAccess, EntryPointType,
    EntryPoints, Key, URef,
};

fixture_support::bump_allocator!();

const COUNTER: &str = "counter";
const CONTRACT_KEY: &str = "multi_ep_contract";

fn counter() -> URef {
    runtime::get_key(COUNTER).unwrap_or_revert().into_uref().unwrap_or_revert()
}

fn read_counter() -> u64 {
    storage::read(counter()).unwrap_or_revert().unwrap_or_revert()
}

// --- operations chosen at run time (function table) ---------------------------------------------

fn op_add_one(v: u64) -> u64 {
    v.wrapping_add(1)
}
fn op_add_seven(v: u64) -> u64 {
    v.wrapping_add(7)
}
fn op_times_three(v: u64) -> u64 {
    v.wrapping_mul(3)
}
fn op_xor_mask(v: u64) -> u64 {
    v ^ 0x5a5a
}

static OPS: [fn(u64) -> u64; 4] = [op_add_one, op_add_seven, op_times_three, op_xor_mask];

trait Step {
    fn apply(&self, v: u64) -> u64;
}
struct Shift(u32);
struct Rotate(u32);
impl Step for Shift {
    fn apply(&self, v: u64) -> u64 {
        v << (self.0 & 7)
    }
}
impl Step for Rotate {
    fn apply(&self, v: u64) -> u64 {
        v.rotate_left(self.0)
    }
}

// --- entry points --------------------------------------------------------------------------------

#[no_mangle]
pub extern "C" fn inc() {
    storage::add(counter(), 1u64);
}

#[no_mangle]
pub extern "C" fn get() {
    runtime::ret(CLValue::from_t(read_counter()).unwrap_or_revert());
}

#[no_mangle]
pub extern "C" fn dispatch() {
    let now: u64 = runtime::get_blocktime().into();
    let op = OPS[(now % OPS.len() as u64) as usize];
    let steps: Vec<Box<dyn Step>> = if now & 1 == 0 {
        vec![Box::new(Shift(now as u32)), Box::new(Rotate(3))]
    } else {
        vec![Box::new(Rotate(now as u32)), Box::new(Shift(2))]
    };
    let mut v = op(read_counter());
    for s in &steps {
        v = s.apply(v);
    }
    storage::write(counter(), v);
}

// --- dead code: exported, but never an entry point -----------------------------------------------

#[no_mangle]
pub extern "C" fn unused_reset() {
    storage::write(counter(), 0u64);
}

#[no_mangle]
pub extern "C" fn unused_double() {
    let v = read_counter();
    storage::write(counter(), v.wrapping_mul(2));
}

#[no_mangle]
pub extern "C" fn unused_tag() {
    let tag: String = runtime::get_named_arg("tag");
    runtime::put_key(&tag, Key::URef(counter()));
}

// --- session ---------------------------------------------------------------------------------------

fn ep(name: &str, ret: CLType) -> EntryPoint {
    EntryPoint::new(name, Vec::new(), ret, EntryPointAccess::Public, EntryPointType::Contract)
}

#[no_mangle]
pub extern "C" fn call() {
    let mut entry_points = EntryPoints::new();
    entry_points.add_entry_point(ep("inc", CLType::Unit));
    entry_points.add_entry_point(ep("get", CLType::U64));
    entry_points.add_entry_point(ep("dispatch", CLType::Unit));

    let mut named_keys = NamedKeys::new();
    named_keys.insert(String::from(COUNTER), Key::URef(storage::new_uref(0u64)));

    let (contract_hash, _version) = storage::new_contract(entry_points, Some(named_keys), None, None);
    runtime::put_key(CONTRACT_KEY, Key::Hash(contract_hash.value()));
}
