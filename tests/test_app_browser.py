"""The served app in a real browser: Debian's chromium driven by Playwright.

Each test loads the page from a server this module starts on a free loopback port, presses the
real buttons and reads what the page shows. Nothing may be fetched from outside the machine.
Screenshots go to runs/ (at 1024x768, a projector, and 1920x1080) for a person to look at.
The server's replicates go to the session's pair folder, so the lesson runs the browser drives
are read back, not run again, by the lesson claims test.
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
REPLICATES_MS = 900_000  # a lesson step's replicates on a busy machine

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} missing (apt could not install chromium: see .ci/install-chromium); "
                "browser tests skipped", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) missing")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, pair_cache):
    """`solara run app.py` as `make run` starts it, on a free port; stopped at the end."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
           "ABM_PAIRS_DIR": str(pair_cache)}
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


def open_tab(browser, url: str, width: int = 1600, height: int = 1700):
    """A fresh tab (a fresh session) on ``url``, recording every request it makes."""
    context = browser.new_context(viewport={"width": width, "height": height},
                                  accept_downloads=True)
    context.set_default_timeout(WAIT_MS)
    tab = context.new_page()
    tab.requests = []
    tab.failed = []
    tab.on("request", lambda r: tab.requests.append(r.url))
    tab.on("requestfailed", lambda r: tab.failed.append(r.url))
    tab.goto(url)
    tab.wait_for_selector(".abm-step")
    tab.wait_for_selector("img.abm-map-image")
    return tab


@pytest.fixture
def page(server, browser):
    tab = open_tab(browser, server[0])
    yield tab
    tab.context.close()


@pytest.fixture
def sized(server, browser):
    """Tabs of a given size: ``sized(1024, 768)``, closed at the end."""
    tabs = []

    def make(width: int, height: int, query: str = ""):
        tabs.append(open_tab(browser, server[0] + query, width, height))
        return tabs[-1]

    yield make
    for tab in tabs:
        tab.context.close()


def scroller(page) -> None:
    """Mark the page's scrolling container, so a test can scroll to a part of it."""
    page.evaluate("""() => { for (const e of document.querySelectorAll('div')) {
        const s = getComputedStyle(e);
        if ((s.overflowY == 'auto' || s.overflowY == 'scroll') &&
            e.scrollHeight > e.clientHeight + 5 && !e.classList.contains('abm-controls')) {
            e.classList.add('abm-scroller'); return; } } }""")


def settled_box(page, selector: str) -> dict:
    """Where an element is once the page's fonts have loaded and its layout has stopped moving
    (a busy machine can measure rows still laid out in a fallback font)."""
    page.evaluate("document.fonts.ready.then(() => true)")
    box = page.locator(selector).bounding_box()
    for _ in range(20):
        time.sleep(0.25)
        now = page.locator(selector).bounding_box()
        if now == box:
            break
        box = now
    return box


def shoot(page, name: str, selector: str | None = None) -> None:
    """A screenshot of what the viewport shows, scrolled to ``selector`` if given."""
    if selector:
        page.locator(selector).first.scroll_into_view_if_needed()
        time.sleep(0.5)
    page.screenshot(path=str(SHOTS / name))


def clock(page) -> str:
    return page.inner_text(".abm-clock")


def day(page) -> float:
    return float(re.search(r"Day ([\d.]+)", clock(page)).group(1))


def figure(page, label: str) -> str:
    """The first value in the summary table's row with this label."""
    return page.locator(".abm-figures tr", has_text=label).first.locator("td.num").first \
        .inner_text()


