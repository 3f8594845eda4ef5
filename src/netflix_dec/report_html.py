"""The catalogue report as one self-contained HTML page.

Everything is drawn here from the report's tables as plain HTML and inline
SVG: heatmaps are tables whose cells carry their counts in a ``title``
(shown on hover), the shares over time are small multiples in SVG, the
hierarchy an SVG dendrogram from scipy's layout, and the map an SVG of the
points table's positions with each cluster's name written on it. The page has no script at all, and its Content Security
Policy forbids any (``default-src 'none'``): it loads nothing, runs nothing,
and opens from disk. Every text from the catalogue or the configuration goes
through :func:`esc`. No Kedro here.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from netflix_dec import report
from netflix_dec.points import label as cluster_label

SECTIONS = {
    "settings": "Input and settings",
    "clusters": "The clusters",
    "over-time": "Clusters over time",
    "per-class": "Clusters per country and rating",
    "relations": "How the clusters relate",
    "similar": "Similar titles",
    "map": "The map",
}
"""Section id → heading, in page order (the browser test finds each)."""

MOSTLY_EMPTY = 0.5
"""A column with fewer known values than this share is called mostly empty."""

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;
color:#1d1d1f;background:#fafafa}
header,section{max-width:1280px;margin:0 auto;padding:12px 24px}
h1{font-size:24px;margin:18px 0 4px}h2{font-size:19px;margin:22px 0 8px;
border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:6px 0}
nav a{margin-right:14px}.note{color:#555}.warn{background:#fff4d6;
border-left:4px solid #e0a800;padding:6px 10px;margin:8px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px}
.card{background:#fff;border:1px solid #ddd;border-left:6px solid var(--c);
border-radius:6px;padding:10px 12px}.card ul{margin:4px 0;padding-left:18px}
.muted{color:#777;font-size:12px}table.heat{border-collapse:collapse;font-size:11px}
table.heat td,table.heat th{border:1px solid #fff;padding:2px 4px;text-align:center;
min-width:26px}table.heat th{background:#eee;font-weight:600}
table.heat th.row{text-align:left;white-space:nowrap}tr.few th.row{color:#999;
font-style:italic}tr.few td{opacity:.55}.scroll{overflow:auto;max-height:620px}
.multiples{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));
gap:8px}.multiples figure{margin:0;background:#fff;border:1px solid #e4e4e4;
padding:4px}figcaption{font-size:12px}dl.settings{display:grid;
grid-template-columns:max-content 1fr;gap:2px 14px}dl.settings dt{font-weight:600}
dl.settings dd{margin:0;font-family:ui-monospace,monospace;font-size:12px;
word-break:break-all}table.list{border-collapse:collapse;font-size:12px}
table.list td,table.list th{border-bottom:1px solid #e4e4e4;padding:3px 8px;
text-align:left;vertical-align:top}svg.map{max-width:100%;height:auto}
.legend span{display:inline-block;margin-right:12px}
"""

BASIS_COLOURS = ("#1f5fa8", "#d4711c")


def esc(value: Any) -> str:
    """Text as HTML text or attribute value: ``<``, ``>``, ``&`` and quotes escaped."""
    return html.escape("" if value is None else str(value), quote=True)


def _pct(share: float, digits: int = 1) -> str:
    return f"{share:.{digits}%}" if np.isfinite(share) else "–"


def palette(n: int) -> list[str]:
    """The map's and explorer's colours, so a card matches its points."""
    from netflix_dec.palette import cluster_palette

    return cluster_palette(max(n, 1))


def coverage_note(column: str, info: Mapping[str, Any]) -> str:
    """What a panel stands on: how many titles have the column, said plainly."""
    if info["absent"]:
        return (
            f'<p class="warn">The catalogue has no <b>{esc(column)}</b> column: '
            f"this panel is empty for all {info['titles']:,} titles.</p>"
        )
    text = (
        f"<b>{esc(column)}</b> is known for {info['known']:,} of "
        f"{info['titles']:,} titles ({_pct(info['share_known'])}); "
        f"{info['missing']:,} without it are left out."
    )
    if info["share_known"] < MOSTLY_EMPTY:
        return f'<p class="warn">Mostly empty: {text}</p>'
    return f'<p class="note">{text}</p>'


