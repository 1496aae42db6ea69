"""Scoring from the published rules, through the shipped instrument files (no database).

AHC HRSN rules (CMS AHC screening tool guide): living situation — answer 2 or 3 to question 1,
or any problem in question 2; food — "often true" or "sometimes true" to either question;
transportation — "yes"; utilities — "yes" or "already shut off"; safety — four items scored
1-5 and summed, positive at 11 or more.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from assessments.engine import DomainStatus, InstrumentDefinition, ItemAnswer, RiskLevel
from assessments.loader import read_all
from tests.factories import AHC_NEGATIVE, item_answers

Q1, Q2 = "124296", "123820"  # living situation
Q3, Q4 = "123821", "123822"  # food
Q5 = "123823"  # transportation
Q6 = "123824"  # utilities
SAFETY = ("123825", "123826", "123827", "123828")
# Safety answers by score: Never, Rarely, Sometimes, Fairly often, Frequently.
SAFETY_CODE = {1: "LA6270-8", 2: "LA10066-1", 3: "LA10082-8", 4: "LA16644-9", 5: "LA6482-9"}
Q2_PROBLEMS = [
    "LA31996-4",  # pests
    "LA28580-1",  # mold
    "LA31997-2",  # lead paint or pipes
    "LA31998-0",  # lack of heat
    "LA31999-8",  # oven or stove not working
    "LA32000-4",  # smoke detectors missing or not working
    "LA32001-2",  # water leaks
]


@pytest.fixture(scope="module")
def definitions() -> dict[str, InstrumentDefinition]:
    return {
        f.key: InstrumentDefinition.from_documents(f.questionnaire, f.scoring) for f in read_all()
    }


@pytest.fixture(scope="module")
def ahc(definitions) -> InstrumentDefinition:
    return definitions["ahc-hrsn-core"]


@pytest.fixture(scope="module")
def ssm(definitions) -> InstrumentDefinition:
    return definitions["self-sufficiency-matrix"]


def score(definition, answers: dict, **changes):
    merged = {**answers, **changes}
    merged = {k: v for k, v in merged.items() if v is not None}
    cleaned = item_answers(merged)
    definition.clean(cleaned)
    return definition.score(cleaned)


def status(result, key: str) -> str:
    return next(d.status for d in result.domains if d.key == key)


def safety(*scores: int) -> dict:
    return {link_id: (SAFETY_CODE[s],) for link_id, s in zip(SAFETY, scores, strict=True)}


# -- AHC HRSN: each domain's rule ------------------------------------------------------------


def test_all_negative_screen_has_no_needs_and_low_risk(ahc):
    result = score(ahc, AHC_NEGATIVE)
    assert {d.key: d.status for d in result.domains} == {
        "living-situation": "negative",
        "food": "negative",
        "transportation": "negative",
        "utilities": "negative",
        "safety": "negative",
    }
    assert result.needs == ()
    assert result.risk_level == RiskLevel.LOW


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("LA31993-1", "negative"), ("LA31994-9", "positive"), ("LA31995-6", "positive")],
    ids=["1-steady", "2-worried", "3-no-steady-place"],
)
def test_living_situation_question_1(ahc, answer, expected):
    assert status(score(ahc, AHC_NEGATIVE, **{Q1: (answer,)}), "living-situation") == expected


@pytest.mark.parametrize("problem", Q2_PROBLEMS)
def test_living_situation_any_problem_in_question_2_is_positive(ahc, problem):
    result = score(ahc, AHC_NEGATIVE, **{Q2: (problem,)})
    assert status(result, "living-situation") == "positive"
    assert result.needs == ("housing-instability",)


def test_living_situation_several_problems_in_question_2(ahc):
    result = score(ahc, AHC_NEGATIVE, **{Q2: ("LA28580-1", "LA32001-2")})
    assert status(result, "living-situation") == "positive"


@pytest.mark.parametrize("question", [Q3, Q4])
@pytest.mark.parametrize(
    ("answer", "expected"),
    [("LA28397-0", "positive"), ("LA6729-3", "positive"), ("LA28398-8", "negative")],
    ids=["often-true", "sometimes-true", "never-true"],
)
def test_food_either_question(ahc, question, answer, expected):
    result = score(ahc, AHC_NEGATIVE, **{question: (answer,)})
    assert status(result, "food") == expected
    assert ("food-insecurity" in result.needs) == (expected == "positive")


@pytest.mark.parametrize(("answer", "expected"), [("LA33-6", "positive"), ("LA32-8", "negative")])
def test_transportation_yes(ahc, answer, expected):
    result = score(ahc, AHC_NEGATIVE, **{Q5: (answer,)})
    assert status(result, "transportation") == expected
    assert ("transportation-insecurity" in result.needs) == (expected == "positive")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("LA33-6", "positive"), ("LA32002-0", "positive"), ("LA32-8", "negative")],
    ids=["yes", "already-shut-off", "no"],
)
def test_utilities_yes_or_already_shut_off(ahc, answer, expected):
    result = score(ahc, AHC_NEGATIVE, **{Q6: (answer,)})
    assert status(result, "utilities") == expected
    assert ("utility-insecurity" in result.needs) == (expected == "positive")


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ((1, 1, 1, 1), "negative"),
        ((5, 2, 2, 1), "negative"),  # 10: one short
        ((4, 3, 2, 1), "negative"),  # 10 another way
        ((5, 2, 2, 2), "positive"),  # 11: the threshold
        ((3, 3, 3, 2), "positive"),  # 11 another way
        ((5, 5, 5, 5), "positive"),
    ],
)
def test_safety_sum_threshold_is_11(ahc, scores, expected):
    result = score(ahc, AHC_NEGATIVE, **safety(*scores))
    domain = next(d for d in result.domains if d.key == "safety")
    assert (domain.status, domain.score) == (expected, sum(scores))
    assert ("intimate-partner-violence" in result.needs) == (expected == "positive")


# -- declined and partial ----------------------------------------------------------------------


def test_a_declined_item_is_not_positive_and_the_domain_is_not_negative(ahc):
    result = score(ahc, AHC_NEGATIVE, **{Q3: "declined"})
    assert status(result, "food") == DomainStatus.NOT_SCREENED
    assert "food-insecurity" not in result.needs


def test_a_positive_answer_beside_a_declined_one_is_still_positive(ahc):
    result = score(ahc, AHC_NEGATIVE, **{Q3: ("LA28397-0",), Q4: "declined"})
    assert status(result, "food") == "positive"


def test_every_item_declined_is_reported_as_declined(ahc):
    result = score(ahc, AHC_NEGATIVE, **{Q5: "declined", Q3: "declined", Q4: "declined"})
    assert status(result, "transportation") == DomainStatus.DECLINED
    assert status(result, "food") == DomainStatus.DECLINED
    assert result.needs == ()


def test_safety_declined_items_count_nothing(ahc):
    declined_high = {**safety(5, 5, 1, 1), SAFETY[2]: "declined", SAFETY[3]: "declined"}
    result = score(ahc, AHC_NEGATIVE, **declined_high)
    # 10 from the two answered; the declined ones add nothing and the domain is incomplete.
    assert status(result, "safety") == DomainStatus.NOT_SCREENED
    ten = {**safety(5, 4, 1, 1), SAFETY[3]: "declined"}
    assert status(score(ahc, AHC_NEGATIVE, **ten), "safety") == DomainStatus.NOT_SCREENED
    over = {**safety(5, 5, 2, 1), SAFETY[3]: "declined"}
    # 5 + 5 + 2 = 12 with one declined: already at the threshold, positive.
    assert status(score(ahc, AHC_NEGATIVE, **over), "safety") == "positive"


def test_partial_assessment_reports_unasked_domains_as_not_screened(ahc):
    result = score(ahc, {Q1: ("LA31993-1",), Q2: ("LA9-3",), Q5: ("LA33-6",)})
    assert {d.key: d.status for d in result.domains} == {
        "living-situation": "negative",
        "food": "not_screened",
        "transportation": "positive",
        "utilities": "not_screened",
        "safety": "not_screened",
    }
    assert result.needs == ("transportation-insecurity",)
    assert result.risk_level == RiskLevel.MODERATE


def test_nothing_screened_has_unknown_risk(ahc):
    result = score(ahc, {Q3: "declined", Q4: "declined"})
    assert all(d.status != "positive" for d in result.domains)
    assert result.risk_level == RiskLevel.UNKNOWN


# -- needs and risk ----------------------------------------------------------------------------


def test_needs_map_to_the_sdoh_category_of_each_positive_domain(ahc):
    result = score(
        ahc,
        AHC_NEGATIVE,
        **{Q1: ("LA31994-9",), Q3: ("LA6729-3",), Q5: ("LA33-6",), Q6: ("LA32002-0",)},
        **safety(5, 3, 1, 1),  # 10: not positive
    )
    assert result.needs == (
        "housing-instability",
        "food-insecurity",
        "transportation-insecurity",
        "utility-insecurity",
    )
    with_safety = score(ahc, AHC_NEGATIVE, **safety(3, 3, 3, 3))
    assert with_safety.needs == ("intimate-partner-violence",)


@pytest.mark.parametrize(
    ("changes", "risk"),
    [
        ({}, RiskLevel.LOW),
        ({Q5: ("LA33-6",)}, RiskLevel.MODERATE),
        ({Q1: ("LA31994-9",)}, RiskLevel.MODERATE),
        ({Q3: ("LA28397-0",), Q5: ("LA33-6",)}, RiskLevel.HIGH),  # two domains
        (dict(zip(SAFETY, [("LA16644-9",)] * 3, strict=False)), RiskLevel.HIGH),  # safety alone
        ({Q1: ("LA31995-6",)}, RiskLevel.HIGH),  # no steady place to live
    ],
    ids=["none", "one", "worried-housing", "two", "safety", "unhoused"],
)
def test_risk_level(ahc, changes, risk):
    assert score(ahc, AHC_NEGATIVE, **changes).risk_level == risk


# -- bad input ----------------------------------------------------------------------------------


def _errors(definition, answers, **kwargs) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        definition.clean(item_answers(answers), **kwargs)
    return caught.value.messages


def test_unknown_answer_code_is_refused(ahc):
    (message,) = _errors(ahc, {Q5: ("LA99999-9",)})
    assert "LA99999-9 is not one of its answers" in message


def test_answer_to_another_instruments_question_is_refused(ahc):
    (message,) = _errors(ahc, {"housing": ("housing-1",)})
    assert message == f"Question 'housing' is not part of {ahc.title}."


def test_answer_outside_the_step_is_refused(ahc):
    (message,) = _errors(ahc, {Q5: ("LA33-6",)}, step=1)
    assert "not part of step 1" in message


def test_single_answer_question_takes_one_answer(ahc):
    (message,) = _errors(ahc, {Q5: ("LA33-6", "LA32-8")})
    assert "takes one answer" in message


def test_none_of_the_above_cannot_be_combined(ahc):
    (message,) = _errors(ahc, {Q2: ("LA9-3", "LA28580-1")})
    assert "None of the above" in message


def test_declined_cannot_be_combined_with_answers(ahc):
    with pytest.raises(ValidationError, match="declined cannot be combined"):
        ahc.clean({Q3: ItemAnswer(codes=("LA28397-0",), declined=True)})


# -- Self-Sufficiency Matrix -------------------------------------------------------------------

SSM_KEYS = [
    "housing",
    "income",
    "food",
    "transportation",
    "health-care-coverage",
    "employment",
    "adult-education",
    "social-support",
]


def ratings(**levels: int) -> dict:
    answers = {key: (f"{key}-3",) for key in SSM_KEYS}
    for key, level in levels.items():
        key = key.replace("_", "-")
        answers[key] = (f"{key}-{level}",)
    return answers


def test_ssm_domains_rated_1_or_2_are_needs_with_gravity_codes(ssm):
    result = score(ssm, ratings(housing=1, income=2, food=2, employment=2))
    assert result.needs == (
        "housing-instability",
        "financial-insecurity",
        "food-insecurity",
        "employment-status",
    )
    scores = {d.key: d.score for d in result.domains}
    assert scores["housing"] == 1 and scores["income"] == 2 and scores["transportation"] == 3


def test_ssm_category_mapping(ssm):
    assert {d.key: d.category for d in ssm.domains} == {
        "housing": "housing-instability",
        "income": "financial-insecurity",
        "food": "food-insecurity",
        "transportation": "transportation-insecurity",
        "health-care-coverage": "health-insurance-coverage-status",
        "employment": "employment-status",
        "adult-education": "educational-attainment",
        "social-support": "social-connection",
    }


@pytest.mark.parametrize(
    ("levels", "risk"),
    [
        ({}, RiskLevel.LOW),
        ({"food": 2}, RiskLevel.MODERATE),
        ({"food": 2, "income": 2}, RiskLevel.MODERATE),
        ({"food": 2, "income": 2, "housing": 2}, RiskLevel.HIGH),
        ({"housing": 1}, RiskLevel.HIGH),  # in crisis anywhere
        ({"housing": 5, "income": 4}, RiskLevel.LOW),
    ],
)
def test_ssm_risk(ssm, levels, risk):
    assert score(ssm, ratings(**levels)).risk_level == risk


def test_ssm_rating_3_is_not_a_need_and_declined_is_not_screened(ssm):
    answers = ratings()
    answers["food"] = "declined"
    del answers["income"]
    result = score(ssm, answers)
    assert status(result, "food") == DomainStatus.DECLINED
    assert status(result, "income") == DomainStatus.NOT_SCREENED
    assert status(result, "housing") == DomainStatus.NEGATIVE
    assert next(d.score for d in result.domains if d.key == "income") is None
