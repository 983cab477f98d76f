"""Numbers, dates and names of a sentence, and the comparison of two sentences' facts."""

from __future__ import annotations

import random
import time

import pytest

from nli_check.facts import (
    about,
    compare,
    denied,
    known_names,
    opposites,
    quantities,
    read,
    rebutted,
    state_ends,
    whens,
)


def _kind(a: str, b: str) -> str | None:
    result = compare(a, b)
    return None if result is None else result.kind


# ---------------------------------------------------------------------------- quantities
@pytest.mark.parametrize(
    ("text", "unit", "low", "high"),
    [
        ("About 120 jobs will go.", "count", 102, 138),
        ("A crowd of 18,400 watched.", "count", 18_350, 18_450),
        ("The £4.2 million project.", "GBP", 4.15e6, 4.25e6),
        ("It cost £2m.", "GBP", 1.9e6, 2.1e6),
        ("A profit of five million pounds.", "GBP", 4.75e6, 5.25e6),
        ("Revenue was €2.4bn.", "EUR", 2.35e9, 2.45e9),
        ("Turnout was 23%.", "%", 22.5, 23.5),
        ("Turnout was 40 per cent.", "%", 38, 42),
        ("A quarter of staff will go.", "%", 22.5, 27.5),
        ("Two in five adults voted.", "%", 39, 41),
        ("Between 30 and 40 people came.", "count", 28.5, 42),
        ("More than 200 homes flooded.", "count", 190, float("inf")),
        ("Bills rise by £1.65 a week.", "GBP/year change", 85, 86.5),
        ("The fire burned 3,000 hectares.", "area", 28.5, 31.5),  # km²
        ("The walk is 12 miles long.", "length", 18.5, 20.12),  # km
    ],
)
def test_quantities_are_read_as_intervals(text, unit, low, high):
    [q] = quantities(text)
    assert q.unit == unit
    assert q.low == pytest.approx(low, rel=0.01)
    assert q.high == pytest.approx(high, rel=0.01) if high != float("inf") else q.high == high


@pytest.mark.parametrize(
    "text",
    ["The match ended 3-1.", "The game kicked off at 7.30pm.", "He scored in the 58th minute.", "It opened in 1998."],
)
def test_scores_times_ordinals_and_years_are_not_quantities(text):
    assert quantities(text) == []


def test_number_words_become_digits_and_keep_their_words_in_the_surface():
    [q] = quantities("The firm will cut one hundred and twenty jobs.")
    assert (q.value, q.noun) == (120, "job")
    assert q.surface == "one hundred and twenty jobs"


def test_counts_of_related_nouns_compare():
    assert quantities("450 redundancies")[0].noun == quantities("120 jobs")[0].noun


# ---------------------------------------------------------------------------- dates
def test_dates_weekdays_months_quarters_and_years():
    found = {(w.kind, w.value) for w in whens("On Friday 13 March 2026, in the third quarter of 2025, in October.")}
    assert ("date", (2026, 3, 13)) in found
    assert ("weekday", ("friday",)) in found
    assert ("quarter", (3,)) in found
    assert ("year", (2025,)) in found
    assert ("month", (10,)) in found


def test_the_day_something_was_said_is_not_the_day_of_what_was_said():
    said = "Revenue rose 8% in the third quarter, the company said on Thursday."
    assert [(w.kind, w.value) for w in whens(said)] == [("quarter", (3,))]
    assert whens("Officials said in January that the plant would close.") == []
    assert whens("He told reporters on Friday 13 March 2026 that it was over.") == []
    assert [w.kind for w in whens("The plant closed in January, officials said.")] == ["month"]
    assert [w.kind for w in whens("The flood came on Thursday, officials said.")] == ["weekday"]
    # no date conflict: 8% and 8% (shared ground, in the same words) and nothing else to compare
    assert compare(said, "Revenue rose 8% in the three months to 30 September 2026.") is None


# ---------------------------------------------------------------------------- names
def test_names_skip_sentence_starts_unless_known_and_leave_out_the_speaker():
    assert read("Brindle council approved 75 homes.").names == frozenset()
    known = known_names(["The plan went to Brindle council."])
    assert read("Brindle council approved 75 homes.", known=known).names == {"brind"}
    sentence = "Ben Wallace said he had seen no evidence that Russian troops were withdrawing."
    assert read(sentence, speaker="Ben Wallace").names == {"russi"}


