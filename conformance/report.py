#!/usr/bin/env python3
"""Writes the JSON report of a shell runner (Python 3.11, stdlib only), in the shape the
Python runners use, so `conformance/host_matrix.py` reads every suite alike:

    python3 conformance/report.py PATH KIND HOST:PASS:FAIL:XFAIL...

gives {"kind": KIND, "hosts": {HOST: {"pass": P, "fail": F, "xfail": X}}} at PATH. A cell
`SECTION/HOST:P:F:X` goes under {SECTION: {HOST: ...}} instead (invoke/run.sh's lowered runs:
"lowered").
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit(__doc__)
    path, kind, cells = Path(argv[0]), argv[1], argv[2:]
    report: dict = {"kind": kind, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "hosts": {}}
    for cell in cells:
        key, p, f, x = cell.split(":")
        section, _, host = key.rpartition("/")
        report.setdefault(section or "hosts", {})[host] = {"pass": int(p), "fail": int(f), "xfail": int(x)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
