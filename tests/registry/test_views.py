"""The registry pages: home, children list (search, filters, paging, masking, scope),
the child page, and the import page (upload, background import with progress, result,
rejects workbook, past runs)."""

import hashlib
import io
import re
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from edu_guard.cases.models import DropoutCase, HomeVisit
from edu_guard.db import db
from edu_guard.registry.models import (
    Child,
    DisabilityRecord,
    Enrollment,
    FamilyStatus,
    Guardian,
    ImportRun,
    School,
    StatusChange,
    Township,
)


class County:
    """Two townships, three schools and six children, made directly with the models."""

    def __init__(self):
        self.menghan = Township(county_code="532801", name="勐罕镇")
        self.gasa = Township(county_code="532801", name="嘎洒镇")
        self.s1 = School(
            code="2153280177", name="勐罕中心小学", stage="小学", township=self.menghan, county_code="532801"
        )
        self.s2 = School(code="2153280178", name="勐罕中学", stage="初中", township=self.menghan, county_code="532801")
        self.s3 = School(code="2153280181", name="嘎洒中心小学", stage="小学", township=self.gasa, county_code="532801")
        db.session.add_all([self.s1, self.s2, self.s3])
        self.c1 = self.child("岩温", "532801200901142690", self.menghan, self.s1, "六年级", "在读")
        self.c2 = self.child("玉香", "532801201003050028", self.menghan, self.s1, "五年级", "在读")
        self.c3 = self.child("岩罕", "53280120070925079X", self.menghan, self.s2, "七年级", "休学")
        self.c4 = self.child("玉儿", "532801200911113321", self.gasa, self.s3, "六年级", "在读")
        self.c5 = self.child("岩叫", "532801200812120017", self.menghan, self.s3, "五年级", "转出")
        self.c6 = self.child("李明", "532822200905050011", self.gasa, None, None, None)
        db.session.add_all(
            [
                FamilyStatus(id_number=self.c1.id_number, name="岩温", kind="脱贫户", source="monitoring_households"),
                FamilyStatus(
                    id_number=self.c3.id_number,
                    name="岩罕",
                    kind="监测户",
                    category="边缘易致贫户",
                    source="monitoring_households",
                ),
                FamilyStatus(
                    id_number=self.c4.id_number,
                    name="玉儿",
                    kind="监测户",
                    source="monitoring_households",
                    risk_removed=True,
                ),
            ]
        )
        db.session.commit()

    def child(self, name, id_number, township, school, grade, status):
        child = Child(
            id_number=id_number,
            name=name,
            sex="男" if int(id_number[16]) % 2 else "女",
            birth_date=date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14])),
            township=township,
        )
        child.guardians.append(Guardian(name=f"{name}之母", relation="母亲", phone="13800000000"))
        db.session.add(child)
        if school is not None:
            db.session.add(
                Enrollment(
                    child=child,
                    school=school,
                    grade=grade,
                    class_name="1班",
                    status=status,
                    student_number="G" + id_number,
                )
            )
        return child


@pytest.fixture
def county(app_ctx):
    return County()


@pytest.fixture
def clerk(county, make_user, login):
    user = make_user("clerk")
    login(user)
    return user


def listed(response) -> list[str]:
    """The names in the children table, in order."""
    assert response.status_code == 200
    return re.findall(r'<a href="/children/\d+">([^<]+)</a>', response.text)


def test_list_masks_id_numbers(client, county, clerk):
    response = client.get("/children")
    assert listed(response) == ["岩温", "玉香", "岩罕", "玉儿", "岩叫", "李明"]
    assert "532801********2690" in response.text
    assert "532801********079X" in response.text
    for child in (county.c1, county.c3, county.c6):
        assert child.id_number not in response.text


@pytest.mark.parametrize(
    "q, names",
    [
        ("岩", ["岩温", "岩罕", "岩叫"]),
        (" 玉 香 ", ["玉香"]),
        ("532801200901142690", ["岩温"]),
        ("53280120070925079x", ["岩罕"]),  # lower-case check letter
        ("５３２８０１２００７０９２５０７９Ｘ", ["岩罕"]),  # full-width, as clerks paste it
        ("0028", ["玉香"]),  # the last four digits
        ("G532801200911113321", ["玉儿"]),  # 全国学籍号
        ("g532801200911113321", ["玉儿"]),
        ("100%", []),  # LIKE wildcards are literal
    ],
)
def test_search_by_name_id_number_or_student_number(client, clerk, q, names):
    assert listed(client.get("/children", query_string={"q": q})) == names


def test_filters(client, county, clerk):
    def names(**args):
        return listed(client.get("/children", query_string=args))

    assert names(school=county.s1.id) == ["岩温", "玉香"]
    assert names(grade="六年级") == ["岩温", "玉儿"]
    assert names(status="在读") == ["岩温", "玉香", "玉儿"]
    assert names(school=county.s3.id, status="在读") == ["玉儿"]  # one and the same enrollment
    assert names(family="监测户") == ["岩罕"]  # 玉儿's risk was removed
    assert names(family="脱贫户", q="岩") == ["岩温"]
    # The township: where the child lives or goes to school.
    assert names(township=county.gasa.id) == ["玉儿", "岩叫", "李明"]
    # A value that is not a choice (a removed school in a bookmark) is ignored.
    assert names(school=9999, grade="十年级") == ["岩温", "玉香", "岩罕", "玉儿", "岩叫", "李明"]