# ---------------------------------------------------------------------------- compare
@pytest.mark.parametrize(
    ("claim", "evidence", "kind", "reason"),
    [
        ("About 120 jobs will go at the plant.", "The union was told of 450 redundancies at the plant.",
         "conflict", "About 120 jobs vs 450 redundancies"),
        ("The rebels attacked on Thursday.", "The rebels attacked on Friday 13 March 2026.",
         "conflict", "Thursday vs 13 March 2026 (a Friday)"),
        ("A quarter of staff will go.", "25% of employees will leave.", "agree", None),
        ("The rise adds £1.65 a week to bills.", "Bills go up by about £86 a year.", "agree", None),
        ("Nearly 1,000 patients waited.", "Some 962 patients waited.", "agree", None),
        ("The council in Ashby approved 240 homes.", "The council in Kelsey approved 75 homes.", "different-event",
         "Ashby vs Kelsey"),
        ("Residents discussed a school on day 13.", "Residents discussed a school on day 123.",
         "different-event", None),
        ("Sales rose 5% in the first quarter.", "Sales rose 8% in the second quarter.",
         "different-event", None),
        ("Sales rose 5% in the first quarter.", "Sales rose 5% in the second quarter.",
         "different-event", "first quarter vs second quarter"),
        ("The bridge will open in October.", "The bridge will open in March.", "conflict", "October vs March"),
        ("Fares will rise by 6% in April.", "Last year fares rose by 9%.", "different-event", None),
        ("He admitted fraud at an earlier hearing in January.", "He was sentenced on Friday 13 March 2026.",
         "different-event", "another event: 'an earlier'"),
        ("The fire burned 30 sq km.", "The fire burned 3,000 hectares.", "agree", "30 sq km = 3,000 hectares"),
        ("The fire burned 30 sq km.", "The fire burned 1,200 hectares.", "conflict", "30 sq km vs 1,200 hectares"),
        ("The walk is 12 miles long.", "The walk is about 19 km long.", "agree", "12 miles = about 19 km"),
        ("A magnitude 6.4 earthquake struck on Thursday.", "The earthquake, of magnitude 5.7, struck on Thursday.",
         "conflict", "6.4 vs 5.7"),
        ("Next year's festival will run in July.", "The festival drew 9,000 visitors in June.", "different-event",
         "another event: 'Next year's'"),
        # rates of counts compare as yearly figures
        ("The hospital expects to carry out around 250 operations a year.",
         "The hospital plans to perform about five operations a week.", "agree", None),
        ("The depot handles 1,800 lorries a week.", "The depot handles about 260 lorries a day.", "agree", None),
        ("The depot handles 1,800 lorries a week.", "The depot handles about 600 lorries a day.", "conflict", None),
        # an earlier or other level is not the level stated
        ("Drivers will pay £310 from next month, up from £255.", "The fee will be £310, an increase of £55.",
         None, None),
        ("Drivers will pay £310 from next month, up from £255.", "The fee will be £310.00, an increase of £55.",
         "agree", "£310 = £310.00"),
        # the same figure in the same words is shared ground, not a sign that the two agree
        ("Electric car owners will still get a half-price permit.", "Electric car owners will not get a half-price "
         "permit from April.", None, None),
        ("A latte will go up from £3.40 to £3.65.", "A latte will cost £3.55, up from £3.40.", "conflict",
         "£3.65 vs £3.55"),
        ("Prisoners will be released after serving 40% of a sentence, instead of half.",
         "Prisoners will be released at the 40 per cent point rather than halfway.", None, None),
        # rough counts, parts of a total, numbered things, a year after a slash
        ("The searches took hundreds of knives off the streets.", "The searches recovered 412 knives.", "agree", None),
        ("The searches took hundreds of knives off the streets.", "The searches recovered 42 knives.", "conflict",
         "hundreds of knives vs 42 knives"),
        ("Donations worth a combined 1.3 million lira were declared late.",
         "The largest of the late donations, 250,000 lira, came from one company.", None, None),
        ("Reactor 2 was taken offline on 19 February.", "Reactor 1 is offline until late April.", "different-event",
         "Reactor 2 vs Reactor 1"),
        ("In 2024/25, 61.2% of girls were vaccinated.", "Some 61% of girls were vaccinated.", "agree", None),
        # times given as points of comparison, and months named on both sides
        ("That was 18% fewer than in the same quarter of 2025.", "Sales were the most since the third quarter of 2019.",
         None, None),
        ("The limits take effect on 1 January and will be reviewed in June.", "All limits will be reviewed in June.",
         None, None),
        ("The company was founded in 2019.", "Since it was set up in 2016, the company has grown.", "conflict",
         "2019 vs 2016"),
        ("In Stonebridge alone, 9,500 homes lost power.", "About 40,000 homes lost power.", None, None),
        ("The minister resigned.", "The minister did not resign.", None, None),
        # an earlier period given as a figure's baseline brings in no other event
        ("Average occupancy across its 96 hotels was 81%, up from 76%.",
         "Occupancy across the 96 hotels averaged 71%, compared with 76% the year before.", "conflict", "81% vs 71%"),
        ("The loads cost £480,000 in extra charges, up from £310,000 the year before.",
         "The cost of disposal was £840,000, compared with £310,000 in 2024.", "conflict", "£480,000 vs £840,000"),
        ("Fewer than 900 passengers a day used it last year, compared with 2,500 in 2019.",
         "Average daily use in 2025 was 870 passengers.", "different-event", None),
        ("Unemployment fell to 4.6%.", "A year ago, the unemployment rate was 5.4%.", "different-event",
         "another event: 'A year ago'"),
        # "for the last time" is the event itself
        ("The final day of trading will be Saturday 16 January.",
         "The store will trade for the last time on Saturday 23 January.", "conflict", None),
        # a sentence that opens in another year is background, unless the figures agree
        ("The ministry awarded a contract worth 2.8 billion marks to Caldor.",
         "In 2019 the ministry ordered two vessels from Caldor for 600 million marks.", "different-event",
         "another time: 'In 2019'"),
        ("The company was founded in 2016.", "In 2016 the company was set up by two engineers.", None, None),
        # words after a comma are not the figure's noun or period; "signed by" and "made up" are no change
        ("The order book stood at £720m at the end of January.",
         "The order book was worth £540 million, 4% higher than a year earlier.", "different-event", None),
        ("Campaigners have gathered 3,800 signatures.", "The petition has been signed by 1,240 people.", None, None),
        ("Searches for drugs made up 61% of the total.", "Searches for drugs accounted for 39% of the total.",
         "conflict", "61% vs 39%"),
        ("It locked out 2,600 workers on Wednesday.", "It locked out around 1,600 hourly employees on Wednesday.",
         "conflict", "2,600 workers vs around 1,600 hourly employees"),
        ("It kept £310,000 in 2024.", "It spent 310,000 in 2024 and 2025.", None, None),
        # a fraction or a percentage can be a change, compared with changes
        ("Shares fell by almost a quarter on Wednesday.", "Shares closed down 41% on Wednesday.", "conflict",
         "a quarter vs 41%"),
        ("The union is seeking a rise of 8%.", "Our claim is for a 10% increase.", "conflict", "8% vs 10%"),
        ("Output climbed 5% to 410,000 tonnes.", "Production increased by 5% to 389 thousand tonnes.", "conflict",
         "410,000 tonnes vs 389 thousand tonnes"),
        ("Riders made more than 800,000 trips in its first year.", "Riders made 480,000 journeys in its first year.",
         "conflict", "more than 800,000 trips vs 480,000 journeys"),
        # "a million" is one million, "several million" a range
        ("The gondola carried more than a million passengers.", "The gondola carried 1.06 million passengers.",
         "agree", None),
        ("Subcontractors are owed several million pounds.", "Trade creditors are owed an estimated £6.8m.", "agree",
         None),
        ("A few thousand people marched.", "About 40,000 people marched.", "conflict", None),
        ("Millions of pounds were lost.", "The losses came to £4.2m.", "agree", None),
        # lengths of time in other units, and dollars written "US$"
        ("Assessments should begin within 13 weeks of referral.", "Assessment should start within three months.",
         "agree", "13 weeks = three months"),
        ("Children wait an average of 26 months for an assessment.", "The average wait is currently 78 weeks.",
         "conflict", "26 months vs 78 weeks"),
        ("Net debt fell to about $4bn by the end of June.", "Net debt at 30 June stood at US$3.96 billion.", "agree",
         None),
        ("The group handles 900 million litres of milk a year.",
         "The two businesses collect about 2.5 million litres of milk a day.", "agree", None),
        # a bound ("by", "until") is not the day of the event: "reopened by Friday" / "shut on Wednesday"
        ("The line had reopened by Friday morning, the operator said.", "A landslip shut the line on Wednesday.",
         None, None),
        ("The sale runs until 4 March.", "The sale closes on 2 March.", None, None),
        ("The road will stay shut until at least Friday.", "A lorry crashed on the road on Tuesday.", None, None),
        ("Ballot papers will be posted no later than Monday 20 April.", "Polling goes ahead on 7 May.", None, None),
        # a year given for a point of comparison, and the last time something was done
        ("She has faced two votes since taking office in 2024.", "She survived a vote in October 2025.", None, None),
        ("The home has 212 carers, compared with 268 in 2021.", "The home was rated good in 2024.", None, None),
        ("The water company will ban hosepipes from 3 July.", "The company last imposed a ban from 1 August.",
         "different-event", None),
        ("Entries must arrive by Monday.", "Entries must arrive by Thursday.", "conflict", "Monday vs Thursday"),
        # the noun a count counts is the last of a compound: "league games" are games
        ("She scored 14 goals in 30 league games.", "She scored 14 league goals in 30 appearances.", "agree", None),
        ("The club played 30 league games.", "The club played 38 league games.", "conflict", None),
        # a rate added to a bill is a change, however it is introduced
        ("The rise will add £2 a week to bills.", "The rise will add about £104 a year to bills.", "agree", None),
        ("Bills will rise by 5%, adding about £104 a year.", "Bills will rise by 5%, adding £3 a week.", "conflict",
         None),
        # what was expected or forecast is another level, not the outcome
        ("Pre-tax profit rose to £48m.", "Analysts had on average expected pre-tax profit of about £40m.", None, None),
        ("Pre-tax profit rose to £48m.", "Pre-tax profit came in at £40m.", "conflict", None),
        # a whole that a part is taken from is not a level to compare
        ("About 300 of the council's 1,200 parking spaces will go.", "Roughly 300 spaces will go.", None, None),
        ("About 450 of Kelmar's staff will move.", "Kelmar will move 600 staff.", "conflict", None),
        # last summer's event is another one, but not "until last summer"
        ("The festival will open on 9 July.", "Last summer the festival opened on 14 July.", "different-event", None),
        ("No faults were found until last summer, when the survey was done on 3 June.",
         "The survey was carried out on 8 June.", "conflict", "3 June vs 8 June"),
        # what someone holds is no count of what happened: "leases 140 pubs" / "42 pubs closed"
        ("The brewery leases 140 pubs in the county.", "Forty-two pubs in the county closed.", None, None),
        ("The brewery leases 140 pubs.", "The brewery leases 260 pubs.", "conflict", None),
        # a target is not the outcome; a contribution towards a cost is part of it
        ("Guidance says patients should be seen within four hours.", "Patients waited 11 hours on average.", None,
         None),
        ("The scheme cost £90,000.", "The parish gave £30,000 towards the cost.", None, None),
        # a record over a span: "the smallest rise for three years" dates no event
        ("Prices fell 2%, the first fall in 18 months.", "The fall followed six months of rises.", None, None),
        ("The works took three years.", "The works took 12 months.", "conflict", None),
        # "one in every twenty" is a share; "Of those, ..." a part of the figure before it
        ("Three in every hundred crimes came through a front desk.", "Only 3% of crimes came through a front desk.",
         "agree", None),
        ("About 12% of the money went to fraudulent claims.", "One in every twenty crowns went to fraudulent claims.",
         "conflict", None),
        ("The watchdog said 1,240 journeys had been late or had not happened.", "Of those, 1,060 journeys did not "
         "happen.", None, None),
        ("The watchdog said 1,240 journeys had been late.", "The total cost of these 1,060 journeys was high.",
         "conflict", None),
        # an hourly rate is not a yearly total
        ("The rise, worth £1.20 an hour, will cost the council about £4.8m a year.",
         "The increase will cost an estimated £4.8m in a full year.", None, None),
        ("Carers will be paid £13.50 an hour.", "Carers will be paid £12.30 per hour.", "conflict", None),
        # a year after "on" is a baseline: "up by a quarter on 2024"
        ("Theft cost insurers £3.2 million last year, up by a quarter on 2024.",
         "Claims reached £3.2m in 2025, 25% more than in 2024.", "agree", None),
        ("The plant opened in 2024.", "The plant opened in 2025.", "conflict", "2024 vs 2025"),
    ],
)
def test_compare(claim, evidence, kind, reason):
    result = compare(claim, evidence)
    assert (None if result is None else result.kind) == kind
    if reason:
        assert result.reason == reason


