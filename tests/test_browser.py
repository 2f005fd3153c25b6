"""The built HTML in a real browser (headless Chromium, driven by Selenium).

Every page of the table of contents loads without console errors and without a request that
leaves this machine, every image has decoded pixels, every formula is typeset by the MathJax the
book serves itself, and every internal link (with its #fragment) resolves. Screenshots of each
page go to `_build/browser/` (or `$VAELAB_SCREENSHOT_DIR`) for a person to look at.

Uses `$VAELAB_HTML_DIR` when set (`make test-browser` builds first); otherwise builds the
committed book into a temp folder. Skips, saying why, where Chromium or its driver is missing.
"""

import functools
import http.server
import os
import re
import shutil
import threading
import urllib.parse
from pathlib import Path

import pytest

from vaelab.book import runner, site

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="session")
def html_dir(tmp_path_factory) -> Path:
    if os.environ.get("VAELAB_HTML_DIR"):
        folder = Path(os.environ["VAELAB_HTML_DIR"]).resolve()
        if not (folder / "index.html").is_file():
            pytest.fail(f"VAELAB_HTML_DIR={folder} has no index.html: build the book first")
        return folder
    out = tmp_path_factory.mktemp("book")
    return site.build_html(ROOT, output=out).parent


@pytest.fixture(scope="session")
def server(html_dir):
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def browser():
    if CHROMIUM is None or DRIVER is None:
        pytest.skip(
            "headless Chromium is not installed (Debian: apt-get install chromium "
            "chromium-driver; .ci/run does this)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def _pages() -> list[str]:
    return ["index.html"] + [f"{entry}.html" for entry in runner.toc_entries(ROOT)]


_WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
if (!document.querySelector('.math')) { done('no math'); return; }
const start = Date.now();
(function wait() {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(() => done('typeset'), e => done('error: ' + e));
  } else if (Date.now() - start > 20000) { done('MathJax never started'); }
  else { setTimeout(wait, 100); }
})();
"""

_INSPECT = """
return {
  title: document.title,
  images: Array.from(document.images).map(i => [i.currentSrc || i.src, i.naturalWidth]),
  math: document.querySelectorAll('.math').length,
  typeset: document.querySelectorAll('.math mjx-container, mjx-container.MathJax').length,
  mathjax: Array.from(document.scripts).map(s => s.src).filter(s => /mathjax/i.test(s)),
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
  resources: performance.getEntriesByType('resource').map(e => e.name),
};
"""


@pytest.fixture(scope="session")
def visited(browser, server, html_dir):
    """Each TOC page loaded once: what the page showed, and the console's messages."""
    shots = Path(os.environ.get("VAELAB_SCREENSHOT_DIR", ROOT / "_build" / "browser"))
    shots.mkdir(parents=True, exist_ok=True)
    out = {}
    for page in _pages():
        browser.get(server + page)
        mathjax = browser.execute_async_script(_WAIT_FOR_MATHJAX)
        info = browser.execute_script(_INSPECT)
        info["mathjax_state"] = mathjax
        info["console"] = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        browser.save_screenshot(str(shots / (page.replace("/", "__") + ".png")))
        out[page] = info
    return out


def test_every_page_loads_without_console_errors(visited):
    errors = {p: [e["message"] for e in v["console"]] for p, v in visited.items() if v["console"]}
    assert errors == {}
    assert all(v["title"] for v in visited.values())


def test_nothing_is_fetched_from_outside_this_machine(visited, server):
    outside = {
        p: [r for r in v["resources"] if not r.startswith(server) and not r.startswith("data:")]
        for p, v in visited.items()
    }
    assert {p: r for p, r in outside.items() if r} == {}


def test_every_image_has_pixels(visited):
    broken = {p: [src for src, width in v["images"] if width == 0] for p, v in visited.items()}
    assert {p: b for p, b in broken.items() if b} == {}


def test_math_is_typeset_by_the_local_mathjax(visited, server):
    pages_with_math = {p: v for p, v in visited.items() if v["math"]}
    assert pages_with_math, "no page has math: the check would prove nothing"
    for page, v in pages_with_math.items():
        assert v["mathjax_state"] == "typeset", page
        assert v["typeset"] >= v["math"], f"{page}: {v['typeset']} of {v['math']} formulas typeset"
        assert v["mathjax"] and all(s.startswith(server) for s in v["mathjax"]), v["mathjax"]


def test_no_internal_link_is_broken(visited, server, html_dir):
    broken = []
    for page, v in visited.items():
        for link in v["links"]:
            if not link.startswith(server):
                continue
            url = urllib.parse.urlsplit(link)
            target = html_dir / urllib.parse.unquote(url.path).lstrip("/")
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page} -> {link} (no file)")
            elif url.fragment and target.suffix == ".html" and not _has_id(target, url.fragment):
                broken.append(f"{page} -> {link} (no id {url.fragment!r})")
    assert broken == []


@functools.cache
def _ids(path: Path) -> frozenset:
    return frozenset(re.findall(r'\bid="([^"]+)"', path.read_text(errors="replace")))


def _has_id(path: Path, fragment: str) -> bool:
    return urllib.parse.unquote(fragment) in _ids(path)
