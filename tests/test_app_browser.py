"""The served app in a real browser: Debian's chromium driven by Playwright.

Each test loads the page from a server this module starts on a free loopback port, presses the
real buttons and reads what the page shows. Nothing may be fetched from outside the machine.
Screenshots go to runs/ for a person to look at.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SHOTS = ROOT / "runs"
READY_TIMEOUT_S = 120
WAIT_MS = 30_000

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} missing (apt could not install chromium: see .ci/install-chromium); "
                "browser tests skipped", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) missing")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`solara run app.py` as `make run` starts it, on a free port; stopped at the end."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    solara = shutil.which("solara", path=str(Path(sys.executable).parent)) or "solara"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [solara, "run", "app.py", "--host", "127.0.0.1", "--port", str(port),
             "--production", "--no-open", "--no-check-version"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server not ready in {READY_TIMEOUT_S} s: "
                            f"{log_path.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(server, browser):
    """A fresh tab on the app (a fresh session), recording every request it makes."""
    url, _ = server
    context = browser.new_context(viewport={"width": 1600, "height": 1700})
    context.set_default_timeout(WAIT_MS)
    tab = context.new_page()
    tab.requests = []
    tab.failed = []
    tab.on("request", lambda r: tab.requests.append(r.url))
    tab.on("requestfailed", lambda r: tab.failed.append(r.url))
    tab.goto(url)
    tab.wait_for_selector(".abm-step")
    tab.wait_for_selector("img.abm-map-image")
    yield tab
    context.close()


def clock(page) -> str:
    return page.inner_text(".abm-clock")


def day(page) -> float:
    return float(re.search(r"Day ([\d.]+)", clock(page)).group(1))


def figure(page, label: str) -> str:
    """The first value in the summary table's row with this label."""
    return page.locator(".abm-figures tr", has_text=label).first.locator("td.num").first \
        .inner_text()


def wait_clock(page, pattern: str) -> None:
    page.wait_for_function(
        "p => new RegExp(p).test(document.querySelector('.abm-clock').innerText)", arg=pattern)


def map_is_drawn(page, selector: str = "img.abm-map-image") -> bool:
    return page.eval_on_selector_all(
        selector, "imgs => imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 300)")


def test_page_renders_offline_and_steps(page, server):
    assert clock(page).startswith("Day 0.00 of 30")
    assert map_is_drawn(page)
    before = page.eval_on_selector("img.abm-map-image", "i => i.src")
    page.click(".abm-step")
    wait_clock(page, r"^Day 0\.04")
    page.wait_for_function(
        "s => document.querySelector('img.abm-map-image').src != s", arg=before)
    for _ in range(11):
        page.click(".abm-step")
    wait_clock(page, r"^Day 0\.50")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.abm-figures tr')].some("
        "r => r.innerText.includes('Days simulated') && r.innerText.includes('0.50'))")
    assert int(figure(page, "Crimes (true)").replace(",", "")) > 0
    for name in ("crimes", "arrests", "cameras", "risk", "response"):
        page.wait_for_selector(f".abm-chart-{name} canvas")  # drawn by the local ECharts
    page.screenshot(path=str(SHOTS / "app-explore.png"), full_page=True)
    outside = [u for u in page.requests
               if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))]
    assert outside == []
    assert page.failed == []
    _, log = server
    assert "Could not load URL" not in log.read_text()  # the server fetched nothing either


def test_play_pause_slider_and_typed_seed(page):
    page.click(".abm-play")
    page.wait_for_function(
        "() => parseFloat(document.querySelector('.abm-clock').innerText.split(' ')[1]) >= 0.25")
    page.click(".abm-pause")
    page.wait_for_selector(".abm-play")
    stopped = day(page)
    time.sleep(1.0)
    assert day(page) == stopped > 0
    # A slider: keyboard on its thumb, as a user would; the run restarts with 35 cameras.
    thumb = page.locator(".abm-cameras-count .v-slider__thumb-container")
    thumb.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("text=Cameras: 35")
    wait_clock(page, r"^Day 0\.00")
    # A seed typed as text: a bad one is a message, a good one restarts the run.
    seed = page.get_by_label("Seed")
    seed.fill("abc")
    seed.press("Enter")
    page.wait_for_selector(".abm-message")
    assert "run.seed" in page.inner_text(".abm-message")
    seed.fill("7")
    seed.press("Enter")
    page.wait_for_selector(".abm-message", state="detached")
    page.click(".abm-step")
    wait_clock(page, r"^Day 0\.04")