def wait_clock(page, pattern: str, timeout: float = WAIT_MS) -> None:
    page.wait_for_function(
        "p => new RegExp(p).test(document.querySelector('.abm-clock').innerText)", arg=pattern,
        timeout=timeout)


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
    for _ in range(6):  # past this seed's first crime, made after noon of day 0
        page.click(".abm-step")
    wait_clock(page, r"^Day 0\.75")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.abm-figures tr')].some("
        "r => r.innerText.includes('Days simulated') && r.innerText.includes('0.75'))")
    assert int(figure(page, "Crimes (true)").replace(",", "")) > 0
    for name in ("crimes", "arrests", "cameras", "risk", "response"):
        page.wait_for_selector(f".abm-chart-{name} canvas")  # drawn by the local ECharts
    page.screenshot(path=str(SHOTS / "app-explore.png"), full_page=True)
    # The info panel: the model, its assumptions, the scenario's sources, what is synthetic.
    page.click(".abm-about")
    page.wait_for_selector(".abm-info")
    assert "Main assumptions" in page.inner_text(".abm-info")
    assert "The streets are synthetic" in page.inner_text(".abm-info-synthetic")
    assert "Teaching town" in page.inner_text(".abm-info-sources")  # default.yaml's notes
    page.click(".abm-doc-ODD")
    page.wait_for_selector(".abm-doc:has-text('ODD protocol')")
    page.click(".abm-doc-scenarios")
    page.wait_for_selector(".abm-doc:has-text('Islamabad')")
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


def test_compare_mode_side_by_side_with_intervals(sized):
    page = sized(1920, 1080)
    page.locator(".abm-modes button", has_text="Compare").click()
    page.wait_for_function(
        "() => document.querySelectorAll('img.abm-map-image').length == 2")
    page.locator(".abm-preset", has_text="Half the cameras down").click()
    page.wait_for_selector(".abm-map-label:has-text('Mean time to repair (days) 1.0')")
    page.locator(".abm-transport .v-select").click()
    page.locator(".v-menu__content .v-list-item", has_text="1 day").click()
    for expected in ("1.00", "2.00", "3.00"):
        page.click(".abm-step")
        wait_clock(page, rf"^Day {re.escape(expected)}")
    # The maps line up: same size, same top.
    boxes = [page.locator(".abm-map-frame").nth(i).bounding_box() for i in range(2)]
    assert boxes[0]["y"] == boxes[1]["y"] and boxes[0]["width"] == boxes[1]["width"]
    assert boxes[0]["height"] == boxes[1]["height"] > 300
    page.wait_for_selector(".abm-chart-difference canvas")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.abm-figures tr')].some("
        "r => r.innerText.includes('Days simulated') && r.innerText.includes('3.00'))")
    headers = page.locator(".abm-figures:not(.abm-intervals) th").all_inner_texts()
    assert headers[1:] == ["A", "B", "B - A"]
    # The replicates: A and B over several seeds, the difference with its interval.
    page.wait_for_selector(".abm-intervals", timeout=REPLICATES_MS)
    assert "Over 8 replicate seeds" in page.inner_text(".abm-interval-note")
    row = page.locator(".abm-intervals tr", has_text="Camera uptime").inner_text()
    uptime_b = float(re.findall(r"([\d.]+)% \(", row)[1])
    assert 40 < uptime_b < 55  # half the cameras down, as the preset says
    assert re.search(r"[+-][\d.]+% \([-\d.]+% to [-\d.]+%\)", row)  # B - A and its interval
    page.wait_for_selector(".abm-chart-compare-intervals canvas")
    assert map_is_drawn(page)
    time.sleep(1.0)  # let the charts finish drawing before the screenshot
    shoot(page, "app-compare-1920.png")
    shoot(page, "app-compare-intervals-1920.png", ".abm-intervals")


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


