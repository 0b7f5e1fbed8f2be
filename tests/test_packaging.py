"""The wheel ships the templates, migrations, sample county and catalogues."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_templates_migrations_and_data(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("edu_guard-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("edu_guard/templates/base.html", "edu_guard/templates/letters/gbt9704.css",
                     "edu_guard/templates/cases/detail.html", "edu_guard/migrations/env.py",
                     "edu_guard/demo/county_2021/roster_2021_spring.xlsx",
                     "edu_guard/translations/en/LC_MESSAGES/messages.mo"):
        assert expected in names, expected
    assert any(n.startswith("edu_guard/migrations/versions/") and n.endswith(".py") for n in names)