def _shade(share: float) -> tuple[str, str]:
    """Background and text colour of a heatmap cell (white → deep blue)."""
    t = 0.0 if not np.isfinite(share) else min(1.0, max(0.0, share)) ** 0.6
    low, high = np.array([255, 255, 255]), np.array([8, 48, 107])
    r, g, b = (low + (high - low) * t).round().astype(int)
    return f"rgb({r},{g},{b})", "#fff" if t > 0.55 else "#111"


def heatmap_table(
    frame: pd.DataFrame,
    row: str,
    row_total: str,
    cluster_ids: list[int],
    names: Mapping[int, str],
    what: str,
    few: pd.Series | None = None,
) -> str:
    """A heatmap as an HTML table: a row per class, a column per cluster.

    Each cell shows the share (%) and, on hover, the count it stands on.
    """
    shares = frame.pivot_table(index=row, columns="cluster", values="share", sort=False)
    counts = frame.pivot_table(
        index=row, columns="cluster", values="titles", sort=False
    )
    totals = frame.drop_duplicates(row).set_index(row)[row_total]
    head = "".join(
        f'<th title="{esc(cluster_label(c, names.get(c)))}">{c}</th>'
        for c in cluster_ids
    )
    body = []
    for key in shares.index:
        marked = few is not None and bool(few.get(key, False))
        cells = []
        for c in cluster_ids:
            share = float(shares.at[key, c]) if c in shares.columns else 0.0
            count = int(counts.at[key, c]) if c in counts.columns else 0
            background, colour = _shade(share)
            tip = (
                f"{cluster_label(c, names.get(c))} — {what} {key}: {count:,} of "
                f"{int(totals[key]):,} titles ({_pct(share)})"
            )
            cells.append(
                f'<td style="background:{background};color:{colour}" '
                f'title="{esc(tip)}">{round(share * 100) if count else ""}</td>'
            )
        label = f"{key} ({int(totals[key]):,}{', few' if marked else ''})"
        body.append(
            f'<tr class="{"few" if marked else ""}"><th class="row">{esc(label)}</th>'
            f"{''.join(cells)}</tr>"
        )
    return (
        f'<div class="scroll"><table class="heat"><thead><tr><th>{esc(what)} '
        f"(titles) \\ cluster</th>{head}</tr></thead><tbody>{''.join(body)}"
        "</tbody></table></div>"
    )


def sparkline(
    series: Iterable[tuple[pd.DataFrame, str]],
    width: int = 240,
    height: int = 60,
    years: tuple[int, int] | None = None,
    top: float | None = None,
) -> str:
    """An inline SVG line of shares over years; faint hollow dots mark few-title years.

    Only numbers go into the SVG; its caption is written by the caller.
    """
    pad = 4
    frames = [(f, colour) for f, colour in series if not f.empty]
    if not frames:
        return '<span class="muted">no years known</span>'
    low = years[0] if years else min(int(f["year"].min()) for f, _ in frames)
    high = years[1] if years else max(int(f["year"].max()) for f, _ in frames)
    peak = top or max(float(f["share"].max()) for f, _ in frames) or 1.0

    def x(year: float) -> float:
        return pad + (year - low) / max(high - low, 1) * (width - 2 * pad)

    def y(share: float) -> float:  # shares above ``top`` (few titles) are clipped
        return height - pad - min(share / peak, 1.0) * (height - 2 * pad)

    parts = []
    for frame, colour in frames:
        solid = frame.loc[~frame["few"].astype(bool)]
        points = " ".join(
            f"{x(a):.1f},{y(b):.1f}"
            for a, b in zip(frame["year"], frame["share"], strict=False)
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" '
            'stroke-opacity="0.3" stroke-width="1"/>'
        )
        for run in _runs(solid["year"].to_numpy(), solid["share"].to_numpy()):
            line = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in run)
            parts.append(
                f'<polyline points="{line}" fill="none" stroke="{colour}" '
                'stroke-width="1.6"/>'
            )
        few = frame.loc[frame["few"].astype(bool)]
        parts.extend(
            f'<circle cx="{x(a):.1f}" cy="{y(b):.1f}" r="1.8" fill="none" '
            f'stroke="{colour}" stroke-opacity="0.6"/>'
            for a, b in zip(few["year"], few["share"], strict=False)
        )
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img"><rect width="{width}" height="{height}" fill="#fbfbfb"/>'
        f"{''.join(parts)}</svg>"
    )


