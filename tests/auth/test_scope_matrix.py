"""Scoping by default (docs/domain.md §6), route by route and object by object.

Two townships, one school each; every kind of object (child, case, responsible person,
home visit, letter,
aid list and entry, payment batch and payment, 送教上门 placement and attachment,
comparison run and row, import run, job, guardian, payee account, plan, reversal) exists at
both schools. A school user and a township user of the first township open every page
that names an object: their own school's objects answer, the other school's answer 404
(as if they did not exist) or 403 (a page of the bureau's), never the object. They open
every page that names none (lists, reports, exports) and find nothing of the other
school there, and they cannot reach another school's object through ids posted in a
form. Every route must be listed here — by the object its URL names, or in
:data:`NO_OBJECT` — so a new one cannot be added without deciding who sees it.
"""

from __future__ import annotations

from datetime import date, time

import pytest
import sqlalchemy as sa

from edu_guard.aid.models import AidList, AidListEntry, PayeeAccount, Payment, PaymentBatch, PaymentReversal, Term
from edu_guard.auth import scoping
from edu_guard.cases import services as case_services
from edu_guard.cases.models import CaseAssignment, HomeVisit
from edu_guard.comparisons.models import ComparisonRow, ComparisonRun
from edu_guard.db import db
from edu_guard.jobs.models import Job
from edu_guard.homebound.models import HomeboundAttachment, HomeboundPlacement, HomeboundPlan, HomeboundSession
from edu_guard.letters.models import Letter, letter_case
from edu_guard.registry.models import Child, ImportRun, School, Township

#: URL argument → the object kind it names.
KINDS = {
    "child_id": "child", "case_id": "case", "letter_id": "letter", "list_id": "aid_list", "entry_id": "aid_entry",
    "payment_id": "payment", "batch_id": "batch", "placement_id": "placement", "attachment_id": "attachment",
    "run_id": "run", "row_id": "comparison_row", "user_id": "user", "assignment_id": "assignment", "job_id": "job",
}
#: Pages of the bureau (admin, clerk; auditors read): a township or school user is refused
#: whatever the object.
BUREAU_ONLY = {
    "aid.bank_workbook", "aid.approve", "aid.reverse", "comparisons.run", "comparisons.export",
    "comparisons.open_cases", "comparisons.close_row", "homebound.placement_end", "registry.import_run",
    "registry.import_rejects", "auth.user_edit", "auth.user_set_active",
}
#: Pages a school or township user opens for its own objects (GET, answered 200).
OWN_PAGES = {
    "registry.child_detail", "cases.case_detail", "cases.case_new", "cases.child_visit", "aid.list_detail",
    "homebound.placement_detail", "letters.letter_detail", "jobs.job_page", "jobs.job_state",
}
#: Routes naming an object checked elsewhere: the import job (bureau-only routes; the job
#: rows have their own scope rule, tests/jobs), the 送教上门 candidate key (checked by
#: can_see_candidate, tests/homebound), terms and ledgers (county-wide lists, scoped rows).
OTHER_KEYS = {"registry.import_job", "registry.import_job_state", "registry.import_job_rerun", "homebound.place", "aid.lists", "aid.payments",
              "aid.propose", "reports.ledger", "static"}

#: Routes that name no object, each with who may use it: ``bureau`` (a township or school
#: user is refused, 403), ``scoped`` (a list, a report or an export: answered with the
#: user's own area only), ``own`` (the user's own account), ``public`` (sign-in),
#: ``posted ids`` (objects named by ids in the form: checked one by one below).
NO_OBJECT = {
    "aid.gaps_page": "bureau", "aid.index": "scoped", "aid.plugins_page": "bureau", "aid.report": "bureau",
    "aid.report_xlsx": "bureau", "aid.term_add": "bureau", "auth.audit_log": "bureau",
    "auth.change_password": "own", "auth.login": "public", "favicon": "public", "auth.logout": "own", "auth.user_list": "bureau",
    "auth.user_new": "bureau", "cases.case_list": "scoped", "cases.return_contact": "posted ids",
    "cases.holiday_arrangements": "bureau", "jobs.job_list": "scoped", "reports.province_aid": "bureau",
    "reports.province_monthly": "bureau",
    "comparisons.index": "bureau", "homebound.candidate_list": "scoped", "homebound.compliance_report": "scoped",
    "homebound.placement_list": "scoped", "letters.letter_list": "scoped", "letters.print_run": "posted ids",
    "registry.children": "scoped", "registry.import_page": "bureau", "registry.index": "scoped",
    "reports.dashboard": "scoped", "reports.periodic": "scoped",
}
#: What of the other school's child must never reach a first-township user.
OTHER_CHILD = ("玉香", "532801200902031226")


