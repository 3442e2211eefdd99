"""The supervisor's board in a real browser: Debian's headless Chromium driven by Selenium, against a
real `dialer serve` on loopback (a subprocess, with a token, an SQLite store).

Checked: the figures on the page are the API's for the same instant; posted events change them on
the page without a reload; a supervisor's switch to Power, confirmed on one page, shows on a second
open page and in GET /campaigns/{name}; a target at the limit is refused with the reason; a wrong
token shows why and no data; a closed day (a Norwegian holiday under preset NO) says why and when
it reopens. Every wait is WebDriverWait on a condition. The drivers and the server end with the module.
"""

from __future__ import annotations

import os

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from board_day import minute_of_calls
from live_auth import TOKEN

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"

AUTH = {"Authorization": f"Bearer {TOKEN}"}
WAIT = 15  # seconds a condition may take on a busy machine (the stream sends within 0.25 s of a change)
NO = {"mode": "predictive", "preset": "NO", "timezone": "Europe/Oslo", "caller_id": "+4722334455",
      "origin": "2026-11-24T00:00:00+01:00"}  # Tuesday 24 November 2026, local midnight
NINE = 9 * 3600.0


def chromium() -> webdriver.Chrome:
    for path in (CHROMIUM, CHROMEDRIVER):  # never a download at test time: Debian's packages (.ci/run installs them)
        assert os.path.exists(path), f"{path} is missing: apt-get install chromium chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1920,1080"):
        options.add_argument(arg)
    return webdriver.Chrome(service=ChromeService(CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def server(start_module_server, tmp_path_factory):
    _, url = start_module_server(str(tmp_path_factory.mktemp("board") / "board.sqlite"))
    with httpx.Client(base_url=url, headers=AUTH, timeout=30) as api:
        yield url, api


@pytest.fixture(scope="module")
def pages():
    """Two browser windows of their own (two supervisors); quit at the end of the module."""
    drivers = []
    try:
        drivers.append(chromium())
        drivers.append(chromium())
        yield drivers
    finally:
        for d in drivers:
            d.quit()


def open_board(d, url: str, token: str | None = TOKEN) -> None:
    d.get(url + "/")
    d.execute_script("sessionStorage.clear()")
    d.get(url + "/")
    WebDriverWait(d, WAIT).until(lambda d: d.find_element(By.ID, "login").is_displayed())
    d.find_element(By.ID, "token").send_keys(token)
    d.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()


def panel(d, name: str):
    return d.find_element(By.CSS_SELECTOR, f'section.panel[data-campaign="{name}"]')


def text(d, name: str, key: str) -> str:
    return panel(d, name).find_element(By.CSS_SELECTOR, f'[data-k="{key}"]').text


def shows(d, name: str, key: str, want: str) -> bool:
    try:
        return text(d, name, key) == want
    except (NoSuchElementException, StaleElementReferenceException):
        return False


def until_shows(d, name: str, key: str, want: str) -> None:
    WebDriverWait(d, WAIT).until(lambda d: shows(d, name, key, want),
                                 message=f"{name} {key}: {want!r} not shown")


def pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def login(t: float, *agents: str, prefix: str) -> list[dict]:
    return [{"id": f"{prefix}-in-{a}", "type": "AgentLoggedIn", "time": t, "agent": a} for a in agents]


def test_the_figures_on_the_page_are_the_apis_and_move_without_a_reload(server, pages):
    url, api = server
    d = pages[0]
    name = "bb-figures"
    assert api.put(f"/campaigns/{name}", json=NO).status_code == 201
    api.post(f"/campaigns/{name}/events", json={"events": login(NINE, "ann", "bob", prefix="f")})
    for k in range(7):
        assert api.post(f"/campaigns/{name}/events", json={"events": minute_of_calls(k, NINE, "f")}).status_code == 200
    api.post(f"/campaigns/{name}/events", json={"events": [
        {"id": "f-o1", "type": "DialPlaced", "time": NINE + 430.0, "call": "o1", "lead": "+4798000001", "agent": None},
        {"id": "f-o2", "type": "CallAnswered", "time": NINE + 431.0, "call": "o1", "human": True}]})
    open_board(d, url)
    seq = api.get(f"/campaigns/{name}").json()["seq"]
    WebDriverWait(d, WAIT).until(lambda d: panel(d, name).get_attribute("data-seq") == str(seq))
    stats = api.get(f"/campaigns/{name}/stats").json()
    clock = {p["name"]: p for p in api.get("/board/state").json()["campaigns"]}[name]["clock"]
    ledger = api.get(f"/campaigns/{name}/ledger", params={"now": clock}).json()
    floor, today = stats["floor"], stats["days"][-1]
    want = {
        "agents.idle": floor["idle"], "agents.reserved": floor["reserved_agents"], "agents.talking": floor["talking"],
        "agents.wrapping": floor["wrapping"], "agents.paused": floor["paused"], "agents.logged_in": floor["logged_in"],
        "calls.reserved": floor["ringing_reserved"], "calls.unreserved": floor["ringing_unreserved"],
        "calls.waiting": floor["live_waiting"],
        **{f"today.{k}": today["counts"][k] for k in ("attempted", "answered", "connected", "transferred", "abandoned",
                                                     "machine", "no_answer", "busy", "invalid")},
        "today.rate": pct(today["report"]["abandon_rate"]), "today.day": today["day"],
        "headroom": ledger["headroom"], "exposure": ledger["exposure"],
        "mode": "Predictive", "window": "Calling window open", "clock": "Tue 24 Nov 2026 09:07:11 CET",
    }
    shown = {key: text(d, name, key) for key in want}
    assert shown == {key: str(v) for key, v in want.items()}
    assert today["counts"]["abandoned"] == 2 and today["counts"]["connected"] == 10  # a rate of 20.00 %
    (day,) = ledger["intervals"]
    row = panel(d, name).find_element(By.CSS_SELECTOR, 'tr[data-interval="day"]')
    cells = {k: row.find_element(By.CSS_SELECTOR, f'[data-k="iv.{k}"]').text
             for k in ("abandoned", "established", "rate", "limit", "headroom")}
    assert cells == {"abandoned": str(day["abandoned"]), "established": str(day["established"]),
                     "rate": pct(day["rate"]), "limit": "5.00 %", "headroom": str(day["headroom"])}
    assert panel(d, name).find_elements(By.CSS_SELECTOR, 'svg[data-k="chart"] path.rate')

    # events posted now show without a reload (the marker would not survive one)
    d.execute_script("window.notReloaded = true")
    api.post(f"/campaigns/{name}/events", json={"events": login(NINE + 440.0, "cy", "dee", prefix="f2")})
    until_shows(d, name, "agents.logged_in", str(floor["logged_in"] + 2))
    assert text(d, name, "agents.idle") == str(api.get(f"/campaigns/{name}/stats").json()["floor"]["idle"])
    assert d.execute_script("return window.notReloaded") is True


def confirm(d) -> None:
    WebDriverWait(d, WAIT).until(lambda d: d.find_element(By.ID, "confirm").is_displayed())
    d.find_element(By.ID, "confirm-yes").click()


def test_a_switch_to_power_shows_on_a_second_page_and_in_the_api(server, pages):
    url, api = server
    first, second = pages
    name = "bb-switch"
    assert api.put(f"/campaigns/{name}", json=NO).status_code == 201
    api.post(f"/campaigns/{name}/events", json={"events": login(NINE, "ann", prefix="s")})
    for d in (first, second):
        open_board(d, url)
        until_shows(d, name, "mode", "Predictive")
    first.execute_script("window.notReloaded = true")
    second.execute_script("window.notReloaded = true")
    panel(first, name).find_element(By.CSS_SELECTOR, '[data-act="mode"]').click()
    assert "to Power?" in first.find_element(By.ID, "confirm-text").text
    confirm(first)
    until_shows(second, name, "mode", "Power")
    until_shows(first, name, "mode", "Power")
    got = api.get(f"/campaigns/{name}").json()
    assert (got["config"]["mode"], got["held_to"]["mode"]) == ("power", "power")
    # and back to Predictive, then a target: one at the limit is refused with the reason, one below it is held
    panel(second, name).find_element(By.CSS_SELECTOR, '[data-act="mode"]').click()
    confirm(second)
    until_shows(first, name, "mode", "Predictive")
    target = panel(first, name).find_element(By.CSS_SELECTOR, '[data-act="target-value"]')
    for value, note in (("0.05", "refused (422): "), ("0.03", "target set to 3.00 %")):
        target.clear()
        target.send_keys(value)
        panel(first, name).find_element(By.CSS_SELECTOR, '[data-act="target"]').click()
        confirm(first)
        WebDriverWait(first, WAIT).until(lambda d: text(d, name, "note").startswith(note))
    assert api.get(f"/campaigns/{name}").json()["held_to"]["pacer"]["target"] == 0.03
    # pausing new dials: on both pages, in the API, and the decisions dial nothing
    panel(first, name).find_element(By.CSS_SELECTOR, '[data-act="pause"]').click()
    confirm(first)
    until_shows(second, name, "paused", "new dials paused")
    assert api.get(f"/campaigns/{name}").json()["config"]["paused"] is True
    assert api.post(f"/campaigns/{name}/decide", json={"now": NINE + 5.0}).json()["decision"]["dials"] == 0
    assert first.execute_script("return window.notReloaded") is True
    assert second.execute_script("return window.notReloaded") is True


def test_a_wrong_token_shows_why_and_no_data(server, pages):
    url, api = server
    d = pages[1]
    api.put("/campaigns/bb-secret", json={"mode": "power"})
    open_board(d, url, token="not-the-token-0123456789")
    WebDriverWait(d, WAIT).until(lambda d: d.find_element(By.ID, "message").is_displayed())
    assert d.find_element(By.ID, "message").text.startswith("The token was refused (401")
    assert d.find_elements(By.CSS_SELECTOR, "section.panel") == []
    assert "bb-secret" not in d.page_source
    assert d.find_element(By.ID, "login").is_displayed()


def test_a_closed_day_shows_why_and_when_it_reopens(server, pages):
    url, api = server
    d = pages[0]
    name = "bb-christmas"
    assert api.put(f"/campaigns/{name}", json=NO).status_code == 201
    christmas = 31 * 86400.0 + 10 * 3600.0  # Friday 25 December 2026, 10:00 in Oslo
    api.post(f"/campaigns/{name}/events", json={"events": login(christmas, "ann", prefix="c")})
    open_board(d, url)
    until_shows(d, name, "window", "Closed: holiday: Christmas Day (Første juledag) — reopens Mon 28 Dec 2026 09:00:00 CET")
    hours = api.get(f"/campaigns/{name}/hours", params={"now": christmas}).json()
    assert (hours["allowed"], hours["reason"]) == (False, "holiday: Christmas Day (Første juledag)")
