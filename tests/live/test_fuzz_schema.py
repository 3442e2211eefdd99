"""Schemathesis against the published OpenAPI schema of the real service, every check on: the schema
is exactly as strict as the server.

The service is `live_server` (conftest: uvicorn on a real 127.0.0.1 socket, a
token, an SQLite store). The schema fuzzed is the app's own, built at import
so that pytest has one test per operation (which xdist can share out); a
test checks it is exactly what the server publishes at /openapi.json.

Every check schemathesis has (`checks.CHECKS`): no 5xx; a status code, a
content type, headers and a shape the schema documents (the app's response
models); a schema-invalid request refused with a 4xx; a schema-valid one
accepted (2xx, or 404/409: an unknown campaign, a state it does not fit),
the only other exception being a 422 for one of the rules JSON Schema cannot
state, which the schema publishes (`dialer.live.schema.CROSS_FIELD`); 405s
list every method of the path; auth is not ignored. A case negative only in
what the test overrides (the token header it sends, the name it pins) is not
asked to be refused.

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
Bounded: 15 examples per operation and pass (5 without the token), the
schema's own examples, no coverage phase (its boundary cases are batches of
10,000 and 10,001 events for every operation: `test_batch_bounds` has them);
about 25 s in all on a busy 2-core machine (marked slow).
"""

from __future__ import annotations

import re

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks

from dialer.live.app import MAX_BODY
from dialer.live.config import FIELDS
from dialer.live.schema import CROSS_FIELD
from live_auth import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
CAMPAIGN = "fuzzed"
NO_CALLER = "+4722334455"  # preset NO needs a timezone and a caller_id (norm 4.4.2)

def positive_data_accepted(ctx, response, case):
    """schemathesis' check that a schema-valid request is accepted, with the only exceptions the schema
    publishes: a 422 for a rule JSON Schema cannot state (`dialer.live.schema.CROSS_FIELD`), and a 413
    for a body over the service's byte limit (a JSON Schema bounds items, not bytes: a generated batch
    of long strings can pass 4 MiB)."""
    try:
        return checks.positive_data_acceptance(ctx, response, case)
    except AssertionError:
        if response.status_code == 422 and any(re.match(rx, response.json()["detail"]) for _, rx in CROSS_FIELD):
            return None
        sent = response.request.body or b""  # the request as sent (a requests.PreparedRequest)
        if response.status_code == 413 and len(sent.encode() if isinstance(sent, str) else sent) > MAX_BODY:
            return None
        raise


checks.load_all_checks()
# every check schemathesis has, the positive-data one with the exceptions the schema publishes
CHECKS = [positive_data_accepted if c is checks.positive_data_acceptance else c for c in checks.CHECKS.get_all()]
assert positive_data_accepted in CHECKS and checks.negative_data_rejection in CHECKS


def checks_for(case, overridden: set[str]) -> list:
    """The checks for a case: all, unless the case is negative in a part the test overrides (the token
    header it sends, the campaign name it pins), which then makes the request a good one."""
    meta = case.meta
    if meta is not None and any(info.mode.is_negative for loc, info in meta.components.items() if loc in overridden):
        return [c for c in CHECKS if c is not checks.negative_data_rejection]
    return CHECKS


def _app_schema() -> dict:
    from dialer.live.app import create_app
    from dialer.live.service import Service

    return create_app(Service(None), TOKEN).openapi()


RAW = _app_schema()
schema = schemathesis.openapi.from_dict(RAW)
# the explicit examples and the fuzzing phase; not the coverage phase, whose boundary cases include
# batches of 10,000 and 10,001 events and leads for every operation (minutes of generating and
# sending): the batch bounds have their own test below
schema.config.phases.coverage.enabled = False

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
    case.call_and_validate(base_url=live_server.url, headers=AUTH, checks=checks_for(case, {"header"}))


@pytest.mark.slow  # the three fuzz passes take about 30 s in all
@schema.include(path_regex=r"^/campaigns/\{name\}").exclude(method="DELETE").parametrize()  # keep the campaign
@FUZZ
def test_every_operation_on_a_campaign(case, live_server, campaign):
    case.path_parameters["name"] = campaign
    case.call_and_validate(base_url=live_server.url, headers=AUTH, checks=checks_for(case, {"header", "path"}))


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


# --- the schema as strict as the server (issue 19, item 4): each finding as a plain case -------------------


@pytest.mark.parametrize("now", ["5\x0c", " 5", "5 ", "inf", "nan", "1_0", "0x10", "", "5.", ".5", "+5"])
def test_a_query_time_is_a_json_number(live_server, campaign, now):
    """Found: ?now=5%0C was read as 5 (float() takes spaces, 'inf', '1_0'); the schema says a number."""
    with httpx.Client(base_url=live_server.url, headers=AUTH, timeout=30) as c:
        for route in ("ledger", "hours", "leads/100"):
            r = c.get(f"/campaigns/{campaign}/{route}", params={"now": now})
            assert r.status_code == 422 and r.json()["detail"] == f"now must be a number of seconds, got {now!r}", r.text
        assert c.get(f"/campaigns/{campaign}/ledger", params={"now": "-5e-1"}).json()["now"] == -0.5


