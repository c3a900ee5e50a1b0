#!/usr/bin/env python3
"""Prints the "Pallet weights" table of docs/benchmarks.md from the generated weights.

    scripts/weights-table.py > /tmp/table.md

Reads the `SubstrateWeight` impl of each `pallets/<name>/src/weights.rs` (written by
scripts/benchmark.sh through scripts/frame-weight-template.hbs): per call, the base ref time
in µs, the ref time per unit of each component, the proof size and the database reads and
writes (with the components that scale them).
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PALLETS = [("Models", "models"), ("Devices", "devices"), ("Attestations", "attestations"),
           ("Disputes", "disputes")]

FN = re.compile(r"\tfn (\w+)\(([^)]*)\) -> Weight \{\n(.*?)\n\t\}", re.S)
BASE = re.compile(r"Weight::from_parts\(([\d_]+), (\d+)\)")
SLOPE = re.compile(r"Weight::from_parts\(([\d_]+), 0\)\.saturating_mul\((\w+)\.into\(\)\)")
DB = re.compile(r"DbWeight::get\(\)\.(reads|writes)\((\d+)\)")
DB_SLOPE = re.compile(r"DbWeight::get\(\)\.(reads|writes)\(\((\d+)_u64\)\.saturating_mul\((\w+)")


def number(text):
    return int(text.replace("_", ""))


def rows(pallet, name):
    text = (ROOT / "pallets" / name / "src" / "weights.rs").read_text()
    start = text.index("WeightInfo for SubstrateWeight<T>")
    end = text.index("\nimpl WeightInfo for ()", start)
    for call, _args, body in FN.findall(text[start:end]):
        ref, proof = BASE.search(body).groups()
        slopes = [f"{number(per) / 1e6:g} µs × {c}" for per, c in SLOPE.findall(body)]
        db = {"reads": [], "writes": []}
        for kind, count in DB.findall(body):
            db[kind].append(count)
        for kind, count, c in DB_SLOPE.findall(body):
            db[kind].append(f"{count}·{c}")
        rw = " / ".join(" + ".join(db[k]) or "0" for k in ("reads", "writes"))
        yield (f"| `{pallet}.{call}` | {number(ref) / 1e6:.1f} | {', '.join(slopes)} "
               f"| {proof} | {rw} |")


def main():
    print("| call | ref time (µs) | per component | proof size | reads / writes |")
    print("|---|---:|---|---:|---|")
    for pallet, name in PALLETS:
        for row in rows(pallet, name):
            print(row)


if __name__ == "__main__":
    sys.exit(main())
