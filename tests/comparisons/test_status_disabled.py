"""``edu-guard compare status`` and ``compare disabled`` on the sample county."""

import csv
from datetime import date

from edu_guard.comparisons.rules import age_category, compulsory_birth_range


def _csv(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_status_changes(load, invoke, demo_dir, app):
    load("schools.csv", "roster_2021_spring.xlsx", "status_changes_2021.csv")
    changes = _csv(demo_dir / "status_changes_2021.csv")
    no_destination = {r["身份证件号"] for r in changes if r["变动类型"] == "转出" and not r["去向学校"]}
    named = {r["身份证件号"] for r in changes if r["变动类型"] == "转出" and r["去向学校"]}
    suspended = {r["身份证件号"] for r in changes if r["变动类型"] == "休学"}
    dead = {r["身份证件号"] for r in changes if r["变动类型"] == "死亡注销"}
    assert (len(no_destination), len(dead)) == (6, 1)  # docs/domain.md §8

    out = invoke.json("compare", "status", "--as-of", "2021-04-30")
    got = {}
    for r in out["rows"]:
        got.setdefault(r["category"], set()).add(r["id_number"])
    assert got == {"transfer_no_destination": no_destination, "transfer_named": named,
                   "suspended": suspended, "deceased": dead}
    # ten days after the transfers (2021-01-10) they are not overdue yet (30 days)
    early = invoke.json("compare", "status", "--as-of", "2021-01-20")
    assert early["counts"]["transfer_pending"] == 6 and early["counts"]["transfer_no_destination"] == 0
    # a 休学 of 2021-03-15 is past its year on 2022-03-16 with no 复学
    late = invoke.json("compare", "status", "--as-of", "2022-03-16")
    assert late["counts"]["suspension_overdue"] == len(suspended)


def test_disabled_children(load, invoke, demo_dir):
    load("schools.csv", "roster_2021_spring.xlsx", "disabled_children_2021.csv")
    rows = _csv(demo_dir / "disabled_children_2021.csv")
    cannot = {r["身份证号"] for r in rows if r["能否到校就读"] == "否"}
    assert len(cannot) == 7  # docs/domain.md §8
    out = invoke.json("compare", "disabled", "--as-of", "2021-04-30")
    got = {r["id_number"] for r in out["rows"] if r["category"] == "needs_placement"}
    assert got == cannot
    assert out["counts"]["placed"] == 0  # no 送教上门 placements until edu_guard.homebound is merged
    assert sum(out["counts"].values()) == len(rows)
    # a year later 玉应 (born 2006-03-19) has turned 16: no longer a candidate
    later = invoke.json("compare", "disabled", "--as-of", "2022-04-30")
    aged = {r["id_number"] for r in later["rows"] if r["category"] == "out_of_age"}
    assert "532801200603193588" in aged and "532801200603193588" in cannot
    assert {r["id_number"] for r in later["rows"] if r["category"] == "needs_placement"} == cannot - aged


def test_age_rule_boundaries():
    # 2020/21 school year: entry if 6 by 2020-08-31; compulsory until the 16th birthday
    assert compulsory_birth_range(date(2021, 4, 30)) == (date(2005, 4, 30), date(2014, 8, 31))
    assert age_category(date(2014, 8, 31), date(2021, 4, 30)) is None
    assert age_category(date(2014, 9, 1), date(2021, 4, 30)) == "too_young"
    assert age_category(date(2005, 5, 1), date(2021, 4, 30)) is None
    assert age_category(date(2005, 4, 30), date(2021, 4, 30)) == "too_old"
    # from 1 September the next cohort is of age
    assert age_category(date(2015, 8, 31), date(2021, 9, 1)) is None
    assert compulsory_birth_range(date(2024, 2, 29))[0] == date(2008, 2, 29)
    assert compulsory_birth_range(date(2021, 4, 30), min_age=7, cutoff=(12, 31))[1] == date(2013, 12, 31)
