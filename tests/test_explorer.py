"""Fast (no browser) tests of the Bokeh cluster explorer."""

import html
import json
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from bokeh.models import (
    ColumnDataSource,
    CustomJS,
    Div,
    GlyphRenderer,
    HoverTool,
    Legend,
    TextInput,
)

from netflix_dec.explorer import (
    HOVER_TARGET_NAME,
    NEW_TITLES_LABEL,
    ORIGIN_FILTER_NAME,
    PLOT_NAME,
    REQUIRED_COLUMNS,
    SEARCH_INPUT_NAME,
    SEARCH_STATUS_NAME,
    SOURCE_NAME,
    TOOLTIP_FIELDS,
    build_explorer,
    cluster_palette,
    explorer_html,
    legend_label,
)

XSS_TITLE = "<img src=x onerror=alert(1)>"
XSS_DESCRIPTION = "</script><script>window.__pwned=1</script> <b>bold</b>"
LABELS = {
    0: "love, family, young",
    2: "murder, detective, police",
    5: "kids, adventure, friends",
    7: "never used: this cluster is empty",
}


def make_points(n: int = 30, clusters: tuple[int, ...] = (0, 2, 5)) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "y": rng.normal(size=n),
            "show_id": [f"s{i}" for i in range(n)],
            "title": [f"Title {i}" for i in range(n)],
            "director": [f"Director {i}" for i in range(n)],
            "release_year": rng.integers(1980, 2022, size=n),
            "listed_in": ["Dramas, Comedies"] * n,
            "description": [f"Description {i}" for i in range(n)],
            "cluster": [clusters[i % len(clusters)] for i in range(n)],
            "confidence": rng.uniform(size=n),
        }
    )


def cluster_renderers(layout) -> list[GlyphRenderer]:
    plot = layout.select_one({"name": PLOT_NAME})
    return [r for r in plot.renderers if r.name != HOVER_TARGET_NAME]


def test_missing_columns_are_all_named() -> None:
    points = make_points().drop(columns=["title", "confidence"])
    with pytest.raises(ValueError, match="title, confidence"):
        build_explorer(points, LABELS)


@pytest.mark.parametrize(
    ("column", "bad_value", "message"),
    [
        ("x", np.nan, "'x' must contain finite numbers"),
        ("confidence", 1.5, r"'confidence' must lie in \[0, 1\]"),
        ("cluster", 1.5, "'cluster' must contain integer"),
        ("cluster", -1, "'cluster' must not contain negative"),
        ("release_year", "soon", "'release_year' must be numeric"),
    ],
)
def test_invalid_values_are_rejected(column: str, bad_value, message: str) -> None:
    points = make_points()
    points[column] = points[column].astype(object)
    points.loc[3, column] = bad_value
    with pytest.raises(ValueError, match=message):
        build_explorer(points, LABELS)


def test_empty_points_are_rejected() -> None:
    with pytest.raises(ValueError, match="empty"):
        build_explorer(make_points().iloc[:0], LABELS)


def test_one_renderer_and_legend_item_per_non_empty_cluster() -> None:
    layout = build_explorer(make_points(), LABELS)
    plot = layout.select_one({"name": PLOT_NAME})
    renderers = cluster_renderers(layout)
    legend = plot.select_one({"type": Legend})

    assert len(renderers) == 3  # clusters 0, 2, 5; 7 is empty
    assert len(legend.items) == 3
    assert [item.renderers for item in legend.items] == [[r] for r in renderers]
    assert legend.click_policy == "hide"
    assert legend in plot.right  # outside the plot frame
    # All renderers share one source, so a search fades every cluster alike.
    sources = {id(r.data_source) for r in plot.renderers}
    assert len(sources) == 1
    assert [r.tags for r in renderers] == [["0"], ["2"], ["5"]]
    # Each shows its cluster's training titles (new titles have their own).
    groups = [[f.group for f in r.view.filter.operands] for r in renderers]
    assert groups == [["0", "training"], ["2", "training"], ["5", "training"]]


