#!/usr/bin/env python3
"""Compares two runs of `Benchmarks/run.sh`: the p50 of every row in both, and the change.

Where a row has a limit measured in its own run (bare C, raw SQL), the change of its ratio to
that limit is shown too: it cancels drift of the machine between the two runs, which on a
shared machine can exceed the effect being measured.

    python3 Benchmarks/compare.py BEFORE/report.md AFTER/report.md [--threshold 1.10]

Each argument is the `report.md` a run writes (`Benchmarks/.results/report.md`). A row whose
p50 grew by more than the threshold is marked; limits and daf_butler columns are left out, as
they are the same work in both runs. Meant for runs made back to back on a quiet machine (for
a change, build the previous commit's benchmarks in a `git worktree` and run both).
"""
import argparse
import re
import sys

UNITS = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}


def milliseconds(text):
    match = re.fullmatch(r"\s*([0-9.]+)\s*(ns|µs|us|ms|s)\s*", text)
    return float(match.group(1)) * UNITS[match.group(2)] if match else None


def rows(path, column=1):
    """(section, benchmark) → p50 in milliseconds (or another column's number), in file order."""
    found = {}
    section = ""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if len(cells) < 3 or cells[0] in ("benchmark", "---") or set(cells[0]) <= {"-"}:
                continue
            if cells[0].startswith("**"):
                section = cells[0].strip("*")
                continue
            value = milliseconds(cells[1]) if column == 1 else number(cells[column]) if len(cells) > column else None
            if value is not None:
                found.setdefault((section, cells[0]), value)
    return found


def number(text):
    try:
        return float(text)
    except ValueError:
        return None


def show(value):
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    if value >= 1:
        return f"{value:.2f} ms"
    return f"{value * 1000:.0f} µs"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--threshold", type=float, default=1.10, help="after ÷ before above which a row is marked")
    arguments = parser.parse_args()
    before, after = rows(arguments.before), rows(arguments.after)
    # "÷ limit" is the sixth column of report.py's table.
    before_ratio, after_ratio = rows(arguments.before, 5), rows(arguments.after, 5)
    print("| benchmark | before p50 | after p50 | after ÷ before | ÷ limit, after ÷ before | |")
    print("|---|---|---|---|---|---|")
    section = None
    slower = 0
    for key, value in after.items():
        if key not in before:
            continue
        if key[0] != section:
            section = key[0]
            print(f"| **{section}** | | | | | |")
        ratio = value / before[key]
        normalized = after_ratio[key] / before_ratio[key] if before_ratio.get(key) and key in after_ratio else None
        judged = normalized if normalized is not None else ratio
        mark = f"> {arguments.threshold:.2f}" if judged > arguments.threshold else ""
        slower += bool(mark)
        shown = f"{normalized:.2f}" if normalized is not None else "—"
        print(f"| {key[1]} | {show(before[key])} | {show(value)} | {ratio:.2f} | {shown} | {mark} |")
    missing = sorted(set(before) - set(after))
    if missing:
        print(f"\nOnly in {arguments.before}: " + "; ".join(name for _, name in missing))
    print(f"\n{slower} row(s) more than {arguments.threshold:.2f}× slower (by the ratio to their limit where they have one).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
