"""The four-step state machine, without a database."""

from datetime import date

import pytest

from edu_guard.cases import machine
from edu_guard.cases.machine import CaseFacts, IllegalTransition, LetterFacts, check


def facts(state="persuasion", started=date(2021, 3, 1), visits=1, **letters):
    return CaseFacts(state=state, opened_on=date(2021, 3, 1), step_started_on=started, home_visits=visits,
                     letters={k: LetterFacts(i, *v) for i, (k, v) in enumerate(letters.items(), 1)})


def test_every_state_has_a_label_and_every_transition_known_states():
    for t in machine.TRANSITIONS.values():
        assert set(t.sources) <= set(machine.STATES)
        assert t.target in (None, machine.RESUMED, *machine.STATES)


def test_cannot_skip_a_step():
    with pytest.raises(IllegalTransition, match="不能“转入第三步"):
        check("escalate_to_penalty", facts(), "clerk", date(2021, 6, 1))
    with pytest.raises(IllegalTransition, match="不能“制发责令限期改正通知书"):
        check("issue_order", facts(), "clerk", date(2021, 6, 1))


def test_step_one_needs_a_visit_and_the_period():
    with pytest.raises(IllegalTransition, match="家访"):
        check("escalate_to_order", facts(visits=0), "clerk", date(2021, 3, 20))
    # 7 calendar days from Mon 1 March end on Mon 8 March: not on the 8th, on the 9th.
    with pytest.raises(IllegalTransition, match="2021-03-08"):
        check("escalate_to_order", facts(), "clerk", date(2021, 3, 8))
    assert check("escalate_to_order", facts(), "clerk", date(2021, 3, 9)).target == "order_to_correct"


def test_step_two_needs_service_and_ten_working_days():
    f = facts("order_to_correct", date(2021, 3, 9), order_to_correct=(date(2021, 3, 9), None))
    with pytest.raises(IllegalTransition, match="尚未送达"):
        check("escalate_to_penalty", f, "clerk", date(2021, 5, 1))
    # Served Wed 10 March: 10 working days end Wed 24 March.
    f = facts("order_to_correct", date(2021, 3, 9), order_to_correct=(date(2021, 3, 9), date(2021, 3, 10)))
    assert machine.current_deadline(f).day == date(2021, 3, 24)
    with pytest.raises(IllegalTransition, match="2021-03-24"):
        check("escalate_to_penalty", f, "clerk", date(2021, 3, 24))
    assert check("escalate_to_penalty", f, "clerk", date(2021, 3, 25)).target == "penalty"


def test_township_may_not_escalate_to_penalty():
    f = facts("order_to_correct", date(2021, 3, 9), order_to_correct=(date(2021, 3, 9), date(2021, 3, 10)))
    with pytest.raises(IllegalTransition, match="角色"):
        check("escalate_to_penalty", f, "township", date(2021, 4, 1))
    with pytest.raises(IllegalTransition, match="角色"):
        check("issue_order", facts("order_to_correct"), "school", date(2021, 4, 1))


def test_decision_waits_for_statement_and_hearing_window():
    notice = (date(2021, 4, 1), date(2021, 4, 2))  # served Fri 2 April; 3–5 April 清明
    f = facts("penalty", date(2021, 4, 1), penalty_notice=notice)
    # 5 working days after Fri 2 April: 6, 7, 8, 9, 12 April.
    with pytest.raises(IllegalTransition, match="2021-04-12"):
        check("issue_penalty_decision", f, "clerk", date(2021, 4, 12))
    assert check("issue_penalty_decision", f, "clerk", date(2021, 4, 13)).letter == "penalty_decision"


def test_enforcement_waits_for_review_and_lawsuit_periods():
    f = facts("penalty", date(2021, 4, 1), penalty_notice=(date(2021, 4, 1), date(2021, 4, 2)),
              penalty_decision=(date(2021, 4, 13), date(2021, 4, 14)))
    # Six months after 14 April 2021 is Thu 14 October 2021.
    with pytest.raises(IllegalTransition, match="2021-10-14"):
        check("escalate_to_enforcement", f, "clerk", date(2021, 8, 1))
    assert check("escalate_to_enforcement", f, "clerk", date(2021, 10, 15)).target == "enforcement"


def test_court_application_needs_demand_served_ten_working_days_and_within_three_months():
    base = dict(penalty_notice=(date(2021, 4, 1), date(2021, 4, 2)),
                penalty_decision=(date(2021, 4, 13), date(2021, 4, 14)))
    f = facts("enforcement", date(2021, 10, 15), **base, demand=(date(2021, 10, 15), None))
    with pytest.raises(IllegalTransition, match="催告书尚未送达"):
        check("apply_to_court", f, "clerk", date(2021, 11, 15))
    f = facts("enforcement", date(2021, 10, 15), **base, demand=(date(2021, 10, 15), date(2021, 10, 18)))
    # 10 working days after Mon 18 Oct: 19..22, 25..29, 1 Nov.
    with pytest.raises(IllegalTransition, match="2021-11-01"):
        check("apply_to_court", f, "clerk", date(2021, 11, 1))
    assert check("apply_to_court", f, "clerk", date(2021, 11, 2)).letter == "enforcement_application"
    # Art. 53: three months after 14 Oct 2021 → Fri 14 Jan 2022; later is refused.
    with pytest.raises(IllegalTransition, match="第五十三条"):
        check("apply_to_court", f, "clerk", date(2022, 1, 17))


def test_outcomes_from_any_step_and_follow_up():
    for state in machine.OUT_OF_SCHOOL:
        assert check("return_to_school", facts(state), "school", date(2021, 3, 2)).target == "following_up"
        assert check("record_death", facts(state), "clerk", date(2021, 3, 2)).target == "closed"
    f = CaseFacts(state="following_up", opened_on=date(2021, 3, 1), step_started_on=date(2021, 3, 2),
                  home_visits=1, outcome_on=date(2021, 3, 2), resumed_state="order_to_correct")
    # 30 days after 2 March is Thu 1 April.
    with pytest.raises(IllegalTransition, match="2021-04-01"):
        check("close_follow_up", f, "clerk", date(2021, 4, 1))
    assert check("close_follow_up", f, "clerk", date(2021, 4, 2)).target == "closed"
    t = check("drop_out_again", f, "clerk", date(2021, 3, 20))
    assert machine.target_of(t, f) == "order_to_correct"


def test_closed_case_accepts_nothing():
    f = facts("closed")
    assert machine.allowed(f, "admin", date(2021, 5, 1)) == []
    with pytest.raises(IllegalTransition):
        check("return_to_school", f, "admin", date(2021, 5, 1))


def test_act_dated_before_the_step_began_is_refused():
    with pytest.raises(IllegalTransition, match="早于本步骤开始日期"):
        check("return_to_school", facts(started=date(2021, 3, 5)), "clerk", date(2021, 3, 4))
