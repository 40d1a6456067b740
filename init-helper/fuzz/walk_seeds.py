#!/usr/bin/env python3
"""Writes the path fuzzer's seed inputs (fuzz/walk-corpus/), one per attack the walker and the rules must hold
against. The byte layout is fuzz/walk_harness.c's: ops (0-1 plant a symlink, 2 a hard link or directory, 3 walk a
path, 4-7 a rule), paths as [flags, count, name indexes...] into its `names` table."""
import os

NAMES = ["", ".", "..", "bin", "lib", "lib64", "usr", "etc", "secret", "key", "data", "x", "y", "f", "hl", "up",
         "loop", "abs", "dev", "null", "proc", "self", "root", "vol", "a", "b", "s", "sub", "t", "n", "sh", "ld.so",
         "prog", "passwd", "L255", "M256", "l0", "l1", "l2", "l3", "fd", "1", "thread-self", "cwd", "tool", "d0",
         "h0", "0"]
PLANT = ["", "data", "data/x", "vol/a", "vol/a/sub", "vol/b", "usr", "bin", "vol/a/n"]
KIND = {"ro": 0, "rw": 1, "exec": 2}
SRC = {"author": 0, "optional": 1, "volume": 2}


def path(p, relative=False):
    comps = [c for c in p.split("/") if c != ""] if p != "/" else []
    return [1 if relative else 0, len(comps)] + [NAMES.index(c) for c in comps]


def symlink(where, leaf, target, relative=False):
    return [0, PLANT.index(where), int(leaf[1])] + [0] + path(target, relative)


def special(where, leaf, index):
    return [0, PLANT.index(where), int(leaf[1]), 8, index]


def rule(kind, src, p):
    return [4, KIND[kind], SRC[src]] + path(p)


def walk(p):
    return [3] + path(p)


SEEDS = {
    "subpath-second-mount": rule("rw", "volume", "/vol/a") + rule("exec", "author", "/vol/s"),
    "nested-volume-under-exec": rule("rw", "volume", "/vol/a/n") + rule("exec", "author", "/vol/a"),
    "volume-holding-exec": rule("rw", "volume", "/vol/a") + rule("exec", "author", "/vol/a/n"),
    "exec-file-in-volume": rule("rw", "volume", "/vol/a") + rule("exec", "author", "/vol/a/sub/t"),
    "symlink-to-root": symlink("data", "l0", "/") + rule("rw", "author", "/data/l0"),
    "loader-exception": rule("ro", "author", "/lib") + rule("exec", "author", "/lib64/ld.so"),
    "magic-link": special("data", "l0", 0) + rule("ro", "author", "/data/l0/secret") + walk("/proc/self/root"),
    "dotdot-out-of-volume": symlink("vol/a", "l0", "../../secret", True) + rule("ro", "volume", "/vol/a/l0"),
    "volume-link-to-root": symlink("vol/b", "l0", "/") + rule("rw", "volume", "/vol/b/l0"),
    "long-names": walk("/data/L255/f") + walk("/data/M256") + rule("ro", "author", "/data/L255"),
    "loop": symlink("data", "l1", "l1", True) + walk("/data/l1") + walk("/data/loop/x"),
    "up-and-abs": walk("/data/up/up/secret") + walk("/data/abs/data/abs/secret/key") + rule("ro", "author", "/data/up"),
    "hard-link": rule("ro", "author", "/data") + rule("exec", "author", "/data/hl") + rule("rw", "volume", "/vol/b"),
}

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "walk-corpus")
os.makedirs(here, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(bytes(data))