def _school_objects(school: School, child: Child, term: Term, n: int) -> dict[str, int]:
    """Create one object of every kind at ``school`` for ``child``; return their ids."""
    case = case_services.open_case(child, reason="其他", opened_on=date(2021, 3, 2))
    db.session.flush()
    assignment = CaseAssignment(case_id=case.id, role="class_teacher", name="李老师")
    visit = HomeVisit(child_id=child.id, case_id=case.id, visited_on=date(2021, 3, 3), visitors="李老师", form="入户",
                      findings="在家务农", outcome="未返校")
    letter = Letter(kind="return_contact", issuer_name="景洪市教育体育局", issuer_code="景教体函", kind_mark="函",
                    year=2021, seq=n, doc_number=f"景教体函〔2021〕{n}号", issued_on=date(2021, 3, 3),
                    title="劝返联系函", recipient=school.name, context={})
    aid_list = AidList(term_id=term.id, scheme_code="compulsory_living", school_id=school.id, state="proposed")
    entry = AidListEntry(aid_list=aid_list, child_id=child.id, amount_fen=50000, reason="脱贫家庭", stage="小学")
    batch = PaymentBatch(term_id=term.id, scheme_code="compulsory_living", paid_on=date(2021, 3, 20))
    payment = Payment(child_id=child.id, scheme_code="compulsory_living", term_id=term.id, stage="小学",
                      amount_fen=50000, batch=batch, paid_on=date(2021, 3, 20), school_id=school.id)
    placement = HomeboundPlacement(child_id=child.id, school_id=school.id, assessed_on=date(2021, 3, 1),
                                   assessment="重度肢体残疾", teachers="王老师", starts_on=date(2021, 3, 1))
    session = HomeboundSession(placement=placement, held_on=date(2021, 3, 4), starts_at=time(9), ends_at=time(10),
                               teachers="王老师", progress="能认读十个字")
    attachment = HomeboundAttachment(session=session, filename="photo.jpg", content_type="image/jpeg", size=3,
                                     sha256="0" * 64)
    run = ComparisonRun(kind="household", as_of=date(2021, 3, 1))
    row = ComparisonRow(run=run, line=n, category="out_of_school", reason="户籍在本县，无学籍")
    import_run = ImportRun(kind="roster", filename="roster.xlsx", sha256=f"{n}" * 64)
    plan = HomeboundPlan(placement=placement, school_year="2020-2021", made_on=date(2021, 3, 1),
                         goals=[{"area": "生活自理", "goal": "能自己穿衣"}])
    account = PayeeAccount(child_id=child.id, holder_name=f"{child.name}之父", holder_id_number=child.id_number,
                           bank="农村信用社", number=f"62210000000000{n:04d}", kind="一卡通")
    reversal = PaymentReversal(payment=payment, reason="重复发放")
    job = Job(kind="export", school_id=school.id, township_id=school.township_id, state="done",
              params={"export": "roster", "filters": {}}, result={"file": "学生名册.xlsx"})
    db.session.add_all([assignment, visit, letter, aid_list, batch, placement, run, row, import_run, plan, account,
                        reversal, job])
    db.session.flush()
    db.session.execute(letter_case.insert().values(letter_id=letter.id, case_id=case.id))
    db.session.commit()
    return {"child": child.id, "case": case.id, "letter": letter.id, "aid_list": aid_list.id, "aid_entry": entry.id,
            "payment": payment.id, "batch": batch.id, "placement": placement.id, "attachment": attachment.id,
            "run": run.id, "comparison_row": row.id, "user": 1, "assignment": assignment.id, "job": job.id}


@pytest.fixture
def two_schools(app_ctx, make_child, make_user, today_is):
    """Townships 勐罕镇 and 勐龙镇, a school and a child in each, every kind of object
    at both; returns the users of the first and the objects of each school."""
    today_is(date(2021, 3, 5))
    term = Term(code="2021-spring", name="2021年春季学期", start=date(2021, 3, 1), end=date(2021, 7, 9), school_days=90)
    db.session.add(term)
    schools = []
    for code, town, name in (("2153280101", "勐罕镇", "勐罕中心小学"), ("2153280102", "勐龙镇", "勐龙中心小学")):
        schools.append(School(code=code, name=name, stage="小学", county_code="532801",
                              township=Township(county_code="532801", name=town)))
    db.session.add_all(schools)
    db.session.commit()
    own_child = make_child("岩温", "532801200901142694", school=schools[0])
    other_child = make_child("玉香", "532801200902031226", school=schools[1])
    own = _school_objects(schools[0], own_child, term, 1)
    other = _school_objects(schools[1], other_child, term, 2)
    users = {"school": make_user("school", school=schools[0]), "township": make_user("township", township=schools[0].township)}
    return users, own, other