def _runs(years: np.ndarray, shares: np.ndarray) -> list[list[tuple[float, float]]]:
    """Consecutive-year stretches, so a line does not bridge a gap of few years."""
    runs: list[list[tuple[float, float]]] = []
    for year, share in zip(years, shares, strict=False):
        if runs and year == runs[-1][-1][0] + 1:
            runs[-1].append((year, share))
        else:
            runs.append([(year, share)])
    return runs


def _settings(settings: Mapping[str, Any]) -> str:
    rows = [
        ("Input", settings["input"]),
        ("Clustered titles", f"{settings['titles']:,}"),
    ]
    for group in ("encoding", "dec_clustering", "visualization", "reporting"):
        values = settings.get(group) or {}
        rows.append((group, json.dumps(values, ensure_ascii=False, sort_keys=True)))
    body = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows)
    return f'<dl class="settings">{body}</dl>'


def _cards(
    summary: Mapping[str, Any],
    names: Mapping[int, str],
    colours: list[str],
    per_year: pd.DataFrame,
    basis: str | None,
    change: Mapping[int, float],
    since: int | None,
    examples: int,
) -> str:
    total = sum(int(item.get("size", 0)) for item in summary["clusters"]) or 1
    frame = per_year.loc[per_year["basis"] == basis] if basis else per_year.iloc[:0]
    enough = frame.loc[~frame["few"].astype(bool)]
    if len(enough):  # years before the first with enough titles are not drawn
        frame = frame.loc[frame["year"] >= enough["year"].min()]
    years = (int(frame["year"].min()), int(frame["year"].max())) if len(frame) else None
    cards = []
    for item in summary["clusters"]:
        c = int(item["cluster"])
        words = ", ".join(item.get("top_words") or []) or "—"
        genres = "".join(
            f"<li>{esc(g)} <span class='muted'>({int(n):,})</span></li>"
            for g, n in (item.get("top_genres") or {}).items()
        )
        titles = "".join(
            f"<li>{esc(t)}</li>" for t in (item.get("examples") or [])[:examples]
        )
        own = frame.loc[frame["cluster"] == c]
        solid = own.loc[~own["few"].astype(bool), "share"]
        top = float(solid.max()) if len(solid) and solid.max() > 0 else None
        line = sparkline([(own, "#333")], years=years, top=top)
        moved = ""
        if c in change and since is not None:
            moved = f"{change[c] * 100:+.1f} share points after {since}"
        cards.append(
            f'<div class="card" style="--c:{colours[c % len(colours)]}" '
            f'id="cluster-{c}"><h3>{esc(cluster_label(c, names.get(c)))}</h3>'
            f"<div>{int(item.get('size', 0)):,} titles "
            f"({_pct(int(item.get('size', 0)) / total)})</div>"
            f"<div><b>Distinctive words:</b> {esc(words)}</div>"
            f"<div><b>Top genres:</b><ul>{genres or '<li>—</li>'}</ul></div>"
            f"<div><b>Examples:</b><ul>{titles or '<li>—</li>'}</ul></div>"
            f"<div class='muted'>Share of the titles of each "
            f"{esc(basis.replace('_', ' ') if basis else 'year')}"
            f"{esc(f' ({years[0]}–{years[1]})') if years else ''}:</div>{line}"
            f"<div class='muted'>{esc(moved)}</div></div>"
        )
    return f'<div class="cards">{"".join(cards)}</div>'


