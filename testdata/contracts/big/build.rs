//! Generates `$OUT_DIR/generated.rs`: FUNCS distinct arithmetic bodies (deterministic
//! splitmix64 stream, fixed seed), one exported entry point per body, the list of entry-point
//! names, and a `route` dispatcher (a `match` over 200 bodies → one `br_table` with 200 targets).
//! Integer operations only: no floats, no sign-extension casts, no memcpy of run-time length.
use std::{env, fmt::Write, fs, path::PathBuf};

const FUNCS: usize = 400;
const OPS_PER_FUNC: usize = 48;
const ROUTED: usize = 200;

struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn main() {
    let mut rng = SplitMix(0x00C0_FFEE_CA5E_0001);
    let mut out = String::new();
    for f in 0..FUNCS {
        writeln!(out, "#[inline(never)]\nfn body_{f:04}(mut v: u64) -> u64 {{").unwrap();
        for i in 0..OPS_PER_FUNC {
            let c = rng.next() | 1;
            let s = 1 + (rng.next() % 62);
            // Alternate operation kinds so LLVM cannot fold neighbours together.
            let line = match (i + f) % 8 {
                0 => format!("v = v.wrapping_mul({c:#x});"),
                1 => format!("v ^= v >> {s};"),
                2 => format!("v = v.wrapping_add({c:#x});"),
                3 => format!("v = v.rotate_left({s});"),
                4 => format!("if v & {:#x} == 0 {{ v = v.wrapping_sub({c:#x}); }} else {{ v ^= {:#x}; }}", 1u64 << (s % 64), c.rotate_left(17)),
                5 => format!("v = (v as u32).wrapping_mul({:#x}) as u64 ^ (v << {});", c as u32, s % 31 + 1),
                6 => format!("v ^= {c:#x};"),
                _ => format!("v = v.wrapping_sub(v >> {s}).wrapping_add({c:#x});"),
            };
            writeln!(out, "    {line}").unwrap();
        }
        writeln!(out, "    v\n}}\n").unwrap();
        writeln!(out, "#[no_mangle]\npub extern \"C\" fn ep_{f:04}() {{ store(body_{f:04}(seed())); }}\n").unwrap();
    }
    writeln!(out, "pub const ENTRY_POINTS: [&str; {FUNCS}] = [").unwrap();
    for f in 0..FUNCS {
        writeln!(out, "    \"ep_{f:04}\",").unwrap();
    }
    writeln!(out, "];\n").unwrap();
    writeln!(out, "#[inline(never)]\nfn route_value(v: u64) -> u64 {{\n    match v % {ROUTED} {{").unwrap();
    for f in 0..ROUTED {
        writeln!(out, "        {f} => body_{:04}(v),", (f * 7) % FUNCS).unwrap();
    }
    writeln!(out, "        _ => v,\n    }}\n}}").unwrap();
    let path = PathBuf::from(env::var_os("OUT_DIR").unwrap()).join("generated.rs");
    fs::write(path, out).unwrap();
    println!("cargo:rerun-if-changed=build.rs");
}
