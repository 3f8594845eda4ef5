"""Interactive Bokeh "cluster explorer" for the DEC clustering of Netflix titles.

The explorer is a single standalone HTML file (Bokeh JS/CSS inlined) so that it
can be archived next to the model artefacts and opened offline, e.g. from a CI
artefact store, without a Bokeh server or a CDN.

Design notes:

* All points live in ONE ``ColumnDataSource``; each cluster gets its own glyph
  renderer that looks at its rows through a ``CDSView`` with a ``GroupFilter``.
  One renderer per cluster is what makes ``click_policy="hide"`` hide a single
  cluster (a ``legend_group`` legend hides the whole renderer, i.e. every
  cluster). Sharing one source (instead of one source per cluster) matters for
  the title search: a selection is stored per source, and Bokeh only fades the
  non-selected points of renderers whose source has a non-empty selection. With
  one shared source a search fades every cluster consistently, and the search
  callback has a single array to scan. Data is not duplicated either way.
* Hover goes through one extra, transparent "hover target" renderer over all
  visible points instead of the cluster renderers: BokehJS shows one tooltip
  per hovered renderer, so where clusters overlap, per-cluster hover stacks
  several tooltips on top of each other. A ``BooleanFilter`` synced from the
  renderers' ``visible`` flags keeps hidden clusters silent.
* Everything user-provided (titles, descriptions, genres, ...) is shown as
  text: the hover template only uses ``@field`` placeholders without
  ``{safe}``, which BokehJS HTML-escapes (also the output of a custom
  formatter) before building the tooltip; legend labels are DOM text nodes;
  the search status ``Div`` uses ``render_as_text=True`` (``textContent``).

This module deliberately has no Kedro dependency; a pipeline node can call
:func:`build_explorer` and :func:`explorer_html` and hand the string to a
``text.TextDataset``.
"""

import math
from collections.abc import Mapping
from typing import Final, Literal

import numpy as np
import pandas as pd
from bokeh.embed import file_html
from bokeh.layouts import column, row
from bokeh.models import (
    BooleanFilter,
    CDSView,
    CheckboxGroup,
    Column,
    ColumnDataSource,
    CustomJS,
    CustomJSHover,
    Div,
    GlyphRenderer,
    GroupFilter,
    HoverTool,
    LayoutDOM,
    Legend,
    LegendItem,
    TextInput,
)
from bokeh.plotting import figure
from bokeh.resources import INLINE
from bokeh.transform import factor_cmap

from netflix_dec.points import label as point_label

__all__ = [
    "HOVER_TARGET_NAME",
    "NEW_TITLES_LABEL",
    "ORIGIN_FILTER_NAME",
    "PLOT_NAME",
    "REQUIRED_COLUMNS",
    "SEARCH_INPUT_NAME",
    "SEARCH_STATUS_NAME",
    "SOURCE_NAME",
    "TOOLTIP_FIELDS",
    "build_explorer",
    "cluster_palette",
    "explorer_html",
    "message_html",
    "legend_label",
]

REQUIRED_COLUMNS: Final[tuple[str, ...]] = (
    "x",
    "y",
    "show_id",
    "title",
    "director",
    "release_year",
    "listed_in",
    "description",
    "cluster",
    "confidence",
)
"""Columns :func:`build_explorer` needs in ``points``."""

TOOLTIP_FIELDS: Final[tuple[str, ...]] = (
    "title",
    "director",
    "release_year",
    "listed_in",
    "cluster",
    "confidence",
    "description",
)
"""Data columns in the hover tooltip. ``cluster`` goes through a small JS
formatter that turns the id into its legend label ("3 · love, family, young"),
so the label is stored once per cluster instead of once per point."""

