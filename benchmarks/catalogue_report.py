"""What the catalogue report adds to a default run, node by node, saves included.

Reads the outputs of a default `kedro run` in the working tree (run it first on
the real file) and times each node the report adds, with its output written as
its dataset writes it (PNGs at the catalogue's 110 dpi, CSVs), in one process
after a warm-up. Each round also times the map node (``plot_cluster_map`` and
its PNG), which the report does not change, as a gauge of the machine's load:
the rounds alternate the two, so both see the same load.

    python -m benchmarks.catalogue_report [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from typing import Any

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from tests.support import ROOT


def _png(figure: Any) -> None:
    from netflix_dec.lazy import pyplot

    figure.savefig(io.BytesIO(), format="png", dpi=110)
    pyplot().close(figure)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    bootstrap_project(ROOT)
    with KedroSession.create(project_path=ROOT) as session:
        context = session.load_context()
        catalog, params = context.catalog, context.params
        load = {
            name: catalog.load(name)
            for name in (
                "clean_titles",
                "clusters",
                "cluster_summary",
                "features",
                "dec_embeddings",
                "points",
            )
        }
    from netflix_dec.pipelines.reporting import nodes
    from netflix_dec.pipelines.visualization.nodes import (
        build_explorer_html,
        plot_cluster_map,
    )

    reporting = params["reporting"]  # validated: Kedro gives the models
    titles, clusters, summary = (
        load["clean_titles"],
        load["clusters"],
        load["cluster_summary"],
    )
    out: dict[str, Any] = {}

    def similar() -> None:
        out["similar"] = nodes.find_similar_titles(
            clusters, load["features"], reporting
        )
        out["similar"].to_csv(io.StringIO(), index=False)

    def per_year() -> None:
        out["year"] = nodes.cluster_shares_per_year(
            titles, clusters, summary, reporting
        )
        out["year"].to_csv(io.StringIO(), index=False)

    def per_class() -> None:
        out["class"] = nodes.cluster_shares_per_class(
            titles, clusters, summary, reporting
        )
        out["class"].to_csv(io.StringIO(), index=False)

    def relations() -> None:
        out["relations"] = nodes.relate_clusters(
            clusters, load["dec_embeddings"], summary
        )

    def html() -> None:
        nodes.build_catalogue_report(
            titles,
            summary,
            out["year"],
            out["class"],
            out["relations"],
            out["similar"],
            load["points"],
            reporting,
            params["encoding"],
            params["dec_clustering"],
            params["visualization"],
        )

    steps = {
        "find_similar_titles": similar,
        "cluster_shares_per_year": per_year,
        "cluster_shares_per_class": per_class,
        "relate_clusters": relations,
        "plot_shares_per_year": lambda: _png(nodes.plot_shares_per_year(out["year"])),
        "plot_shares_per_class": lambda: _png(
            nodes.plot_shares_per_class(out["class"])
        ),
        "plot_cluster_relations": lambda: _png(
            nodes.plot_cluster_relations(out["relations"])
        ),
        "build_catalogue_report": html,
        "explorer, similar titles listed": lambda: build_explorer_html(
            load["points"], out["similar"]
        ),
        "explorer, as before": lambda: build_explorer_html(load["points"]),
        "gauge: plot_cluster_map + PNG": lambda: _png(plot_cluster_map(load["points"])),
    }
    load_before = f"{os.getloadavg()[0]:.1f}"
    seconds: dict[str, list[float]] = {name: [] for name in steps}
    cpu: dict[str, list[float]] = {name: [] for name in steps}
    for round_ in range(rounds + 1):  # round 0 warms imports and caches up
        for name, step in steps.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            step()
            if round_:
                seconds[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
    print(f"load average before/after: {load_before} / {os.getloadavg()[0]:.1f}")
    print(f"{'step':34s} {'wall s':>7s} {'CPU s':>7s}  (wall of each round)")
    added = {"wall": 0.0, "cpu": 0.0}
    for name in steps:
        wall, used = statistics.median(seconds[name]), statistics.median(cpu[name])
        rounds_text = ", ".join(f"{v:.2f}" for v in seconds[name])
        print(f"{name:34s} {wall:7.2f} {used:7.2f}  ({rounds_text})")
        sign = {"explorer, as before": -1, "gauge: plot_cluster_map + PNG": 0}.get(
            name, 1
        )
        added["wall"] += sign * wall
        added["cpu"] += sign * used
    print(
        f"{'the report adds':34s} {added['wall']:7.2f} {added['cpu']:7.2f}"
        "  (the explorer counted as its difference)"
    )


if __name__ == "__main__":
    main()
