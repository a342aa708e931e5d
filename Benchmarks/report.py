#!/usr/bin/env python3
"""One table of every benchmark of a run: p50, p90, the limit it is compared with (measured in
the same run), the ratio to that limit and to daf_butler doing the same work in the same run.

Reads the `histogramPercentiles` files that `swift package benchmark --format
histogramPercentiles --path DIR` writes (one TSV per benchmark and metric). `run.sh` calls it.
"""
import argparse
import datetime
import os
import platform
import re
import sys

KINDS = ["fits-none", "fits-gzip", "hdf5"]
ENGINES = ["sqlite", "postgresql"]
SIZES = {"1000": "10³", "100000": "10⁵", "1000000": "10⁶", "10000000": "10⁷"}

# A row: (section, target, benchmark, limit benchmark or None, limit label, daf key, goal).
# A goal is (description, test of the ratio to the limit), (description, test of the ratio to
# daf_butler) or (description, test of the p50 in µs), told apart by its first word.
def rows():
    small = [
        ("butler put (JSON, fsync)", "limit put: write+fsync+link file, INSERT row (raw sqlite3)", "put"),
        ("butler put (JSON, datastore fsync off)", "limit put without fsync: write+link file, INSERT row (raw sqlite3)", "put"),
        ("butler get by data ID", "limit get: SELECT by data ID (raw sqlite3) + read(2)", "get data ID"),
        ("butler get by ref", "limit get by ref: SELECT by id (raw sqlite3) + read(2)", "get ref"),
        ("butler query all 1000 refs", "limit query all: SELECT 1000 rows (raw sqlite3)", "query all"),
        ("butler filtered query (visit = 42)", "limit filtered query: SELECT WHERE visit = 42 (raw sqlite3)", "filtered"),
    ]
    for name, limit, daf in small:
        yield ("Small datasets (1000 JSON datasets, SQLite)", "SmallDatasets", name, limit, "raw sqlite3 + POSIX", daf,
               ("daf ≥ 50", lambda r: r >= 50))
    # Issue 10: a single put within 1.2× of its raw limit; a batch ≥ 50× daf_butler per dataset.
    yield ("Small datasets (1000 JSON datasets, SQLite)", "SmallDatasets", "butler put (JSON, fsync)",
           "limit put: write+fsync+link file, INSERT row (raw sqlite3)", "raw sqlite3 + POSIX", None,
           ("limit ≤ 1.2", lambda r: r <= 1.2))
    yield ("Small datasets (1000 JSON datasets, SQLite)", "SmallDatasets", "butler put batch of 100 (JSON, fsync)",
           "limit put batch of 100: write 100 files, syncfs, one transaction (raw sqlite3)", "raw sqlite3 + POSIX, same batch", "put",
           ("daf ≥ 50", lambda r: r >= 50))
    near_bare = ("limit ≤ 1.10", lambda r: r <= 1.10)
    for kind in KINDS:
        section = f"Images, 4096² Exposure ({kind})"
        yield (section, "Images", f"4k full: butler get ({kind})", f"4k full: bare C ({kind})", "bare C", "full", near_bare)
        yield (section, "Images", f"4k full: formatter ({kind})", f"4k full: bare C ({kind})", "bare C", None, near_bare)
        yield (section, "Images", f"4k cutout 256²: butler get ({kind})", f"4k cutout 256²: bare C ({kind})", "bare C", "cutout", near_bare)
        yield (section, "Images", f"4k cutout 256²: formatter ({kind})", f"4k cutout 256²: bare C ({kind})", "bare C", None, near_bare)
        for size in ["1k", "8k"]:
            yield (section, "Images", f"{size} cutout 256²: formatter ({kind})", f"{size} cutout 256²: bare C ({kind})", "bare C", None, near_bare)
        yield (section, "Images", f"8k cutout 256²: formatter ({kind})", f"1k cutout 256²: formatter ({kind})",
               "same at 1k² (scaling)", None, ("limit ≤ 1.5 (flat)", lambda r: r <= 1.5))
    # Issue 14: checksums by measurement (no goal in the issue): a pass over the 192 MiB file
    # against reading it.
    section = "Checksums of a 192 MiB artifact (4096² Exposure, FITS)"
    for algorithm in ["crc32c", "sha256"]:
        yield (section, "Images", f"4k checksum: {algorithm} (fits-none)", "4k file bytes: read(2) (fits-none)", "read(2) of the file", None, None)
    section = "Components and layouts, 4096² Exposure"
    yield (section, "Images", "4k component wcs: butler get (single-file FITS)", "4k component limit: bare C header keys (single-file FITS)", "bare C header keys", "component", None)
    yield (section, "Images", "4k component bbox: butler get (single-file FITS)", "4k component limit: bare C header keys (single-file FITS)", "bare C header keys", "component", None)
    yield (section, "Images", "4k component wcs: butler get (disassembled)", "4k component limit: read(2) of the wcs artifact (disassembled)", "read(2) of the artifact", "component", None)
    yield (section, "Images", "4k component bbox: butler get (disassembled)", "4k component limit: bare C header keys of the image artifact (disassembled)", "bare C header keys", "component", None)
    for label in ["FITS GZIP tiles", "HDF5 chunked"]:
        for component in ["wcs", "bbox"]:
            yield (section, "Images", f"4k component {component}: butler get ({label})", f"4k component limit: bare C header keys ({label})",
                   "bare C header keys" if label.startswith("FITS") else "bare HDF5 attributes", "component", None)
    for size in ["1k", "8k"]:
        yield (section, "Images", f"{size} component wcs: butler get (single-file FITS)", f"{size} component limit: bare C header keys (single-file FITS)", "bare C header keys", "component", None)
        yield (section, "Images", f"{size} component wcs: butler get (single-file FITS)", "4k component wcs: butler get (single-file FITS)", "same at 4k² (scaling)", None, ("limit ≤ 1.5 (flat)", lambda r: r <= 1.5))
    yield (section, "Images", "4k full: butler get (disassembled)", "4k full: bare C (fits-none)", "bare C, single file", "full", None)
    yield (section, "Images", "4k cutout 256²: butler get (disassembled)", "4k cutout 256²: bare C (fits-none)", "bare C, single file", "cutout", None)
    yield (section, "Images", "4k file bytes: read(2) (fits-none)", None, "a limit itself (full reads)", None, None)
    for engine in ENGINES:
        section = f"Registry scale ({engine})"
        for operation, limit, label, daf in [
            ("get by data ID", "limit get: raw SQL + read(2)", "raw SQL + read(2)", "get data ID"),
            ("filtered query (visit = v, 100 refs)", "limit filtered query: raw SQL", "raw SQL", "filtered"),
        ]:
            first = f"{operation}, 1000 datasets ({engine})"
            # 10⁷ datasets on SQLite only (see ScaleRepos.sizes in Benchmarks/Scale/Scale.swift).
            sizes = ["1000", "100000", "1000000"] + (["10000000"] if engine == "sqlite" else [])
            for size in sizes:
                # daf_butler ran the small-dataset workloads on SQLite with 10³ datasets only.
                same = daf if engine == "sqlite" and size == "1000" and daf == "get data ID" else None
                yield (section, "Scale", f"{operation}, {size} datasets ({engine})", f"{limit}, {size} datasets ({engine})",
                       label, same, None)
            for size in sizes[1:]:
                yield (section, "Scale", f"{operation}, {size} datasets ({engine})", first, "same at 10³ (scaling)", None,
                       ("limit ≤ 2", lambda r: r <= 2))
        section = f"Concurrency: 1000 gets by data ID ({engine}, 2 cores)"
        single = f"1000 gets by data ID in 1 concurrent task(s) ({engine})"
        yield (section, "Scale", single, None, "the reference below", None, None)
        for tasks in [2, 4]:
            yield (section, "Scale", f"1000 gets by data ID in {tasks} concurrent task(s) ({engine})", single, "1 task",
                   None, ("limit < 0.9 (throughput grows)", lambda r: r < 0.9))


    # Issue 11: a calibration look-up ≤ 1 ms p50, the 10⁵ × 10 temporal join ≤ 2 s, a query on a
    # dataset field over 10⁶ datasets within 2× of the same-sized query on a dimension.
    section = "Discovery: calibrations and dataset fields (SQLite)"
    yield (section, "Discovery", "calibration lookup: bias by exposure (sqlite)",
           "limit calibration lookup: one SELECT joining exposure and validity (raw sqlite3)", "raw sqlite3", "calibration lookup",
           ("p50 ≤ 1 ms", lambda p50: p50 <= 1000))
    yield (section, "Discovery", "temporal join: biases of 10⁵ exposures × 10 detectors (sqlite)",
           "limit temporal join: the same join's rows (raw sqlite3)", "raw sqlite3, same statement", "temporal join",
           ("p50 ≤ 2 s", lambda p50: p50 <= 2e6))
    yield (section, "Discovery", "query on a dataset field (100 refs), 10⁶ datasets (sqlite)",
           "query on a dimension (visit = v, 100 refs), 10⁶ datasets (sqlite)", "same query on a dimension", None,
           ("limit ≤ 2", lambda r: r <= 2))

    # Issue 12: a point's HTM20 index ≤ 300 ns and HEALPix pixel ≤ 50 ns, the HTM11 envelope of a
    # 0.1° circle ≤ 10 µs (references: lsst-sphgeom and hpgeom from Python in this run), the
    # spatial join of 10⁶ detector regions against one patch ≤ 100 ms p50 on SQLite.
    section = "Sky: pixelizations, coverings, spatial join"
    yield (section, "Spatial", "point → HTM20, 1000 points", None, "lsst-sphgeom in the × daf_butler column", "htm20 index",
           ("p50 ≤ 300 ns", lambda p50: p50 <= 0.3))
    yield (section, "Spatial", "point → HEALPix nested order 20, 1000 points", None, "hpgeom (numpy) in the × daf_butler column",
           "healpix pixel", ("p50 ≤ 50 ns", lambda p50: p50 <= 0.05))
    yield (section, "Spatial", "HTM11 envelope of a 0.1° circle", None, "lsst-sphgeom in the × daf_butler column", "htm11 envelope",
           ("p50 ≤ 10 µs", lambda p50: p50 <= 10))
    yield (section, "Spatial", "HEALPix order 11 envelope of a 0.1° circle", None, "lsst-sphgeom (over hpgeom) in the × daf_butler column",
           "healpix11 envelope", None)
    yield (section, "Spatial", "spatial join: 10⁶ detector regions × one patch (sqlite)",
           "limit spatial join: the coarse join's rows (raw sqlite3)", "raw sqlite3, coarse join only", None,
           ("p50 ≤ 100 ms", lambda p50: p50 <= 1e5))

    # Issue 13: packing 10⁷ data IDs in arrays at ≥ 50 M/s (≤ 20 ns an ID); the other rows have
    # no goal in the issue.
    section = "Skymaps and packers"
    yield (section, "Tracts", "register HSC rings skymap (18,938 tracts, 1,533,978 patches, sqlite)",
           "limit register HSC: the same rows by raw sqlite3", "raw sqlite3, rows computed beforehand", None, None)
    yield (section, "Tracts", "register 200 HSC-sized tracts (16,200 patches, sqlite)", None,
           "daf_butler inserting the same records in the × daf_butler column", "skymap records", None)
    yield (section, "Tracts", "findTract (HSC rings), 1000 points", "limit findTract: the ring arithmetic in C, 1000 points",
           "bare C, same arithmetic", None, None)
    yield (section, "Tracts", "pack 10⁷ visit × detector IDs (arrays)", "limit pack: bare C loop over 10⁷ IDs", "bare C loop",
           "pack data ID", ("p50 ≤ 20 ns", lambda p50: p50 <= 0.02))

    # Issue 16: the same calls from Python through our package (bindings_bench.py) over the Swift
    # calls (the Bindings target) on one repository: the binding costs ≤ 10% (limit ≤ 1.10), so
    # that the Swift goals against daf_butler hold from Python too.
    section = "Bindings: the Python package over the Swift calls"
    binding = ("limit ≤ 1.10", lambda r: r <= 1.10)
    yield (section, "Bindings", "python get data ID", "swift get by data ID (metrics)", "the Swift call", "get data ID", binding)
    yield (section, "Bindings", "python component", "swift component get (calexp.wcs)", "the Swift call", "component", binding)
    yield (section, "Bindings", "python cutout", "swift 4k cutout 256² (calexp)", "the Swift call", "cutout", binding)
    for name in ["swift get by data ID (metrics)", "swift component get (calexp.wcs)", "swift 4k cutout 256² (calexp)"]:
        yield (section, "Bindings", name, None, None, None, None)


    # Issue 14: remote storage beside the bare client doing the same request in the same run
    # (no goal in the issue for these rows), and a cache hit ≤ 1 ms p50.
    section = "Remote storage: small JSON datasets on S3 (moto) and HTTP (nginx)"
    yield (section, "Remote", "S3 small put: butler put (JSON)", "S3 small put limit: bare PUT (async-http-client)",
           "bare async-http-client PUT", "s3 put", None)
    yield (section, "Remote", "S3 small get (not cached): butler get by data ID", "S3 small get limit: bare GET (async-http-client)",
           "bare async-http-client GET", "s3 get", None)
    yield (section, "Remote", "HTTP small get (not cached): butler get by data ID", "HTTP small get limit: bare GET (async-http-client)",
           "bare async-http-client GET", None, None)
    yield (section, "Remote", "cache hit: butler get by data ID (S3, cached)", "local get: butler get by data ID (POSIX)",
           "the same get on POSIX", None, ("p50 ≤ 1 ms", lambda p50: p50 <= 1000))
    # Point 6: cutouts of remote artifacts by byte range, beside the bare client fetching the
    # same ranges in parallel (bytes and requests: ranged_reads_table).
    section = "Remote cutouts by byte range: 4096² Exposure (and its image plane) on S3 (moto) and HTTP (nginx)"
    for remote in ["S3", "HTTP"]:
        for fmt in ["FITS gzip tiles 256²", "HDF5 chunks 256²", "FITS image gzip tiles 256²"]:
            for box in ["256²", "51×51"]:
                label = f"{remote} cutout {box} ({fmt})"
                yield (section, "Remote", f"{label}: butler get", f"{label} limit: bare ranged GETs",
                       "bare async-http-client, same ranges", None, None)


