"""A plain (non-editable) install carries the whole catalog."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from drillcli.catalog import Catalog

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_every_problem(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("drill-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    catalog = Catalog()
    for pid in catalog.ids:
        module = pid.replace("-", "_")
        for path in (f"drillcli/problems/{pid}/spec.yaml", f"drillcli/problems/{pid}/stub.py",
                     f"drillcli/problems/{pid}/zh.yaml", f"drillcli/graders/fixtures/{pid}.npz",
                     f"drillcli/solutions/{module}.py", f"drillcli/graders/{module}.py"):
            assert path in names, f"{path} missing from the wheel"
    for topic in (ROOT / "concepts").glob("*.yaml"):
        for path in (f"drillcli/concepts/{topic.name}", f"drillcli/concepts/zh/{topic.name}"):
            assert path in names, f"{path} missing from the wheel"
    for template in (ROOT / "drillcli" / "templates").iterdir():
        assert f"drillcli/templates/{template.name}" in names
