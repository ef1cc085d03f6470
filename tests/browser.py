"""What the console's browser journeys share: people to sign in as, and signing in."""

from __future__ import annotations

from playwright.sync_api import Page

from orderhub.demo_stack import Stack
from orderhub.domain.access import Principal, Role
from orderhub.services.accounts import create_user

__all__ = ["PASSWORD", "person", "sign_in"]

PASSWORD = "a console password"
SETUP = Principal("test-setup", Role.OWNER, via="test")


def person(stack: Stack, name: str, role: str, shops: tuple[str, ...] = ()) -> str:
    create_user(stack.hub, name, role, actor=SETUP, shops=shops, password=PASSWORD)
    return name


def sign_in(page: Page, stack: Stack, name: str, password: str = PASSWORD) -> None:
    page.goto(stack.api.url + "/")
    page.locator("[data-test=name]").fill(name)
    page.locator("[data-test=password]").fill(password)
    page.locator("[data-test=submit]").click()
