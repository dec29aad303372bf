"""The mailbox and user-name checks the CLI applies before it goes on the network (the same rules as
the wizard's Authentication page)."""

from __future__ import annotations

import pytest

from calendar_app.services.account_names import mailbox_problem, user_name_problem


@pytest.mark.parametrize("user", ["CONTOSO\\svc-calendar", "svc@contoso.com", " CONTOSO\\rep "])
def test_accepted_user_names(user: str) -> None:
    assert user_name_problem(user) is None


@pytest.mark.parametrize(("user", "says"), [
    ("svc", "enter the user name as DOMAIN\\user or user@domain"),
    ("CONTOSO\\", "both the domain and the user name are needed"),
    ("\\svc", "both the domain and the user name are needed"),
    ("CONTOSO\\a\\b", "both the domain and the user name are needed"),
    ("CONTOSO\\r ep", "contains a space"),
    ("svc@", "is not a UPN"),
])
def test_refused_user_names_say_what_to_type(user: str, says: str) -> None:
    problem = user_name_problem(user)
    assert problem is not None and says in problem and f"'{user}'" in problem


def test_mailbox_must_be_an_smtp_address() -> None:
    assert mailbox_problem("rep@contoso.com") is None
    problem = mailbox_problem("rep at contoso")
    assert problem is not None and "'rep at contoso' is not an SMTP address" in problem