def _over_time(
    per_year: pd.DataFrame,
    bases: Mapping[str, str],
    coverage: Mapping[str, Mapping[str, Any]],
    names: Mapping[int, str],
    cluster_ids: list[int],
    growth: pd.DataFrame,
    since: int | None,
    growth_basis: str = "year added",
) -> str:
    parts = [coverage_note(column, coverage[column]) for column in bases]
    legend = "".join(
        f'<span style="color:{colour}">━ {esc(text)}</span>'
        for colour, text in zip(BASIS_COLOURS, bases.values(), strict=False)
    )
    if not growth.empty and since is not None:
        top, bottom = growth.iloc[0], growth.iloc[-1]
        parts.append(
            f"<p>By {esc(growth_basis)}, of the titles after {since} the largest "
            "gain in share is "
            f"<b>{esc(cluster_label(int(top['cluster']), top['name']))}</b> "
            f"({_pct(top['before'])} up to {since} → {_pct(top['after'])} after); "
            f"the largest loss "
            f"<b>{esc(cluster_label(int(bottom['cluster']), bottom['name']))}</b> "
            f"({_pct(bottom['before'])} → {_pct(bottom['after'])}).</p>"
        )
    figures = []
    enough = per_year.loc[~per_year["few"].astype(bool)]
    shown = enough if len(enough) else per_year
    first = int(shown["year"].min()) if len(shown) else 0
    early = per_year.loc[per_year["year"] < first].drop_duplicates(["basis", "year"])
    if len(early):
        parts.append(
            f'<p class="note">Before {first} every year has fewer than '
            f"{int(early['year_titles'].max()) + 1} titles "
            f"({int(early['year_titles'].sum()):,} in all, by year added or released):"
            " drawn in the tables below, not in the panels.</p>"
        )
    span = (first, int(per_year["year"].max())) if len(shown) else None
    frames = {
        key: f
        for key, f in per_year.loc[per_year["year"] >= first].groupby(
            ["basis", "cluster"]
        )
    }
    for c in cluster_ids:
        series = [
            (frames.get((basis, c), per_year.iloc[:0]), colour)
            for basis, colour in zip(bases, BASIS_COLOURS, strict=False)
        ]
        solid = [f.loc[~f["few"].astype(bool), "share"] for f, _ in series]
        peak = max([float(v.max()) for v in solid if len(v)] or [1.0]) or 1.0
        line = sparkline(series, width=232, height=70, years=span, top=peak)
        figures.append(
            f"<figure>{line}<figcaption>"
            f"{esc(cluster_label(c, names.get(c)))} "
            f"<span class='muted'>(top {_pct(peak, 0)})</span></figcaption></figure>"
        )
    parts.append(
        f'<p class="legend">{legend} <span class="muted">faint line, hollow dots: '
        "years with few titles; each panel on its own scale, its top the highest "
        "share of a year with enough titles</span></p>"
        f'<div class="multiples">{"".join(figures)}</div>'
    )
    for basis, text in bases.items():
        frame = per_year.loc[per_year["basis"] == basis]
        if frame.empty:
            continue
        few = frame.drop_duplicates("year").set_index("year")["few"].astype(bool)
        parts.append(
            f"<details><summary>Table: share (%) of each {esc(text)}'s titles per "
            "cluster (hover a cell for its count)</summary>"
            + heatmap_table(frame, "year", "year_titles", cluster_ids, names, text, few)
            + "</details>"
        )
    return "".join(parts)


