#!/usr/bin/env python3
"""The host matrix: one row per suite, one column per host, from the runners' JSON reports
in target/conformance/ (Python 3.11, stdlib only).

    python3 conformance/host_matrix.py [--reports target/conformance] [--update README.md]

Every runner writes its report there (wasi_testsuite.py, wasi_testsuite_p2.py, programs/run.sh
in each mode, toolchains/run.sh, invoke/run.sh, web/test.mjs; the lowered rows come from the
same runners' `--mode lower` / `MODE=lower` runs); this script only reads them, so the table
shows the last run of each suite on each host.

Cells: `P/T` (passed of T) when nothing is listed, `P + X listed` otherwise (X runs in an
expected-failures list, each with its reason), `, FAIL n` if n runs failed; `-` when the
suite did not run on that host (its report is missing, or has no such host). Below the
table: the host versions the reports name, the reports' dates and the command. A missing
report is named on stderr. With --update, the table replaces the lines between
`<!-- host-matrix -->` and `<!-- /host-matrix -->` in the given file; otherwise it is
printed.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "conformance" / "hosts"))
import hosts as H  # noqa: E402

COLUMNS = (*H.HOSTS, "chromium")
TITLES = {"node": "node 20", "node-current": "node 24"}

# (row title, report file, how to read a host's counts: pass, fail, xfail; for the
# browser's report, the page's mode; ("section", S): the counts under the report's section S
# instead of "hosts")
SUITES = (
    ("wasi-testsuite p1 through the shim = direct", "wasi-testsuite.json",
     lambda c: (c["shim_match"], c["fail"] + c["xpass"], c["xfail"])),
    ("wasi-testsuite as p2 = native wasmtime", "wasi-testsuite-p2.json",
     lambda c: (c["match"], c["fail"] + c["xpass"], c["xfail"])),
    ("wasi-testsuite as p2, lowered = native wasmtime", "wasi-testsuite-p2-lower.json",
     lambda c: (c["match"], c["fail"] + c["xpass"], c["xfail"])),
    ("p2 programs", "p2-programs-shim.json", None),
    ("p2 programs as bundles", "p2-programs-bundle.json", None),
    ("p2 programs through wasip2-run", "p2-programs-wrapper.json", None),
    ("p2 programs lowered", "p2-programs-lower.json", None),
    ("componentize-py/-js components", "toolchains.json", None),
    ("componentize-py/-js components lowered", "toolchains-lower.json", None),
    ("--invoke", "invoke.json", None),
    ("--invoke lowered (`lower --invoke`)", "invoke.json", ("section", "lowered")),
    ("the page in the browser", "browser.json", "interpreter"),
    ("the page in the browser, lowered", "browser.json", "lowered"),
)
# The host alone, no shim: the direct runs that are the p1 suite's oracle, against their .json.
DIRECT = ("(the host alone) wasi-testsuite p1 passes its .json", "wasi-testsuite.json")


def counts(report: dict, host: str, read) -> tuple[int, int, int] | None:
    if report.get("kind") == "browser":
        if host != report.get("host"):
            return None
        by_mode = report.get("summary_by_mode")
        if by_mode is None:  # a report from before the page lowered: the interpreter only
            s = report["summary"] if read == "interpreter" else None
        else:
            s = by_mode.get(read)
        return None if s is None else (s["pass"], s["fail"], s["xfail"])
    if isinstance(read, tuple):
        c = report.get(read[1], {}).get(host)
        return None if c is None else (c["pass"], c["fail"], c["xfail"])
    c = report.get("hosts", {}).get(host)
    if c is None:
        return None
    if read is None:
        return c["pass"], c["fail"], c["xfail"]
    return read(c)


def cell(c: tuple[int, int, int] | None) -> str:
    if c is None:
        return "-"
    p, f, x = c
    text = f"{p}/{p + f + x}" if not x else f"{p} + {x} listed"
    return f"{text}, FAIL {f}" if f else text


def load(reports: Path, name: str) -> dict:
    path = reports / name
    if not path.is_file():
        print(f"host-matrix: no {path} (run its suite, see the Makefile)", file=sys.stderr)
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        print(f"host-matrix: {path} is not a report ({e})", file=sys.stderr)
        return {}


def table(reports: Path) -> str:
    head = "| suite | " + " | ".join(TITLES.get(h, h) for h in COLUMNS) + " |"
    lines = [head, "|---|" + "---|" * len(COLUMNS)]
    loaded = {name: load(reports, name) for _, name, _ in SUITES}
    for title, name, read in SUITES:
        report = loaded[name]
        lines.append(f"| {title} | " + " | ".join(cell(counts(report, h, read)) for h in COLUMNS) + " |")
    title, name = DIRECT
    direct = loaded[name].get("hosts", {})
    lines.append(f"| {title} | " + " | ".join(
        f"{direct[h]['direct_pass']}/{direct[h]['tests']}" if h in direct else "-" for h in COLUMNS) + " |")

    versions = {h: v.get("version") for h, v in loaded["wasi-testsuite.json"].get("hosts", {}).items()}
    if loaded["browser.json"].get("version"):
        versions["chromium"] = loaded["browser.json"]["version"]
    named = [f"{TITLES.get(h, h)}: {versions[h]}" for h in COLUMNS if versions.get(h)]
    dates = sorted(str(r["time"])[:10] for r in loaded.values() if r.get("time"))
    when = (dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}") if dates else "unknown dates"
    lines += ["", f"Hosts: {'; '.join(named)}." if named else "Hosts: unknown (no wasi-testsuite report).",
              f"From the reports of the runs of {when}, written by `make host-matrix` on "
              f"{time.strftime('%Y-%m-%d', time.gmtime())}."]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reports", type=Path, default=REPO / "target" / "conformance")
    ap.add_argument("--update", type=Path, default=None)
    a = ap.parse_args()
    t = table(a.reports)
    if a.update is None:
        print(t, end="")
        return 0
    text = a.update.read_text()
    start, end = "<!-- host-matrix -->\n", "<!-- /host-matrix -->"
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        print(f"host-matrix: no {start.strip()} ... {end} block in {a.update}", file=sys.stderr)
        return 2
    a.update.write_text(text[:i + len(start)] + t + text[j:])
    print(f"host-matrix: {a.update} updated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
