"""Wall time and peak memory of `drill grade` and `drill list` against their floors.

    python benchmarks/startup.py [--repeat 7]

Floors: a cold grade cannot cost less than one `import torch` (the grading server needs
it); `drill list` cannot cost less than importing typer and rich. Targets: grade <= 1.05x
the torch import, list <= 1.5x the typer+rich import. Peak memory is the largest resident
set of any process of the command (the grading server or its child, for a grade).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = ("import resource, subprocess, sys, time\n"
         "t = time.perf_counter()\n"
         "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode\n"
         "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)")


def measure(cmd: list[str], repeat: int, env: dict[str, str]) -> tuple[float, float]:
    """(median seconds, median peak MiB) of a command run `repeat` times in a fresh probe."""
    times, peaks = [], []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", PROBE, *cmd], capture_output=True, text=True, env=env, check=True)
        seconds, kib, code = out.stdout.split()
        if code != "0":  # a grade that fails or errors is no measurement of a grade
            sys.exit(f"{' '.join(cmd)} exited with {code}")
        times.append(float(seconds))
        peaks.append(int(kib) / 1024)
    return statistics.median(times), statistics.median(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    drill = str(Path(sys.executable).with_name("drill"))
    solution = str(ROOT / "solutions" / "attention.py")
    with tempfile.TemporaryDirectory() as home:
        # bytecode caching on, as for any installed package: without it every run recompiles drill
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env |= {"DRILL_HOME": home, "DRILL_WORKSPACE": home}
        rows = [
            ("grade attention", [drill, "grade", "attention", "--file", solution],
             "import torch", [sys.executable, "-c", "import torch"], 1.05),
            ("list", [drill, "list"], "import typer, rich", [sys.executable, "-c", "import typer, rich"], 1.5),
        ]
        for row in rows:
            measure(row[1], 1, env)  # warm the file cache and write the bytecode
        print(f"{'command':<18}{'time':>9}{'floor':>9}{'ratio':>8}{'target':>8}{'peak MiB':>10}{'floor MiB':>11}{'ratio':>7}")
        for name, cmd, floor_name, floor_cmd, target in rows:
            t, m = measure(cmd, args.repeat, env)
            ft, fm = measure(floor_cmd, args.repeat, env)
            print(f"{name:<18}{t:>8.3f}s{ft:>8.3f}s{t / ft:>8.2f}{target:>8.2f}{m:>10.0f}{fm:>11.0f}{m / fm:>7.2f}"
                  f"   (floor: {floor_name})")


if __name__ == "__main__":
    main()