def test_counts_of_one_noun_are_compared_as_counts():
    assert compare("About 380 jobs were lost.", "Around 160 jobs went.").of == "counts"
    assert compare("The fee is £45.", "The fee is £58.").of == "figures"
    assert compare("Nearly 1,000 patients waited more than 12 hours.", "Patients waited four hours.").of == "figures"


@pytest.mark.parametrize(
    ("claim", "evidence", "reason"),
    [
        ("Unemployment in Tessaly fell to 4.1 percent last month.", "Unemployment in Tessaly rose sharply.",
         "'fell' vs 'rose'"),
        ("The bank raised interest rates by 0.25 points.", "The bank left interest rates unchanged.",
         "'raised' vs 'unchanged'"),
        ("Summit Steel reported a record profit.", "Summit Steel reported a loss, its first in a decade.",
         "'profit' vs 'loss'"),
        ("Nina Corran was acquitted of bribery.", "Nina Corran was convicted of bribery.",
         "'acquitted' vs 'convicted'"),
        ("Prices for filter coffee will not change.", "Filter coffee will rise by 10p.", "'will not change' vs 'rise'"),
        ("Work on the two ships has stopped.", "Construction of the two ships is continuing.",
         "'stopped' vs 'continuing'"),
        # a negation turns an outcome round: "did not fall" agrees with "rose"
        ("Shares did not fall.", "Shares rose.", None),
        # both outcomes in one sentence: no opposition
        ("Sales rose in May and fell in June.", "Sales fell in June.", None),
        ("The council met on Tuesday.", "The council met again on Friday.", None),
    ],
)
def test_opposite_outcomes(claim, evidence, reason):
    assert opposites(claim, evidence) == reason


