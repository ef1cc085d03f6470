"""People, tokens and the audit log, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, exc, select, update

from orderhub.domain.access import Permission, Principal, Role, may
from orderhub.domain.errors import OrderhubError
from orderhub.services import accounts
from orderhub.services.accounts import AccessDenied
from orderhub.services.audit import list_entries, record
from orderhub.services.hub import Hub
from orderhub.store import tables as t

OWNER = Principal("boss", Role.OWNER, via="cli")
PASSWORD = "correct horse battery"


def test_a_person_signs_in_with_their_password_and_acts_with_their_role(hub: Hub) -> None:
    accounts.create_user(hub, "li", "operator", actor=OWNER, password=PASSWORD)
    who = accounts.authenticate(hub, "li", PASSWORD)
    assert (who.name, who.role, who.via) == ("li", Role.OPERATOR, "password")
    assert may(who, Permission.EXCEPTIONS_RESOLVE)
    assert not may(who, Permission.CONNECTIONS_WRITE)
    with hub.db.engine.connect() as conn:
        stored = conn.execute(select(t.users.c.password_hash)).scalar_one()
    assert PASSWORD not in stored and stored.startswith("$argon2")


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(hub: Hub) -> None:
    accounts.create_user(hub, "li", "operator", actor=OWNER, password=PASSWORD)
    for _ in range(accounts.LOCKOUT_AFTER):
        with pytest.raises(AccessDenied, match="name or password is wrong"):
            accounts.authenticate(hub, "li", "guess")
    with pytest.raises(AccessDenied, match="locked until"):
        accounts.authenticate(hub, "li", PASSWORD)
    assert [e.action for e in list_entries(hub, action="user.locked")] == ["user.locked"]


def test_an_unknown_name_gets_the_same_answer_as_a_wrong_password(hub: Hub) -> None:
    with pytest.raises(AccessDenied) as unknown:
        accounts.authenticate(hub, "nobody", PASSWORD)
    accounts.create_user(hub, "li", "viewer", actor=OWNER, password=PASSWORD)
    with pytest.raises(AccessDenied) as wrong:
        accounts.authenticate(hub, "li", "not it at all")
    assert str(unknown.value) == str(wrong.value)


def test_a_token_carries_its_owners_role_and_shops_until_revoked(hub: Hub) -> None:
    from orderhub.config import HubConfig
    from orderhub.services.setup import apply_config
    from support import offline_shop, offline_warehouse

    apply_config(
        hub,
        HubConfig(shops=[offline_shop("S1"), offline_shop("S2")], nodes=[offline_warehouse()]),
    )
    accounts.create_user(hub, "li", "operator", actor=OWNER, shops=("S1",), password=PASSWORD)
    token = accounts.create_token(hub, "li", actor=OWNER, name="scanner")
    who = accounts.principal_for_token(hub, token.secret)
    assert (who.name, who.role, who.shops) == ("li", Role.OPERATOR, frozenset({"S1"}))
    assert may(who, Permission.ORDERS_READ, shop="S1")
    assert not may(who, Permission.ORDERS_READ, shop="S2")
    with hub.db.engine.connect() as conn:
        stored = conn.execute(select(t.api_tokens.c.token_hash)).scalar_one()
    assert token.secret not in stored

    accounts.revoke_token(hub, token.id, actor=OWNER)
    with pytest.raises(AccessDenied, match="revoked"):
        accounts.principal_for_token(hub, token.secret)


def test_an_expired_token_and_a_disabled_user_are_refused(hub: Hub) -> None:
    accounts.create_user(hub, "li", "viewer", actor=OWNER, password=PASSWORD)
    expired = accounts.create_token(hub, "li", actor=OWNER, expires_in=timedelta(seconds=-1))
    with pytest.raises(AccessDenied, match="expired"):
        accounts.principal_for_token(hub, expired.secret)
    live = accounts.create_token(hub, "li", actor=OWNER)
    accounts.set_user(hub, "li", actor=OWNER, disabled=True)
    with pytest.raises(AccessDenied, match="disabled"):
        accounts.principal_for_token(hub, live.secret)
    with pytest.raises(AccessDenied):
        accounts.principal_for_token(hub, "oh_made-up")


def test_the_audit_log_records_changes_without_secrets_and_cannot_be_edited(hub: Hub) -> None:
    accounts.create_user(hub, "li", "viewer", actor=OWNER, password=PASSWORD)
    accounts.set_user(hub, "li", actor=OWNER, role="admin", password="another long one")
    with hub.uow() as uow:
        record(
            uow,
            OWNER,
            "node.change",
            "node:WH1",
            before={"settings": {"base_url": "a"}, "secrets": {"app_secret": "s1"}},
            after={"settings": {"base_url": "b"}, "app_secret": "s2"},
        )
        uow.commit()
    entries = list_entries(hub)
    assert [e.action for e in entries] == ["node.change", "user.change", "user.create"]
    change = entries[1]
    assert change.actor == "boss" and change.via == "cli"
    assert change.before == {"role": "viewer"}
    assert change.after == {"role": "admin", "password": "changed"}
    with hub.db.engine.connect() as conn:
        text = " ".join(str(v) for v in conn.execute(select(t.audit_log)).all())
    for secret in ("s1", "s2", PASSWORD, "another long one"):
        assert f"'{secret}'" not in text and f'"{secret}"' not in text

    for statement in (update(t.audit_log).values(actor="someone else"), delete(t.audit_log)):
        with pytest.raises(exc.DatabaseError), hub.db.engine.begin() as conn:
            conn.execute(statement)
    assert len(list_entries(hub)) == 3


def test_names_roles_passwords_and_durations_are_checked_in_one_sentence(hub: Hub) -> None:
    with pytest.raises(OrderhubError, match="not a role"):
        accounts.create_user(hub, "li", "boss", actor=OWNER)
    with pytest.raises(OrderhubError, match="not a user name"):
        accounts.create_user(hub, "", "viewer", actor=OWNER)
    with pytest.raises(OrderhubError, match="at least 10"):
        accounts.create_user(hub, "li", "viewer", actor=OWNER, password="short")
    with pytest.raises(OrderhubError, match="no shop NOPE"):
        accounts.create_user(hub, "li", "viewer", actor=OWNER, shops=("NOPE",))
    with pytest.raises(OrderhubError, match="not a duration"):
        accounts.parse_duration("3y")
    assert accounts.parse_duration("30d") == timedelta(days=30)
