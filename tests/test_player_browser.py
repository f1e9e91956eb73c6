"""The backprop player in a real browser: headless Chromium driven by selenium opens the page
that ``Frames.to_html`` wrote, steps through it with the keyboard and the buttons, and takes a
screenshot.

The graph is micrograd's neuron o = tanh(x1*w1 + x2*w2 + b) with x1 = 2, x2 = 0, w1 = -3,
w2 = 1, b = 6.8813735870195432, so o = sqrt(2)/2. By hand: do/dn = 1 - o**2 = 0.5, so
dx1 = w1 * 0.5 = -1.5, dw1 = x1 * 0.5 = 1, dx2 = w2 * 0.5 = 0.5, dw2 = x2 * 0.5 = 0, db = 0.5.
Backward runs 5 ops: tanh, the two +, the two *.
"""

from __future__ import annotations

import io
import os
import shutil

import pytest

from tinygrad_edu import Value, viz

HAND = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5}
CHROMIUM = [shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")]
DRIVER = shutil.which("chromedriver")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1200,900",
]


def _missing() -> str:
    """Why the browser test cannot run here ('' when it can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    if not any(CHROMIUM) or DRIVER is None:
        return "no headless browser: apt-get install chromium chromium-driver"
    if shutil.which("dot") is None:
        return "Graphviz's dot is not installed"
    return ""


@pytest.fixture
def browser(tmp_path):
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test, but {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = next(p for p in CHROMIUM if p)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def neuron() -> Value:
    x1, w1 = Value(2.0, label="x1"), Value(-3.0, label="w1")
    x2, w2 = Value(0.0, label="x2"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def _visible_frame(driver):
    from selenium.webdriver.common.by import By

    shown = [f for f in driver.find_elements(By.CSS_SELECTOR, ".tge-frame") if f.is_displayed()]
    assert len(shown) == 1, f"{len(shown)} frames are shown at once"
    return shown[0]


def _current_op(driver) -> str:
    """The title (node key) of the op the shown frame highlights."""
    from selenium.webdriver.common.by import By

    nodes = _visible_frame(driver).find_elements(By.CSS_SELECTOR, "g.current title")
    assert len(nodes) == 1
    return nodes[0].get_attribute("textContent")


def _caption(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, ".tge-caption").text


def test_the_player_steps_through_backprop_in_a_real_browser(browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    frames = viz.trace_backward(neuron())
    page = frames.to_html(tmp_path / "backprop.html")
    text = open(page, encoding="utf-8").read()
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text  # no network
    assert "<script src" not in text

    browser.get("file://" + page)
    assert _caption(browser).startswith("Step 1 of 5: tanh received 1")
    first = _current_op(browser)

    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
    assert _caption(browser).startswith("Step 2 of 5: + received 0.5")
    assert _current_op(browser) != first
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_LEFT)
    assert _caption(browser).startswith("Step 1 of 5")

    for _ in range(6):  # one more click than there are steps: it stays on the last
        browser.find_element(By.CSS_SELECTOR, ".tge-next").click()
    assert _caption(browser).startswith("Step 5 of 5: * received 0.5")
    shown = _visible_frame(browser).text
    for name, g in HAND.items():
        # every leaf's box: its name, its data, then its gradient from the hand derivation
        assert f"grad {g:.4f}" in shown, f"{name}'s gradient {g:.4f} is not shown:\n{shown}"
    assert "grad ?" not in shown

    png = browser.get_screenshot_as_png()
    _assert_not_blank(png)


def _assert_not_blank(png: bytes) -> None:
    """A screenshot of a page with a picture has many colours, not one or two."""
    import matplotlib.image

    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    colours = {tuple(p) for p in pixels.reshape(-1, pixels.shape[-1])[::7]}
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert len(colours) > 50, f"the screenshot has only {len(colours)} colours: blank?"
