"""The bench runner discovers figures and reports them in its one format (the figures themselves are not run here:
they need PostgreSQL, a server and seconds to minutes; run ``bench/run --quick``)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "bench" / "run"


def test_run_lists_every_figure_module():
    out = subprocess.run(
        [sys.executable, str(RUN), "--list"], capture_output=True, text=True, check=True
    ).stdout
    names = {line.split()[0] for line in out.splitlines() if line.strip()}
    modules = {p.stem for p in (ROOT / "bench" / "figures").glob("*.py") if not p.name.startswith("_")}
    assert "api_me" in names
    assert len(names) == len(modules)


def test_unknown_figure_is_refused():
    out = subprocess.run([sys.executable, str(RUN), "no_such_figure"], capture_output=True, text=True)
    assert out.returncode == 2 and "unknown figure" in out.stderr


def test_runner_prints_name_value_unit_and_writes_results(tmp_path):
    # A throwaway copy of the runner with one fake figure: the format, not the numbers.
    bench = tmp_path / "bench"
    (bench / "figures").mkdir(parents=True)
    (bench / "run").write_text(RUN.read_text())
    (bench / "figures" / "fake.py").write_text(
        "NAME = 'fake'\nDESCRIPTION = 'a fake figure'\n"
        "def run(quick):\n    return [('fake_rps', 12.5 if quick else 99.0, 'req/s'), ('fake_p50', 3, 'ms')]\n"
    )
    out = subprocess.run(
        [sys.executable, str(bench / "run"), "--quick"], capture_output=True, text=True, check=True
    )
    assert out.stdout.splitlines() == ["fake_rps 12.5 req/s", "fake_p50 3 ms"]
    results = json.loads((bench / "results.json").read_text())
    assert results["quick"] is True
    assert results["figures"]["fake"]["values"][0] == {"name": "fake_rps", "value": 12.5, "unit": "req/s"}


def test_api_me_percentile_helper():
    spec = importlib.util.spec_from_file_location("api_me", ROOT / "bench" / "figures" / "api_me.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    values = [i / 1000 for i in range(1, 101)]
    assert module._pct(values, 95) == 0.095 and module._pct(values, 50) == 0.051
    assert module.NAME == "api_me" and module.WORKERS == 2