@pytest.mark.parametrize(
    ("claim", "evidence", "reason"),
    [
        ("Norvale will close its factory next year.", "Norvale has no plans to close its factory.",
         "'close' vs 'no plans to close'"),
        ("Tessaro said it would not appeal against the decision.", "Tessaro will appeal against the decision.",
         "'not appeal' vs 'appeal'"),
        ("The chain had not been replaced at the overhaul.", "The chain had been replaced at the overhaul.",
         "'not been replaced' vs 'replaced'"),
        # a short verb, and a form that starts with it; a time on the denial is no condition
        ("The budget includes cuts to the youth service.", "The youth service will not be cut.",
         "'cuts' vs 'not be cut'"),
        ("The school reopened the following day.", "The school is not expected to reopen before Monday.",
         "'reopened' vs 'not expected to reopen'"),
        # both negated, or neither
        ("Tessaro will not appeal.", "Tessaro did not appeal.", None),
        ("Tessaro will appeal.", "Tessaro appealed.", None),
        # a denial with a condition, and a denial without a negation word, deny less
        ("The pool will never be open without a lifeguard.", "The pool will open from 7am.", None),
        ("Retailers no longer reported every theft.", "Many retailers had stopped reporting thefts.", None),
        ("Owners should not use the heater until it is repaired.", "The heater is safe to use again once repaired.",
         None),
        # what is denied is not what the other asserts
        ("No homes in Kelderby were flooded.", "The evacuation order covering Kelderby remains.", None),
    ],
)
def test_a_denial_of_what_the_other_asserts(claim, evidence, reason):
    assert denied(claim, evidence) == reason


