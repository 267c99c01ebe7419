"""Property-based conformance of the live server to its own OpenAPI document (schemathesis).

Every operation of ``/openapi.json`` gets 25 generated requests with valid data and 25 with
invalid data, sent with an admin key to the real server on each store, with a trained model
loaded (so predictions, explanations, recommendations, drivers, events and outcomes run for
real). No answer may be a 5xx; every status code, content type, header and body must be the
documented one; invalid input must be refused. Generated data that is valid per the schema may
still be refused by domain rules (an unknown concept id, an ontology that would not validate),
so "valid data must be accepted" is not asserted.

Schemathesis' own pytest plugin (lazy ``from_fixture`` loading) does not work with pytest 9
(it sets ``Node._nodeid``), so this drives its Python API with Hypothesis directly.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import Api, Trained

MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


def _fuzz(api: Api, operation: Any, mode: schemathesis.GenerationMode) -> None:
    @SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(
            base_url=str(api.client.base_url),
            checks=CHECKS,
            timeout=60,
        )

    run()


def test_api_conforms_to_its_schema(model_api: Trained) -> None:
    api = model_api.api
    config = schemathesis.Config.from_dict(
        {"auth": {"openapi": {"ApiKey": {"api_key": api.keys["admin"]}}}}
    )
    schema = schemathesis.openapi.from_url(f"{api.client.base_url}/openapi.json", config=config)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            try:
                _fuzz(api, operation, mode)
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label
            except Exception as exc:  # collect every operation's failure, then report all
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert operations >= 30
    assert not failures, "\n\n".join(failures)