def test_scenario_picker_switches_scenario(page):
    page.get_by_label("Scenario (configs/)").click(force=True)
    page.locator(".v-menu__content .v-list-item", has_text="scenarios/no-repairs.yaml").click()
    wait_clock(page, r"of 60")  # the scenario's own length
    assert not page.get_by_label("Broken cameras get repaired").is_checked()
    page.click(".abm-step")
    wait_clock(page, r"^Day 0\.04 of 60")


def test_compare_mode_side_by_side(page):
    page.locator(".abm-modes button", has_text="Compare").click()
    page.wait_for_function(
        "() => document.querySelectorAll('img.abm-map-image').length == 2")
    page.locator("button", has_text="Half the cameras broken").click()
    page.wait_for_selector("text=B: Mean time between failures (days) 10.0")
    page.locator(".abm-transport .v-select").click()
    page.locator(".v-menu__content .v-list-item", has_text="1 day").click()
    for expected in ("1.00", "2.00", "3.00"):
        page.click(".abm-step")
        wait_clock(page, rf"^Day {re.escape(expected)}")
    page.wait_for_selector(".abm-chart-difference canvas")
    time.sleep(1.0)  # let the charts finish drawing before the screenshot
    page.wait_for_function(
        "() => [...document.querySelectorAll('.abm-figures tr')].some("
        "r => r.innerText.includes('Days simulated') && r.innerText.includes('3.00'))")
    headers = page.locator(".abm-figures th").all_inner_texts()
    assert headers[1:] == ["A", "B", "B - A"]
    assert map_is_drawn(page)
    page.screenshot(path=str(SHOTS / "app-compare.png"), full_page=True)


def test_play_to_the_end_shows_the_figures_abm_run_writes(page):
    from abm.config import load
    from abm.simulate import simulate

    page.locator(".abm-transport .v-select").click()
    page.locator(".v-menu__content .v-list-item", has_text="1 week").click()
    page.click(".abm-play")
    wait_clock(page, r"^Day 30\.00 of 30 - done")
    page.wait_for_selector(".abm-play[disabled], .abm-play.v-btn--disabled")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.abm-figures tr')].some("
        "r => r.innerText.includes('Days simulated') && r.innerText.includes('30.00'))")
    expected = simulate(load(ROOT / "abm/configs/default.yaml")).summary
    assert int(figure(page, "Crimes (true)").replace(",", "")) == expected["crimes_total"]
    assert int(figure(page, "Crimes recorded").replace(",", "")) == expected["crimes_recorded"]
    assert int(figure(page, "Arrests").replace(",", "")) == expected["arrests"]
    assert figure(page, "Clearance rate") == f"{expected['clearance_rate']:.1%}"


def test_lesson_mode_steps_through_a_lesson(page):
    from abm import lessons

    lesson = lessons.load(lessons.available()[0])  # the lesson the mode opens with
    first, second = lesson.steps[0], lesson.steps[1]
    page.locator(".abm-modes button", has_text="Lessons").click()
    page.wait_for_selector(f".abm-lesson-text:has-text({first.text.strip()[:40]!r})")
    assert page.inner_text(".abm-lesson-step") == f"Step 1 of {len(lesson.steps)}"
    days = lesson.config(0).run.days
    wait_clock(page, rf"^Day 0\.00 of {days:g}$")
    page.click(".abm-step")
    wait_clock(page, r"^Day 0\.04")
    page.click(".abm-lesson-next")
    page.wait_for_selector(f".abm-lesson-text:has-text({second.text.strip()[:40]!r})")
    assert page.inner_text(".abm-lesson-question") == second.question.strip()
    assert page.inner_text(".abm-lesson-step") == f"Step 2 of {len(lesson.steps)}"
    wait_clock(page, rf"^Day 0\.00 of {lesson.config(1).run.days:g}$")  # the run restarted
    page.click(".abm-step")
    wait_clock(page, r"^Day 0\.04")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.abm-figures tr')].some("
        "r => r.innerText.includes('Days simulated') && r.innerText.includes('0.04'))")
    page.locator(".abm-transport .v-select").click()  # a week more, so the charts have days
    page.locator(".v-menu__content .v-list-item", has_text="1 week").click()
    page.click(".abm-step")
    wait_clock(page, r"^Day 7\.04")
    assert page.inner_text(".abm-lesson-step") == f"Step 2 of {len(lesson.steps)}"
    for name in ("crimes", "arrests", "cameras", "risk", "response"):
        page.wait_for_selector(f".abm-chart-{name} canvas")
    assert map_is_drawn(page)
    time.sleep(1.0)  # let the charts finish drawing before the screenshot
    page.screenshot(path=str(SHOTS / "app-lesson.png"), full_page=True)