def test_paging_keeps_the_filters(app, client, clerk):
    app.config["EDU_GUARD_PAGE_SIZE"] = 2
    first = client.get("/children")
    assert listed(first) == ["岩温", "玉香"]
    assert "共 6 条，第 1 / 3 页" in first.text
    assert listed(client.get("/children?page=3")) == ["岩叫", "李明"]
    assert listed(client.get("/children?page=9")) == []  # past the end: empty, not an error
    filtered = client.get("/children", query_string={"q": "岩", "page": 1})
    assert listed(filtered) == ["岩温", "岩罕"]
    link = re.search(r'<a href="([^"]+)" rel="next">', filtered.text).group(1)
    assert "q=%E5%B2%A9" in link and "page=2" in link
    assert listed(client.get(link.replace("&amp;", "&"))) == ["岩叫"]


def test_school_user_sees_only_own_school(client, county, make_user, login):
    login(make_user("school", school=county.s1))
    assert listed(client.get("/children")) == ["岩温", "玉香"]
    assert listed(client.get("/children", query_string={"q": "玉儿"})) == []
    assert client.get(f"/children/{county.c1.id}").status_code == 200
    assert client.get(f"/children/{county.c4.id}").status_code == 404
    assert client.get("/children/9999").status_code == 404


def test_township_user_sees_children_living_or_schooled_there(client, county, make_user, login):
    login(make_user("township", township=county.menghan))
    assert listed(client.get("/children")) == ["岩温", "玉香", "岩罕", "岩叫"]
    assert client.get(f"/children/{county.c5.id}").status_code == 200  # lives in 勐罕, school in 嘎洒
    assert client.get(f"/children/{county.c6.id}").status_code == 404


def test_child_page(client, county, clerk):
    c3 = county.c3
    db.session.add_all(
        [
            StatusChange(
                id_number=c3.id_number,
                child_id=c3.id,
                name="岩罕",
                kind="休学",
                changed_on=date(2021, 3, 1),
                reason="疾病",
            ),
            DisabilityRecord(
                id_number=c3.id_number,
                name="岩罕",
                certificate_number=c3.id_number + "42",
                category="肢体",
                level=2,
                can_attend_school=False,
            ),
        ]
    )
    case = DropoutCase(
        child=c3,
        state="persuasion",
        reason="厌学",
        opened_on=date(2021, 3, 2),
        step_started_on=date(2021, 3, 2),
        township_id=county.menghan.id,
        school_id=county.s2.id,
    )
    db.session.add(case)
    db.session.flush()
    db.session.add(
        HomeVisit(
            child_id=c3.id,
            case_id=case.id,
            visited_on=date(2021, 3, 3),
            visitors="张老师",
            form="入户",
            findings="在家务农",
        )
    )
    db.session.commit()

    page = client.get(f"/children/{c3.id}").text
    assert c3.id_number in page  # a clerk sees the full number on the detail page
    for text in (
        "岩罕之母",
        "勐罕中学",
        "七年级",
        "休学",
        "疾病",
        "监测户",
        "边缘易致贫户",
        "肢体",
        "2级",
        "张老师",
        "在家务农",
        "第一步",
    ):
        assert text in page, text
    assert f'href="/cases/{case.id}"' in page
    # One open case per child: no second "open a case" button.
    assert f"/children/{c3.id}/cases/new" not in page
    assert f"/children/{county.c1.id}/cases/new" in client.get(f"/children/{county.c1.id}").text


def test_auditor_sees_masked_ids_and_no_write_buttons(client, county, make_user, login):
    login(make_user("auditor"))
    page = client.get(f"/children/{county.c1.id}").text
    assert county.c1.id_number not in page
    assert "532801********2690" in page and "G532801********2690" in page
    assert "开立控辍保学个案" not in page


def test_home_page_counts(client, county, clerk):
    db.session.add(
        DropoutCase(
            child=county.c5,
            state="order_to_correct",
            reason="外出务工",
            opened_on=date(2021, 3, 2),
            step_started_on=date(2021, 3, 2),
            township_id=county.menghan.id,
        )
    )
    db.session.commit()
    page = client.get("/").text
    figures = re.findall(r'<div class="figure">(\d+)</div>', page)
    assert figures == ["3", "6", "1", "3"]  # in school, on the roll, open cases, schools
    assert re.search(r"第二步 责令改正.*?<span class=\"num\">1</span>", page, re.S)


def test_home_page_is_scoped(client, county, make_user, login):
    login(make_user("school", school=county.s3))
    figures = re.findall(r'<div class="figure">(\d+)</div>', client.get("/").text)
    assert figures == ["1", "2", "0", "1"]


# --- import page -------------------------------------------------------------