def test_new_titles_get_their_own_renderer_and_a_filter() -> None:
    points = make_points()
    points["new"] = [False] * (len(points) - 2) + [True, True]
    layout = build_explorer(points, LABELS)
    plot = layout.select_one({"name": PLOT_NAME})
    legend = plot.select_one({"type": Legend})
    fresh = plot.select_one({"name": NEW_TITLES_LABEL.format(n=2)})
    assert fresh.tags == ["new"] and fresh.view.filter.group == "new"
    assert legend.items[-1].renderers == [fresh]
    boxes = layout.select_one({"name": ORIGIN_FILTER_NAME})
    assert boxes.labels == ["training titles", "new titles"] and boxes.active == [0, 1]
    assert layout.select_one({"name": SOURCE_NAME}).data["origin"][-2:] == [
        "new",
        "new",
    ]
    # Without new titles the explorer has no such filter.
    assert (
        build_explorer(make_points(), LABELS).select_one({"name": ORIGIN_FILTER_NAME})
        is None
    )


def test_legend_labels_show_id_and_top_words() -> None:
    layout = build_explorer(make_points(), {0: LABELS[0], 2: LABELS[2]})
    legend = layout.select_one({"type": Legend})
    labels = [item.label["value"] for item in legend.items]
    assert labels == ["0 · love, family, young", "2 · murder, detective, police", "5"]


def test_labels_with_string_keys_are_accepted() -> None:
    """Kedro's JSON datasets give string keys; they must not be silently lost."""
    layout = build_explorer(make_points(), {str(k): v for k, v in LABELS.items()})
    legend = layout.select_one({"type": Legend})
    assert legend.items[0].label["value"] == "0 · love, family, young"


def test_colours_follow_cluster_ids_not_ranks() -> None:
    layout = build_explorer(make_points(), LABELS)
    palette = cluster_palette(8)  # ids 0..7 (7 only in the labels)
    colours = [r.glyph.fill_color for r in cluster_renderers(layout)]
    assert colours == [palette[0], palette[2], palette[5]]


@pytest.mark.parametrize("n", [1, 3, 10, 11, 20, 21, 30])
def test_palette_has_distinct_colours(n: int) -> None:
    palette = cluster_palette(n)
    assert len(palette) == n
    assert len(set(palette)) == n


def test_legend_label_truncates_and_flattens() -> None:
    assert legend_label(3, "love,\nfamily") == "3 · love, family"
    assert legend_label(4, None) == "4"
    long = legend_label(12, ", ".join(["word"] * 30), max_chars=30)
    assert len(long) <= 30
    assert long.endswith("…")


def test_twenty_clusters_fit_in_one_legend_column() -> None:
    points = make_points(n=200, clusters=tuple(range(20)))
    layout = build_explorer(points, {i: f"w{i}a, w{i}b, w{i}c" for i in range(20)})
    legend = layout.select_one({"type": Legend})
    assert len(legend.items) == 20
    assert legend.ncols == 1


def test_axis_labels_and_title() -> None:
    layout = build_explorer(make_points(), LABELS, "My title", projection_name="UMAP")
    plot = layout.select_one({"name": PLOT_NAME})
    assert plot.title.text == "My title"
    assert plot.xaxis[0].axis_label == "UMAP 1"
    assert plot.yaxis[0].axis_label == "UMAP 2"


def test_hover_tooltip_covers_fields_and_escapes_them() -> None:
    layout = build_explorer(make_points(), LABELS)
    plot = layout.select_one({"name": PLOT_NAME})
    source = plot.select_one({"name": SOURCE_NAME})
    hover = plot.select_one({"type": HoverTool})

    template = hover.tooltips
    assert isinstance(template, str)
    for field in TOOLTIP_FIELDS:
        assert f"@{field}" in template
        assert field in source.data
    assert "@confidence{0.00}" in template
    # Without {safe}, BokehJS HTML-escapes every substituted value.
    assert "{safe}" not in template
    # One tooltip from the transparent hover target, not one per cluster.
    assert [r.name for r in hover.renderers] == [HOVER_TARGET_NAME]
    assert set(TOOLTIP_FIELDS) <= set(REQUIRED_COLUMNS)


