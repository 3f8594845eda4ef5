"""The catalogue report and the explorer's similar titles in a real Chromium.

The page is built from the tiny catalogue of ``test_report`` (a script
payload in a title, a description and a cluster name), served from
127.0.0.1, and every request to anything else is aborted and reported.
Run only the browser tests with ``pytest -m browser``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from netflix_dec.explorer import (
    PLOT_NAME,
    SEARCH_INPUT_NAME,
    SOURCE_NAME,
    build_explorer,
    explorer_html,
)
from netflix_dec.report_html import SECTIONS

from .browser_support import (
    POINT_POSITION_JS,
    READY_JS,
    XSS_DESCRIPTION,
    XSS_TITLE,
    PageWatch,
    serve,
    watched_page,
)
from .test_explorer_browser import LABELS, PLAIN_INDEX, POINTS
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
    with serve(root) as url:
        yield url


@pytest.fixture(scope="module")
def page(browser: Any, report_url: str) -> Iterator[tuple[Any, PageWatch]]:
    with watched_page(browser, report_url, width=1300) as (page, watch):
        page.goto(f"{report_url}/report.html", wait_until="load")
        yield page, watch


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


def _similar_rows() -> Any:
    """Point i's similar titles: i+1 and i+2 (point 0, the payload, is 59's)."""
    import pandas as pd

    n = len(POINTS)
    return pd.DataFrame(
        [
            {
                "point": i,
                "rank": rank,
                "title": POINTS.loc[(i + rank) % n, "title"],
                "similarity": 0.9 - 0.1 * rank,
                "similar_point": (i + rank) % n,
            }
            for i in range(n)
            for rank in (1, 2)
        ]
    )


@pytest.fixture(scope="module")
def explorer_page(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("explorer_similar")
    layout = build_explorer(POINTS, LABELS, title="Similar", similar=_similar_rows())
    path = root / "explorer.html"
    path.write_text(explorer_html(layout, "Similar"), encoding="utf-8")
    context = browser.new_context(viewport={"width": 1500, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(path.as_uri())
    page.wait_for_function(READY_JS, timeout=15_000)
    try:
        yield page, errors
    finally:
        context.close()


def _rows(page: Any) -> list[str]:
    page.wait_for_timeout(300)
    return [r.inner_text().split("\n")[1] for r in page.locator(".slick-row").all()]


def test_click_lists_similar_titles_and_jumps(explorer_page: Any) -> None:
    page, errors = explorer_page
    start = PLAIN_INDEX
    position = page.evaluate(POINT_POSITION_JS, [start, SOURCE_NAME, PLOT_NAME])
    page.mouse.click(position["x"], position["y"])
    expected = [POINTS.loc[start + 1, "title"], POINTS.loc[start + 2, "title"]]
    assert _rows(page) == expected
    page.locator(".slick-row").nth(1).click()  # jump to start + 2
    assert _rows(page) == [
        POINTS.loc[start + 3, "title"],
        POINTS.loc[start + 4, "title"],
    ]
    state = page.evaluate(
        """([source, search]) => { const doc = Bokeh.documents[0];
        return [doc.get_model_by_name(source).selected.indices,
                doc.get_model_by_name(search).value]; }""",
        [SOURCE_NAME, SEARCH_INPUT_NAME],
    )
    assert state == [[start + 2], POINTS.loc[start + 2, "title"]]
    assert errors == []


def test_similar_payload_title_is_text(explorer_page: Any) -> None:
    page, errors = explorer_page
    page.evaluate(
        """([source]) => { Bokeh.documents[0].get_model_by_name(source)
        .selected.indices = [58]; }""",
        [SOURCE_NAME],
    )
    assert _rows(page)[1] == XSS_TITLE  # 58's second similar title is point 0
    assert page.locator("img").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    assert errors == []
