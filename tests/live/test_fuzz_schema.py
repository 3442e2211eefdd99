"""Schemathesis against the published OpenAPI schema of the real service: no 5xx for any input.

The service is `live_server` (conftest: uvicorn on a real 127.0.0.1 socket, a
token, an SQLite store). The schema fuzzed is the app's own, built at import
so that pytest has one test per operation (which xdist can share out); a
test checks it is exactly what the server publishes at /openapi.json.

Every answer must be: not a 5xx; a status code the schema documents for that
operation; of the documented content type; and of the documented shape (the
app's response models, `dialer.live.app`). A schema-invalid request must be
refused with a 4xx. Not checked: that every schema-valid request is accepted
(the schema says "an object" for an event and for a pacer's parameters; the
service checks those itself and answers 422 naming the field).

Three passes:
- `test_every_operation` with the token, path parameters fuzzed too (unknown
  campaigns: 404; bad names: 422; PUT creates campaigns);
- `test_every_operation_on_a_campaign`: the same with `name` pinned to a
  campaign that exists and has agents and calls, so bodies get past the 404
  and reach the controller (events, decisions, PATCH of the mode);
- `test_without_the_token_everything_is_401`: no or a wrong token, any input.

Reproducible: Hypothesis is derandomized (the examples follow from the test's
name and the schema) and keeps no example database, so a failure shows again
on the next run, with the same request (schemathesis prints it as a curl line).
Bounded: 15 examples per operation and pass (5 without the token), plus
schemathesis's boundary cases; about 30 s in all on a busy 2-core machine (marked slow).
"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks

from live_auth import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
CAMPAIGN = "fuzzed"

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]


def _app_schema() -> dict:
    from dialer.live.app import create_app
    from dialer.live.service import Service

    return create_app(Service(None), TOKEN).openapi()


RAW = _app_schema()
schema = schemathesis.openapi.from_dict(RAW)

FUZZ = settings(
    max_examples=15,
    derandomize=True,  # the same examples every run: a failure is reproducible, never flaky
    database=None,
    deadline=None,  # a busy 2-core machine; the service's speed is the benchmark's business
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


@pytest.fixture(scope="module")
def campaign(live_server):
    """A campaign with two agents, one in a call, so events and decisions reach the controller."""
    with httpx.Client(base_url=live_server.url, headers=AUTH, timeout=30) as c:
        assert c.put(f"/campaigns/{CAMPAIGN}", json={"mode": "predictive", "lines": 10}).status_code in (200, 201)
        events = [
            {"id": "f1", "type": "AgentLoggedIn", "time": 0.0, "agent": "ann"},
            {"id": "f2", "type": "AgentLoggedIn", "time": 0.0, "agent": "bob"},
            {"id": "f3", "type": "DialPlaced", "time": 1.0, "call": 1, "lead": 100, "agent": "ann"},
        ]
        r = c.post(f"/campaigns/{CAMPAIGN}/events", json={"events": events})
        assert r.status_code == 200, r.text
    return CAMPAIGN


def test_the_fuzzed_schema_is_the_one_the_server_publishes(live_server):
    r = httpx.get(f"{live_server.url}/openapi.json", headers=AUTH, timeout=30)
    assert r.status_code == 200
    assert r.json() == RAW
    operations = {(m.upper(), p) for p, item in RAW["paths"].items() for m in item}
    assert len(operations) == 15 and ("POST", "/campaigns/{name}/decide") in operations
    assert ("GET", "/campaigns/{name}/hours") in operations and ("GET", "/readyz") in operations
    assert ("DELETE", "/campaigns/{name}") in operations


@pytest.mark.slow  # the three fuzz passes take about 30 s in all
@schema.parametrize()
@FUZZ
def test_every_operation(case, live_server):
    case.call_and_validate(base_url=live_server.url, headers=AUTH, checks=CHECKS)


@pytest.mark.slow  # the three fuzz passes take about 30 s in all
@schema.include(path_regex=r"^/campaigns/\{name\}").exclude(method="DELETE").parametrize()  # keep the campaign
@FUZZ
def test_every_operation_on_a_campaign(case, live_server, campaign):
    case.path_parameters["name"] = campaign
    case.call_and_validate(base_url=live_server.url, headers=AUTH, checks=CHECKS)


def journal_positions(live_server) -> list[tuple[str, int]]:
    return [(c.name, c.seq) for c in live_server.service.all()]


@pytest.mark.slow  # the three fuzz passes take about 30 s in all
@schema.parametrize()
@settings(FUZZ, max_examples=5, phases=[Phase.generate])  # random inputs only: the token is checked first
@pytest.mark.parametrize("token", [None, "Bearer not-the-token-0123456789"], ids=["none", "wrong"])
def test_without_the_token_everything_is_401(case, live_server, token):
    before = journal_positions(live_server)
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    r = case.call(base_url=live_server.url, headers={} if token is None else {"Authorization": token})
    assert r.status_code == 401, (case.as_curl_command(), r.text)
    assert r.json() == {"detail": "missing or bad bearer token"}
    case.validate_response(r, checks=[checks.status_code_conformance, checks.content_type_conformance,
                                      checks.response_schema_conformance])
    assert journal_positions(live_server) == before


# --- what the fuzzer found: each input as a plain case -----------------------------------------------


def test_patch_with_a_null_or_non_object_pacer_is_422_and_changes_nothing(live_server, campaign):
    """Found: PATCH {"pacer": null} was a 500 (dict(None) in LiveCampaign.configure)."""
    with httpx.Client(base_url=live_server.url, headers=AUTH, timeout=30) as c:
        before = c.get(f"/campaigns/{campaign}").json()
        for pacer in (None, "x", [1]):
            r = c.patch(f"/campaigns/{campaign}", json={"lines": None, "mode": "power", "pacer": pacer})
            assert r.status_code == 422, r.text
            detail = r.json()["detail"]
            if pacer is None:  # the schema does not allow null; the service names it all the same
                assert detail == "pacer must be an object of the mode's parameters, such as {\"ratio\": 1.8}, got None"
            else:
                assert detail == f"pacer: Input should be a valid dictionary, got {pacer!r}"
        r = c.patch(f"/campaigns/{campaign}", json={"mode": None})
        assert r.status_code == 422 and r.json()["detail"].startswith("mode must be one of power, ")
        assert c.get(f"/campaigns/{campaign}").json() == before


def test_configure_in_process_refuses_a_null_pacer_by_name():
    from dialer.errors import ConfigError
    from dialer.live import LiveCampaign

    c = LiveCampaign(mode="fixed-ratio", pacer={"ratio": 2.0})
    with pytest.raises(ConfigError, match=r"^pacer must be an object .*, got None$"):
        c.configure(pacer=None)
    with pytest.raises(ConfigError, match=r"^pacer must be an object .*, got 'x'$"):
        c.configure(mode="power", pacer="x")
    assert (c.config.mode, c.config.pacer, c.seq) == ("fixed-ratio", {"ratio": 2.0}, 0)


@pytest.mark.parametrize(
    "method, path, body, detail",
    [  # found: a JSON true or a numeric string was read as a number (now=false decided at t = 0)
        ("POST", "/decide", {"now": False}, "now: Input should be a valid number, got False"),
        ("POST", "/releasable", {"events": [], "now": False}, "now: Input should be a valid number, got False"),
        ("POST", "/decide", {"now": "5"}, "now: Input should be a valid number, got '5'"),
        ("PATCH", "", {"lines": True}, "lines: Input should be a valid integer, got True"),
    ],
)
def test_a_number_must_be_a_json_number(live_server, campaign, method, path, body, detail):
    with httpx.Client(base_url=live_server.url, headers=AUTH, timeout=30) as c:
        seq = c.get(f"/campaigns/{campaign}").json()["seq"]
        r = c.request(method, f"/campaigns/{campaign}{path}", json=body)
        assert r.status_code == 422 and r.json()["detail"] == detail, r.text
        assert c.put("/campaigns/fuzz-new", json={"horizon": True}).json()["detail"].startswith("horizon: ")
        assert c.get(f"/campaigns/{campaign}").json()["seq"] == seq


def test_an_unknown_query_parameter_is_422_naming_it(live_server, campaign):
    """Found: GET .../ledger?nwo=5 (a typo) answered the ledger at the last event, ignoring it."""
    with httpx.Client(base_url=live_server.url, headers=AUTH, timeout=30) as c:
        r = c.get(f"/campaigns/{campaign}/ledger", params={"nwo": "5"})
        assert r.status_code == 422 and r.json()["detail"] == "nwo: unknown query parameter (parameters: now)"
        r = c.get("/healthz", params={"verbose": "1"})
        assert r.status_code == 422 and r.json()["detail"] == "verbose: unknown query parameter (parameters: none)"
        assert c.get(f"/campaigns/{campaign}/ledger", params={"now": "5"}).status_code == 200