@pytest.mark.parametrize(
    ("first", "second", "reason"),
    [
        ("The museum will stay closed until Friday.", "The museum will reopen on Friday 20 February.",
         "until Friday = on Friday"),
        ("The pool is shut until 3 March.", "The pool reopens on 3 March.", "until 3 March = on 3 March"),
        # another day, or no day to end on: the states still conflict
        ("The pool is shut until 3 March.", "The pool reopened on 1 March.", None),
        ("The bridge reopened on Friday.", "The bridge will stay closed until tests are done.", None),
    ],
)
def test_a_state_until_a_day_agrees_with_its_opposite_from_that_day(first, second, reason):
    assert state_ends(first, second) == reason
    assert state_ends(second, first) == reason


@pytest.mark.parametrize(
    ("rebuttal", "speaker", "reason"),
    [
        ("Residents rejected the councillor's account, saying 30 objections were lodged.", "Councillor Ann Lee",
         "'rejected the councillor's account'"),
        ("Walkers disputed the council's claim.", "Council officers", "'disputed the council's claim'"),
        # the party rebutted is not the one who spoke
        ("Greystone disputed the union's figures, saying most farms would stay.", "Greystone", None),
        # the claim restated ("that P") is a denial for the model, not a rebuttal of a speaker
        ("Residents rejected the councillor's claim that the café was welcome.", "Councillor Ann Lee", None),
    ],
)
def test_a_rebuttal_of_what_the_other_speaker_said(rebuttal, speaker, reason):
    other = f"{speaker} said the café had been warmly welcomed."
    assert rebutted(other, speaker, rebuttal, None) == reason
    assert rebutted(rebuttal, None, other, speaker) == reason
    assert rebutted(other, None, rebuttal, None) is None


