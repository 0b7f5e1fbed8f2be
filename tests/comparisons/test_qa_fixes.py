"""QA defects of the comparisons: a file that is not a household register, an as-of
date in the future, an empty upload."""

import io
from collections import Counter
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from edu_guard.comparisons import services
from edu_guard.comparisons.kinds import ComparisonError
from edu_guard.comparisons.models import ComparisonRun
from edu_guard.db import db


def _bank_workbook(path):
    """The bank's payment workbook of the aid: ID numbers and names, but no register columns."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["2021年春季学期义务教育家庭经济困难学生生活补助发放明细"])
    sheet.append(["序号", "姓名", "身份证号", "金额", "账号", "开户行"])
    sheet.append([1, "邹英", "532801200907125541", 625, "6217000000000000001", "农村信用社"])
    sheet.append([2, "岩应航", "532801200901167337", 625, "6217000000000000002", "农村信用社"])
    book.save(path)
    return path


def test_a_bank_workbook_is_not_compared_as_a_register(app, load, invoke, tmp_path):
    load("schools.csv")
    result = invoke("compare", "household", _bank_workbook(tmp_path / "发放明细.xlsx"), "--as-of", "2021-04-30")
    assert result.exit_code != 0
    assert "文件不像户籍名单" in result.output
    assert "性别、出生日期、户籍地址中的一列" in result.output and "户籍地址" in result.output
    assert "第2行表头为：序号、姓名、身份证号、金额、账号、开户行" in result.output
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count(ComparisonRun.id))).scalar() == 0


def test_a_register_without_a_name_column_is_refused(load, invoke, tmp_path):
    load("schools.csv")
    path = tmp_path / "hukou.csv"
    path.write_text("公民身份号码,出生日期,户籍地址\n532801201005017327,20100501,勐旺乡\n", encoding="utf-8")
    result = invoke("compare", "household", path, "--as-of", "2021-04-30")
    assert result.exit_code != 0 and "缺少“姓名”列" in result.output


def test_the_sample_register_in_gb18030_gives_the_same_categories(load, invoke, expected, demo_dir, tmp_path):
    load("schools.csv", "roster_2021_spring.xlsx", "status_changes_2021.csv")
    text = (demo_dir / "household_register_2021.csv").read_text(encoding="utf-8-sig")
    gbk = tmp_path / "户籍_gbk.csv"
    gbk.write_bytes(text.encode("gb18030"))
    want = expected(with_menghan=False)
    for path in (demo_dir / "household_register_2021.csv", gbk):
        out = invoke.json("compare", "household", path, "--as-of", "2021-04-30")
        assert {r["id_number"]: r["category"] for r in out["rows"]} == want
        assert out["counts"] == {**dict.fromkeys(out["counts"], 0), **Counter(want.values())}


def test_an_as_of_date_after_today_is_refused(app, load, invoke, demo_dir, today_is):
    today_is(date(2021, 5, 6))
    load("schools.csv")
    path = demo_dir / "household_register_2021.csv"
    result = invoke("compare", "household", path, "--as-of", "2021-05-07")
    assert result.exit_code != 0
    assert "比对基准日 2021-05-07 晚于今天（2021-05-06）" in result.output
    result = invoke("compare", "status", "--as-of", "2021-05-07")
    assert result.exit_code != 0 and "晚于今天" in result.output
    # today itself is fine, and so is the default (today)
    assert invoke.json("compare", "status", "--as-of", "2021-05-06")["as_of"] == "2021-05-06"
    assert invoke.json("compare", "status")["as_of"] == "2021-05-06"
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count(ComparisonRun.id))).scalar() == 2


def test_the_web_form_refuses_a_future_date_an_empty_file_and_a_bank_workbook(
        app_ctx, load, make_user, login, demo_dir, today_is, tmp_path):
    today_is(date(2021, 5, 6))
    load("schools.csv")
    client = login(make_user("clerk"))

    def post(as_of, content, name):
        return client.post("/comparisons", data={"kind": "household", "as_of": as_of, "file": (io.BytesIO(content), name)},
                           content_type="multipart/form-data", follow_redirects=True)

    register = (demo_dir / "household_register_2021.csv").read_bytes()
    resp = post("2021-05-07", register, "户籍.csv")
    assert resp.status_code == 200 and "比对基准日 2021-05-07 晚于今天（2021-05-06）" in resp.text
    for empty in (b"", b"\xef\xbb\xbf", b"\r\n"):
        resp = post("2021-04-30", empty, "户籍.csv")
        assert "文件“户籍.csv”没有内容（空文件）" in resp.text and "需要上传文件" not in resp.text
    resp = post("2021-04-30", _bank_workbook(tmp_path / "bank.xlsx").read_bytes(), "bank.xlsx")
    assert "文件不像户籍名单" in resp.text and "金额" in resp.text
    # no file at all is still "需要上传文件"
    resp = client.post("/comparisons", data={"kind": "household", "as_of": "2021-04-30"}, follow_redirects=True)
    assert "户籍与学籍比对需要上传文件" in resp.text
    assert db.session.execute(sa.select(sa.func.count(ComparisonRun.id))).scalar() == 0
    resp = post("2021-05-06", register, "户籍.csv")
    assert "比对完成：共 1130 行" in resp.text


def test_a_kind_that_takes_no_file_refuses_an_upload(app_ctx, load, make_user, login, today_is):
    """QA: a file sent with 残疾儿童与学籍、送教上门比对 (which reads the registry only)
    was silently ignored; it is refused, naming the kind, and nothing is queued."""
    today_is(date(2021, 5, 6))
    load("schools.csv")
    client = login(make_user("clerk"))
    resp = client.post("/comparisons", data={"kind": "disabled", "as_of": "2021-04-30",
                                             "file": (io.BytesIO(b"name,id\n"), "残联名单.csv")},
                       content_type="multipart/form-data", follow_redirects=True)
    assert "残疾儿童与学籍、送教上门比对不需要上传文件" in resp.text
    assert db.session.execute(sa.select(sa.func.count(ComparisonRun.id))).scalar() == 0
    with pytest.raises(ComparisonError, match="不需要上传文件"):
        services.run_comparison("disabled", as_of=date(2021, 4, 30), data=b"x", filename="x.csv")
