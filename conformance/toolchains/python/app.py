"""A wasi:cli/command component for componentize-py: prints its arguments and
environment, lists the preopened directory, reads a file, writes one and reads
it back. conformance/toolchains/run.sh runs it natively and through p2shim and
compares stdout, stderr, exit code and files."""

import os
import sys

from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        print("hello from componentize-py")
        for i, arg in enumerate(sys.argv):
            print(f"arg[{i}] = {arg!r}")
        for key in sorted(os.environ):
            if key.startswith("TC_"):
                print(f"env {key} = {os.environ[key]!r}")
        print("cwd listing:", sorted(os.listdir(".")))
        with open("input.txt", encoding="utf-8") as f:
            text = f.read()
        print(f"input.txt has {len(text)} chars, {len(text.splitlines())} lines")
        print("first line:", text.splitlines()[0])
        with open("out-python.txt", "w", encoding="utf-8") as f:
            f.write("written by python: " + " ".join(sys.argv[1:]) + "\n")
        with open("out-python.txt", encoding="utf-8") as f:
            print("read back:", f.read().rstrip("\n"))
        os.mkdir("pydir")
        st = os.stat("input.txt")
        print("input.txt size", st.st_size)
        try:
            open("missing.txt", encoding="utf-8")
            print("missing.txt opened?!")
        except FileNotFoundError as e:
            print("missing.txt:", type(e).__name__, e.errno)
        print("to stderr", file=sys.stderr)
        sys.stdout.flush()
        if len(sys.argv) > 1 and sys.argv[1] == "fail":
            sys.exit(3)