def _url(rule, ids: dict[str, int]) -> str:
    return rule.build({arg: ids[KINDS[arg]] for arg in rule.arguments}, append_unknown=False)[1]


def test_every_route_is_in_the_matrix(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in OTHER_KEYS:
            continue
        if not rule.arguments:
            assert rule.endpoint in NO_OBJECT, f"{rule.endpoint}: add it to NO_OBJECT (and decide who may use it)"
            continue
        unknown = set(rule.arguments) - set(KINDS)
        assert not unknown, f"{rule.endpoint}: add {unknown} to KINDS (and decide who sees it)"
    named = {r.endpoint for r in app.url_map.iter_rules() if r.arguments and r.endpoint not in OTHER_KEYS}
    assert (BUREAU_ONLY | OWN_PAGES) <= named
    assert set(NO_OBJECT) == {r.endpoint for r in app.url_map.iter_rules() if not r.arguments}


def _text(resp) -> str:
    """A response's text: a page, JSON or CSV as it is, a workbook's cell values."""
    if resp.mimetype.endswith("spreadsheetml.sheet"):
        import io

        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(resp.data), read_only=True)
        return "\n".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row
                         if v is not None)
    return resp.get_data(as_text=True)


@pytest.mark.parametrize("role", ["school", "township"])
def test_pages_without_an_object_show_nothing_of_another_school(app, client, login, two_schools, role):
    """Every list, report and export (pages and their ``?format=xlsx``), and the ledgers
    of each kind, as a first-township user: the bureau's are refused, the others show
    the user's own child and nothing of the other school's."""
    from edu_guard.reports.ledgers import LEDGERS

    users, own, other = two_schools
    login(users[role])
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in rule.methods or NO_OBJECT.get(rule.endpoint) not in ("scoped", "bureau"):
            continue
        urls += [(rule.endpoint, rule.rule), (rule.endpoint, rule.rule + "?format=xlsx")]
    urls += [("reports.ledger", f"/reports/ledgers/{kind}{q}") for kind in LEDGERS for q in ("", "?format=xlsx")]
    shown_own, wrong = 0, []
    for endpoint, url in urls:
        resp = client.get(url)
        if NO_OBJECT.get(endpoint) == "bureau":
            if resp.status_code != 403:
                wrong.append(f"{url}: {resp.status_code}, not 403")
            continue
        if resp.status_code != 200:
            wrong.append(f"{url}: {resp.status_code}, not 200")
            continue
        text = _text(resp)
        if [s for s in OTHER_CHILD if s in text]:
            wrong.append(f"{url} shows the other school's child")
        shown_own += "岩温" in text
    assert not wrong, "\n".join(wrong)
    assert shown_own >= 8


@pytest.mark.parametrize("role", ["school", "township"])
def test_ids_posted_in_a_form_reach_only_the_users_own_objects(client, login, two_schools, role):
    users, own, other = two_schools
    login(users[role])
    assert client.post("/letters/print", data={"letter_id": [other["letter"]]}).status_code == 404
    resp = client.post("/cases/return-contact", data={"case_id": [other["case"]]}, follow_redirects=True)
    assert resp.status_code in (200, 403, 404)
    assert not [s for s in OTHER_CHILD if s in _text(resp)]
    assert db.session.execute(sa.select(sa.func.count(Letter.id))).scalar_one() == 2  # no letter was issued


def test_every_kind_of_personal_record_is_scoped_by_default(app, two_schools):
    """Each model with a default rule: a first-school user's request reads exactly its
    own school's rows (one of the two), whatever the query forgot."""
    from flask_login import login_user

    from edu_guard.auth.models import User

    users, own, other = two_schools
    user_id = users["school"].id
    db.session.expunge_all()
    kinds = [m for m in scoping._DEFAULT if m.__name__ not in ("Job", "ComparisonRun", "ComparisonRow", "ImportRun")]  # the bureau's
    assert {m.__name__ for m in kinds} >= {
        "Child", "Guardian", "DropoutCase", "CaseAssignment", "CaseEvent", "HomeVisit", "Letter", "AidList",
        "AidListEntry", "Payment", "PaymentReversal", "PayeeAccount", "HomeboundPlacement", "HomeboundPlan",
        "HomeboundSession", "HomeboundAttachment"}
    with app.test_request_context("/"):
        login_user(db.session.get(User, user_id))
        for model in kinds:
            everyone = db.session.execute(sa.select(sa.func.count()).select_from(model)
                                          .execution_options(unscoped="the test counts the county")).scalar_one()
            mine = db.session.execute(sa.select(model)).scalars().all()
            assert everyone >= 2 and 0 < len(mine) < everyone, f"{model.__name__}: {len(mine)} of {everyone}"