@pytest.fixture
def import_clerk(app, make_user, login):
    user = make_user("clerk", username="zhang")
    login(user)
    return user


def upload(app, client, demo_dir, kind, name):
    """Post a sample file, wait for its background import, return the job page URL."""
    data = (demo_dir / name).read_bytes()
    response = client.post(
        "/imports", data={"kind": kind, "file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.text
    job_url = response.headers["Location"]
    job_id = re.fullmatch(r"/imports/jobs/([0-9a-f]{32})", job_url).group(1)
    app.extensions["edu_guard.import_threads"][job_id].join(120)
    return job_url


def test_import_roster_and_see_the_rejects(app, client, import_clerk, demo_dir):
    upload(app, client, demo_dir, "schools", "schools.csv")
    job_url = upload(app, client, demo_dir, "roster", "roster_2021_spring.xlsx")
    state = client.get(job_url + ".json").get_json()
    assert state["state"] == "done" and state["done"] == state["total"] == 1202
    done = client.get(job_url)
    assert done.status_code == 302
    run_url = done.headers["Location"]
    assert run_url == state["url"]

    page = client.get(run_url).text
    assert "roster_2021_spring.xlsx" in page
    counts = dict(re.findall(r"<span>(\S+) <b[^>]*>(\d+)</b></span>", page))
    assert counts == {"数据行": "1202", "新增": "1194", "更新": "0", "未变": "0", "未导入": "8"}
    assert "读取工作表“花名册”：表头在第2行，数据 1202 行" in page  # which sheet and header row were read
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td class="nowrap">([^<]*)</td><td>([^<]+)</td></tr>', page)
    assert len(rows) == 8 and all(column and reason for _, column, reason in rows)
    assert db.session.query(Child).count() == 1194

    run_id = int(run_url.rsplit("/", 1)[1])
    workbook = client.get(f"/imports/{run_id}/rejects.xlsx")
    assert workbook.status_code == 200
    assert "attachment" in workbook.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.data)).active
    header = [c.value for c in sheet[2]]  # below the title row
    assert header[-1] == "错误原因" and "身份证件号" in header
    assert sheet.max_row == 2 + 8
    assert sorted(sheet.cell(row=r, column=len(header) - 1).value for r in range(3, 11)) == sorted(
        int(r[0]) for r in rows
    )

    listing = client.get("/imports").text
    run = db.session.get(ImportRun, run_id)
    assert run.sha256[:12] in listing and "学籍花名册" in listing and "zhang" in listing


def test_same_file_twice_changes_nothing(app, client, import_clerk, demo_dir):
    upload(app, client, demo_dir, "schools", "schools.csv")
    second = client.get(upload(app, client, demo_dir, "schools", "schools.csv"), follow_redirects=True).text
    counts = dict(re.findall(r"<span>(\S+) <b[^>]*>(\d+)</b></span>", second))
    assert counts["新增"] == counts["更新"] == "0" and int(counts["未变"]) > 0
    stored = [p.name for p in (Path(app.instance_path) / "uploads").iterdir() if p.is_file()]
    assert stored == [hashlib.sha256((demo_dir / "schools.csv").read_bytes()).hexdigest()]  # stored once


def test_a_file_that_cannot_be_imported_is_reported(app, client, import_clerk, demo_dir):
    job_url = upload(app, client, demo_dir, "roster", "schools.csv")
    state = client.get(job_url + ".json").get_json()
    assert state["state"] == "failed" and "缺少必需的列" in state["error"]
    page = client.get(job_url).text
    assert "缺少必需的列" in page
    assert db.session.query(ImportRun).count() == 0  # nothing was written


def test_upload_form_validation(client, import_clerk):
    response = client.post("/imports", data={"kind": "roster"}, content_type="multipart/form-data")
    assert response.status_code == 200 and "请选择要导入的文件" in response.text
    response = client.post(
        "/imports",
        data={"kind": "roster", "file": (io.BytesIO(b"x"), "roster.pdf")},
        content_type="multipart/form-data",
    )
    assert "只能导入" in response.text


def test_auditor_sees_runs_but_cannot_import_or_download(app, client, make_user, login, demo_dir):
    from edu_guard.registry.services import import_file

    run_id = import_file("schools", demo_dir / "schools.csv").import_run_id
    db.session.commit()
    login(make_user("auditor"))
    page = client.get("/imports").text
    assert "schools.csv" in page and 'type="file"' not in page
    assert client.post("/imports", data={"kind": "schools"}).status_code == 403
    assert client.get(f"/imports/{run_id}").status_code == 200
    assert client.get(f"/imports/{run_id}/rejects.xlsx").status_code == 403


@pytest.mark.parametrize("role", ["township", "school"])
def test_township_and_school_users_have_no_import_page(client, make_user, login, role):
    login(make_user(role))
    assert client.get("/imports").status_code == 403
    assert "数据导入" not in client.get("/").text


def test_unknown_job_and_run(client, import_clerk):
    assert client.get("/imports/jobs/" + "0" * 32).status_code == 404
    assert client.get("/imports/jobs/nothex").status_code == 404
    assert client.get("/imports/999").status_code == 404