def test_events_are_a_union_on_type_with_every_field_typed():
    events = RAW["components"]["schemas"]["EventsIn"]["properties"]["events"]["items"]
    assert events["discriminator"]["propertyName"] == "type"
    assert set(events["discriminator"]["mapping"]) == {"AgentLoggedIn", "AgentReady", "AgentPaused", "AgentLeaving",
                                                       "AgentLoggedOut", "DialPlaced", "CallAnswered", "CallFailed",
                                                       "CallConnected", "CallAbandoned", "CallEnded"}
    placed = RAW["components"]["schemas"]["DialPlaced"]
    assert placed["additionalProperties"] is False and placed["required"] == ["id", "type", "time", "call", "lead"]
    assert placed["properties"]["time"]["minimum"] == 0 and placed["properties"]["time"]["maximum"] == 1e11
    assert placed["properties"]["call"]["anyOf"][1] == {"type": "integer", "maximum": 2**63 - 1, "minimum": -(2**63 - 1)}
    assert RAW["components"]["schemas"]["CallFailed"]["properties"]["reason"]["enum"] == ["no_answer", "busy", "invalid"]
    put = RAW["paths"]["/campaigns/{name}"]["put"]
    (name,) = put["parameters"]
    assert name["schema"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
    modes = [ref["$ref"].rsplit("/", 1)[1] for ref in put["requestBody"]["content"]["application/json"]["schema"]["anyOf"]]
    assert modes == ["PowerCampaign", "FixedRatioCampaign", "PoissonCampaign", "AdaptiveCampaign", "PredictiveCampaign"]
    fields = set(RAW["components"]["schemas"]["PowerCampaign"]["properties"])
    assert fields == set(FIELDS)  # every field a campaign takes, none more (caller_id and envelope came later)
    predictive = RAW["components"]["schemas"]["PredictiveParameters"]["properties"]
    assert predictive["resolution"] == {"type": "number", "minimum": 0.01, "maximum": 0.5, "title": "Resolution",
                                        "description": "a relative step in [0.01, 0.5]"}


def test_whole_numbers_may_be_written_with_a_decimal_point(live_server, campaign):
    """JSON Schema's "integer" takes 7.0 (JSON does not tell it from 7): so does the service."""
    with httpx.Client(base_url=live_server.url, headers=AUTH, timeout=30) as c:
        r = c.put("/campaigns/fuzz-whole", json={"mode": "poisson", "pacer": {"seed": 3.0}, "lines": 2.0})
        assert r.status_code == 201 and r.json()["config"]["lines"] == 2 and r.json()["config"]["pacer"]["seed"] == 3, r.text
        r = c.post("/campaigns/fuzz-whole/events", json={"events": [{"id": 1.0, "type": "AgentLoggedIn", "time": 0, "agent": 7.0}]})
        assert r.json()["applied"] == 1, r.text
        r = c.post("/campaigns/fuzz-whole/events", json={"events": [{"id": 1, "type": "AgentLoggedIn", "time": 0, "agent": 7}]})
        assert r.json()["duplicates"] == [1], r.text  # 1.0 and 1 are the same id
        r = c.post("/campaigns/fuzz-whole/decide", json={"now": 1, "leads": [5.0, 5.5]})
        assert r.status_code == 422 and r.json()["detail"] == "leads[1] must be a string or a whole number, got 5.5"


def test_parameters_of_another_mode_are_409_and_malformed_ones_422(live_server):
    with httpx.Client(base_url=live_server.url, headers=AUTH, timeout=30) as c:
        assert c.put("/campaigns/fuzz-modes", json={"mode": "power"}).status_code == 201
        r = c.patch("/campaigns/fuzz-modes", json={"pacer": {"ratio": 2.0}})  # fixed-ratio's: not this mode's
        assert r.status_code == 409 and r.json()["detail"] == (
            "pacer.ratio: unknown parameter for mode 'power' (it takes no parameters), got 'ratio' (the campaign's mode is "
            "'power': send the mode with its parameters to change it)"), r.text
        r = c.patch("/campaigns/fuzz-modes", json={"pacer": {"variant": "average", "period": 15.0}})  # adaptive's
        assert r.status_code == 409, r.text
        r = c.patch("/campaigns/fuzz-modes", json={"pacer": {"ratio": -2.0}})  # no mode's parameters at all
        assert r.status_code == 422, r.text
        r = c.patch("/campaigns/fuzz-modes", json={"mode": "fixed-ratio", "pacer": {"ratio": 2.0}})
        assert r.status_code == 200 and r.json()["config"]["pacer"] == {"ratio": 2.0}, r.text


def test_a_405_lists_every_method_of_the_path(live_server):
    r = httpx.post(f"{live_server.url}/campaigns/x", headers=AUTH, timeout=30)
    assert r.status_code == 405 and r.headers["allow"] == "DELETE, GET, PATCH, PUT"


def test_an_origin_outside_1900_to_2199_is_422_not_a_500(live_server):
    """Found: origin 0001-01-01T00:00:00+23:59 with a timezone or a preset was a 500 (date out of range)."""
    with httpx.Client(base_url=live_server.url, headers=AUTH, timeout=30) as c:
        for origin in ("0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"):
            r = c.put("/campaigns/fuzz-origin", json={"preset": "NO", "timezone": "Europe/Oslo", "caller_id": NO_CALLER,
                                                       "origin": origin})
            assert r.status_code == 422 and r.json()["detail"] == (
                f"origin must be an instant in the years 1900 to 2199, got {origin!r}"), r.text
        r = c.put("/campaigns/fuzz-origin", json={"preset": "NO", "timezone": "Etc/GMT+12", "caller_id": NO_CALLER,
                                                   "origin": "1900-01-01T00:00:00+23:59"})
        assert r.status_code == 201, r.text
        r = c.post("/campaigns/fuzz-origin/decide", json={"now": 0, "events": [
            {"id": 1, "type": "AgentLoggedIn", "time": 0, "agent": "ann"}]})
        assert r.status_code == 200, r.text


@pytest.mark.parametrize("route, field", [("events", "events"), ("decide", "leads")])
def test_batch_bounds(live_server, route, field):
    """At most 10,000 events, or candidate leads, per request: exactly the schema's maxItems."""
    with httpx.Client(base_url=live_server.url, headers=AUTH, timeout=60) as c:
        name = f"fuzz-batch-{route}"
        assert c.put(f"/campaigns/{name}", json={"mode": "power"}).status_code == 201
        items = ([{"id": i, "type": "AgentLoggedIn", "time": 0, "agent": i} for i in range(10_001)] if field == "events"
                 else list(range(10_001)))
        body = {"now": 1.0} if route == "decide" else {}
        r = c.post(f"/campaigns/{name}/{route}", json={**body, field: items})
        assert r.status_code == 422 and r.json()["detail"].startswith(f"{field}: List should have at most 10000 items")
        r = c.post(f"/campaigns/{name}/{route}", json={**body, field: items[:10_000]})
        assert r.status_code == 200, r.text[:300]
    op = RAW["paths"][f"/campaigns/{{name}}/{route}"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    model = RAW["components"]["schemas"][op["$ref"].rsplit("/", 1)[1]]
    prop = model["properties"][field]
    assert (prop.get("maxItems") or prop["anyOf"][0]["maxItems"]) == 10_000


def test_the_rules_the_schema_cannot_state_are_422_naming_the_field(live_server):
    """Found by the fuzzer, each schema-valid and refused: the rules `CROSS_FIELD` publishes."""
    cases = [
        ({"mode": "predictive", "pacer": {"target": 0.06}}, "pacer.target must be at most the limit 0.05"),
        ({"mode": "predictive", "pacer": {"target": 0.05}}, "pacer.target must be below the campaign's abandon limit 0.05"),
        ({"mode": "predictive", "pacer": {"limit": 0.5}}, "pacer.limit must be at most the campaign's abandon limit 0.05"),
        ({"mode": "adaptive", "pacer": {"min_level": 2.0, "max_level": 1.5}}, "pacer.min_level must be at most max_level"),
        ({"abandon_limit": "3/2"}, "abandon_limit must be a rate between 0 and 1, such as 0.05, got '3/2'"),
        ({"intervals": [{"kind": "rolling", "limit": 0.05, "window": 100}]},
         "horizon must be less than half the shortest rolling window"),
        ({"intervals": [{"kind": "day", "limit": 0.05}, {"kind": "day", "limit": 0.04}]},
         "interval.name must be unique within a ledger, got 'day'"),
        ({"mode": "predictive", "intervals": [{"kind": "day", "limit": 1e-30}]},
         "pacer.target must be a rate strictly between 0 and 1 (mode 'predictive'), got 0.0"),
        # found when issue 18 item 6 landed: a preset's hours need its timezone, NO's norm 4.4.2 a caller_id
        ({"preset": "UK"}, "timezone must be an IANA time zone name such as 'Europe/Oslo' for a campaign under preset UK"),
        ({"preset": "NO", "timezone": "Europe/Oslo"}, "caller_id must be the phone number the campaign shows"),
        ({"preset": "UK", "timezone": "Europe/London", "envelope": False}, "envelope must be true or null under preset UK"),
        ({"caller_id": "not a number"}, "caller_id must be a phone number "),
    ]
    with httpx.Client(base_url=live_server.url, headers=AUTH, timeout=30) as c:
        for body, detail in cases:
            r = c.put("/campaigns/fuzz-cross", json=body)
            assert r.status_code == 422 and r.json()["detail"].startswith(detail), (body, r.text)
            assert any(re.match(rx, r.json()["detail"]) for _, rx in CROSS_FIELD), r.text
