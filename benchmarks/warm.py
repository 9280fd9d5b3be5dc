"""Warm grading against the torch import it saves: `drill watch` and `drill check`.

    python benchmarks/warm.py [--saves 10] [--skip-check]

watch: `drill watch attention` runs in a pseudo-terminal, the workspace file is saved
alternately with a bug and the fix, and the time from each save to its verdict on the
screen (the "(grade #N)" of the live view) is measured. Target: the median <= 0.15x
`python -c "import torch"` measured in the same run. check: `drill check` over the
whole catalog, wall time (target <= 45 s on 2 cores), and its ratio to the torch import.
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DRILL = str(Path(sys.executable).with_name("drill"))
FIX = (ROOT / "solutions" / "attention.py").read_text()
BUG = FIX.replace(" / math.sqrt(q.shape[-1])", "")   # the classic: no scale


def torch_import_s(repeat: int, env: dict[str, str]) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True, env=env)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


class Screen:
    """A command in a pseudo-terminal; `wait_for` reads its output until a text appears."""

    def __init__(self, cmd: list[str], env: dict[str, str]):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
        os.close(slave)
        self.seen = b""

    def wait_for(self, text: str, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while text.encode() not in self.seen:
            ready, _, _ = select.select([self.master], [], [], max(deadline - time.monotonic(), 0))
            if not ready:
                raise TimeoutError(f"{text!r} never appeared")
            self.seen += os.read(self.master, 65536)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()
        os.close(self.master)


def watch_latencies(saves: int, env: dict[str, str]) -> list[float]:
    subprocess.run([DRILL, "start", "attention"], check=True, capture_output=True, env=env)
    path = Path(env["DRILL_WORKSPACE"]) / "attention.py"
    path.write_text(BUG)
    screen = Screen([DRILL, "watch", "attention"], env | {"COLUMNS": "100", "LINES": "40", "TERM": "xterm"})
    try:
        screen.wait_for("(grade #1)")
        latencies = []
        for n in range(2, saves + 2):
            time.sleep(0.3)   # a person types between saves
            start = time.perf_counter()
            path.write_text(FIX if n % 2 == 0 else BUG)
            screen.wait_for(f"(grade #{n})")
            latencies.append(time.perf_counter() - start)
        return latencies
    finally:
        screen.close()


def check_s(env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run([DRILL, "check"], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"drill check failed:\n{result.stdout[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=10)
    parser.add_argument("--skip-check", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env |= {"DRILL_HOME": home, "DRILL_WORKSPACE": str(Path(home) / "ws")}
        floor = torch_import_s(5, env)
        latencies = watch_latencies(args.saves, env)
        save = statistics.median(latencies)
        print(f"import torch                 {floor:7.3f} s")
        print(f"watch: save -> verdict       {save:7.3f} s median of {len(latencies)} "
              f"(max {max(latencies):.3f} s)  ratio {save / floor:.3f}  target 0.15")
        if not args.skip_check:
            total = check_s(env)
            print(f"drill check, whole catalog   {total:7.1f} s  ({total / floor:.0f}x import torch)  target 45 s")


if __name__ == "__main__":
    main()