# Rows whose iteration is a batch: their figures are divided by the batch size (per dataset,
# per point).
PER_ITERATION = {"butler put batch of 100 (JSON, fsync)": (100, "dataset"),
                 "limit put batch of 100: write 100 files, syncfs, one transaction (raw sqlite3)": (100, "dataset"),
                 "point → HTM20, 1000 points": (1000, "point"),
                 "point → HEALPix nested order 20, 1000 points": (1000, "point"),
                 "findTract (HSC rings), 1000 points": (1000, "point"),
                 "limit findTract: the ring arithmetic in C, 1000 points": (1000, "point"),
                 "pack 10⁷ visit × detector IDs (arrays)": (10_000_000, "ID"),
                 "limit pack: bare C loop over 10⁷ IDs": (10_000_000, "ID")}

UNIT_SCALE = {"ns": 1e-3, "μs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6}


def load(directory):
    """{(target, file-safe name, metric): {percentile: value in µs or count}}"""
    results = {}
    pattern = re.compile(r"^Current_run\.([^.]+)\.(.+)\.([A-Za-z]+)\.histogram\.percentiles\.tsv$")
    for file in os.listdir(directory):
        match = pattern.match(file)
        if not match:
            continue
        target, name, metric = match.groups()
        with open(os.path.join(directory, file), encoding="utf-8") as handle:
            header = handle.readline()
            values = {}
            for line in handle:
                percentile, value = line.split("\t")
                values[int(percentile)] = float(value)
        units = re.findall(r"\(([^()]*)\)", header)
        scale = UNIT_SCALE.get(units[-1], 1.0) if units else 1.0
        if metric.startswith("malloc") or metric == "throughput":
            scale = {"K": 1e3, "M": 1e6, "G": 1e9}.get(units[-1] if units else "", 1.0)
        results[(target, name, metric)] = {p: v * scale for p, v in values.items()}
    return results


def load_daf(path):
    """{workload: (p50 µs, p90 µs)} from daf_butler_bench.py's JSON, and a line saying what ran."""
    if not path or not os.path.exists(path):
        return {}, "daf_butler was not run in this run (no results file): the × daf_butler column is empty."
    import json

    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    workloads = {name: (values["p50"], values["p90"]) for name, values in document["workloads"].items()}
    shown = ", ".join(f"{name} {show_time(p50)}" for name, (p50, _) in workloads.items())
    return workloads, (f"daf_butler {document.get('daf_butler', '?')} (Python {document.get('python', '?')}) in this run, p50: "
                       + shown + ".")


def safe(name):
    return name.replace("/", "_").replace(" ", "_")


def show_time(microseconds):
    if microseconds >= 1e6:
        return f"{microseconds / 1e6:.2f} s"
    if microseconds >= 1e4:
        return f"{microseconds / 1e3:.0f} ms"
    if microseconds >= 1e3:
        return f"{microseconds / 1e3:.2f} ms"
    if microseconds < 1:
        return f"{microseconds * 1e3:.0f} ns"
    if microseconds < 10:
        return f"{microseconds:.1f} µs"
    return f"{microseconds:.0f} µs"


def show_ratio(value):
    return f"{value:.2f}" if value < 10 else f"{value:.0f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory")
    parser.add_argument("--elapsed", type=int, help="seconds the benchmark run took")
    parser.add_argument("--daf", help="daf_butler_bench.py's results file of the same run")
    parser.add_argument("--bindings", help="bindings_bench.py's results file of the same run (Python rows)")
    args = parser.parse_args()
    daf_workloads, daf_line = load_daf(args.daf)
    results = load(args.directory)
    if args.bindings and os.path.exists(args.bindings):
        import json

        with open(args.bindings, encoding="utf-8") as handle:
            for name, values in json.load(handle)["workloads"].items():
                results[("Bindings", safe(name), "wallClock")] = {50: values["p50"], 90: values["p90"]}
    if not results:
        sys.exit(f"report.py: no benchmark results in {args.directory}")

    def wall(target, name):
        values = results.get((target, safe(name), "wallClock"))
        divisor = PER_ITERATION.get(name, (1, ""))[0]
        return {p: v / divisor for p, v in values.items()} if values and divisor != 1 else values

    used = set()
    lines = []
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cores = os.cpu_count()
    lines.append(f"Benchmark run of {when} on {platform.node()} ({cores} cores, {platform.system()} {platform.release()})"
                 + (f", {args.elapsed // 60} min {args.elapsed % 60} s in all" if args.elapsed else "") + ".")
    lines.append("p50/p90 are wall clock per operation; ÷ limit is p50 over the limit's p50 in this run;")
    lines.append("× daf_butler is daf_butler's p50 for the same workload, measured in this run, over our p50.")
    lines.append(daf_line)
    lines.append("")
    lines.append("| benchmark | p50 | p90 | limit | limit p50 | ÷ limit | × daf_butler | goal | met |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    section = None
    for (row_section, target, name, limit, limit_label, daf, goal) in rows():
        measured = wall(target, name)
        if measured is None:
            continue
        used.add((target, safe(name)))
        if row_section != section:
            section = row_section
            lines.append(f"| **{section}** | | | | | | | | |")
        p50, p90 = measured[50], measured[90]
        shown = name + (f", per {PER_ITERATION[name][1]} (÷ {PER_ITERATION[name][0]})" if name in PER_ITERATION else "")
        cells = [shown, show_time(p50), show_time(p90)]
        ratio = None
        limit_values = wall(target, limit) if limit else None
        if limit_values:
            used.add((target, safe(limit)))
            ratio = p50 / limit_values[50]
            cells += [limit_label, show_time(limit_values[50]), show_ratio(ratio)]
        else:
            cells += [limit_label or "—", "—", "—"]
        faster = None
        # daf_butler's p50 for the workload, measured in this run by daf_butler_bench.py.
        if daf and daf in daf_workloads:
            faster = daf_workloads[daf][0] / p50
            cells.append(show_ratio(faster))
        else:
            cells.append("not run" if daf else "—")
        if goal:
            description, test = goal
            value = faster if description.startswith("daf") else p50 if description.startswith("p50") else ratio
            cells += [description, "—" if value is None else ("yes" if test(value) else "no")]
        else:
            cells += ["", ""]
        lines.append("| " + " | ".join(cells) + " |")
    others = sorted(key for key in results if key[2] == "wallClock" and (key[0], key[1]) not in used)
    if others:
        lines.append(f"| **Other benchmarks of this run** | | | | | | | | |")
        for target, name, _ in others:
            values = results[(target, name, "wallClock")]
            lines.append(f"| {target}: {name.replace('_', ' ')} | {show_time(values[50])} | {show_time(values[90])} | — | — | — | — | | |")
    lines += ranged_reads_table(os.path.join(args.directory, "ranged-reads.json"))
    print("\n".join(lines))


def ranged_reads_table(path):
    """What one remote cutout fetched (the Remote target's ranged-reads.json): bytes against
    the bytes it touches (its tiles or chunks plus the file's headers, tables and attributes,
    goal ≤ 2×) and requests — warm (the layout recorded at put time) goal ≤ 2, cold (no layout)
    goal ≤ 3. Three reads of each: the timed copy once more (its headers kept in the cache by
    the first iteration), the first read of a copy with a layout, the first of one without."""
    if not os.path.exists(path):
        return []
    import json

    with open(path, encoding="utf-8") as handle:
        reads = json.load(handle)
    lines = ["", "Remote cutouts: what one read fetched. Warm: the layout recorded at put time (headers cached by an "
             "earlier read, or not yet); cold: no layout recorded, learned from the headers (HDF5: read whole).", "",
             "| read | file | touched (tiles/chunks + headers) | warm, headers cached: fetched, requests "
             "| warm, first read: fetched (÷ touched), requests | cold: fetched (÷ touched), requests "
             "| bytes ≤ 2× | warm ≤ 2 requests | cold ≤ 3 requests |",
             "|---|---|---|---|---|---|---|---|---|"]

    def yes(ok):
        return "yes" if ok else "no"

    for label in sorted(reads):
        r = reads[label]
        touched = r["touched"] or float("nan")
        first, cold = r.get("firstBytes", r["bytes"]), r.get("coldBytes", float("nan"))
        first_requests, cold_requests = r.get("firstRequests", r["requests"]), r.get("coldRequests", float("nan"))
        bytes_ok = max(r["bytes"], first) <= 2 * touched and cold <= 2 * touched
        lines.append(f"| {label} | {r['fileSize'] / 2**20:.1f} MiB | {r['touched'] / 2**10:.0f} KiB "
                     f"| {r['bytes'] / 2**10:.0f} KiB, {r['requests']} "
                     f"| {first / 2**10:.0f} KiB ({first / touched:.2f}), {first_requests} "
                     f"| {cold / 2**10:.0f} KiB ({cold / touched:.2f}), {cold_requests} "
                     f"| {yes(bytes_ok)} | {yes(max(r['requests'], first_requests) <= 2)} | {yes(cold_requests <= 3)} |")
    return lines


if __name__ == "__main__":
    main()
