#!/usr/bin/env python3
"""Checks that every fixture in testdata/wasm really has the property it exists for, using wabt
(wasm-objdump -x / -d, wasm2wat --enable-all) plus the raw bytes, and regenerates
testdata/README.md. Called by build.sh; exits non-zero if any check fails.

    verify.py WASM_DIR README --rustc "$(rustc -vV)" --cargo .. --wabt .. --fixtures .. --derived ..
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys

SIGN_EXT = {"i32.extend8_s": 0xC0, "i32.extend16_s": 0xC1, "i64.extend8_s": 0xC2,
            "i64.extend16_s": 0xC3, "i64.extend32_s": 0xC4}
BULK = ("memory.copy", "memory.fill", "memory.init", "data.drop", "table.copy", "table.init",
        "elem.drop")


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def leb_u32(buf, pos):
    """Decodes an unsigned LEB128 at pos; returns (value, length in bytes)."""
    result = shift = 0
    start = pos
    while True:
        b = buf[pos]
        result |= (b & 0x7F) << shift
        pos += 1
        shift += 7
        if b < 0x80:
            return result, pos - start


class Module:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)[:-5]
        self.raw = open(path, "rb").read()
        self.details = run("wasm-objdump", "-x", path)
        self.headers = run("wasm-objdump", "-h", path)
        self.wat = run("wasm2wat", "--enable-all", path)
        self.sections = {}  # name -> size
        self.customs = []
        for m in re.finditer(r"^\s*(\w+) start=0x([0-9a-f]+) end=0x([0-9a-f]+) \(size=0x([0-9a-f]+)\)"
                             r"(?: count: \d+)?(?: \"([^\"]+)\")?", self.headers, re.M):
            kind, size, cname = m.group(1), int(m.group(4), 16), m.group(5)
            if kind == "Custom":
                self.customs.append(cname)
            else:
                self.sections[kind] = size
        # Disassembly: instruction -> [(file offset, function index, function name)]
        self.func_names = {}
        self.instrs = []  # (offset, func index, mnemonic + operands)
        current = None
        for line in run("wasm-objdump", "-d", path).splitlines():
            m = re.match(r"^([0-9a-f]+) func\[(\d+)\](?: <(.*)>)?:", line)
            if m:
                current = int(m.group(2))
                self.func_names[current] = m.group(3) or f"func[{current}]"
                continue
            m = re.match(r"^\s*([0-9a-f]+): [0-9a-f ]+\|\s*(.*)$", line)
            if m and current is not None and m.group(2).strip():
                self.instrs.append((int(m.group(1), 16), current, m.group(2).strip()))
        self.exports = dict()  # export name -> function index
        for m in re.finditer(r"^ - func\[(\d+)\](?: <[^>]*>)? -> \"([^\"]+)\"", self.details, re.M):
            self.exports[m.group(2)] = int(m.group(1))
        self.imports = []
        for m in re.finditer(r"^ - func\[(\d+)\] sig=\d+(?: <[^>]*>)? <- (\S+)", self.details, re.M):
            self.imports.append(m.group(2))
            self.func_names[int(m.group(1))] = m.group(2).split(".", 1)[1]
        m = re.search(r"^ - table\[0\] type=funcref initial=(\d+)(?: max=(\d+))?", self.details, re.M)
        self.table = (int(m.group(1)), m.group(2)) if m else None
        m = re.search(r"^ - memory\[0\] pages: initial=(\d+)(?: max=(\d+))?", self.details, re.M)
        self.memory = (int(m.group(1)), m.group(2)) if m else None
        self.globals = len(re.findall(r"^ - global\[\d+\] ", self.details.split("Export[")[0], re.M))
        self.types = re.findall(r"^ - type\[\d+\] (\(.*)$", self.details, re.M)

    def find(self, pred):
        return [(off, f, ins) for off, f, ins in self.instrs if pred(ins)]

    def fname(self, f):
        n = self.func_names.get(f, f"func[{f}]")
        return n if len(n) < 60 else n[:57] + "..."

    def callees(self, root):
        """Functions reachable from function `root` through direct calls (incl. root)."""
        calls = {}
        for _, f, ins in self.instrs:
            m = re.match(r"call (\d+)", ins)
            if m:
                calls.setdefault(f, set()).add(int(m.group(1)))
        seen, todo = set(), [root]
        while todo:
            f = todo.pop()
            if f in seen:
                continue
            seen.add(f)
            todo.extend(calls.get(f, ()))
        return seen

    def in_export(self, hits, export):
        reach = self.callees(self.exports[export])
        return [h for h in hits if h[1] in reach]


class Checker:
    def __init__(self):
        self.failures = []

    def __call__(self, ok, what, facts):
        if ok:
            facts.append(what)
        else:
            self.failures.append(what)
            facts.append("**FAILED**: " + what)


def where(mod, hits, limit=3):
    parts = [f"0x{off:x} in {mod.fname(f)}" for off, f, _ in hits[:limit]]
    more = f" (+{len(hits) - limit} more)" if len(hits) > limit else ""
    return ", ".join(parts) + more


def generic_facts(mod, check, facts, grow_expected=False):
    paths = sorted({p.decode() for p in re.findall(rb"[\w.\-]*(?:/[\w.\-]+)+\.rs", mod.raw)})
    foreign = [p for p in paths if p.startswith("/")
               and not p.startswith(("/rustc/", "/root/.cargo/registry/src/"))]
    rel = [p for p in paths if not p.startswith("/")]
    check(not foreign, f"embedded source paths (panic locations): {len(paths)}, all under /rustc/<commit>/, "
          f"/root/.cargo/registry/src/ (remapped CARGO_HOME) or workspace-relative"
          + (f" ({', '.join(rel)})" if rel else "") + (f"; unexpected: {foreign}" if foreign else ""),
          facts)
    grow = mod.find(lambda i: i.startswith("memory.grow"))
    if grow_expected:
        check(bool(grow), f"memory.grow: {len(grow)} at {where(mod, grow)}", facts)
    else:
        check(not grow, "no memory.grow", facts)
    check("env.memory" not in mod.imports and mod.memory is not None,
          f"defines its memory (initial {mod.memory[0] if mod.memory else '?'} pages, "
          f"{'max ' + mod.memory[1] if mod.memory and mod.memory[1] else 'no max'}), no memory import",
          facts)
    check("env.gas" not in mod.imports, "no env.gas import", facts)


def check_fixture(mod, all_mods, check):
    facts = []
    n = mod.name
    cc5 = n.endswith("_cc5")
    if cc5:
        n = n[: -len("_cc5")]
        check("env.casper_add_contract_version_with_message_topics" in mod.imports
              and "env.casper_add_contract_version" not in mod.imports,
              "node 2.x variant: imports casper_add_contract_version_with_message_topics "
              "(2.x host function), not casper_add_contract_version", facts)
    add_version = ("casper_add_contract_version_with_message_topics" if cc5
                   else "casper_add_contract_version")
    ex = mod.exports
    check("call" in ex, "exports `call`", facts)
    names = "name" in mod.customs
    facts.append("custom sections: " + (", ".join(mod.customs) if mod.customs else "none"))
    listed = sorted(ex)
    if len(listed) > 12:
        listed = listed[:5] + [f"... ({len(listed) - 8} more) ..."] + listed[-3:]
    facts.append("exports: " + ", ".join(listed))
    if mod.table:
        facts.append(f"table limits: min {mod.table[0]}, " +
                     (f"max {mod.table[1]}" if mod.table[1] else "no max"))
    ci = mod.find(lambda i: i.startswith("call_indirect"))

    def has(*wanted):
        missing = [w for w in wanted if w not in ex]
        check(not missing, "exports " + ", ".join(f"`{w}`" for w in wanted), facts)

    if n == "multi_ep":
        has("inc", "get", "dispatch", "unused_reset", "unused_double", "unused_tag")
        check(names, "name section present", facts)
        d = mod.in_export(ci, "dispatch")
        check(bool(d), f"call_indirect reachable from `dispatch`: {where(mod, d)}", facts)
        check(mod.table is not None and mod.table[0] > 1, "has a function table with entries", facts)
        generic_facts(mod, check, facts)
    elif n == "multi_ep_stripped":
        src = all_mods["multi_ep_cc5" if cc5 else "multi_ep"]
        check(not mod.customs, "no custom sections (wasm-strip)", facts)
        same = all(mod.sections.get(k) == v for k, v in src.sections.items()) and \
            set(mod.sections) == set(src.sections)
        check(same, "all non-custom sections have the sizes of multi_ep's (only custom sections removed)",
              facts)
        check(len(mod.raw) < len(src.raw), f"{len(src.raw) - len(mod.raw)} bytes smaller than multi_ep",
              facts)
        generic_facts(mod, check, facts)
    elif n == "two_contracts":
        has("inc", "get", "reset", "double")
        generic_facts(mod, check, facts)
    elif n == "locked":
        has("ping", "get", "unused_poke")
        generic_facts(mod, check, facts)
    elif n == "upgrade_install":
        has("inc", "get_v1")
        check("env.casper_create_contract_package_at_hash" in mod.imports,
              "imports casper_create_contract_package_at_hash", facts)
        generic_facts(mod, check, facts)
    elif n == "upgrade_v2":
        has("inc", "get", "reset")
        check("env." + add_version in mod.imports
              and "env.casper_create_contract_package_at_hash" not in mod.imports,
              f"imports {add_version}, not casper_create_contract_package_at_hash", facts)
        generic_facts(mod, check, facts)
    elif n == "factory":
        has("create", "child_inc", "child_get")
        reach = mod.callees(ex["create"])
        adds = [f for f, nm in mod.func_names.items() if nm == add_version]
        check(any(a in reach for a in adds),
              f"`create` reaches {add_version} (installs the child)", facts)
        generic_facts(mod, check, facts)
    elif n == "args_entry_points":
        has("alpha", "beta", "gamma", "delta")
        check("env.casper_get_named_arg" in mod.imports, "imports casper_get_named_arg", facts)
        generic_facts(mod, check, facts)
    elif n == "sign_ext":
        has("narrow", "get")
        se = mod.find(lambda i: i.split(" ")[0] in SIGN_EXT)
        kinds = sorted({i.split(" ")[0] for _, _, i in se})
        check(bool(se), f"sign-extension opcodes: {', '.join(kinds)} ({len(se)} in all)", facts)
        for off, _, ins in se:
            op = ins.split(" ")[0]
            if mod.raw[off] != SIGN_EXT[op]:
                check(False, f"raw byte at 0x{off:x} is 0x{mod.raw[off]:02x}, expected {op}", facts)
        for e in ("call", "narrow"):
            h = mod.in_export(se, e)
            check(bool(h), f"reachable from `{e}`: {where(mod, h)} "
                  f"({', '.join(sorted({i.split(' ')[0] for _, _, i in h}))})", facts)
        generic_facts(mod, check, facts)
    elif n == "memory_grow":
        has("grow", "get")
        grow = mod.find(lambda i: i.startswith("memory.grow"))
        for e in ("call", "grow"):
            h = mod.in_export(grow, e)
            check(any(f == ex[e] for _, f, _ in h),
                  f"memory.grow directly in `{e}`: {where(mod, [x for x in h if x[1] == ex[e]])}", facts)
        generic_facts(mod, check, facts, grow_expected=True)
    elif n == "table_no_max":
        has("apply", "get")
        check(mod.table is not None and mod.table[1] is None, "table has no maximum", facts)
        h = mod.in_export(ci, "apply")
        check(bool(h), f"call_indirect reachable from `apply`: {where(mod, h)}", facts)
        generic_facts(mod, check, facts)
    elif n == "bulk_memory":
        has("fill")
        bm = mod.find(lambda i: i.split(" ")[0] in BULK)
        kinds = sorted({i.split(" ")[0] for _, _, i in bm})
        check("memory.copy" in kinds and "memory.fill" in kinds,
              f"bulk-memory opcodes: {', '.join(kinds)} ({len(bm)} in all, e.g. {where(mod, bm, 2)})", facts)
        h = mod.in_export(bm, "fill")
        check(bool(h), f"reachable from `fill`: {where(mod, h, 2)}", facts)
        check(all(mod.raw[off] == 0xFC for off, _, _ in bm), "each is encoded with prefix 0xFC", facts)
        generic_facts(mod, check, facts)
    elif n == "floats":
        has("scale")
        fl = mod.find(lambda i: i.startswith(("f64.", "f32.", "i64.trunc_f", "i32.trunc_f")))
        h = mod.in_export(fl, "scale")
        kinds = sorted({i.split(" ")[0] for _, _, i in h})
        check(bool(h), f"float instructions reachable from `scale`: {', '.join(kinds)}", facts)
        outside = [x for x in fl if x not in h]
        facts.append(f"float instructions elsewhere: {len(outside)}")
        generic_facts(mod, check, facts)
    elif n == "overlong_call_indirect":
        has("apply", "get")
        over = []
        for off, f, ins in ci:
            assert mod.raw[off] == 0x11
            _, tlen = leb_u32(mod.raw, off + 1)
            tab = mod.raw[off + 1 + tlen: off + 1 + tlen + 5]
            if tab == b"\x80\x80\x80\x80\x00":
                over.append((off, f, ins))
        check(over and len(over) == len(ci),
              f"every call_indirect ({len(ci)}) has table index bytes 80 80 80 80 00", facts)
        if over:
            off = over[0][0]
            _, tlen = leb_u32(mod.raw, off + 1)
            facts.append(f"e.g. bytes at 0x{off:x}: " +
                         mod.raw[off: off + 1 + tlen + 5].hex(" "))
        h = mod.in_export(over, "apply")
        check(bool(h), f"overlong call_indirect reachable from `apply`: {where(mod, h)}", facts)
        generic_facts(mod, check, facts)
    elif n == "big":
        code = mod.sections.get("Code", 0)
        check(len(mod.raw) >= 250_000, f"size {len(mod.raw)} bytes >= 250000", facts)
        check(code * 2 > len(mod.raw), f"code section {code} bytes ({100 * code // len(mod.raw)}%)", facts)
        eps = [e for e in ex if e.startswith("ep_")]
        check(len(eps) == 400 and "route" in ex, f"{len(eps)} generated entry points ep_0000..ep_0399 + `route`",
              facts)
        fl = mod.find(lambda i: re.match(r"(f32|f64)\.|i(32|64)\.(trunc|reinterpret)", i) is not None)
        check(not fl, "no float instructions", facts)
        check(not mod.find(lambda i: i.split(" ")[0] in SIGN_EXT), "no sign-extension opcodes", facts)
        check(not mod.find(lambda i: i.split(" ")[0] in BULK), "no bulk-memory opcodes", facts)
        widths = [len(re.findall(r"\b\d+\b", re.sub(r"\(;.*?;\)", "", line.split("br_table", 1)[1])))
                  for line in mod.wat.splitlines() if "br_table" in line]
        check(widths and max(widths) <= 257,
              f"{len(widths)} br_table, largest has {max(widths) if widths else 0} labels "
              f"(targets + default; limit 256 targets)", facts)
        check(mod.globals <= 256, f"{mod.globals} globals", facts)
        maxp = max(len(re.findall(r"i32|i64|f32|f64", t.split("->")[0])) for t in mod.types)
        check(maxp <= 256, f"largest function type has {maxp} params", facts)
        generic_facts(mod, check, facts)
    else:
        check(False, f"no verification written for {n}", facts)
    if n not in ("sign_ext", "big"):
        se = mod.find(lambda i: i.split(" ")[0] in SIGN_EXT)
        check(not se, "no sign-extension opcodes", facts)
    if n not in ("bulk_memory", "big"):
        check(not mod.find(lambda i: i.split(" ")[0] in BULK), "no bulk-memory opcodes", facts)
    if n not in ("overlong_call_indirect",):
        bad = []
        for off, f, ins in ci:
            _, tlen = leb_u32(mod.raw, off + 1)
            if mod.raw[off + 1 + tlen] != 0x00:
                bad.append(off)
        check(not bad, f"call_indirect table index is the single byte 00 ({len(ci)} call_indirect)", facts)
    return facts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wasm_dir")
    ap.add_argument("readme")
    ap.add_argument("--rustc", required=True)
    ap.add_argument("--cargo", required=True)
    ap.add_argument("--wabt", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--derived", required=True)
    ap.add_argument("--reproducible", default="not checked")
    ap.add_argument("--remap", required=True)
    a = ap.parse_args()

    rows = []
    for line in a.fixtures.strip().splitlines():
        name, flagset, flags, what = line.split("|", 3)
        enc = "\\x1f".join(([] if flags == "-" else flags.split(" ")) + [a.remap])
        cmd = (f"CARGO_ENCODED_RUSTFLAGS=$'{enc}' cargo build --release --locked --target wasm32v1-none "
               f"-p {name} --target-dir target/{flagset}")
        rows.append((name, "none" if flags == "-" else flags, cmd, what))
    for line in a.derived.strip().splitlines():
        name, src, cmd, what = line.split("|", 3)
        rows.append((name, f"(from {src})", f"{cmd}  # in testdata/wasm", what))

    check = Checker()
    mods = {name: Module(os.path.join(a.wasm_dir, name + ".wasm")) for name, *_ in rows}
    facts = {name: check_fixture(mods[name], mods, check) for name, *_ in rows}

    rustc = dict(l.split(": ", 1) for l in a.rustc.splitlines() if ": " in l)
    out = []
    w = out.append
    w("# testdata\n")
    w("Fixture session Wasm for the oracle harness (`docs/oracle-harness.md`), scenarios in\n"
      "`scenarios.json`. **Generated by `testdata/contracts/build.sh`; do not edit by hand.**\n")
    w("Two families of fixtures, from the same sources:\n")
    w("- `<name>.wasm`: built against casper-contract 4.0.0 / casper-types 4.0.2 (node 1.x host API). "
      "Node 2.x cannot install contracts from them: it reads the entry points passed to "
      "`casper_add_contract_version` in the casper-types 5 layout (`EntityEntryPoint`, one more "
      "`EntryPointPayment` byte per entry point) and fails with \"Deserialization error: formatting\".")
    w("- `<name>_cc5.wasm`: the same source files (crates under `contracts/cc5/` point at them) built "
      "against casper-contract 5.0.0 / casper-types 5.0.1 through the thin shim `contracts/compat-v2/` "
      "(4.0-shaped `EntryPoint::new` / `new_contract` / `add_contract_version`; payment "
      "`EntryPointPayment::Caller`). They install through `casper_add_contract_version_with_message_topics`, "
      "a 2.x-only host function, so node 1.x rejects them at instantiation. `bulk_memory` and `floats` have "
      "no `_cc5` variant: every node rejects them before the session runs.\n")
    w("## Provenance\n")
    w(f"- rustc: `{rustc.get('release')}` (commit `{rustc.get('commit-hash')}`, "
      f"{rustc.get('commit-date')}), host `{rustc.get('host')}`, LLVM {rustc.get('LLVM version')}")
    w(f"- cargo: `{a.cargo}`; wabt: `{a.wabt}`")
    w("- target `wasm32v1-none` (MVP core/alloc + mutable-globals); toolchain pinned by "
      "`testdata/contracts/rust-toolchain.toml`; dependencies pinned by `testdata/contracts/Cargo.lock` "
      "(casper-contract 4.0.0 and casper-types 4.0.2, both `default-features = false`)")
    w("- release profile: `lto = true`, `codegen-units = 1`, `panic = \"abort\"`, `opt-level = \"z\"`; "
      "panic handler (`unreachable`) and allocators from `testdata/contracts/fixture-support` (static-arena "
      "bump allocator, no `memory.grow`; `memory_grow` uses the growing one)")
    w("- build everything: `testdata/contracts/build.sh` (add `--check` to rebuild every fixture in a "
      "fresh target directory and require identical bytes). Per-fixture commands below run in "
      "`testdata/contracts/`; output `target/<flagset>/wasm32v1-none/release/<name>.wasm`.")
    w(f"- reproducibility: {a.reproducible}. Checked once by hand (2026-11-21): a copy of the sources "
      "in another directory (/tmp), built with another target directory, gave the same multi_ep.wasm, "
      "so checkout paths do not leak into the bytes.\n")
    w("## Fixtures\n")
    w("| fixture | bytes | sha256 | RUSTFLAGS | demonstrates |")
    w("|---|---:|---|---|---|")
    for name, flags, cmd, what in rows:
        raw = mods[name].raw
        w(f"| `{name}.wasm` | {len(raw)} | `{hashlib.sha256(raw).hexdigest()}` | "
          f"{'`' + flags + '`' if flags != 'none' else 'none'} | {what} |")
    w("\n### Exact build commands\n")
    w("Run in `testdata/contracts/`. Every build adds `--remap-path-prefix=<CARGO_HOME>=/root/.cargo`: a few "
      "outputs embed panic-location paths of registry sources, and the committed bytes were built with "
      "CARGO_HOME `/root/.cargo`; the commands show this machine's CARGO_HOME (build.sh fills in yours).\n")
    w("```sh")
    for name, flags, cmd, what in rows:
        w(cmd)
    w("```\n")
    scen_path = os.path.join(os.path.dirname(os.path.abspath(a.readme)), "scenarios.json")
    scenarios = json.load(open(scen_path))["scenarios"]
    used = set()
    w("## Scenarios (`scenarios.json`)\n")
    w("| scenario | steps |")
    w("|---|---|")
    for sc in scenarios:
        steps = []
        for st in sc["steps"]:
            if "session" in st:
                used.add(st["session"])
                check(os.path.exists(os.path.join(a.wasm_dir, st["session"])),
                      f"scenario {sc['name']}: {st['session']} exists", [])
                arg = f" args {json.dumps(st['args'])}" if st.get("args") else ""
                steps.append(f"session `{st['session']}`{arg}")
            else:
                c = st["call"]
                steps.append(f"call `{c['named_key']}`.`{c['entry_point']}`")
        w(f"| `{sc['name']}` | {'; '.join(steps)} |")
    for name, *_ in rows:
        check(f"{name}.wasm" in used, f"fixture {name} is used by a scenario", [])
    w("")
    w("## Verified properties\n")
    w("Checked by `testdata/contracts/verify.py` (run by `build.sh`, which fails if any check fails) "
      "from `wasm-objdump -h/-x/-d`, `wasm2wat --enable-all` and the raw bytes. Offsets are file "
      "offsets; \"reachable from `x`\" = in the export `x` or a function it calls directly or "
      "transitively (direct calls only).\n")
    for name, *_ in rows:
        w(f"### `{name}.wasm`\n")
        for f in facts[name]:
            w(f"- {f}")
        w("")
    open(a.readme, "w").write("\n".join(out).rstrip("\n") + "\n")
    if check.failures:
        print("verification FAILED:\n  " + "\n  ".join(check.failures), file=sys.stderr)
        sys.exit(1)
    print(f"verified {len(rows)} fixtures; wrote {a.readme}", file=sys.stderr)


if __name__ == "__main__":
    main()