def test_a_lesson_from_start_to_debrief(sized):
    """Every step of a shipped lesson: predict, run (fast-forward), reveal; then the debrief."""
    from abm import catalog, lessons

    lesson = lessons.load(catalog.find("cameras-or-police", catalog.Kind.LESSON))
    page = sized(1024, 768, "?mode=Lessons&lesson=cameras-or-police&step=1")
    page.wait_for_selector(".abm-lesson-title")
    for i, step in enumerate(lesson.steps):
        # The page updates widget by widget: wait for each part of the new step.
        page.wait_for_selector(f".abm-lesson-title:has-text({step.title!r})")
        page.wait_for_selector(f".abm-lesson-step:has-text('Step {i + 1} of "
                               f"{len(lesson.steps)}')")
        page.wait_for_selector(f".abm-lesson-question:has-text({step.question.strip()!r})")
        page.wait_for_function("() => !document.querySelector('.abm-lesson-reveal')")
        assert page.locator(".abm-lesson-commit").is_disabled()  # a prediction first
        page.locator(f".abm-lesson-choice-{i % 2}").click()
        page.click(".abm-lesson-commit")
        page.wait_for_selector(".abm-lesson-run")
        page.click(".abm-run-to-end")
        wait_clock(page, r"^Day 365\.00 of 365 - done", REPLICATES_MS)  # fast-forwarded
        page.wait_for_selector(".abm-lesson-reveal", timeout=REPLICATES_MS)
        answer = page.inner_text(".abm-lesson-answer")
        assert answer.startswith(f"Over {lesson.replicates} seeds")
        assert page.locator(".abm-intervals").count() == 1
        mine = step.predict.choices[i % 2].label.lower()
        page.wait_for_selector(f".abm-lesson-verdict:has-text('You predicted: {mine}')")
        if i == 1:
            time.sleep(1.0)
            shoot(page, "app-lesson-1024.png")
            shoot(page, "app-lesson-reveal-1024.png", ".abm-lesson-reveal")
        if i < len(lesson.steps) - 1:
            page.click(".abm-lesson-next")
    page.click(".abm-lesson-to-debrief")
    page.wait_for_selector(".abm-lesson-debrief")
    rows = page.locator(".abm-debrief tbody tr")
    assert rows.count() == len(lesson.steps)
    for i, step in enumerate(lesson.steps):
        cells = rows.nth(i).locator("td").all_inner_texts()
        assert cells[0] == f"{i + 1}. {step.title}"
        assert cells[1] == step.predict.choices[i % 2].label
        assert cells[2].startswith("Over ") and cells[3] in ("yes", "no")
    assert page.inner_text(".abm-lesson-score").endswith("predictions borne out.")
    shoot(page, "app-lesson-debrief-1024.png", ".abm-lesson-debrief")


def test_hot_spots_tooltips_and_zoom(page, server):
    from abm.config import load
    from abm.model import SafeCityModel
    from abm.ui.map import MapRenderer

    page.locator(".abm-transport .v-select").click()
    page.locator(".v-menu__content .v-list-item", has_text="1 day").click()
    for _ in range(3):
        page.click(".abm-step")
    wait_clock(page, r"^Day 3\.00")
    before = page.eval_on_selector("img.abm-map-image", "i => i.src")
    page.locator(".abm-layer-hotspots input").check(force=True)
    page.wait_for_function(
        "s => document.querySelector('img.abm-map-image').src != s", arg=before)
    page.wait_for_selector(".abm-legend li:has-text('all crimes so far')")
    # A camera's tooltip: where the model puts camera 1 (same scenario, same seed).
    model = SafeCityModel(load(ROOT / "abm/configs/default.yaml"))
    fx, fy = MapRenderer(model).share(*model.city.xy[model.cameras.nodes[0]])
    box = page.locator(".abm-map-overlay").bounding_box()
    page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    page.wait_for_selector(".abm-tooltip:has-text('Camera 1:')")
    tip = page.inner_text(".abm-tooltip")
    assert "crimes in its view while it worked" in tip
    assert "monitor" in tip or "down" in tip
    page.mouse.move(box["x"] + 3, box["y"] + box["height"] - 3)  # a corner: a place or nothing
    page.wait_for_function("() => !document.querySelector('.abm-tooltip') || "
                           "!document.querySelector('.abm-tooltip').innerText.includes('Camera')")
    page.screenshot(path=str(SHOTS / "app-hotspots.png"))
    # Zoom in with the wheel, then back to the whole city.
    before = page.eval_on_selector("img.abm-map-image", "i => i.src")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -200)
    page.wait_for_function(
        "s => document.querySelector('img.abm-map-image').src != s", arg=before)
    page.click(".abm-zoom-reset")
    assert page.get_by_role("button", name="Zoom in").count() == 1  # named controls
    assert page.get_by_role("slider", name="Cameras").count() == 1
    assert page.get_by_role("slider", name="Mean time between failures (days)").count() == 1