# Model names, so tests and browser code can find the pieces of the layout with
# ``layout.select_one({"name": ...})`` / ``Bokeh.documents[0].get_model_by_name``.
PLOT_NAME: Final = "cluster_plot"
SOURCE_NAME: Final = "points"
SEARCH_INPUT_NAME: Final = "title_search"
ORIGIN_FILTER_NAME: Final = "origin_filter"
NEW_TITLES_LABEL: Final = "★ new titles ({n})"
SEARCH_STATUS_NAME: Final = "search_status"
HOVER_TARGET_NAME: Final = "hover_target"
SIMILAR_SOURCE_NAME: Final = "similar_titles"
SIMILAR_TABLE_NAME: Final = "similar_table"
SIMILAR_HEADING_NAME: Final = "similar_heading"

_NEW: Final = "new"  # the ``origin`` of titles placed by an assign run
_TRAINING: Final = "training"
_TEXT_COLUMNS: Final = ("show_id", "title", "director", "listed_in", "description")
_MISSING_TEXT: Final = "unknown"
_SEARCH_IDLE_TEXT: Final = "Type part of a title to highlight matching points."
_LEGEND_ROW_PX: Final = 18  # glyph/label height (14) + spacing, see _build_legend
# (max number of points, marker size in px): smaller markers for big catalogues.
_POINT_SIZES: Final = ((2_000, 7.0), (8_000, 5.0), (50_000, 4.0), (1_000_000, 3.0))

# The template is trusted markup written here; the values substituted for its
# ``@field`` placeholders (formatted or not) are HTML-escaped by BokehJS because
# no ``{safe}`` format is used. Never add ``{safe}``: titles are scraped data.
_TOOLTIP_TEMPLATE: Final = """
<div style="width: 340px; white-space: normal; font-size: 12px; line-height: 1.35;">
  <div style="font-weight: bold; font-size: 13px; margin-bottom: 3px;">@title</div>
  <div><span style="color: #666;">Director:</span> @director</div>
  <div><span style="color: #666;">Year:</span> @release_year</div>
  <div><span style="color: #666;">Genres:</span> @listed_in</div>
  <div><span style="color: #666;">Cluster:</span> @cluster{custom}</div>
  <div><span style="color: #666;">Confidence:</span> @confidence{0.00}</div>
  <div><span style="color: #666;">Title set:</span> @origin</div>
  <div style="margin-top: 4px; color: #333;">@description</div>
</div>
"""

# Hidden clusters (legend clicks) must not answer to hover: rebuild the hover
# target's row mask from the visible cluster renderers' group ids.
_SYNC_HOVER_JS: Final = """const NEW_TAG = "new";

const shown = new Set(renderers.filter((r) => r.visible).map((r) => r.tags[0]));
const origin = source.data.origin;
mask.booleans = Array.from(source.data.cluster, (c, i) =>
  origin[i] === "new" ? shown.has(NEW_TAG) : shown.has(c)
);
"""

# Plain-text, case-insensitive substring search. ``includes`` never interprets
# the query (no RegExp), and the status Div renders its text via textContent.
_SEARCH_JS: Final = """
const query = cb_obj.value_input.trim();
const needle = query.toLowerCase();
const titles = source.data.title;
const matches = [];
if (needle.length > 0) {
  for (let i = 0; i < titles.length; i++) {
    if (String(titles[i]).toLowerCase().includes(needle)) {
      matches.push(i);
    }
  }
}
source.selected.indices = matches;
if (needle.length === 0) {
  status.text = idle_text;
} else {
  const noun = matches.length === 1 ? "title matches" : "titles match";
  status.text = `${matches.length} of ${titles.length} ${noun} "${query}"`;
}
"""


def cluster_palette(n_clusters: int) -> list[str]:
    """``n_clusters`` colours indexed by cluster id: :mod:`netflix_dec.palette`."""
    from netflix_dec.palette import cluster_palette as palette

    return palette(n_clusters)