def _per_class(
    per_class: pd.DataFrame,
    coverage: Mapping[str, Mapping[str, Any]],
    names: Mapping[int, str],
    cluster_ids: list[int],
) -> str:
    parts = []
    for facet in ("country", "rating"):
        frame = per_class.loc[per_class["facet"] == facet]
        parts.append(f"<h3>Cluster × {esc(facet)}</h3>")
        parts.append(coverage_note(facet, coverage[facet]))
        if frame.empty:
            continue
        parts.append(
            f'<p class="note">Each row: where the titles of one {esc(facet)} go '
            "(shares in %, the row sums to 100; hover a cell for its count)."
            + (
                f" A title listing several {esc(facet)} values counts for each."
                if facet == "country"
                else ""
            )
            + "</p>"
        )
        parts.append(
            heatmap_table(frame, "class", "class_titles", cluster_ids, names, facet)
        )
    return "".join(parts)


def dendrogram_svg(relations: Mapping[str, Any], width: int = 760) -> str:
    """The hierarchy as inline SVG, from scipy's dendrogram layout."""
    from scipy.cluster.hierarchy import dendrogram

    ids, labels = relations["clusters"], relations["names"]
    if len(ids) < 2:
        return '<p class="note">One cluster only: no hierarchy to draw.</p>'
    layout = dendrogram(np.asarray(relations["linkage"]), no_plot=True)
    leaves = layout["leaves"]
    row, label_width, pad = 20, 330, 10
    height = row * len(leaves) + 2 * pad
    top = max(max(d) for d in layout["dcoord"]) or 1.0

    def x(distance: float) -> float:
        return label_width + distance / top * (width - label_width - 2 * pad)

    def y(position: float) -> float:  # leaves sit at 5, 15, 25, ... in scipy
        return pad + (position - 5) / 10 * row + row / 2

    lines = [
        '<polyline fill="none" stroke="#555" stroke-width="1.2" points="'
        + " ".join(f"{x(d):.1f},{y(i):.1f}" for i, d in zip(ic, dc, strict=False))
        + '"/>'
        for ic, dc in zip(layout["icoord"], layout["dcoord"], strict=False)
    ]
    names = [
        f'<text x="{label_width - 6}" y="{y(5 + 10 * k) + 4:.1f}" '
        f'text-anchor="end" font-size="12">'
        f"{esc(cluster_label(ids[leaf], labels[leaf]))[:60]}</text>"
        for k, leaf in enumerate(leaves)
    ]
    axis = (
        f'<text x="{x(top):.1f}" y="{height - 1}" font-size="10" text-anchor="end" '
        f'fill="#777">cosine distance {top:.2f}</text>'
    )
    return (
        f'<svg width="{width}" height="{height + 8}" role="img">'
        f"{''.join(lines)}{''.join(names)}{axis}</svg>"
    )


def _relations(relations: Mapping[str, Any], names: Mapping[int, str]) -> str:
    ids, order = relations["clusters"], relations["order"]
    parts = [
        '<p class="note">Clusters joined by the average cosine distance of their '
        "centroids in the clustering space (scipy linkage): neighbours in the tree "
        "are close relatives.</p>",
        dendrogram_svg(relations),
    ]
    if len(ids) >= 2:
        similarity = np.asarray(relations["similarity"])
        off = similarity[~np.eye(len(ids), dtype=bool)]
        low, high = float(off.min()), max(float(off.max()), float(off.min()) + 1e-9)
        ordered = [ids[i] for i in order]
        rows = []
        for i in order:
            cells = []
            for j in order:
                value = float(similarity[i, j])
                background, colour = _shade((value - low) / (high - low))
                tip = (
                    f"{cluster_label(ids[i], names.get(ids[i]))} ↔ "
                    f"{cluster_label(ids[j], names.get(ids[j]))}: cosine {value:.2f}"
                )
                cells.append(
                    f'<td style="background:{background};color:{colour}" '
                    f'title="{esc(tip)}">{value:.1f}</td>'
                )
            rows.append(
                f'<tr><th class="row">{esc(cluster_label(ids[i], names.get(ids[i])))}'
                f"</th>{''.join(cells)}</tr>"
            )
        head = "".join(f"<th>{c}</th>" for c in ordered)
        parts.append(
            "<h3>Centroid similarity (cosine, in the dendrogram's order)</h3>"
            f'<div class="scroll"><table class="heat"><thead><tr><th></th>{head}'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        )
    return "".join(parts)