def test_export_charts_and_the_crime_log(page):
    page.locator(".abm-transport .v-select").click()
    page.locator(".v-menu__content .v-list-item", has_text="1 day").click()
    for _ in range(2):
        page.click(".abm-step")
    wait_clock(page, r"^Day 2\.00")
    page.wait_for_selector(".abm-chart-crimes canvas")
    with page.expect_download() as info:
        page.click(".abm-csv-crimes")
    lines = Path(info.value.path()).read_text().splitlines()
    assert lines[0] == "day,true,recorded" and len(lines) == 3
    # ECharts' own PNG button, top right of the chart.
    chart = page.locator(".abm-chart-crimes .solara-echarts").bounding_box()
    time.sleep(1.0)
    with page.expect_download() as info:
        page.mouse.click(chart["x"] + chart["width"] - 12, chart["y"] + 10)
    assert info.value.suggested_filename == "abm-crimes.png"
    assert Path(info.value.path()).read_bytes().startswith(b"\x89PNG")
    with page.expect_download() as info:
        page.click(".abm-crimes-csv")
    log = Path(info.value.path()).read_text().splitlines()
    crimes = int(figure(page, "Crimes (true)").replace(",", ""))
    assert log[0].startswith("crime_id,time_min,hour,node") and len(log) == 1 + crimes
    with page.expect_download() as info:
        page.click(".abm-map-png")
    assert Path(info.value.path()).read_bytes().startswith(b"\x89PNG")


def test_a_shared_link_reopens_the_same_settings(page, browser):
    thumb = page.locator(".abm-cameras-count .v-slider__thumb-container")
    thumb.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("text=Cameras: 35")
    page.locator(".abm-modes button", has_text="Compare").click()
    page.locator(".abm-preset", has_text="Nobody watching").click()
    page.wait_for_selector(".abm-map-label:has-text('Operators watching 0')")
    page.wait_for_function("() => location.search.includes('b.cameras.operators=0')")
    link = page.url
    assert "cameras.count=35" in link and "mode=Compare" in link
    other = open_tab(browser, link)
    try:
        other.wait_for_selector(".abm-map-label:has-text('Operators watching 0')")
        assert other.locator(".abm-modes .v-btn--active").inner_text().lower() == "compare"
        other.wait_for_selector("text=Cameras: 35")
        assert other.locator("img.abm-map-image").count() == 2
        assert clock(other).startswith("Day 0.00 of 30")
    finally:
        other.context.close()
    bad = open_tab(browser, link.split("?")[0] + "?scenario=../../../etc/passwd")
    try:
        bad.wait_for_selector(".abm-message")
        assert "not a listed scenario" in bad.inner_text(".abm-message")
        assert "root:" not in bad.content()
    finally:
        bad.context.close()


def test_layout_on_a_projector_and_a_phone(sized):
    projector = sized(1024, 768)
    frame = settled_box(projector, ".abm-map-frame")
    assert frame["width"] >= 480  # a map of most of the screen beside the settings
    # The whole map is on the screen, with room for a line of text above it to wrap (a
    # wider font, a longer label) without pushing the map's foot off.
    assert frame["y"] + frame["height"] <= 768 - 26
    assert projector.locator("text=This website runs on Solara").count() == 0  # no footer
    time.sleep(0.5)
    shoot(projector, "app-explore-1024.png")
    phone = sized(390, 844)
    frame = settled_box(phone, ".abm-map-frame")
    assert frame["width"] >= 340  # the map keeps the phone's width
    shoot(phone, "app-phone-390.png")
    wide = sized(1920, 1080)
    shoot(wide, "app-explore-1920.png")