@pytest.mark.parametrize("role", ["school", "township"])
def test_a_user_sees_its_own_objects_and_never_another_schools(app, client, login, two_schools, role):
    users, own, other = two_schools
    login(users[role])
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.arguments or rule.endpoint in OTHER_KEYS:
            continue
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        for method in methods:
            theirs = client.open(_url(rule, other), method=method, data={})
            expected = {403} if rule.endpoint in BUREAU_ONLY else {403, 404}
            assert theirs.status_code in expected, f"{role} {method} {rule.endpoint} of the other school: {theirs.status_code}"
            checked += 1
        if rule.endpoint in OWN_PAGES:
            mine = client.get(_url(rule, own))
            assert mine.status_code == 200, f"{role} GET {rule.endpoint} of its own school: {mine.status_code}"
        elif rule.endpoint in BUREAU_ONLY:
            assert client.get(_url(rule, own)).status_code in (403, 405)
    assert checked >= 35
    # nothing of the other school was changed by the refused requests
    assert db.session.execute(sa.select(sa.func.count()).select_from(HomeVisit)).scalar_one() == 2


def test_lists_show_only_the_users_own_objects(client, login, two_schools):
    users, own, other = two_schools
    login(users["school"])
    children = client.get("/children").get_data(as_text=True)
    assert "岩温" in children and "玉香" not in children
    cases = client.get("/cases").get_data(as_text=True)
    assert "岩温" in cases and "玉香" not in cases
    letters = client.get("/letters").get_data(as_text=True)
    assert "景教体函〔2021〕1号" in letters and "景教体函〔2021〕2号" not in letters


def test_adding_a_child_to_an_aid_list_says_the_same_for_unknown_and_out_of_scope(client, login, two_schools):
    """A school cannot probe the county registry through "add a child": an ID number of
    another school's pupil and an ID number nobody has get the same answer."""
    users, own, other = two_schools
    login(users["school"])
    answers = []
    for id_number in ("532801200902031226", "532801200801011234"):  # the other school's pupil; nobody
        response = client.post(f"/aid/lists/{own['aid_list']}/entries",
                               data={"id_number": id_number, "reason": "家庭突发困难"}, follow_redirects=True)
        answers.append(response.get_data(as_text=True))
    assert "本学期本校在读学生中没有该身份证号" in answers[0]
    assert answers[0] == answers[1]


def test_reads_in_a_request_are_scoped_unless_the_code_says_unscoped(app, two_schools):
    """Any ORM read made while a township or school user's request runs is limited to
    the user's scope — a query that forgot to scope itself included — unless it is
    marked ``unscoped`` with a reason."""
    from flask_login import login_user

    from edu_guard.auth.scoping import unscoped
    from edu_guard.cases.models import DropoutCase

    from edu_guard.auth.models import User

    users, own, other = two_schools
    user_id = users["school"].id
    db.session.expunge_all()  # no identity-map shortcuts: every read goes to the database
    with app.test_request_context("/"):
        login_user(db.session.get(User, user_id))
        assert db.session.execute(sa.select(Child.name).order_by(Child.id)).scalars().all() == ["岩温"]
        assert db.session.get(DropoutCase, other["case"]) is None
        assert db.session.execute(sa.select(sa.func.count(Payment.id))).scalar_one() == 1
        assert db.session.execute(sa.select(Letter.doc_number)).scalars().all() == ["景教体函〔2021〕1号"]
        with unscoped("the test reads the whole county"):
            assert db.session.execute(sa.select(sa.func.count(Child.id))).scalar_one() == 2
        stmt = sa.select(sa.func.count(HomeboundPlacement.id)).execution_options(unscoped="the test, county-wide")
        assert db.session.execute(stmt).scalar_one() == 2
    db.session.expunge_all()
    assert db.session.execute(sa.select(sa.func.count(Child.id))).scalar_one() == 2  # no request: the county
    with pytest.raises(ValueError, match="reason"):
        with unscoped(" "):
            pass
