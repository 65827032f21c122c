"""The matching core: full matches, near-misses with what is missing, facets, apply windows."""

from datetime import date

from baishitong.enterprise.matching import Eligibility, Offer, Profile, match

TODAY = date(2026, 12, 4)
TOWNS = {"440606102": "北滘镇", "440606006": "容桂街道"}
BEIJIAO_MAKER = Profile(industry="manufacturing", size="small", town="440606102", year_established=2020)


def run(*offers: Offer, profile: Profile = BEIJIAO_MAKER):
    return match(offers, profile, today=TODAY, town_names=TOWNS)


def test_a_full_match_lists_every_condition_met():
    [m] = run(Offer("p", Eligibility(industries=("manufacturing", "appliances"), sizes=("small", "medium"), towns=("440606102",))))
    assert m.full and m.missing == []
    assert m.met == ["制造业", "小型企业", "位于北滘镇"]


def test_a_near_miss_names_the_one_missing_condition():
    [m] = run(Offer("p", Eligibility(industries=("manufacturing",), tags=("high_tech",))))
    assert not m.full
    assert m.met == ["制造业"] and m.missing == ["需具备高新技术企业资质"]


def test_two_missing_conditions_is_no_match():
    assert run(Offer("p", Eligibility(industries=("software",), tags=("high_tech",)))) == []


def test_town_size_and_tag_facets_filter_and_empty_means_no_restriction():
    elsewhere = Offer("town", Eligibility(towns=("440606006",), sizes=("large",)))
    bigger = Offer("size", Eligibility(sizes=("medium", "large"), industries=("food",)))
    either_tag = Offer("tag", Eligibility(tags=("specialised", "tech_sme")))
    anyone = Offer("any", Eligibility())
    results = {m.item: m for m in run(elsewhere, bigger, either_tag, anyone, profile=Profile("manufacturing", "small", "440606102", 2020, frozenset({"tech_sme"})))}
    assert set(results) == {"tag", "any"}
    assert results["tag"].met == ["科技型中小企业"] and results["any"].full and results["any"].met == []
    [town_only] = run(Offer("t", Eligibility(towns=("440606006",))))
    assert town_only.missing == ["需位于容桂街道"]
    [size_only] = run(Offer("s", Eligibility(sizes=("medium", "large"))))
    assert size_only.missing == ["需为中型或大型企业"]


def test_years_established_are_counted_in_calendar_years():
    [young] = run(Offer("y", Eligibility(min_years=10)))
    assert young.missing == ["需成立满10年（目前6年）"]
    [old] = run(Offer("y", Eligibility(min_years=6)))
    assert old.met == ["成立满6年"]


def test_closed_windows_are_left_out_and_closing_soon_is_flagged():
    closed = Offer("closed", Eligibility(), apply_to=date(2026, 12, 3))
    soon = Offer("soon", Eligibility(), apply_to=date(2026, 12, 11))
    later = Offer("later", Eligibility(), apply_to=date(2026, 12, 12))
    upcoming = Offer("upcoming", Eligibility(), apply_from=date(2027, 1, 1))
    results = {m.item: m for m in run(closed, soon, later, upcoming)}
    assert "closed" not in results
    assert results["soon"].closing_soon and results["soon"].days_left == 7
    assert not results["later"].closing_soon
    assert results["upcoming"].not_yet_open and results["upcoming"].days_left is None
    [last_day] = run(Offer("today", Eligibility(), apply_to=TODAY))
    assert last_day.closing_soon and last_day.days_left == 0


def test_full_matches_come_before_near_misses_and_sooner_deadlines_first():
    near = Offer("near", Eligibility(tags=("high_tech",)), apply_to=date(2026, 12, 5))
    full_later = Offer("full_later", Eligibility(), apply_to=date(2027, 3, 1))
    full_soon = Offer("full_soon", Eligibility(), apply_to=date(2026, 12, 8))
    full_open = Offer("full_open", Eligibility(industries=("manufacturing",)))
    assert [m.item for m in run(near, full_later, full_open, full_soon)] == ["full_soon", "full_later", "full_open", "near"]
