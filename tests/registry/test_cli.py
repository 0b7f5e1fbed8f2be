"""``edu-guard import KIND PATH [--json]`` and ``edu-guard demo``."""

import json

import openpyxl
import sqlalchemy as sa

from edu_guard.cli import cli
from edu_guard.db import db
from edu_guard.registry.models import Child, ImportRun


def invoke(app, *args):
    return app.test_cli_runner().invoke(cli, list(args), catch_exceptions=False)


def test_import_json_prints_one_object(app, demo_dir, roster_facts):
    assert invoke(app, "import", "schools", str(demo_dir / "schools.csv"), "--json").exit_code == 0
    result = invoke(
        app, "import", "roster", str(demo_dir / "roster_2021_spring.xlsx"), "--json"
    )
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert set(out) == {"kind", "rows", "created", "updated", "unchanged", "rejected", "warnings", "read"}
    assert out["read"]["sheets"] == [{"name": "花名册", "header_row": 2, "rows": 1202}]
    assert (out["kind"], out["rows"], out["created"], out["updated"], out["unchanged"]) == ("roster", 1202, 1194, 0, 0)
    assert [r["row"] for r in out["rejected"]] == sorted(
        roster_facts.numeric_id_rows + roster_facts.bad_check_rows + roster_facts.blank_id_rows
    )
    assert set(out["rejected"][0]) == {"row", "column", "reason"}
    assert "身份证件号为数值格式" in result.stdout  # ensure_ascii=False
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Child)).scalar_one() == 1194  # committed


def test_import_readable_summary_and_rejects_file(app, demo_dir, tmp_path):
    invoke(app, "import", "schools", str(demo_dir / "schools.csv"))
    out = tmp_path / "rejects.xlsx"
    result = invoke(
        app,
        "import",
        "roster",
        str(demo_dir / "roster_2021_spring.xlsx"),
        "--rejects",
        str(out),
    )
    assert result.exit_code == 0
    assert "共 1202 行；新增 1194，更新 0，未变 0，未导入 8。" in result.output
    assert "第14行  身份证件号为数值格式" in result.output
    assert openpyxl.load_workbook(out).active.max_row == 2 + 8  # title, header, the 8 rejected rows


def test_check_digits_are_always_strict(app, demo_dir):
    """GB 11643 is the only check-character rule: no setting or flag loosens it."""
    assert "EDU_GUARD_ACCEPT_SAMPLE_CHECK_DIGITS" not in app.config
    invoke(app, "import", "schools", str(demo_dir / "schools.csv"))
    result = app.test_cli_runner().invoke(
        cli, ["import", "roster", str(demo_dir / "roster_2021_spring.xlsx"), "--strict-check-digits"]
    )
    assert result.exit_code == 2 and "--strict-check-digits" in result.output


def test_import_unreadable_file_exits_non_zero_and_writes_nothing(app, tmp_path):
    bad = tmp_path / "no_id.csv"
    bad.write_text("姓名,性别,学校名称\n岩罕,男,勐罕中心小学\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(cli, ["import", "roster", str(bad)])
    assert result.exit_code == 1
    assert "缺少必需的列：身份证件号" in result.output
    result = app.test_cli_runner().invoke(cli, ["import", "roster", str(bad), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout.splitlines()[0])["error"].startswith("学籍花名册“no_id.csv”缺少必需的列")
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(ImportRun)).scalar_one() == 0


def test_import_unknown_kind(app, tmp_path):
    result = app.test_cli_runner().invoke(cli, ["import", "pupils", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    assert "pupils" in result.output


def test_demo_loads_the_county_once(app, demo_dir):
    first = invoke(app, "demo")
    assert first.exit_code == 0
    assert "roster_2021_spring.xlsx（学籍花名册）：共 1202 行；新增 1194，更新 0，未变 0，未导入 8" in first.output
    assert "roster_2021_spring_menghan.csv（学籍花名册）：共 153 行；新增 1，更新 0，未变 152，未导入 0" in first.output
    with app.app_context():
        runs = db.session.execute(sa.select(sa.func.count()).select_from(ImportRun)).scalar_one()
        children = db.session.execute(sa.select(sa.func.count()).select_from(Child)).scalar_one()
    assert (runs, children) == (7, 1195)  # the six sample files and the sample payee accounts
    assert "示例收款账户_2021.csv（资助收款账户，示例账号，仅供演示代发文件）：共 1195 行；新增 1195，更新 0，未变 0，未导入 0" \
        in first.output
    # The sample term is set up and every pupil still enrolled when it starts (all at
    # 小学/初中 schools, every school a pilot by default) is proposed for the nutrition
    # programme: not those whose 转出 before 1 March 2021 ended their enrollment.
    import csv

    with (demo_dir / "status_changes_2021.csv").open(encoding="utf-8-sig") as f:
        gone = {r["身份证件号"] for r in csv.DictReader(f) if r["变动类型"] == "转出" and r["变动日期"] < "2021-03-01"}
    with app.app_context():
        gone_enrolled = db.session.scalar(sa.select(sa.func.count()).select_from(Child).where(Child.id_number.in_(gone)))
    assert gone_enrolled == 6
    assert "学期 2021-spring（2021年春季学期）已建立" in first.output
    assert f"农村义务教育学生营养改善计划膳食补助 {children - gone_enrolled}人" in first.output
    second = invoke(app, "demo")
    assert second.exit_code == 0
    assert second.output.strip() == "示例县数据已载入过，本次未做任何更改。"
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(ImportRun)).scalar_one() == 7
