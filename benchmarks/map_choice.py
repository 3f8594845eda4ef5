"""Issue 22: the map, t-SNE of the clustering space against 2-d UMAP of its graph.

Deliver 4 of issue 22 lets the map use the new space in 2-d if it looks as
good. This puts the two side by side on a default run of the real file. One
is the map ``build_points`` draws: openTSNE of DEC's embeddings, which are
positions in the 5-d UMAP space. The others are UMAP layouts in 2-d of the
same neighbour graph (`space.fit_umap` with the run's settings and words, 2
components). Each map is scored four ways:

- how many of each title's 15 nearest titles by its sentence features are
  among its 15 nearest on the map (what the descriptions say);
- how many of its 15 map neighbours share its weak genre
  (:func:`netflix_dec.evaluation.weak_genre_labels`);
- how many share its cluster (the map shows the clustering);
- the silhouette of the clusters on the map.

A picture of the maps goes to ``results/map_choice.png``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import REAL_CSV, RESULTS, WORK, kedro_run, save, shown
from tests.support import scratch_project

RESULT = "map_choice"
NEEDS_REAL_CSV = True
NEIGHBOURS = 15
TODAY = "t-SNE of DEC's embeddings (the map build_points draws)"
FIGURE = RESULTS / "map_choice.png"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project",
        default=None,
        help="a project folder after a default run of the real file (default: "
        "one is made under benchmarks/.work/map-choice)",
    )


def _default_run() -> Path:
    root = WORK / "map-choice"
    if not (root / "data/07_model_output/dec_embeddings.npy").exists():
        scratch_project(root)
        kedro_run(
            root, REAL_CSV, "--pipelines", "data_processing,encoding,dec_clustering"
        )
    return root


def _scores(positions: np.ndarray, truth: dict[str, np.ndarray]) -> dict[str, float]:
    from sklearn.metrics import silhouette_score
    from sklearn.neighbors import NearestNeighbors

    near = NearestNeighbors(n_neighbors=NEIGHBOURS + 1).fit(positions)
    on_map = near.kneighbors(positions, return_distance=False)[:, 1:]
    kept = (on_map[:, :, None] == truth["neighbours"][:, None, :]).any(axis=2)
    return {
        "features_neighbours_kept": round(float(kept.mean()), 4),
        "same_genre": round(
            float(np.mean(truth["genre"][on_map] == truth["genre"][:, None])), 4
        ),
        "same_cluster": round(
            float(np.mean(truth["cluster"][on_map] == truth["cluster"][:, None])), 4
        ),
        "silhouette": round(float(silhouette_score(positions, truth["cluster"])), 4),
    }


def run(args: argparse.Namespace) -> None:
    """Every map of the same run, timed in this process, scored the same way."""
    import pandas as pd
    from sklearn.neighbors import NearestNeighbors

    from benchmarks.quality import _parameters
    from netflix_dec import projection, space
    from netflix_dec.datasets import NumpyDataset
    from netflix_dec.evaluation import weak_genre_labels
    from netflix_dec.params import EncodingParams, VisualizationParams
    from netflix_dec.pipelines.encoding.nodes import umap_settings

    root = Path(args.project) if args.project else _default_run()
    data = root / "data"
    titles = pd.read_csv(data / "03_primary/clean_titles.csv")
    clusters = pd.read_csv(data / "07_model_output/clusters.csv")
    features = space.unit_rows(
        NumpyDataset(filepath=str(data / "04_feature/features.npz")).load()
    )
    dec_space = np.load(data / "07_model_output/dec_embeddings.npy").astype(np.float64)
    if not (len(titles) == len(clusters) == len(features) == len(dec_space)):
        raise ValueError(f"{root}: titles, clusters and features differ in length")
    parameters = _parameters()
    encoding = EncodingParams.model_validate(parameters["encoding"])
    shown_map = VisualizationParams.model_validate(parameters["visualization"])
    truth = {
        "neighbours": NearestNeighbors(n_neighbors=NEIGHBOURS + 1, metric="cosine")
        .fit(features)
        .kneighbors(features, return_distance=False)[:, 1:],
        "genre": weak_genre_labels(titles["listed_in"]).to_numpy(),
        "cluster": clusters["cluster"].to_numpy(),
    }
    words = space.word_rows(titles["description"].fillna("").tolist())
    graph = umap_settings(encoding, len(features), words is not None)

    def umap_2d(epochs: int, min_dist: float) -> Callable[[], np.ndarray]:
        settings = {
            **graph,
            "n_components": 2,
            "n_epochs": epochs,
            "min_dist": min_dist,
        }
        return lambda: space.fit_umap(features, words=words, **settings)

    def tsne(max_iter: int) -> Callable[[], np.ndarray]:
        return lambda: projection.map_of(
            dec_space, shown_map.perplexity, max_iter, shown_map.seed
        )[0]

    maps = {
        TODAY: tsne(shown_map.max_iter),
        f"the same, max_iter {shown_map.max_iter * 7 // 10}": tsne(
            shown_map.max_iter * 7 // 10
        ),
        f"UMAP 2-d of the clustering graph ({graph['n_neighbors']} neighbours, "
        f"words {graph['word_weight']}), min_dist 0, 500 epochs": umap_2d(500, 0.0),
        "the same, min_dist 0.1 (umap-learn's default)": umap_2d(500, 0.1),
        "the same, min_dist 0, 200 epochs": umap_2d(200, 0.0),
    }
    projection.fit(dec_space[:500], 30, 50, 0)  # first-call imports, before any timing
    rows, positions = [], {}
    for name, make in maps.items():
        wall, cpu = time.perf_counter(), time.process_time()
        positions[name] = np.asarray(make(), dtype=np.float64)
        rows.append(
            {
                "map": name,
                "wall_seconds": round(time.perf_counter() - wall, 2),
                "cpu_seconds": round(time.process_time() - cpu, 2),
                **_scores(positions[name], truth),
            }
        )
        print(rows[-1], flush=True)
    _figure(positions, truth["cluster"])
    save(
        RESULT,
        {
            "project": shown(root),
            "titles": len(features),
            "neighbours": NEIGHBOURS,
            "rows": rows,
            "figure": shown(FIGURE),
        },
    )


def _figure(positions: dict[str, np.ndarray], clusters: np.ndarray) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = 3
    count = len(positions)
    figure, axes = plt.subplots(
        -(-count // columns), columns, figsize=(5 * columns, 5 * -(-count // columns))
    )
    for axis in axes.ravel()[count:]:
        axis.axis("off")
    for number, (axis, (name, xy)) in enumerate(
        zip(axes.ravel(), positions.items(), strict=False), start=1
    ):
        axis.scatter(xy[:, 0], xy[:, 1], c=clusters, cmap="tab20", s=1.5)
        short = name if len(name) < 50 else name[:47] + "..."
        axis.set_title(f"{number}. {short}", fontsize=8)
        axis.set_xticks([])
        axis.set_yticks([])
    figure.tight_layout()
    figure.savefig(FIGURE, dpi=55)
    plt.close(figure)


def section(d: dict[str, Any]) -> list[str]:
    k = d["neighbours"]
    return [
        f"## The map: t-SNE of the clustering space or 2-d UMAP ({d['machine']['date']}, issue 22)",
        "",
        f"`python benchmarks/run.py map-choice`, {d['titles']:,} movies of a default run "
        f"of the real file ({d['project']}); each map's {k} nearest titles on the map "
        f"against each title's {k} nearest by its sentence features, its weak genre "
        f"and its cluster; the picture is [{Path(d['figure']).name}]({Path(d['figure']).name}), "
        "coloured by cluster, numbered as the rows.",
        "",
        f"| map | wall s | CPU s | {k}-NN of the features kept | {k}-NN of the same genre | "
        f"{k}-NN in the own cluster | silhouette of the clusters |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *[
            f"| {number}. {r['map']} | {r['wall_seconds']} | {r['cpu_seconds']} | "
            f"{r['features_neighbours_kept']} | {r['same_genre']} | "
            f"{r['same_cluster']} | {r['silhouette']} |"
            for number, r in enumerate(d["rows"], start=1)
        ],
        "",
    ]
