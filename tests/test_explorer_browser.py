"""Real-browser test of the standalone explorer HTML (Playwright + Debian Chromium).

The page is served from a local ``http.server`` on 127.0.0.1 and every request
to anything else is aborted and reported (``tests/browser_support.py``), so the
test also proves that the file is self-contained. Run only these tests with
``pytest -m browser``.
"""

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from netflix_dec.explorer import (
    HOVER_TARGET_NAME,
    NEW_TITLES_LABEL,
    PLOT_NAME,
    SOURCE_NAME,
    build_explorer,
    explorer_html,
    legend_label,
)

from .browser_support import (
    POINT_POSITION_JS,
    READY_JS,
    XSS_DESCRIPTION,
    XSS_TITLE,
    PageWatch,
    serve,
    sync_api,
    watched_page,
)

pytestmark = pytest.mark.browser

XSS_INDEX = 0  # grid corner of cluster 0, far from other clusters
PLAIN_INDEX = 25  # an ordinary title in cluster 1
N_CLUSTERS = 3
PER_CLUSTER = 20
LABELS = {0: "love, family, young", 1: "murder, detective, police", 2: "kids, fun"}


def _points() -> pd.DataFrame:
    """60 titles on three 5x4 grids; every 3rd title contains 'Romance'."""
    rows = []
    for i in range(N_CLUSTERS * PER_CLUSTER):
        cluster, k = divmod(i, PER_CLUSTER)
        rows.append(
            {
                "x": cluster * 25.0 + (k % 5) * 3.0,
                "y": (k // 5) * 3.0 + (10.0 if cluster == 1 else 0.0),
                "show_id": f"s{i}",
                "title": f"{'Romance' if i % 3 == 0 else 'Story'} number {i}",
                "director": f"Director {i}",
                "release_year": 1990 + i,
                "listed_in": "Dramas, International Movies",
                "description": f"Description of title {i}.",
                "cluster": cluster,
                "confidence": 0.5,
            }
        )
    frame = pd.DataFrame(rows)
    frame.loc[XSS_INDEX, ["title", "description"]] = [XSS_TITLE, XSS_DESCRIPTION]
    frame.loc[PLAIN_INDEX, "confidence"] = 0.9251
    return frame


POINTS = _points()


NEW_POINTS = pd.DataFrame(
    {
        "x": [2.0, 27.0, 52.0],
        "y": [20.0, 30.0, 20.0],
        "show_id": ["n0", "n1", "n2"],
        "title": ["Fresh title zero", "Fresh title one", "Fresh title two"],
        "director": "New director",
        "release_year": 2024,
        "listed_in": "Dramas",
        "description": "Just arrived.",
        "cluster": [0, 1, 2],
        "confidence": 0.4,
        "new": True,
    }
)
OVERLAY = pd.concat([POINTS.assign(new=False), NEW_POINTS], ignore_index=True)
FIRST_NEW = len(POINTS)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("explorer_site")
    for name, points in (("explorer.html", POINTS), ("overlay.html", OVERLAY)):
        layout = build_explorer(points, LABELS, title="Browser test")
        (root / name).write_text(
            explorer_html(layout, "Browser test"), encoding="utf-8"
        )
    with serve(root) as url:
        yield url


@pytest.fixture(scope="module")
def loaded(browser: Any, base_url: str) -> Iterator[tuple[Any, PageWatch]]:
    """One page for the module: loading 2 MB of inline BokehJS costs ~2 s.

    The watch accumulates over all tests, so every ``assert_clean`` also covers
    what earlier tests did on the page.
    """
    yield from _open(browser, base_url, "explorer.html")


def _open(browser: Any, base_url: str, name: str) -> Iterator[tuple[Any, PageWatch]]:
    """Open one explorer page, watching what it does."""
    with watched_page(browser, base_url) as (page, watch):
        page.goto(f"{base_url}/{name}")
        page.wait_for_function(READY_JS, timeout=15_000)
        yield page, watch


def _hover_tooltip_text(page: Any, index: int) -> str:
    position = page.evaluate(POINT_POSITION_JS, [index, SOURCE_NAME, PLOT_NAME])
    page.mouse.move(position["x"], position["y"])
    tooltip = page.locator(".bk-tooltip-content >> visible=true")
    tooltip.first.wait_for(state="visible", timeout=5_000)
    assert tooltip.count() == 1, "hover should hit exactly one point"
    return tooltip.first.text_content() or ""


def test_plot_renders_every_point(loaded: tuple[Any, PageWatch]) -> None:
    page, watch = loaded
    stats = page.evaluate(
        """([plotName, sourceName]) => {
          const doc = Bokeh.documents[0];
          const plot = doc.get_model_by_name(plotName);
          // Cluster renderers are the legend's; the hover target is extra.
          const clusters = plot.right[0].items.flatMap((item) => item.renderers);
          const views = clusters.map((r) => Bokeh.index.find_one(r));
          const canvas = Bokeh.index.find_one(plot).canvas_view.primary.canvas;
          const px = canvas.getContext("2d")
            .getImageData(0, 0, canvas.width, canvas.height).data;
          let coloured = 0;  // saturated pixels: markers, not black/grey axes
          for (let i = 0; i < px.length; i += 4) {
            const hi = Math.max(px[i], px[i + 1], px[i + 2]);
            const lo = Math.min(px[i], px[i + 1], px[i + 2]);
            if (hi - lo > 60) coloured++;
          }
          return {
            documents: Bokeh.documents.length,
            source_rows: doc.get_model_by_name(sourceName).get_length(),
            glyph_renderers: plot.renderers.length,
            rendered: views.map((v) => v.glyph.sx.length),
            legend_items: plot.right[0].items.length,
            coloured,
          };
        }""",
        [PLOT_NAME, SOURCE_NAME],
    )
    assert stats["documents"] == 1
    assert stats["source_rows"] == len(POINTS)
    assert stats["glyph_renderers"] == N_CLUSTERS + 1  # + the hover target
    assert stats["legend_items"] == N_CLUSTERS
    assert stats["rendered"] == [PER_CLUSTER] * N_CLUSTERS
    assert stats["coloured"] > 500, "canvas has no coloured markers"
    watch.assert_clean(page)


def test_hover_shows_markup_as_literal_text(loaded: tuple[Any, PageWatch]) -> None:
    page, watch = loaded
    text = _hover_tooltip_text(page, XSS_INDEX)
    assert XSS_TITLE in text
    assert "<script>window.__pwned=1</script>" in text
    assert "<b>bold</b>" in text
    tooltip = page.locator(".bk-tooltip-content >> visible=true")
    assert tooltip.locator("img, script, b").count() == 0
    watch.assert_clean(page)


def test_hover_shows_metadata(loaded: tuple[Any, PageWatch]) -> None:
    page, watch = loaded
    text = _hover_tooltip_text(page, PLAIN_INDEX)
    row = POINTS.loc[PLAIN_INDEX]
    for expected in (
        row["title"],
        row["director"],
        str(row["release_year"]),
        row["listed_in"],
        f"1 · {LABELS[1]}",
        "0.93",
        row["description"],
    ):
        assert expected in text
    watch.assert_clean(page)


def test_search_highlights_matches_as_plain_text(
    loaded: tuple[Any, PageWatch],
) -> None:
    page, watch = loaded
    search = page.locator("input[type=text]")
    status = page.locator(".bk-Div .bk-clearfix")  # the search status text
    selected_js = (
        "(name) => [...Bokeh.documents[0].get_model_by_name(name).selected.indices]"
        "  .sort((a, b) => a - b)"
    )

    def search_for(query: str, expected_count: int) -> list[int]:
        search.fill(query)
        try:
            page.wait_for_function(
                "([name, n]) => Bokeh.documents[0].get_model_by_name(name)"
                "  .selected.indices.length === n",
                arg=[SOURCE_NAME, expected_count],
                timeout=5_000,
            )
        except sync_api.TimeoutError:
            got = page.evaluate(selected_js, SOURCE_NAME)
            pytest.fail(f"query {query!r}: expected {expected_count} hits, got {got}")
        return page.evaluate(selected_js, SOURCE_NAME)

    # Case-insensitive substring match.
    expected = [i for i, t in enumerate(POINTS["title"]) if "romance" in t.lower()]
    assert search_for("rOMANCE", len(expected)) == expected
    assert f"{len(expected)} of {len(POINTS)} titles match" in status.inner_text()

    # "(1)" would match every title containing a 1 if it were a RegExp.
    assert search_for("(1)", 1) == [XSS_INDEX]
    assert search_for(".*", 0) == []

    # The query is echoed back as text, not parsed as markup.
    assert search_for(XSS_TITLE, 1) == [XSS_INDEX]
    assert f'"{XSS_TITLE}"' in status.inner_text()

    assert search_for("", 0) == []
    assert "Type part of a title" in status.inner_text()
    watch.assert_clean(page)


def test_legend_click_hides_cluster_from_plot_and_hover(
    loaded: tuple[Any, PageWatch],
) -> None:
    page, watch = loaded
    tooltip = page.locator(".bk-tooltip-content >> visible=true")
    legend_entry = page.get_by_text(f"0 · {LABELS[0]}", exact=True)

    def wait_hoverable(n: int) -> None:
        page.wait_for_function(
            "([name, n]) => Bokeh.documents[0].get_model_by_name(name)"
            "  .view.indices.count === n",
            arg=[HOVER_TARGET_NAME, n],
            timeout=5_000,
        )

    legend_entry.click()
    wait_hoverable(len(POINTS) - PER_CLUSTER)
    hidden = page.evaluate(
        "(name) => Bokeh.documents[0].get_model_by_name(name).visible",
        legend_label(0, LABELS[0]),
    )
    assert hidden is False
    # Other clusters still answer to hover; the hidden one does not.
    assert PLAIN_INDEX >= PER_CLUSTER
    assert POINTS.loc[PLAIN_INDEX, "title"] in _hover_tooltip_text(page, PLAIN_INDEX)
    position = page.evaluate(POINT_POSITION_JS, [XSS_INDEX, SOURCE_NAME, PLOT_NAME])
    page.mouse.move(position["x"], position["y"])
    sync_api.expect(tooltip).to_have_count(0, timeout=3_000)

    legend_entry.click()  # and back
    wait_hoverable(len(POINTS))
    assert XSS_TITLE in _hover_tooltip_text(page, XSS_INDEX)
    watch.assert_clean(page)


@pytest.fixture(scope="module")
def overlay(browser: Any, base_url: str) -> Iterator[tuple[Any, PageWatch]]:
    """The explorer of an assign run: training titles plus three new ones."""
    yield from _open(browser, base_url, "overlay.html")


def _hoverable(page: Any) -> int:
    return page.evaluate(
        "(name) => Bokeh.documents[0].get_model_by_name(name).view.indices.count",
        HOVER_TARGET_NAME,
    )


def test_overlay_marks_new_titles_and_filters_them(
    overlay: tuple[Any, PageWatch],
) -> None:
    page, watch = overlay
    stats = page.evaluate(
        """([plotName, label]) => {
          const plot = Bokeh.documents[0].get_model_by_name(plotName);
          const items = plot.right[0].items;
          const fresh = Bokeh.documents[0].get_model_by_name(label);
          return {
            legend: items.map((item) => item.label.value),
            rendered: Bokeh.index.find_one(fresh).glyph.sx.length,
            marker: fresh.glyph.marker.value,
          };
        }""",
        [PLOT_NAME, NEW_TITLES_LABEL.format(n=3)],
    )
    assert stats["legend"][-1] == NEW_TITLES_LABEL.format(n=3)
    assert len(stats["legend"]) == N_CLUSTERS + 1
    assert stats["rendered"] == 3 and stats["marker"] == "star"
    text = _hover_tooltip_text(page, FIRST_NEW + 1)
    assert "Fresh title one" in text and "Title set: new" in text
    assert f"1 · {LABELS[1]}" in text

    boxes = page.get_by_text("training titles", exact=True)
    boxes.click()  # only the new titles remain
    page.wait_for_function(
        "([name, n]) => Bokeh.documents[0].get_model_by_name(name)"
        "  .view.indices.count === n",
        arg=[HOVER_TARGET_NAME, 3],
        timeout=5_000,
    )
    assert "Fresh title zero" in _hover_tooltip_text(page, FIRST_NEW)
    page.get_by_text("new titles", exact=True).click()  # nothing left
    page.wait_for_function(
        "([name]) => Bokeh.documents[0].get_model_by_name(name)"
        "  .view.indices.count === 0",
        arg=[HOVER_TARGET_NAME],
        timeout=5_000,
    )
    boxes.click()  # training titles only
    page.wait_for_function(
        "([name, n]) => Bokeh.documents[0].get_model_by_name(name)"
        "  .view.indices.count === n",
        arg=[HOVER_TARGET_NAME, len(POINTS)],
        timeout=5_000,
    )
    assert _hoverable(page) == len(POINTS)
    watch.assert_clean(page)