def legend_label(cluster: int, words: str | None, max_chars: int = 48) -> str:
    """Format a legend entry such as ``"3 · love, family, young"``.

    Labels are truncated because the legend sits in a fixed-width side panel;
    an overlong label would squeeze the plot area for every cluster.

    Args:
        cluster: Cluster id.
        words: Top words of the cluster, or ``None``/empty if unknown.
        max_chars: Maximum label length including the ellipsis.

    Returns:
        The label text.
    """
    label = point_label(cluster, words)
    if len(label) > max_chars:
        label = label[: max_chars - 1].rstrip(" ,") + "…"
    return label


def _validate(points: pd.DataFrame) -> None:
    """Fail early with messages that name the offending column.

    A missing column or a NaN coordinate would otherwise surface as a blank
    plot or a JavaScript error inside the HTML, far from the pipeline node that
    produced the bad frame.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in points.columns]
    if missing:
        raise ValueError(f"points is missing required column(s): {', '.join(missing)}")
    if points.empty:
        raise ValueError("points is empty: nothing to plot")
    for col in ("x", "y", "confidence"):
        values = pd.to_numeric(points[col], errors="coerce")
        if not np.isfinite(values.to_numpy(dtype=float)).all():
            raise ValueError(f"column {col!r} must contain finite numbers only")
    confidence = points["confidence"].to_numpy(dtype=float)
    if (confidence < 0).any() or (confidence > 1).any():
        raise ValueError("column 'confidence' must lie in [0, 1]")
    cluster = pd.to_numeric(points["cluster"], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(cluster).all() or (cluster != np.round(cluster)).any():
        raise ValueError("column 'cluster' must contain integer cluster ids")
    if (cluster < 0).any():
        raise ValueError("column 'cluster' must not contain negative ids")
    years = pd.to_numeric(points["release_year"], errors="coerce")
    if (years.isna() & points["release_year"].notna()).any():
        raise ValueError("column 'release_year' must be numeric (or missing)")


def _text_column(series: pd.Series) -> list[str]:
    """Turn a column into plain strings; missing values read as "unknown".

    Netflix metadata has many missing directors; ``None`` would show as
    ``???`` in a Bokeh tooltip, which looks like a bug to readers.
    """
    return [
        _MISSING_TEXT if pd.isna(v) or str(v).strip() == "" else str(v)
        for v in series.astype(object)
    ]


def _year_column(series: pd.Series) -> list[str]:
    """Years as text so a missing year shows "unknown" instead of ``NaN``."""
    years = pd.to_numeric(series, errors="coerce")
    return [_MISSING_TEXT if pd.isna(v) else str(int(v)) for v in years]


def _build_source(points: pd.DataFrame) -> ColumnDataSource:
    """Copy only the needed columns, as JSON/binary-friendly arrays.

    Numeric columns stay numpy arrays (Bokeh ships them base64-encoded), text
    columns become lists of ``str`` because pandas' string/arrow dtypes are not
    guaranteed to serialise the same way across versions.
    """
    data: dict[str, object] = {
        "x": points["x"].to_numpy(dtype=np.float64),
        "y": points["y"].to_numpy(dtype=np.float64),
        # Group filters compare with the group value; a string column avoids
        # any int/float mismatch between Python and JS.
        "cluster": [str(int(c)) for c in points["cluster"]],
        "confidence": points["confidence"].to_numpy(dtype=np.float64),
        "release_year": _year_column(points["release_year"]),
        "origin": [
            _NEW if is_new else _TRAINING
            for is_new in (
                points["new"].fillna(False).astype(bool)
                if "new" in points
                else [False] * len(points)
            )
        ],
    }
    for col in _TEXT_COLUMNS:
        data[col] = _text_column(points[col])
    return ColumnDataSource(data=data, name=SOURCE_NAME)


def _auto_point_size(n_points: int) -> float:
    """Smaller markers for big catalogues so dense clusters keep their shape."""
    for max_points, size in _POINT_SIZES:
        if n_points <= max_points:
            return size
    return _POINT_SIZES[-1][1]


def _build_legend(items: list[LegendItem], plot_height: int) -> Legend:
    """Compact legend that wraps into columns instead of overflowing the plot."""
    max_rows = max(1, (plot_height - 140) // _LEGEND_ROW_PX)
    ncols = max(1, math.ceil(len(items) / max_rows))
    legend = Legend(
        items=items,
        title="Cluster · top words (click to hide)",
        title_text_font_size="12px",
        title_text_font_style="bold",
        label_text_font_size="11px",
        glyph_height=14,
        glyph_width=14,
        label_height=14,
        spacing=4,
        padding=8,
        location="top_left",
        click_policy="hide",
        ncols=ncols,
        border_line_alpha=0.3,
    )
    return legend


def build_explorer(
    points: pd.DataFrame,
    cluster_labels: Mapping[int, str],
    title: str = "Netflix titles — DEC clusters",
    *,
    projection_name: str = "t-SNE",
    width: int = 1100,
    height: int = 750,
    point_size: float | None = None,
    max_label_chars: int = 48,
    output_backend: Literal["canvas", "webgl"] = "canvas",
    similar: pd.DataFrame | None = None,
) -> Column:
    """Build the interactive explorer layout (search box above a scatter plot).

    Args:
        points: One row per title with the columns in :data:`REQUIRED_COLUMNS`:
            2-D projection ``x``/``y``, metadata shown on hover, the DEC
            ``cluster`` id (non-negative int) and its soft-assignment
            ``confidence`` in [0, 1]. Extra columns are ignored.
        cluster_labels: Cluster id → top words (e.g. ``"love, family, young"``)
            used in the legend and tooltip. Ids without a label are shown by
            number only; labels of clusters with no points are ignored.
        title: Plot title.
        projection_name: Axis label prefix, e.g. ``"t-SNE"`` → "t-SNE 1".
        width: Total plot width in pixels, legend panel included.
        height: Plot height in pixels.
        point_size: Marker size in screen pixels; ``None`` picks one from the
            number of points.
        max_label_chars: Legend labels longer than this are truncated.
        output_backend: ``"canvas"`` works everywhere, including headless
            browsers without a GPU; ``"webgl"`` pans faster for >20k points
            where a GPU is available (Bokeh falls back to canvas otherwise).
        similar: Optional similar titles, one row per (point, rank) with the
            columns of :data:`SIMILAR_COLUMNS`, ``point`` the row of
            ``points`` and ``similar_point`` that of the similar title (-1
            when it is not drawn). With it, clicking a point (or a search
            that finds one title) lists its similar titles in a table beside
            the map; clicking one there jumps to it.

    Returns:
        A ``Column`` layout; pass it to :func:`explorer_html` or ``bokeh.io``.

    Raises:
        ValueError: If required columns are missing (all are named), the frame
            is empty, or a column has invalid values.
    """
    _validate(points)
    labels = {int(k): v for k, v in cluster_labels.items()}  # JSON keys are str
    source = _build_source(points)

    cluster_ids = sorted({int(c) for c in points["cluster"]})
    palette = cluster_palette(max([*cluster_ids, *labels]) + 1)
    size = point_size if point_size is not None else _auto_point_size(len(points))
    legend_labels = {
        c: legend_label(c, labels.get(c), max_label_chars) for c in cluster_ids
    }

    plot = figure(
        name=PLOT_NAME,
        title=title,
        width=width,
        height=height,
        x_axis_label=f"{projection_name} 1",
        y_axis_label=f"{projection_name} 2",
        tools="pan,wheel_zoom,box_zoom,reset,save",
        active_scroll="wheel_zoom",
        toolbar_location="above",
        output_backend=output_backend,
    )
    plot.title.text_font_size = "16px"
    plot.axis.axis_label_text_font_style = "normal"
    plot.grid.grid_line_alpha = 0.4

    renderers = [
        _add_cluster_renderer(plot, source, c, legend_labels[c], palette[c], size)
        for c in cluster_ids
    ]
    n_new = source.data["origin"].count(_NEW)
    if n_new:
        renderers.append(_add_new_renderer(plot, source, n_new, palette, size))
    # Auto-range on the clusters only; the hover target must not move the axes.
    plot.x_range.renderers = renderers  # type: ignore[attr-defined]
    plot.y_range.renderers = renderers  # type: ignore[attr-defined]
    items = [LegendItem(label=r.name, renderers=[r]) for r in renderers]
    plot.add_layout(_build_legend(items, height), "right")
    _add_hover(plot, source, renderers, legend_labels, palette, size)
    search, status = _build_search(source, width)
    shown = (
        plot
        if similar is None
        else row(plot, _build_similar(plot, source, similar, search, status, height))
    )
    if not n_new:
        return column(row(search, status), shown)
    return column(row(search, _build_origin_filter(renderers), status), shown)


_SEPARATOR: Final = "\x1f"  # ASCII unit separator (removed from titles)

SIMILAR_COLUMNS: Final = ("point", "rank", "title", "similarity", "similar_point")
"""Columns of :func:`build_explorer`'s ``similar`` table (``title``: the similar
title's)."""

