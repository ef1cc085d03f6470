"""Schemathesis over the hub's own OpenAPI document, with an owner's token, over HTTP:
whatever a client sends that the document allows or not, the API never answers 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from orderhub.config import HubConfig, SkuConfig
from orderhub.sandbox.server import RunningServer
from orderhub.services.hub import Hub
from orderhub.services.setup import apply_config
from support import api_token, make_hub, offline_shop, offline_warehouse

EXAMPLES = 40


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    h = make_hub(database_url)
    apply_config(
        h,
        HubConfig(
            shops=[offline_shop("S1")], nodes=[offline_warehouse("WH1")], skus=[SkuConfig(sku="S")]
        ),
    )
    yield h
    h.close()


def test_no_request_the_openapi_document_describes_gets_a_server_error(
    hub: Hub, api: RunningServer
) -> None:
    token = api_token(hub)
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    failures: list[str] = []
    cases = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            nonlocal cases
            cases += 1
            response = case.call(headers={"Authorization": f"Bearer {token}"}, timeout=30)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query!r}: {response.status_code}"
                )

        check()
    assert failures == []
    assert cases >= 20 * len(list(schema.get_all_operations()))
