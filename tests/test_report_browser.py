"""The catalogue report in a real Chromium: every section, offline, inert.

The page is built from the tiny catalogue of ``test_report`` (a script
payload in a title, a description and a cluster name), served from
127.0.0.1, and every request to anything else is aborted and reported.
Run only the browser tests with ``pytest -m browser``.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from netflix_dec.report_html import SECTIONS

from .test_explorer_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    XSS_DESCRIPTION,
    PageWatch,
    _QuietHandler,
    sync_api,
)
from .test_report import PAYLOAD, _report_html, tiny_catalogue

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    titles, clusters, summary = tiny_catalogue()
    titles.loc[2, "description"] = XSS_DESCRIPTION
    root = tmp_path_factory.mktemp("report_site")
    (root / "report.html").write_text(
        _report_html(titles, clusters, summary), encoding="utf-8"
    )
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def page(report_url: str) -> Iterator[tuple[Any, PageWatch]]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1300, "height": 900})
        page = context.new_page()
        watch = PageWatch(report_url)
        page.on(
            "console",
            lambda msg: (
                watch.console_errors.append(msg.text) if msg.type == "error" else None
            ),
        )
        page.on("pageerror", lambda exc: watch.page_errors.append(str(exc)))
        page.on("dialog", lambda d: (watch.dialogs.append(d.message), d.dismiss()))

        def route(route: Any) -> None:
            if route.request.url.startswith(report_url + "/"):
                route.continue_()
            else:
                watch.foreign_requests.append(route.request.url)
                route.abort()

        page.route("**/*", route)
        page.goto(f"{report_url}/report.html", wait_until="load")
        try:
            yield page, watch
        finally:
            context.close()
            browser.close()


def test_every_section_is_there_and_shown(page: tuple[Any, PageWatch]) -> None:
    page, watch = page
    for key, heading in SECTIONS.items():
        section = page.locator(f"section#{key}")
        assert section.count() == 1, key
        assert section.locator("h2").inner_text() == heading
        assert section.is_visible()
        assert section.inner_text().strip() != heading  # not an empty section
    assert page.locator("section#clusters .card").count() == 2
    assert page.locator("section#map svg circle").count() == 8
    watch.assert_clean(page)


def test_payloads_show_as_text(page: tuple[Any, PageWatch]) -> None:
    page, watch = page
    assert PAYLOAD in page.locator("section#clusters").inner_text()
    assert page.locator("script").count() == 0
    # The cluster name with the payload, in a heatmap cell's hover text.
    hover = page.locator("section#per-class td[title*='onerror']").first
    assert PAYLOAD in hover.get_attribute("title")
    page.locator("section#per-class td").first.hover()
    watch.assert_clean(page)


def test_cells_carry_counts_on_hover(page: tuple[Any, PageWatch]) -> None:
    page, _ = page
    india = page.locator("section#per-class tr", has_text="India").first
    titles = [cell.get_attribute("title") for cell in india.locator("td").all()]
    assert any("India: 4 of 4 titles (100.0%)" in t for t in titles), titles


def test_page_is_offline_and_blocks_scripts(page: tuple[Any, PageWatch]) -> None:
    page, watch = page
    # A script injected after load is refused by the page's own policy.
    page.evaluate(
        """() => { const s = document.createElement('script');
        s.textContent = 'window.__pwned = 1'; document.body.appendChild(s); }"""
    )
    assert page.evaluate("() => window.__pwned") is None
    watch.console_errors.clear()  # the refusal itself is reported as an error
    watch.assert_clean(page)
