"""The two names an admin types for a connection: the rep's mailbox (an SMTP address) and the
account that signs in (DOMAIN\\user or a UPN). Checked before anything goes on the network, with the
same rules as the wizard's Authentication page, so the CLI refuses what the wizard refuses."""

from __future__ import annotations

from calendar_app.domain.appointment import is_valid_email


def mailbox_problem(mailbox: str) -> str | None:
    if not is_valid_email(mailbox.strip()):
        return f"'{mailbox}' is not an SMTP address; give the rep's mailbox address, e.g. rep@contoso.com."
    return None


def user_name_problem(user: str) -> str | None:
    name = user.strip()
    if any(character.isspace() for character in name):
        return f"'{user}' contains a space: enter the user name as DOMAIN\\user or user@domain (UPN)."
    if "\\" not in name and "@" not in name:
        return f"'{user}': enter the user name as DOMAIN\\user or user@domain (UPN)."
    domain, _, account = name.partition("\\")
    if "\\" in name and (not domain or not account or "\\" in account):
        return f"'{user}': both the domain and the user name are needed, e.g. CONTOSO\\svc-calendar."
    if "\\" not in name and not is_valid_email(name):
        return f"'{user}' is not a UPN (user@domain): enter DOMAIN\\user or user@domain."
    return None