def test_missing_metadata_reads_unknown() -> None:
    points = make_points()
    points["director"] = points["director"].astype(object)
    points["release_year"] = points["release_year"].astype(float)
    points.loc[0, ["director", "release_year"]] = [None, np.nan]
    source = build_explorer(points, LABELS).select_one({"name": SOURCE_NAME})
    assert source.data["director"][0] == "unknown"
    assert source.data["release_year"][0] == "unknown"
    assert source.data["release_year"][1] == str(
        points.loc[1, "release_year"].astype(int)
    )


def test_search_widgets_treat_input_as_text() -> None:
    layout = build_explorer(make_points(), LABELS)
    search = layout.select_one({"name": SEARCH_INPUT_NAME})
    status = layout.select_one({"name": SEARCH_STATUS_NAME})
    assert isinstance(search, TextInput)
    assert isinstance(status, Div)
    assert status.render_as_text  # textContent, never innerHTML
    (callback,) = search.js_property_callbacks["change:value_input"]
    assert isinstance(callback, CustomJS)
    assert ".includes(" in callback.code
    assert "RegExp" not in callback.code
    assert "innerHTML" not in callback.code


class _TagCollector(HTMLParser):
    """Records how a browser's tokenizer would see the page's markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.start_tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.start_tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs)
            self.scripts.append((self._in_script, ""))

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None


def _contains(obj, needle: str) -> bool:
    if isinstance(obj, str):
        return obj == needle
    if isinstance(obj, dict):
        return any(_contains(v, needle) for v in obj.values())
    if isinstance(obj, list):
        return any(_contains(v, needle) for v in obj)
    return False


@pytest.fixture(scope="module")
def xss_html() -> str:
    points = make_points()
    points.loc[1, "title"] = XSS_TITLE
    points.loc[2, "description"] = XSS_DESCRIPTION
    layout = build_explorer(points, {0: "<b>words</b>"})
    return explorer_html(layout, "Explorer <test>")


def test_html_is_standalone(xss_html: str) -> None:
    parser = _TagCollector()
    parser.feed(xss_html)
    for tag, attrs in parser.start_tags:
        assert not attrs.get("src"), f"<{tag}> loads {attrs['src']}"
        assert not (tag == "link" and attrs.get("href")), "external stylesheet"
    assert "cdn.bokeh.org" not in xss_html
    assert not re.search(r"<script[^>]+src=", xss_html)
    assert "<title>Explorer &lt;test&gt;</title>" in xss_html


def test_markup_in_data_stays_inside_the_json(xss_html: str) -> None:
    """User text may only live, entity-escaped, in the JSON data script.

    A browser tokenizes the page before any JS runs: if a title could close
    the JSON ``<script>`` or open a tag, it would show up here as an extra
    element. Bokeh escapes ``<``/``>``/``&`` in the JSON and the client
    unescapes the script's text before ``JSON.parse``.
    """
    parser = _TagCollector()
    parser.feed(xss_html)
    tags = [tag for tag, _ in parser.start_tags]
    assert "img" not in tags
    assert "b" not in tags
    assert XSS_TITLE not in xss_html
    assert "<script>window.__pwned" not in xss_html

    data_scripts = [t for a, t in parser.scripts if a.get("type") == "application/json"]
    code_scripts = [t for a, t in parser.scripts if a.get("type") != "application/json"]
    assert len(data_scripts) == 1
    assert not any("__pwned" in code for code in code_scripts)
    doc = json.loads(html.unescape(data_scripts[0]))
    # The data survives unchanged: it is escaped for HTML, not sanitised away.
    assert _contains(doc, XSS_TITLE)
    assert _contains(doc, XSS_DESCRIPTION)


def test_large_catalogue_builds() -> None:
    points = make_points(n=20_000, clusters=tuple(range(20)))
    layout = build_explorer(points, {i: "a, b, c" for i in range(20)})
    source = layout.select_one({"type": ColumnDataSource})
    assert len(source.data["x"]) == 20_000
    assert len(cluster_renderers(layout)) == 20