# One point selected (a click, or a search that found one title): list its
# similar titles. The table's cells are text (Bokeh's StringFormatter builds
# text nodes), so titles are never read as HTML.
_SHOW_SIMILAR_JS: Final = """
const picked = source.selected.indices;
if (picked.length !== 1) {
  return;
}
const i = picked[0];
const start = first[i];
const stop = first[i + 1];
const fresh = {
  rank: Array.from(ranks.slice(start, stop)),
  title: titles.split(separator).slice(start, stop),
  similarity: Array.from(scores.slice(start, stop)),
  point: Array.from(points.slice(start, stop)),
};
similar.selected.indices = [];
similar.data = fresh;
// The table redraws when its view changes, which new rows of the same
// number do not do by themselves.
table.view.change.emit();
heading.text = `Titles most similar to "${source.data.title[i]}"`;
"""

# A similar title clicked in the table: select it on the map (which lists its
# own similar titles) and show it in the search box.
_JUMP_JS: Final = """
const rows = similar.selected.indices;
if (rows.length !== 1) {
  return;
}
const p = similar.data.point[rows[0]];
const title = similar.data.title[rows[0]];
if (p < 0) {
  status.text = `"${title}" is not on this map (the map shows a sample).`;
  return;
}
search.value = title;
status.text = `Jumped to "${title}".`;
// Once the table has finished handling its own click.
setTimeout(() => {
  source.selected.indices = [p];
}, 0);
"""