def _similar(similar: pd.DataFrame, summary: Mapping[str, Any], examples: int) -> str:
    if similar.empty:
        return '<p class="note">Too few titles to list similar ones.</p>'
    searched, k = int(similar["show_id"].nunique()), int(similar["rank"].max())
    wanted = {t for item in summary["clusters"] for t in (item.get("examples") or [])}
    similar = similar.loc[similar["title"].isin(wanted)]
    by_title = {t: f for t, f in similar.groupby("title", sort=False)}
    rows = []
    for item in summary["clusters"]:
        for title in (item.get("examples") or [])[: max(1, examples // 2)]:
            frame = by_title.get(title)
            if frame is None:
                continue
            listed = "".join(
                f"<li>{esc(r.similar_title)} <span class='muted'>(cluster "
                f"{int(r.similar_cluster)}, {float(r.similarity):.2f})</span></li>"
                for r in frame.sort_values("rank").itertuples()
            )
            rows.append(
                f"<tr><td>{esc(title)}</td><td>{int(item['cluster'])}</td>"
                f"<td><ol>{listed}</ol></td></tr>"
            )
    total = sum(int(item.get("size", 0)) for item in summary["clusters"])
    whose = (
        "Every title's"
        if searched >= total
        else f"For {searched:,} of the {total:,} titles (those the explorer shows and "
        "the examples; reporting.similar_titles_max_titles), the"
    )
    return (
        f'<p class="note">{whose} {k} most similar titles (cosine on the '
        "features) are in <code>similar_titles.csv</code>; the explorer lists them "
        "when a point is clicked. Here: those of each cluster's example titles.</p>"
        '<div class="scroll"><table class="list"><thead><tr><th>Title</th>'
        "<th>Cluster</th><th>Most similar titles (cluster, cosine)</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def map_svg(
    frame: pd.DataFrame,
    names: Mapping[int, str],
    colours: list[str],
    width: int = 960,
    height: int = 680,
) -> str:
    """The t-SNE map as inline SVG: a dot per title, each cluster's name on it.

    Drawn from the points table (the map's and the explorer's input), so it
    is the same picture; names sit where :func:`netflix_dec.points.
    label_positions` puts them on the PNG map.
    """
    from netflix_dec.points import label_positions, short_name

    placed = frame.dropna(subset=["x", "y"])
    if placed.empty:
        return '<p class="warn">No map: the titles could not be projected.</p>'
    pad = 12
    xy = placed[["x", "y"]].to_numpy(dtype=float)
    low, span = xy.min(axis=0), np.maximum(np.ptp(xy, axis=0), 1e-9)
    scale = min((width - 2 * pad) / span[0], (height - 2 * pad) / span[1])

    def screen(points: np.ndarray) -> np.ndarray:
        out = (points - low) * scale + pad
        out[..., 1] = height - out[..., 1]
        return out

    at = screen(xy)
    clusters = placed["cluster"].astype(int).to_numpy()
    dots = []
    for c in np.unique(clusters):
        rows = at[clusters == c]
        circles = "".join(
            f'<circle cx="{a:.1f}" cy="{b:.1f}" r="1.9"/>' for a, b in rows
        )
        dots.append(
            f'<g fill="{colours[c % len(colours)]}" fill-opacity="0.75">{circles}</g>'
        )
    texts = []
    for c, position in label_positions(placed).items():
        a, b = screen(np.array(position, dtype=float))
        texts.append(
            f'<text x="{a:.1f}" y="{b:.1f}" text-anchor="middle" font-size="12" '
            'font-weight="bold" fill="#222" stroke="#fff" stroke-width="3" '
            'stroke-opacity="0.85" paint-order="stroke">'
            f"{esc(short_name(c, names.get(c)))}</text>"
        )
    return (
        f'<svg class="map" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="t-SNE map">'
        f'<rect width="{width}" height="{height}" fill="#fff"/>'
        f"{''.join(dots)}{''.join(texts)}</svg>"
    )


def catalogue_report(
    *,
    settings: Mapping[str, Any],
    summary: Mapping[str, Any],
    coverage: Mapping[str, Mapping[str, Any]],
    shares_per_year: pd.DataFrame,
    shares_per_class: pd.DataFrame,
    relations: Mapping[str, Any],
    similar_titles: pd.DataFrame,
    points: pd.DataFrame,
    map_caption: str,
    year_bases: Mapping[str, str],
    params: Any,
) -> str:
    """The report page: settings, cluster cards, every view and the map.

    Args:
        settings: ``input``, ``titles`` and the parameter groups to show.
        summary: The clustering's ``cluster_summary``.
        coverage: Column → :func:`netflix_dec.report.coverage`.
        shares_per_year: The ``cluster_shares_per_year`` table.
        shares_per_class: The ``cluster_shares_per_class`` table.
        relations: The ``cluster_relations`` record.
        similar_titles: The ``similar_titles`` table.
        points: The points table's rows (the map's positions and clusters).
        map_caption: What the map shows (the map's own title).
        year_bases: Year column → its name in the page, in order.
        params: The reporting parameters (``growth_since``, ``examples``).

    Returns:
        The HTML document.
    """
    from netflix_dec.naming import cluster_names

    names = cluster_names(summary)
    cluster_ids = sorted(
        {*names, *shares_per_year["cluster"].astype(int).unique().tolist()}
    )
    colours = palette(max(cluster_ids, default=0) + 1)
    basis = next(
        (b for b in year_bases if coverage[b]["share_known"] >= MOSTLY_EMPTY),
        next((b for b in year_bases if coverage[b]["known"]), None),
    )
    dated = shares_per_year.loc[shares_per_year["basis"] == basis]
    since = params.growth_since
    if since is None and len(dated):
        per_year = dated.drop_duplicates("year")
        cumulative = per_year["year_titles"].cumsum() / per_year["year_titles"].sum()
        since = int(per_year["year"].to_numpy()[np.searchsorted(cumulative, 0.5)])
    growth = report.growth(dated, since) if since is not None else dated.iloc[:0]
    change = dict(
        zip(growth.get("cluster", []), growth.get("change", []), strict=False)
    )
    total = settings["titles"]
    sections = {
        "settings": _settings(settings),
        "clusters": (
            f'<p class="note">{len(summary["clusters"])} clusters of {total:,} '
            "titles; each card's line is the cluster's share of the titles of each "
            f"{esc((basis or 'year').replace('_', ' '))}.</p>"
            + _cards(
                summary,
                names,
                colours,
                shares_per_year,
                basis,
                change,
                since if basis else None,
                params.examples,
            )
        ),
        "over-time": _over_time(
            shares_per_year,
            year_bases,
            coverage,
            names,
            cluster_ids,
            growth if basis else growth.iloc[:0],
            since,
            year_bases.get(basis, "year"),
        ),
        "per-class": _per_class(shares_per_class, coverage, names, cluster_ids),
        "relations": _relations(relations, names),
        "similar": _similar(similar_titles, summary, params.examples),
        "map": (
            f'<p class="note">{esc(map_caption)}</p>'
            + map_svg(points, names, colours)
            + '<p class="note">Each cluster\'s name is written where its titles lie. '
            "The interactive version is <code>cluster_explorer.html</code>.</p>"
        ),
    }
    nav = "".join(f'<a href="#{key}">{esc(text)}</a>' for key, text in SECTIONS.items())
    body = "".join(
        f'<section id="{key}"><h2>{esc(SECTIONS[key])}</h2>{content}</section>'
        for key, content in sections.items()
    )
    title = (
        f"Catalogue report — {total:,} titles in {len(summary['clusters'])} clusters"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>{esc(title)}</h1><p class='note'>{esc(settings['input'])}</p>"
        f"<nav>{nav}</nav></header>{body}</body></html>"
    )
