#!/usr/bin/env python3
"""Whole-process timing of several commands, interleaved: each round runs every command once, in
turn, so that a machine whose speed drifts (a shared VM) slows them all alike. Reports, per
command, the median wall time (spawn to exit) and the median CPU time (user + system, from wait4)
and their ratios to the first command.

    benches/interleaved.py ROUNDS '["/path/cmd", "arg", ...]' '["/path/other", ...]' ...

Each command is a JSON array (argv; the program as a path). Five warm-up rounds are not counted.
A command that exits non-zero stops the run. benches/replay-process.sh uses it to put
`casper-repro replay` next to the engine's own pipeline.
"""
import json
import os
import statistics
import sys
import time

if len(sys.argv) < 3:
    sys.exit(__doc__)
rounds = int(sys.argv[1])
cmds = [json.loads(a) for a in sys.argv[2:]]
devnull = os.open(os.devnull, os.O_WRONLY)
quiet = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
wall = [[] for _ in cmds]
cpu = [[] for _ in cmds]
for r in range(rounds + 5):
    for i, c in enumerate(cmds):
        t0 = time.perf_counter()
        pid = os.posix_spawn(c[0], c, os.environ, file_actions=quiet)
        _, status, usage = os.wait4(pid, 0)
        t1 = time.perf_counter()
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"error: {c} exited with {os.waitstatus_to_exitcode(status)}")
        if r >= 5:
            wall[i].append(t1 - t0)
            cpu[i].append(usage.ru_utime + usage.ru_stime)
base_wall = statistics.median(wall[0])
base_cpu = statistics.median(cpu[0])
for i, c in enumerate(cmds):
    w = statistics.median(wall[i])
    u = statistics.median(cpu[i])
    print(
        f"  {os.path.basename(c[0]):<16} {' '.join(c[1:3])[:28]:<28} "
        f"wall median {w * 1e3:6.2f} ms  ratio {w / base_wall:5.3f}   "
        f"cpu median {u * 1e3:6.2f} ms  ratio {u / base_cpu:5.3f}"
    )
