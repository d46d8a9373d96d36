"""Date and time-window parsing, with a fixed today (Thursday 26 November 2026)."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wo_tui.core.dates import add_business_days, describe_date, parse_date, parse_time_window

TODAY = date(2026, 11, 26)
HELP = "use 2026-12-03, 3/12/2026, today, tomorrow, +2d, +1w or a weekday like mon"


def test_today_is_a_thursday() -> None:
    assert TODAY.weekday() == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # ISO
        ("2026-12-03", date(2026, 12, 3)),
        ("2027-1-5", date(2027, 1, 5)),
        # Australian day-first
        ("3/12/2026", date(2026, 12, 3)),
        ("03/12/2026", date(2026, 12, 3)),
        ("03/12/26", date(2026, 12, 3)),
        ("3-12-2026", date(2026, 12, 3)),
        ("3.12.2026", date(2026, 12, 3)),
        ("3.12.26", date(2026, 12, 3)),
        ("1/2/2027", date(2027, 2, 1)),  # day first: 1 February
        ("29/2/2028", date(2028, 2, 29)),
        # day and month only: this year, or next year once past
        ("3/12", date(2026, 12, 3)),
        ("3-12", date(2026, 12, 3)),
        ("3.12", date(2026, 12, 3)),
        ("26/11", TODAY),
        ("25/11", date(2027, 11, 25)),
        ("1/1", date(2027, 1, 1)),
        # words
        ("today", TODAY),
        ("tomorrow", date(2026, 11, 27)),
        ("yesterday", date(2026, 11, 25)),
        # offsets
        ("+2d", date(2026, 11, 28)),
        ("-1d", date(2026, 11, 25)),
        ("+0d", TODAY),
        ("+1w", date(2026, 12, 3)),
        ("-2w", date(2026, 11, 12)),
        ("+3bd", date(2026, 12, 1)),  # Fri, Mon, Tue
        ("+1bd", date(2026, 11, 27)),
        ("+2bd", date(2026, 11, 30)),
        ("-4bd", date(2026, 11, 20)),  # Wed, Tue, Mon, Fri
        ("+ 2 d", date(2026, 11, 28)),
        ("+10d", date(2026, 12, 6)),
        # weekdays: the next such day strictly after today
        ("mon", date(2026, 11, 30)),
        ("monday", date(2026, 11, 30)),
        ("tue", date(2026, 12, 1)),
        ("tues", date(2026, 12, 1)),
        ("wed", date(2026, 12, 2)),
        ("thu", date(2026, 12, 3)),  # today is Thursday -> next week
        ("thursday", date(2026, 12, 3)),
        ("thurs", date(2026, 12, 3)),
        ("fri", date(2026, 11, 27)),
        ("sat", date(2026, 11, 28)),
        ("sunday", date(2026, 11, 29)),
        # case and whitespace
        ("  TODAY ", TODAY),
        ("Mon", date(2026, 11, 30)),
        ("\tFRIDAY\n", date(2026, 11, 27)),
        (" +1W ", date(2026, 12, 3)),
        ("+3BD", date(2026, 12, 1)),
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "xyz",
        "next week",
        "mo",
        "+2",
        "+2x",
        "2d",
        "3/12/202",
        "3/12-2026",
        "2026/12/03",
        "12/2026",
        "3 Dec",
        "1/2/3/4",
        "+123456d",
        "٣/١٢/٢٠٢٦",
        "today!",
    ],
)
def test_parse_date_unknown_forms(text: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_date(text, TODAY)
    assert str(err.value) == f"could not understand {text.strip()!r} as a date; {HELP}"


def test_parse_date_empty() -> None:
    for text in ("", "   "):
        with pytest.raises(ValueError, match="no date given; use 2026-12-03"):
            parse_date(text, TODAY)


@pytest.mark.parametrize(
    "text",
    [
        "31/2/2026",
        "29/2/2027",
        "2026-02-30",
        "2026-13-01",
        "0/1/2026",
        "3/13/2026",
        "32/1",
        "31/4",
        "29/2",
        "00/00/00",
    ],
)
def test_parse_date_impossible(text: str) -> None:
    with pytest.raises(ValueError, match=rf"^'{text}' is not a real date( in \d+ or \d+)? \(.+\)$"):
        parse_date(text, TODAY)


def test_day_month_passed_this_year_and_missing_next_year() -> None:
    # 29 Feb 2028 has passed on 1 Mar 2028 and there is no 29 Feb 2029.
    with pytest.raises(ValueError, match=r"^'29/2' is not a real date in 2028 or 2029 "):
        parse_date("29/2", date(2028, 3, 1))
    assert parse_date("29/2", date(2028, 2, 29)) == date(2028, 2, 29)
    assert parse_date("29/2", date(2027, 3, 1)) == date(2028, 2, 29)


def test_parse_date_too_far() -> None:
    with pytest.raises(ValueError, match="too far from today"):
        parse_date("+99999w", date(9000, 1, 1))
    with pytest.raises(ValueError, match="too far from today"):
        parse_date("-99999w", date(1, 1, 10))


def test_long_input_is_shortened_in_the_message() -> None:
    with pytest.raises(ValueError) as err:
        parse_date("x" * 500, TODAY)
    assert len(str(err.value)) < 200


# --- add_business_days ---


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 11, 26), 0, date(2026, 11, 26)),  # Thu
        (date(2026, 11, 28), 0, date(2026, 11, 30)),  # Sat -> Mon
        (date(2026, 11, 29), 0, date(2026, 11, 30)),  # Sun -> Mon
        (date(2026, 11, 26), 1, date(2026, 11, 27)),  # Thu -> Fri
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Fri -> Mon
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # Sat -> Mon (next business day)
        (date(2026, 11, 29), 2, date(2026, 12, 1)),  # Sun -> Tue
        (date(2026, 11, 30), 5, date(2026, 12, 7)),  # Mon -> Mon
        (date(2026, 11, 26), 10, date(2026, 12, 10)),
        (date(2026, 11, 26), 3, date(2026, 12, 1)),
    ],
)
def test_add_business_days(start: date, days: int, expected: date) -> None:
    assert add_business_days(start, days) == expected


def test_add_business_days_refuses_negative() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        add_business_days(TODAY, -1)


def _slow_business_days(start: date, days: int) -> date:
    current = start
    if days == 0:
        while current.weekday() >= 5:
            current += timedelta(days=1)
        return current
    while days:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(dates, st.integers(min_value=0, max_value=200))
def test_add_business_days_matches_day_by_day_count(start: date, days: int) -> None:
    result = add_business_days(start, days)
    assert result == _slow_business_days(start, days)
    assert result.weekday() < 5


@given(dates, st.integers(min_value=1, max_value=200))
def test_minus_business_days_is_day_by_day(today: date, days: int) -> None:
    current, left = today, days
    while left:
        current -= timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    assert parse_date(f"-{days}bd", today) == current


@given(dates)
def test_written_dates_round_trip(d: date) -> None:
    assert parse_date(d.isoformat(), TODAY) == d
    assert parse_date(f"{d.day}/{d.month}/{d.year}", TODAY) == d
    assert parse_date(f"{d.day:02d}.{d.month:02d}.{d.year % 100:02d}", TODAY) == d


@given(dates, st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]))
def test_weekday_is_within_the_next_seven_days(today: date, name: str) -> None:
    result = parse_date(name, today)
    assert 1 <= (result - today).days <= 7
    assert describe_date(result, today).lower().startswith(name)


# --- parse_time_window ---


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("08:00-12:00", time(8), time(12)),
        ("8-12", time(8), time(12)),
        ("8am-12pm", time(8), time(12)),
        ("13:30\u201315:00", time(13, 30), time(15)),  # en dash
        ("13:30\u201415:00", time(13, 30), time(15)),  # em dash
        ("8 - 12", time(8), time(12)),
        ("0800-1200", time(8), time(12)),
        ("7:30-9", time(7, 30), time(9)),
        ("8.30-10.45", time(8, 30), time(10, 45)),
        ("8:30am - 12:15pm", time(8, 30), time(12, 15)),
        ("8AM-12PM", time(8), time(12)),
        ("8 a.m. - 12 p.m.", time(8), time(12)),
        ("12am-6am", time(0), time(6)),
        ("12pm-1pm", time(12), time(13)),
        ("1pm-5pm", time(13), time(17)),
        ("1-3pm", time(13), time(15)),  # start takes the end's pm
        ("8-12pm", time(8), time(12)),  # 8pm would be after noon, so 8am
        ("11-1pm", time(11), time(13)),
        ("9-11am", time(9), time(11)),
        ("0-6", time(0), time(6)),
        ("14:00 to 16:00", time(14), time(16)),
        ("  08:00-12:00  ", time(8), time(12)),
    ],
)
def test_parse_time_window(text: str, start: time, end: time) -> None:
    assert parse_time_window(text) == (start, end)


@pytest.mark.parametrize("text", ["", "morning", "8", "8-", "-12", "8:0-9", "8-12-14", "a-b"])
def test_parse_time_window_unknown(text: str) -> None:
    with pytest.raises(ValueError, match="as a time window; use 08:00-12:00, 8-12 or 8am-12pm"):
        parse_time_window(text)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("12-8", "12:00 to 08:00"),
        ("8-8", "08:00 to 08:00"),
        ("13:30-13:00", "13:30 to 13:00"),
        ("3pm-1pm", "15:00 to 13:00"),
        ("12pm-12am", "12:00 to 00:00"),
    ],
)
def test_parse_time_window_end_before_start(text: str, shown: str) -> None:
    with pytest.raises(ValueError, match=f"must end after it starts \\({shown}\\)"):
        parse_time_window(text)


@pytest.mark.parametrize("text", ["25-26", "8-24", "8:60-9", "13pm-2pm", "0am-3am", "8-13pm"])
def test_parse_time_window_impossible_times(text: str) -> None:
    with pytest.raises(ValueError, match="is not a time of day"):
        parse_time_window(text)


# --- describe_date ---


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2026, 12, 3), "Thu 3 Dec 2026 (in 7 days)"),
        (TODAY, "Thu 26 Nov 2026 (today)"),
        (date(2026, 11, 27), "Fri 27 Nov 2026 (tomorrow)"),
        (date(2026, 11, 25), "Wed 25 Nov 2026 (yesterday)"),
        (date(2026, 11, 24), "Tue 24 Nov 2026 (2 days ago)"),
        (date(2026, 11, 28), "Sat 28 Nov 2026 (in 2 days)"),
        (date(2027, 1, 1), "Fri 1 Jan 2027 (in 36 days)"),
    ],
)
def test_describe_date(d: date, expected: str) -> None:
    assert describe_date(d, TODAY) == expected
