#!/usr/bin/env python3
"""Print the per-protocol fidelity table of docs/fidelity.md from the committed engine answers
(testdata/oracle). For each mainnet protocol version: the engines that ran it, how many stored
modules and rejections they produced (each is compared byte for byte / message for message by
crates/repro-core/tests/oracle.rs), and the scenarios covered."""
import json, pathlib, collections

root = pathlib.Path(__file__).resolve().parent.parent
mainnet = ["1.4.1", "1.4.3", "1.4.4", "1.4.5", "1.4.6", "1.4.8", "1.4.9", "1.4.13", "1.4.15", "1.5.2",
           "1.5.3", "1.5.5", "1.5.6", "1.5.7", "1.5.8", "2.0.0", "2.0.3", "2.2.0"]
rows = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0, 0, set()]))
for f in sorted((root / "testdata/oracle").glob("ee-*/*/*.json")):
    d = json.loads(f.read_text())
    engine = f.parts[-3]
    r = rows[d["protocol"]][engine]
    r[3].add(d["scenario"])
    for s in d["steps"]:
        if s["success"]:
            r[0] += len(s["contracts"])
        elif s.get("error") and "preprocessing" in s["error"].lower():
            r[1] += 1
        else:
            r[2] += 1
print("| protocol | engine(s) that ran it | stored modules byte-identical | preprocessing rejections identical | other engine failures (host, named keys) | scenarios |")
print("|---|---|---|---|---|---|")
for v in mainnet:
    if v not in rows:
        print(f"| {v} | — | — | — | — | — |")
        continue
    for engine, (stored, rej, other, sc) in sorted(rows[v].items()):
        print(f"| {v} | {engine} | {stored} | {rej} | {other} | {len(sc)} |")