def _build_similar(
    plot: figure,
    source: ColumnDataSource,
    similar: pd.DataFrame,
    search: TextInput,
    status: Div,
    height: int,
) -> Column:
    """The similar-titles table beside the map, and the taps that fill it.

    Ranks, titles, similarities and targets are shipped once as flat arrays
    with each point's first row (``first``), so a point's list is a slice.
    """
    from bokeh.models import DataTable, NumberFormatter, TableColumn, TapTool

    missing = [c for c in SIMILAR_COLUMNS if c not in similar.columns]
    if missing:
        raise ValueError(f"similar is missing column(s): {', '.join(missing)}")
    n = len(source.data["x"])
    ordered = similar.sort_values(["point", "rank"], kind="stable")
    counts = np.bincount(ordered["point"].to_numpy(dtype=np.int64), minlength=n)[:n]
    first = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    table_source = ColumnDataSource(
        {"rank": [], "title": [], "similarity": [], "point": []},
        name=SIMILAR_SOURCE_NAME,
    )
    heading = Div(
        text="Click a point to list its most similar titles.",
        render_as_text=True,
        disable_math=True,
        width=300,
        name=SIMILAR_HEADING_NAME,
    )
    table = DataTable(
        source=table_source,
        columns=[
            TableColumn(field="rank", title="#", width=24),
            TableColumn(field="title", title="Similar title", width=210),
            TableColumn(
                field="similarity",
                title="cosine",
                width=60,
                formatter=NumberFormatter(format="0.00"),
            ),
        ],
        width=300,
        height=min(260, height),
        index_position=None,
        name=SIMILAR_TABLE_NAME,
    )
    source.selected.js_on_change(
        "indices",
        CustomJS(
            args={
                "source": source,
                "table": table,
                "similar": table_source,
                "heading": heading,
                # Arrays ship as binary, the titles as one string: a list of
                # 50,000 items in a callback's arguments costs seconds to write.
                "first": first.astype(np.int32),
                "ranks": ordered["rank"].to_numpy(dtype=np.int32),
                "titles": _SEPARATOR.join(
                    str(t).replace(_SEPARATOR, " ") for t in ordered["title"]
                ),
                "scores": ordered["similarity"].to_numpy(dtype=np.float32),
                "points": ordered["similar_point"].to_numpy(dtype=np.int32),
                "separator": _SEPARATOR,
            },
            code=_SHOW_SIMILAR_JS,
        ),
    )
    table_source.selected.js_on_change(
        "indices",
        CustomJS(
            args={
                "source": source,
                "similar": table_source,
                "search": search,
                "status": status,
            },
            code=_JUMP_JS,
        ),
    )
    target = plot.select_one({"name": HOVER_TARGET_NAME})
    plot.add_tools(TapTool(renderers=[target]))
    return column(heading, table)