# ---------------------------------------------------------------------------- bad input
ODD = [
    "", " ", "10^500", "1,2,3,4", "½", "٣", "1e400", "9" * 100_000, "£" * 10_000, "1." * 30_000,
    "between and and", "a quarter of", "on 31 February 2026", "on 99 March", "Q9", "day 99999999999999999999",
    "\x00\x01\u202e", "١٢٣ jobs", "½ of ¾", "-5% to -7%", "$$$ 3 bn bn m k", "Friday Friday Friday 2026 2026",
]


@pytest.mark.parametrize("text", ODD, ids=lambda t: repr(t[:20]))
def test_odd_text_gives_an_answer_in_bounded_time(text):
    started = time.perf_counter()
    facts = read(text)
    compare(text, text[::-1])
    compare(text, "About 120 jobs will go on Friday 13 March 2026 in Ashby.")
    opposites(text, "Sales rose.")
    denied(text, "Tessaro will appeal.")
    denied(text + " not appeal", text)
    rebutted(text, text, "Critics rejected the council's account.", "Council officers")
    state_ends(text, "The pool is shut until 3 March.")
    assert time.perf_counter() - started < 2.0
    assert isinstance(facts.quantities, tuple)


def test_random_unicode_never_raises():
    rng = random.Random(7)
    alphabet = "0123456789,.%£$€½¾٣ abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-–'’\"\u00a0\u202e\n"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200)))
        other = "".join(chr(rng.randint(1, 0x2FFFF)) for _ in range(rng.randint(0, 50)))
        read(text)
        read(other)
        compare(text, other)
        opposites(text, other)
        denied(text, other)
        denied("not " + text, other)
        rebutted(text, other, other, text)


def test_articles_far_apart_report_different_events():
    a = "Norvale Energy employs about 2,500 people in Eastfield."
    b = "Norvale Energy employs about 450 people in Eastfield."
    assert _kind(a, b) == "conflict"
    assert compare(a, b, claim_date="2024-03-05", evidence_date="2024-03-07").kind == "conflict"
    far = compare(a, b, claim_date="2024-03-05", evidence_date="2024-08-12")
    assert far.kind == "different-event" and "160 days apart" in far.reason
    assert compare(a, b, claim_date="2024-03-05", evidence_date="not a date").kind == "conflict"
    # One side dated ("on Wednesday") is enough: a resignation in September does not contradict
    # a denial in June.
    resigned, denied = "The mayor resigned on Wednesday.", "The mayor denied that she would resign."
    assert compare(resigned, denied, claim_date="2024-06-20", evidence_date="2024-06-22") is None
    assert compare(resigned, denied, claim_date="2024-09-06", evidence_date="2024-06-22").kind == "different-event"


