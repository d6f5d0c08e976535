"""schemathesis against the live service: the example project served by `paved serve` on a
loopback port, its OpenAPI document loaded from /openapi.json, and a bounded number of cases per
operation, valid (positive) and invalid (negative), sent over HTTP. No answer may be a 5xx, and
every answer must match the document (status, content type, headers, body schema); valid
inputs must be accepted and invalid ones refused."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from test_serving import EXAMPLE, serve

CASES = 100  # per operation and mode: ~400 requests in all (GETs without input need one)


@pytest.fixture(scope="module")
def schema() -> Iterator[schemathesis.BaseSchema]:
    with serve(EXAMPLE, PAVED_MAX_BATCH="8") as server:
        yield schemathesis.openapi.from_url(f"{server.url}/openapi.json")


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis_finds_no_server_error_and_no_answer_off_the_document(
    schema: schemathesis.BaseSchema, mode: GenerationMode
) -> None:
    statuses: Counter[tuple[str, int]] = Counter()
    with requests.Session() as session:
        for operation in (schema[path][method] for path in schema for method in schema[path]):
            if mode is GenerationMode.NEGATIVE and not operation.body:
                continue  # a GET without parameters: no invalid request can be made

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=CASES,
                deadline=None,
                database=None,
                derandomize=True,  # the same cases on every run: a failure reproduces
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            )
            def exchange(case: schemathesis.Case[Any]) -> None:
                response = case.call(session=session)
                statuses[case.operation.label, response.status_code] += 1
                case.validate_response(response)  # every built-in check, 5xx included

            exchange()
    assert statuses, "no request was made"
    assert not [key for key in statuses if key[1] >= 500], statuses
    predicted = {key[1] for key in statuses if key[0].startswith("POST /predict")}
    # valid inputs are all answered; invalid ones all refused with the field errors
    assert predicted == ({200} if mode is GenerationMode.POSITIVE else {422}), statuses
