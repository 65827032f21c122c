"""The admin date fields offer only the years the server accepts (2000–2100), so a picker cannot choose year 9999."""

import re

import pytest

from tests.web.test_pages import login

BOUNDS = 'min="2000-01-01" max="2100-12-31"'


@pytest.mark.parametrize(
    ("user", "url", "fields"),
    [
        ("t_admin", "/staff/kb/new", ("valid_from", "valid_to", "review_due")),
        ("t_admin", "/staff/enterprise", ("apply_from", "apply_to")),
        ("t_admin", "/staff/admin/calendar", ("day",)),
        ("t_supervisor", "/staff/stats", ("from", "to")),
    ],
)
def test_date_fields_are_held_to_the_accepted_years(web, user, url, fields):
    login(web, user)
    page = web.get(url).text
    for name in fields:
        field = re.search(rf'<input type="date" name="{name}"[^>]*>', page)
        assert field and BOUNDS in field.group(0), (url, name)