def test_names_the_other_side_s_documents_use_are_shared_ground():
    claim = "Moscow said troops were leaving and the Kremlin showed tanks leaving Crimea."
    evidence = "He had seen no evidence that Russian troops were withdrawing."
    assert _kind(claim, evidence) == "different-event"  # sentence alone: each names what the other does not
    article = frozenset({"mosco", "kreml", "crime", "russi"})
    assert compare(claim, evidence, claim_context=article, evidence_context=article) is None
    assert compare("The council in Ashby approved 240 homes.", "The council in Kelsey approved 75 homes.",
                   claim_context=frozenset({"ashby"}), evidence_context=frozenset({"kelse", "ashby"})).kind \
        == "different-event"


@pytest.mark.parametrize(
    ("speaker", "names"),
    [
        ("Ben Wallace", frozenset()),  # who speaks, not what it is about
        ("A spokesperson for Cuppa Co", frozenset({"cuppa"})),  # speaks for the company it is about
        ("The chief executive of Harwell Brewery, Ann Lee", frozenset({"harwe", "brewe"})),
    ],
)
def test_a_speakers_name_is_left_out_unless_they_speak_for_an_organisation(speaker, names):
    text = f"{speaker} said the chain was not planning any price increases."
    assert read(text, speaker=speaker).names == names


def test_a_spokesperson_for_another_company_speaks_of_another_event():
    claim = "Coffee chain Beanstead will raise the price of its drinks by 20p from Monday."
    evidence = "A spokesperson for Cuppa Co told the forum the chain was not planning any price increases."
    result = compare(claim, evidence, read(claim), read(evidence, speaker="A spokesperson for Cuppa Co"))
    assert result is not None and result.kind == "different-event"


def test_a_name_the_other_sentence_speaks_with_is_shared_ground():
    """Each speaker is left out of its own sentence's names, but the other sentence names them:
    one dispute between two companies, not two events. Other parties still make another event."""
    claim = "Quillon said Sonderwell had been warned about the patent long before the launch."
    evidence = "Sonderwell said it had received no letter or warning from Quillon about the patent."
    result = compare(claim, evidence, read(claim, speaker="Quillon"), read(evidence, speaker="Sonderwell"))
    assert result is None or result.kind != "different-event"
    other = "Brindle Ltd said it had received no letter or warning from Harlow Patents about the patent."
    result = compare(claim, other, read(claim, speaker="Quillon"), read(other, speaker="Brindle Ltd"))
    assert result is not None and result.kind == "different-event"


@pytest.mark.parametrize(
    ("text", "speaker", "kept"),
    [
        ("Keystone Pharma said its sales rose 0.5 percent in the quarter.", "Keystone Pharma", True),
        ("Harlow Rail said on Monday that its trains would run on time.", "Harlow Rail", True),
        ("The unions said their members had voted to strike.", "The unions", True),
        ("Ben Wallace said he had seen no evidence of a withdrawal.", "Ben Wallace", False),
        ("Sonderwell said it had received no letter from Quillon.", "Sonderwell", False),
    ],
)
def test_a_speaker_who_speaks_of_its_own_affairs_is_what_the_sentence_is_about(text, speaker, kept):
    assert (speaker in about(text, speaker)) is kept


def test_two_companies_reporting_their_own_figures_report_two_events():
    claim = "Keystone Pharma said its sales rose 0.5 percent in the third quarter."
    evidence = "Helix Foods said its sales rose 4 percent in the third quarter."
    result = compare(claim, evidence, read(claim, speaker="Keystone Pharma"), read(evidence, speaker="Helix Foods"))
    assert result is not None and result.kind == "different-event"
    same = "Keystone Pharma said its sales rose 4 percent in the third quarter."
    result = compare(claim, same, read(claim, speaker="Keystone Pharma"), read(same, speaker="Keystone Pharma"))
    assert result is not None and result.kind == "conflict"


def test_separately_opens_another_story_only_as_the_sentence_s_opening_word():
    assessed = "The school's sixth form was also inspected and rated outstanding."
    manner = "The sixth form provision was not inspected separately on this occasion."
    assert read(manner).other_event is None
    result = compare(assessed, manner)
    assert result is None or result.kind != "different-event"
    story = "Separately, the council confirmed that the Hillcrest allotments will close next year."
    assert read(story).other_event is not None
