"""The web console in a real browser (docs/console.md): headless Debian
Chromium driven by python3-selenium through chromedriver, against the
production-mode gateway of conftest.

Every wait is explicit (WebDriverWait on something the page shows); the only
timing that is asserted is the issue's "a written message appears in the live
tail within 1 s". Screenshots of each view go to test/artifacts/console/
(EVENTODB_ARTIFACTS changes the directory), with the measured first paint of
a 10,000-message stream in timings.txt.
"""
import json
import os
import shutil
import tempfile
import time

import pytest

from harness import DEFAULT_TOKEN, token_for, unique

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARTIFACTS = os.path.join(os.environ.get("EVENTODB_ARTIFACTS", os.path.join(ROOT, "test", "artifacts")),
                         "console")
CHROMIUM = os.environ.get("EVENTODB_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("EVENTODB_CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT = 10

try:
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:             # scripts/deps.sh installs python3-selenium
    webdriver = None


@pytest.fixture(scope="module")
def browser():
    if os.environ.get("EVENTODB_SKIP_BROWSER") == "1":
        pytest.skip("EVENTODB_SKIP_BROWSER=1")
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if webdriver is None or missing:
        pytest.fail("browser tests need chromium, chromium-driver and python3-selenium "
                    "(scripts/deps.sh installs them); missing: %s"
                    % (missing or ["python3-selenium"]))
    profile = tempfile.mkdtemp(prefix="eventodb-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,900", "--user-data-dir=" + profile):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    os.makedirs(ARTIFACTS, exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


class Console:
    """The console of one gateway in the shared browser."""

    def __init__(self, driver, gw):
        self.d = driver
        self.gw = gw
        self.base = "http://%s:%d/ui/" % (gw.host, gw.port)

    def wait(self, cond, timeout=WAIT, what=None):
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.02).until(
                lambda d: cond(), message=what or "condition not met")
        except Exception:
            self.shot("failure")
            main = self.d.find_elements(By.TAG_NAME, "main")
            print("page at failure: %s\n%s" % (self.d.current_url, main[0].text[:2000] if main else ""))
            print("browser console: %s" % self.d.get_log("browser")[-10:])
            raise

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def rendered(self):
        return self.js("return document.documentElement.dataset.rendered || ''")

    def go(self, hash_):
        """Opens a view by its hash and waits until it has rendered."""
        before = self.rendered()
        if self.d.current_url == self.base + hash_:
            self.d.refresh()
        elif self.d.current_url.startswith(self.base):
            self.js("location.hash = arguments[0]", hash_)
        else:
            self.d.get(self.base + hash_)
        self.wait(lambda: self.rendered() not in ("", before), what="view %s did not render" % hash_)
        self.check_no_error()

    def check_no_error(self):
        errors = self.d.find_elements(By.CSS_SELECTOR, "main > p.error")
        assert not errors, errors[0].text

    def sign_out(self):
        if not self.d.current_url.startswith(self.base):
            self.d.get(self.base)
        self.js("sessionStorage.clear()")
        self.d.get(self.base)
        self.d.refresh()
        self.wait(lambda: self.d.find_elements(By.ID, "token"))

    def sign_in(self, token=DEFAULT_TOKEN):
        field = self.wait(lambda: self.d.find_elements(By.ID, "token"))[0]
        field.clear()
        field.send_keys(token)
        before = self.rendered()
        self.d.find_element(By.ID, "signin-submit").click()
        self.wait(lambda: self.rendered() not in ("", before), what="no view after signing in")

    def ensure_signed_in(self, token=DEFAULT_TOKEN):
        if not self.d.current_url.startswith(self.base):
            self.d.get(self.base)
        if self.js("return sessionStorage.getItem('eventodb.console.token')") != token:
            self.sign_out()
            self.sign_in(token)

    def cards(self):
        return self.d.find_elements(By.CSS_SELECTOR, "main .msg")

    def shot(self, name):
        self.d.save_screenshot(os.path.join(ARTIFACTS, name + ".png"))

    def severe_logs(self):
        return [e for e in self.d.get_log("browser") if e["level"] == "SEVERE"]

    def no_alert(self):
        try:
            alert = self.d.switch_to.alert
            text = alert.text
            alert.dismiss()
            return "alert opened: %r" % text
        except NoAlertPresentException:
            return None


@pytest.fixture
def ui(browser, gw):
    c = Console(browser, gw)
    browser.set_window_size(1280, 900)
    return c


def link(view, arg=None):
    from urllib.parse import quote
    return "#/" + view + ("" if arg is None else "/" + quote(arg, safe=""))


def test_a_wrong_token_is_refused(ui):
    ui.sign_out()
    for token, text in ((token_for("default", "1" * 64), "Token refused"),
                        (token_for(unique("nosuch")), "Token refused"),
                        ("hello", "not a namespace token")):
        field = ui.d.find_element(By.ID, "token")
        field.clear()
        field.send_keys(token)
        ui.d.find_element(By.ID, "signin-submit").click()
        ui.wait(lambda: text in ui.d.find_element(By.ID, "signin-error").text, what=text)
        assert ui.js("return sessionStorage.length") == 0
        assert ui.d.find_element(By.ID, "nav").get_attribute("hidden") is not None
    ui.shot("signin-refused")


def test_sign_in_lists_categories(ui, gw):
    cat = unique("console")
    gw.write(cat + "-1", "Opened", {"n": 1})
    gw.write(cat + "-2", "Opened", {"n": 2})
    ui.sign_out()
    assert DEFAULT_TOKEN not in ui.d.current_url
    ui.sign_in()
    ui.wait(lambda: ui.d.find_elements(By.LINK_TEXT, cat), what="category listed")
    row = ui.d.find_element(By.LINK_TEXT, cat).find_element(By.XPATH, "./ancestor::tr")
    assert [c.text for c in row.find_elements(By.CSS_SELECTOR, "td.n")] == ["2", "2"]
    # the default token sees the namespace list too
    assert ui.d.find_element(By.ID, "nav-namespaces").is_displayed()
    assert ui.d.find_element(By.ID, "who").text == "namespace default"
    ui.shot("categories")


def test_no_category_lists_the_streams_that_have_none(ui, gw):
    """A stream named "-..." has the category "" - which, read as a category,
    is the whole namespace. Its row opens the streams starting with "-"
    instead, and offers no tail."""
    stream = "-" + unique("nocat")
    gw.write(stream, "T", {})
    ui.ensure_signed_in()
    ui.go("#/categories")
    ui.wait(lambda: ui.d.find_elements(By.LINK_TEXT, "(no category)"), what="the '' row")
    link = ui.d.find_element(By.LINK_TEXT, "(no category)")
    row = link.find_element(By.XPATH, "./ancestor::tr")
    assert [a.text for a in row.find_elements(By.CSS_SELECTOR, "a")] == ["(no category)", "streams"]
    link.click()
    ui.wait(lambda: stream in ui.js("return [...document.querySelectorAll('main td a.name')]"
                                    ".map(a => a.textContent)"), what="the stream listed")
    assert ui.js("return decodeURIComponent(location.hash)") == "#/streams?prefix=-"
    names = ui.js("return [...document.querySelectorAll('main td a.name')].map(a => a.textContent)")
    assert all(n.startswith("-") for n in names), names


def test_streams_prefix_search_and_a_streams_messages(ui, gw):
    cat = unique("shop")
    for i in range(3):
        gw.write(cat + "-7", "Item%d" % i, {"sku": "s%d" % i, "qty": i, "big": 12345678901234567890})
    gw.write(cat + "-8", "Other", {})
    ui.ensure_signed_in()
    ui.go("#/streams")
    box = ui.d.find_element(By.ID, "stream-prefix")
    box.send_keys(cat + "-7")
    ui.wait(lambda: ui.js("return [...document.querySelectorAll('main td a.name')].map(a => a.textContent)")
            == [cat + "-7"], what="prefix search narrows to one stream")
    assert ui.js("return document.activeElement.id") == "stream-prefix"     # still typing there
    assert ui.js("return decodeURIComponent(location.hash)") == "#/streams?prefix=" + cat + "-7"
    ui.shot("streams")
    before = ui.rendered()
    ui.d.find_element(By.LINK_TEXT, cat + "-7").click()
    ui.wait(lambda: ui.rendered() != before and len(ui.cards()) == 3)
    cards = ui.cards()
    assert [c.find_element(By.CSS_SELECTOR, ".type").text for c in cards] == ["Item0", "Item1", "Item2"]
    assert [c.find_element(By.CSS_SELECTOR, ".pos").text for c in cards] == ["#0", "#1", "#2"]
    pre = cards[1].find_element(By.CSS_SELECTOR, "pre").text
    assert json.loads(pre.replace("12345678901234567890", "0")) == {"big": 0, "qty": 1, "sku": "s1"}
    assert "12345678901234567890" in pre          # shown as stored, not rounded by a double
    assert ui.d.find_element(By.CSS_SELECTOR, "main h1").text == "Stream " + cat + "-7"
    ui.shot("stream")


def test_streams_page_by_cursor(ui, gw):
    cat = unique("many")
    names = sorted("%s-%03d" % (cat, i) for i in range(60))
    for n in names:
        gw.write(n, "Opened", {})
    ui.ensure_signed_in()
    ui.go("#/streams?prefix=" + cat)

    def listed():
        return ui.js("return [...document.querySelectorAll('main td a.name')].map(a => a.textContent)")

    ui.wait(lambda: listed() == names[:50])
    before = ui.rendered()
    ui.d.find_element(By.CSS_SELECTOR, "main a[data-page=next]").click()
    ui.wait(lambda: ui.rendered() != before and listed() == names[50:])
    before = ui.rendered()
    ui.d.find_element(By.CSS_SELECTOR, "main a[data-page=prev]").click()
    ui.wait(lambda: ui.rendered() != before and listed() == names[:50])


def nested(depth):
    v = {"leaf": "<b>deep</b>"}
    for i in range(depth):
        v = {"level%d" % i: [v]}
    return v


def test_hostile_message_is_shown_as_text_and_runs_nothing(ui, gw):
    stream = unique("hostile") + "-<img src=x onerror=window.__pwned=9>"
    data = {
        "img": "<img src=x onerror=\"window.__pwned=1;alert(1)\">",
        "script": "</script><script>window.__pwned=2;alert(2)</script>",
        "long": "L" * 200000,
        "deep": nested(120),
    }
    gw.write(stream, "<svg onload=alert(3)>", data)
    gw.ok("stream.write", stream, {"type": "</pre><script>alert(4)</script>",
                                   "data": {"x": "<iframe src=javascript:alert(5)>"},
                                   "metadata": {"m": "<style>*{display:none}</style>"}})
    ui.ensure_signed_in()
    ui.d.get_log("browser")           # start with an empty console
    ui.go(link("stream", stream))
    ui.wait(lambda: len(ui.cards()) == 2)
    cards = ui.cards()
    assert cards[0].find_element(By.CSS_SELECTOR, ".type").text == "<svg onload=alert(3)>"
    assert cards[1].find_element(By.CSS_SELECTOR, ".type").text == "</pre><script>alert(4)</script>"
    assert ui.d.find_element(By.CSS_SELECTOR, "main h1").text == "Stream " + stream
    # the big payload starts collapsed; opening it shows every byte as text
    summary = cards[0].find_element(By.CSS_SELECTOR, "details.payload summary")
    summary.click()
    text = ui.wait(lambda: cards[0].find_element(By.CSS_SELECTOR, "pre").get_attribute("textContent"))
    assert '"<img src=x onerror=\\"window.__pwned=1;alert(1)\\">"' in text
    assert "</script><script>window.__pwned=2;alert(2)</script>" in text
    assert "L" * 200000 in text
    assert '"<b>deep</b>"' in text
    assert "<iframe src=javascript:alert(5)>" in cards[1].text
    assert "<style>*{display:none}</style>" in cards[1].text
    assert ui.d.find_elements(By.CSS_SELECTOR, "main img, main script, main svg, main iframe, main style, main b") == []
    assert ui.js("return window.__pwned") is None
    assert ui.no_alert() is None
    # long strings wrap instead of widening the page
    assert ui.js("return document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert ui.severe_logs() == []
    ui.shot("stream-hostile")


def test_a_deep_link_survives_reload_and_a_new_tab(ui, gw):
    stream = unique("link") + "-a b/c?d#e"
    for i in range(3):
        gw.write(stream, "Step%d" % i, {"i": i})
    ui.ensure_signed_in()
    ui.go(link("stream", stream) + "?pos=1")
    ui.wait(lambda: len(ui.cards()) == 2)
    url = ui.d.current_url
    assert DEFAULT_TOKEN not in url and "token" not in url
    before = ui.rendered()
    ui.d.refresh()
    ui.wait(lambda: ui.rendered() not in ("", before) and len(ui.cards()) == 2)
    assert ui.cards()[0].find_element(By.CSS_SELECTOR, ".pos").text == "#1"
    # someone else opens the shared link: sign-in first, then the same view
    ui.js("sessionStorage.clear()")
    ui.d.get(ui.base + "#/")
    ui.d.get(url)
    ui.d.refresh()
    ui.sign_in()
    ui.wait(lambda: len(ui.cards()) == 2)
    assert ui.d.current_url == url
    assert ui.cards()[1].find_element(By.CSS_SELECTOR, ".type").text == "Step2"


def test_a_large_category_is_read_a_page_at_a_time(ui, gw):
    cat = unique("big")
    for i in range(120):
        gw.write("%s-%d" % (cat, i % 12), "Tick", {"i": i})
    ui.ensure_signed_in()
    ui.go(link("category", cat))
    ui.wait(lambda: len(ui.cards()) == 50)

    def gps():
        return [int(c.get_attribute("data-gp")) for c in ui.cards()]

    page1 = gps()
    assert page1 == sorted(page1)
    ui.shot("category")
    before = ui.rendered()
    ui.d.find_element(By.TAG_NAME, "body").send_keys("]")          # keyboard: next page
    ui.wait(lambda: ui.rendered() != before and len(ui.cards()) == 50)
    page2 = gps()
    assert page2[0] > page1[-1]
    before = ui.rendered()
    ui.d.find_element(By.CSS_SELECTOR, "main a[data-page=next]").click()
    ui.wait(lambda: ui.rendered() != before and len(ui.cards()) == 20)
    assert gps()[0] > page2[-1]
    assert ui.d.find_elements(By.CSS_SELECTOR, "main span.button.disabled")   # no next page
    before = ui.rendered()
    ui.d.find_element(By.CSS_SELECTOR, "main a[data-page=prev]").click()
    ui.wait(lambda: ui.rendered() != before)
    assert gps() == page2
    # consumer-group filter: member 0 of 2 gets whole streams, not all of them
    ui.d.find_element(By.ID, "member").send_keys("0")
    ui.d.find_element(By.ID, "size").send_keys("2")
    before = ui.rendered()
    ui.d.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    ui.wait(lambda: ui.rendered() != before)
    streams = {c.find_element(By.CSS_SELECTOR, ".stream").text for c in ui.cards()}
    expected = {m[1] for m in gw.ok("category.get", cat, {"consumerGroup": {"member": 0, "size": 2}, "batchSize": 50})}
    assert streams == expected and 0 < len(streams) < 12


def test_category_correlation_filter(ui, gw):
    cat = unique("corr")
    gw.ok("stream.write", cat + "-1", {"type": "Reply", "data": {},
                                       "metadata": {"correlationStreamName": "order-9"}})
    gw.ok("stream.write", cat + "-2", {"type": "Other", "data": {},
                                       "metadata": {"correlationStreamName": "invoice-9"}})
    gw.write(cat + "-3", "Plain", {})
    ui.ensure_signed_in()
    ui.go(link("category", cat))
    ui.wait(lambda: len(ui.cards()) == 3)
    ui.d.find_element(By.ID, "correlation").send_keys("order")
    before = ui.rendered()
    ui.d.find_element(By.ID, "correlation").send_keys(Keys.ENTER)
    ui.wait(lambda: ui.rendered() != before)
    assert [c.find_element(By.CSS_SELECTOR, ".type").text for c in ui.cards()] == ["Reply"]
    assert "correlation=order" in ui.d.current_url


def test_live_tail_shows_a_written_message_within_a_second(ui, gw):
    cat = unique("live")
    stream = cat + "-1"
    gw.write(stream, "Before", {})
    ui.ensure_signed_in()
    for view, type_ in ((link("tail") + "?stream=" + stream, "StreamTail"),
                        (link("tail") + "?category=" + cat, "CategoryTail"),
                        (link("tail") + "?all=1", "NamespaceTail")):
        ui.go(view)
        ui.wait(lambda: ui.d.find_element(By.ID, "tail-state").get_attribute("data-state") == "live",
                what="event stream open")
        marker = unique("m")
        started = time.monotonic()
        gw.write(stream, type_, {"marker": marker})
        ui.wait(lambda: marker in ui.d.find_element(By.ID, "tail-list").text, timeout=5,
                what="%s did not show the message" % type_)
        elapsed = time.monotonic() - started
        assert elapsed < 1.0, "%s took %.3f s" % (type_, elapsed)
        texts = [c.find_element(By.CSS_SELECTOR, ".type").text for c in ui.cards()]
        assert texts[0] == type_ and "Before" not in texts
    # the chart counted the writes: this namespace's, and the store's from /metrics when served
    ui.wait(lambda: ui.d.find_element(By.ID, "rate-ns").text != "0 writes/s", timeout=5,
            what="writes per second never counted")
    if gw.request("GET", "/metrics").status == 200:
        ui.wait(lambda: "/metrics" in ui.d.find_element(By.ID, "rate-source").text, timeout=5)
    ui.shot("tail")


def test_live_tail_reconnects_and_shows_what_was_written_meanwhile(browser, gw, spawn):
    """The gateway goes away under an open live tail and comes back on the
    same port: the tail says so, reconnects by itself, shows the message
    written while it was down and then new ones again."""
    from conftest import db_url
    args = ["serve", "--port={port}", "--db-url=" + db_url(gw.dbname), "--token=" + DEFAULT_TOKEN]
    tail_gw = spawn("tail-reconnect", args)
    ui = Console(browser, tail_gw)
    ui.ensure_signed_in()
    cat = unique("recon")
    stream = cat + "-1"
    gw.write(stream, "Before", {})
    state = lambda: ui.d.find_element(By.ID, "tail-state").get_attribute("data-state")
    for n, view in enumerate((link("tail") + "?stream=" + stream, link("tail") + "?category=" + cat)):
        ui.go(view)
        ui.wait(lambda: state() == "live", what="event stream open")
        tail_gw.stop()
        ui.wait(lambda: state() != "live", what="the tail never noticed the gateway was gone")
        marker = unique("down")
        gw.write(stream, "WhileDown", {"marker": marker})
        tail_gw = spawn("tail-reconnect-%d" % n, args, port=tail_gw.port)
        ui.wait(lambda: state() == "live", timeout=30, what="the tail did not reconnect")
        ui.wait(lambda: marker in ui.d.find_element(By.ID, "tail-list").text, timeout=10,
                what="the message written while the tail was down did not appear")
        marker = unique("up")
        gw.write(stream, "AfterReconnect", {"marker": marker})
        ui.wait(lambda: marker in ui.d.find_element(By.ID, "tail-list").text, timeout=5,
                what="a message written after the reconnect did not appear")
    assert not ui.severe_logs() or all("/subscribe" in e["message"] or "ERR_CONNECTION_REFUSED" in e["message"]
                                       for e in ui.severe_logs())


def test_copy_buttons_copy_the_id_and_the_whole_message(ui, gw):
    stream = unique("copy") + "-1"
    r = gw.ok("stream.write", stream, {"type": "Copied", "data": {"k": "v"}, "metadata": {"m": 1}})
    ui.ensure_signed_in()
    ui.go(link("stream", stream))
    # the page's clipboard, recorded (headless Chromium grants no clipboard)
    ui.js("window.__copied = []; navigator.clipboard.writeText = (t) => {"
          " window.__copied.push(t); return Promise.resolve(); };")
    card = ui.wait(lambda: ui.cards())[0]
    msg_id = card.find_element(By.CSS_SELECTOR, ".id code").text
    buttons = {b.text: b for b in card.find_elements(By.CSS_SELECTOR, "button.copy")}
    buttons["Copy id"].click()
    ui.wait(lambda: ui.js("return window.__copied.length") == 1, what="Copy id copied nothing")
    assert ui.js("return window.__copied[0]") == msg_id
    assert "Copied id" in ui.d.find_element(By.ID, "status").text
    buttons["Copy message"].click()
    ui.wait(lambda: ui.js("return window.__copied.length") == 2, what="Copy message copied nothing")
    copied = json.loads(ui.js("return window.__copied[1]"))
    assert copied["id"] == msg_id and copied["stream"] == stream and copied["type"] == "Copied"
    assert copied["position"] == 0 and copied["globalPosition"] == r["globalPosition"]
    assert copied["data"] == {"k": "v"} and copied["metadata"] == {"m": 1}


def test_subscriptions_show_lag_in_flight_parked_and_replay(ui, gw):
    cat = unique("subs")
    for i in range(4):
        gw.write("%s-%d" % (cat, i), "Job", {"i": i})
    name = unique("console-sub")
    gw.ok("subscription.create", name, cat, {"strategy": "roundRobin"})
    got = gw.ok("subscription.fetch", name, "worker-1", {"max": 3})
    gw.ok("subscription.nack", name, [got[0]["deliveryId"]], {"action": "park", "reason": "<b>bad</b> data"})
    ui.ensure_signed_in()
    ui.go("#/subscriptions")
    ui.wait(lambda: ui.d.find_elements(By.LINK_TEXT, name))
    row = ui.d.find_element(By.LINK_TEXT, name).find_element(By.XPATH, "./ancestor::tr")
    # checkpoint, lag, in flight, parked, consumers
    assert [c.text for c in row.find_elements(By.CSS_SELECTOR, "td.n")][1:] == ["3", "2", "1", "1"]
    ui.shot("subscriptions")
    before = ui.rendered()
    ui.d.find_element(By.LINK_TEXT, name).click()
    ui.wait(lambda: ui.rendered() != before and len(ui.cards()) == 1)
    assert "<b>bad</b> data" in ui.cards()[0].text
    ui.shot("subscription")
    button = ui.d.find_element(By.ID, "replay-all")
    button.click()
    ui.wait(lambda: button.text == "Confirm replay")
    before = ui.rendered()
    button.click()
    ui.wait(lambda: ui.rendered() != before and not ui.cards())
    assert gw.ok("subscription.get", name)["parked"] == 0


def test_namespaces_view_and_keyboard(ui, gw):
    ns, _ = gw.create_ns(description="<i>tenant</i>")
    ui.ensure_signed_in()
    ui.go("#/streams")
    body = ui.d.find_element(By.TAG_NAME, "body")
    before = ui.rendered()
    body.send_keys("g", "n")
    ui.wait(lambda: ui.rendered() != before and ui.js("return location.hash") == "#/namespaces")
    ui.wait(lambda: ui.d.find_elements(By.XPATH, "//main//td/span[text()=%s]" % json.dumps(ns)))
    assert "<i>tenant</i>" in ui.d.find_element(By.TAG_NAME, "main").text
    ui.shot("namespaces")
    body.send_keys("j")
    assert ui.js("return document.activeElement.closest('.item') !== null")
    body.send_keys("?")
    ui.wait(lambda: ui.js("return !!(document.getElementById('help') || {}).open"))
    ui.d.switch_to.active_element.send_keys(Keys.ESCAPE)
    ui.wait(lambda: not ui.js("return document.getElementById('help').open"))
    body.send_keys("?")
    ui.wait(lambda: ui.js("return document.getElementById('help').open"))
    ui.d.find_element(By.CSS_SELECTOR, "#help button").click()
    ui.wait(lambda: not ui.js("return document.getElementById('help').open"))


def test_phone_layout_has_no_sideways_scrolling(ui, gw):
    stream = unique("phone") + "-1"
    gw.write(stream, "Opened", {"owner": "kim", "note": "x" * 300})
    ui.ensure_signed_in()
    ui.d.set_window_size(390, 844)
    try:
        for view in (link("stream", stream), "#/categories", "#/streams"):
            ui.go(view)
            assert ui.js("return document.documentElement.scrollWidth <= window.innerWidth + 1"), view
        ui.go(link("stream", stream))
        ui.shot("stream-phone")
    finally:
        ui.d.set_window_size(1280, 900)


def test_a_namespace_token_and_the_first_paint_of_a_10000_message_stream(ui, gw):
    """Measured, not timed: writes the figure to timings.txt."""
    ns, token = gw.create_ns()
    stream = "ledger-1"
    lines = []
    for i in range(10000):
        lines.append(json.dumps({"id": "00000000-0000-4000-8000-%012d" % i, "stream": stream, "type": "Posted",
                                 "pos": i, "gpos": i + 1, "data": {"amount": i, "memo": "entry %d" % i},
                                 "meta": None, "time": "2026-01-01T00:00:00Z"}))
    r = gw.import_("\n".join(lines) + "\n", token=token)
    assert r.status == 200 and b'"done":true' in r.body, r
    ui.ensure_signed_in(token)
    assert not ui.d.find_element(By.ID, "nav-namespaces").is_displayed()
    assert ui.d.find_element(By.ID, "who").text == "namespace " + ns
    ui.go(link("stream", stream))
    ui.wait(lambda: len(ui.cards()) == 50)
    samples = []
    for _ in range(3):
        ui.d.refresh()
        ui.wait(lambda: len(ui.cards()) == 50)
        samples.append(ui.js("return performance.getEntriesByName('eventodb:view-rendered')[0].startTime"))
    ui.go(link("stream", stream) + "?pos=9950")
    last = ui.cards()[-1].find_element(By.CSS_SELECTOR, ".pos").text
    assert last == "#9999", (last, len(ui.cards()), ui.d.current_url)
    with open(os.path.join(ARTIFACTS, "timings.txt"), "w") as f:
        f.write("stream view of a 10,000-message stream, page load to first page rendered (ms): %s\n"
                % ", ".join("%.0f" % s for s in samples))
    print("first paint of a 10,000-message stream (ms):", ["%.0f" % s for s in samples])
    ui.sign_out()
    # the console put this token in /subscribe URLs (EventSource): none reached the log
    assert token not in gw.log_text()
    assert token.split("_")[-1] not in gw.log_text()


def test_previous_in_a_long_parked_list_goes_back_one_page(ui, gw):
    cat = unique("parkpage")
    for i in range(120):
        gw.write("%s-%d" % (cat, i % 7), "Job", {"i": i})
    name = unique("parkpage-sub")
    gw.ok("subscription.create", name, cat, {"strategy": "roundRobin", "maxInFlight": 1000})
    got = gw.ok("subscription.fetch", name, "w", {"max": 120})
    gw.ok("subscription.nack", name, [d["deliveryId"] for d in got], {"action": "park"})
    ui.ensure_signed_in()
    ui.go("#/subscription/" + name)
    ui.wait(lambda: len(ui.cards()) == 50, what="first page of parked messages")

    def turn(key):
        before = ui.rendered()
        ui.d.find_element(By.CSS_SELECTOR, "main a[data-page=%s]" % key).click()
        ui.wait(lambda: ui.rendered() != before)
        return ui.js("return location.hash")

    second = turn("next")
    ui.wait(lambda: len(ui.cards()) == 50)
    turn("next")
    ui.wait(lambda: len(ui.cards()) == 20)
    assert turn("prev") == second