def _add_new_renderer(
    plot: figure,
    source: ColumnDataSource,
    n_new: int,
    palette: list[str],
    size: float,
) -> GlyphRenderer:
    """New titles (an assign run): stars in their cluster's colour, outlined."""
    factors = [str(c) for c in range(len(palette))]
    renderer = plot.scatter(
        x="x",
        y="y",
        source=source,
        view=CDSView(filter=GroupFilter(column_name="origin", group=_NEW)),
        marker="star",
        size=size * 2.4,
        fill_color=factor_cmap("cluster", palette, factors),
        fill_alpha=0.95,
        line_color="#111111",
        line_width=1.0,
        selection_fill_alpha=1.0,
        selection_line_color="#111111",
        selection_line_width=2.0,
        nonselection_fill_alpha=0.15,
        nonselection_line_alpha=0.3,
        name=NEW_TITLES_LABEL.format(n=n_new),
    )
    renderer.tags = [_NEW]
    return renderer


def _build_origin_filter(renderers: list[GlyphRenderer]) -> CheckboxGroup:
    """Show training titles, new titles or both (legend clicks still work)."""
    boxes = CheckboxGroup(
        name=ORIGIN_FILTER_NAME, labels=["training titles", "new titles"], active=[0, 1]
    )
    boxes.js_on_change(
        "active",
        CustomJS(
            args={"renderers": renderers},
            code="""
const training = cb_obj.active.includes(0);
const fresh = cb_obj.active.includes(1);
for (const r of renderers) {
  r.visible = r.tags[0] === "new" ? fresh : training;
}
""",
        ),
    )
    return boxes


def _add_cluster_renderer(
    plot: figure,
    source: ColumnDataSource,
    cluster: int,
    label: str,
    color: str,
    size: float,
) -> GlyphRenderer:
    """One renderer per cluster, so that the legend can hide clusters one by one."""
    renderer = plot.scatter(
        x="x",
        y="y",
        source=source,
        view=CDSView(
            filter=GroupFilter(column_name="cluster", group=str(cluster))
            & GroupFilter(column_name="origin", group=_TRAINING)
        ),
        size=size,
        fill_color=color,
        fill_alpha=0.75,
        line_color=None,
        # Search hits: opaque with a dark outline; the rest fades out.
        selection_fill_alpha=1.0,
        selection_line_color="#111111",
        selection_line_width=1.2,
        nonselection_fill_alpha=0.08,
        nonselection_line_alpha=0.0,
        name=label,
    )
    renderer.tags = [str(cluster)]  # what the hover mask and the filter key on
    return renderer


