"""The workbook opens in LibreOffice: its cells read back, a formula-like title stays text, the chart survives.

Skipped when LibreOffice (``soffice``) is not installed; Excel is not available on Linux,
openpyxl read-back covers the Office Open XML side in test_export.py.
"""

import csv
import io
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime

import pytest

from kefu.reports import export

from .test_export import EVIL, table

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice not installed")


def convert(src, out_dir, target, profile):
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            str(out_dir),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )


def test_libreoffice_reads_the_workbook(tmp_path):
    src = tmp_path / "report.xlsx"
    src.write_bytes(
        export.to_xlsx(table(), scope_label="全国", generated_at=datetime(2026, 11, 1, tzinfo=UTC))
    )
    profile = tmp_path / "lo-profile"
    convert(src, tmp_path, "csv:Text - txt - csv (StarCalc):44,34,76,1", profile)
    rows = list(csv.reader(io.StringIO((tmp_path / "report.csv").read_text(encoding="utf-8"))))
    assert rows[2][:6] == ["项目", "", "", "全国", "北京", "天津"]
    assert rows[4] == ["投诉/故障", "开通类", "业务开户不成功", "3", "3", "0"]
    assert rows[5] == ["", "", EVIL, "2", "0", "2"]  # shown as text, not evaluated
    assert rows[9] == ["", "合计", "", "6", "4", "2"]
    convert(src, tmp_path, "ods", profile)
    with zipfile.ZipFile(tmp_path / "report.ods") as z:
        assert "draw:object" in z.read("content.xml").decode()  # the chart
        assert any(n.startswith("Object 1/") for n in z.namelist())