def _add_hover(
    plot: figure,
    source: ColumnDataSource,
    cluster_renderers: list[GlyphRenderer],
    legend_labels: Mapping[int, str],
    palette: list[str],
    size: float,
) -> None:
    """Hover through one invisible renderer over the visible clusters' points.

    BokehJS draws one tooltip per hovered renderer; where clusters overlap,
    per-cluster renderers would stack several half-transparent tooltips on top
    of each other. A single transparent "hover target" renderer gives one
    tooltip. Its ``BooleanFilter`` is kept in sync with the legend, so hidden
    clusters do not answer to hover.
    """
    visible = BooleanFilter(booleans=[True] * len(source.data["x"]))
    factors = [str(c) for c in range(len(palette))]
    target = plot.scatter(
        x="x",
        y="y",
        source=source,
        view=CDSView(filter=visible),
        size=size,
        fill_alpha=0.0,
        line_alpha=0.0,
        # Outline the point under the mouse so the tooltip's owner is clear.
        hover_fill_color=factor_cmap("cluster", palette, factors),
        hover_fill_alpha=1.0,
        hover_line_color="#111111",
        hover_line_alpha=1.0,  # the base glyph's line_alpha=0 would be inherited
        hover_line_width=1.5,
        name=HOVER_TARGET_NAME,
    )
    target.selection_glyph = None  # None = draw with the (transparent) glyph
    target.nonselection_glyph = None
    sync = CustomJS(
        args={"mask": visible, "source": source, "renderers": cluster_renderers},
        code=_SYNC_HOVER_JS,
    )
    for renderer in cluster_renderers:
        renderer.js_on_change("visible", sync)

    # Cluster id (as stored in the source) → legend label, read by the tooltip.
    label_of = [legend_labels.get(c, str(c)) for c in range(len(palette))]
    plot.add_tools(
        HoverTool(
            renderers=[target],
            tooltips=_TOOLTIP_TEMPLATE,
            formatters={
                "@cluster": CustomJSHover(
                    args={"labels": label_of},
                    code="return labels[Number(value)];",
                )
            },
            point_policy="snap_to_data",
            limit=3,  # dense regions: a few titles, not a screen-high tooltip
        )
    )


def _build_search(source: ColumnDataSource, width: int) -> tuple[TextInput, Div]:
    """Title search box and the status line that reports the number of hits."""
    search = TextInput(
        name=SEARCH_INPUT_NAME,
        title="Search titles",
        placeholder="e.g. love",
        width=320,
    )
    status = Div(
        name=SEARCH_STATUS_NAME,
        text=_SEARCH_IDLE_TEXT,
        render_as_text=True,  # the query is echoed back: keep it text
        disable_math=True,
        width=max(200, width - 360),
        styles={"padding-top": "26px", "color": "#444"},
    )
    search.js_on_change(
        "value_input",
        CustomJS(
            args={"source": source, "status": status, "idle_text": _SEARCH_IDLE_TEXT},
            code=_SEARCH_JS,
        ),
    )
    return search, status


def message_html(message: str, title: str) -> str:
    """A self-contained page that says why there is no explorer."""
    return file_html(
        Div(text=message, render_as_text=True, disable_math=True, name=PLOT_NAME),
        resources=INLINE,
        title=title,
    )


def explorer_html(layout: LayoutDOM, title: str) -> str:
    """Render the explorer as one self-contained HTML document.

    ``INLINE`` embeds BokehJS (core + widgets) in the page, so the file opens
    with no network access, at the cost of ~1-2 MB of JavaScript.

    Args:
        layout: The layout returned by :func:`build_explorer`.
        title: Text of the HTML ``<title>`` element (escaped by Bokeh).

    Returns:
        The complete HTML document as a string.
    """
    return file_html(layout, resources=INLINE, title=title)
