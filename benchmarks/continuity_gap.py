"""Continuity gap: where a grown retrain's NMI gap comes from, and what moving costs (issue 23)."""

from __future__ import annotations

import argparse
import statistics
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.continuity import SHARE
from benchmarks.harness import REAL_CSV, WORK, kedro_run, load, save
from tests.support import scratch_project

RESULT = "continuity_gap"
NEEDS_REAL_CSV = True
SEEDS = (0, 1, 2)
LAYOUT_SEED = 42  # encoding.seed's default: what the continuity benchmark runs
REFINE = ((10, 0.1), (30, 0.05), (50, 0.1), (100, 0.3))
"""(epochs, initial learning rate) of UMAP's optimiser over every title."""
NOISE = 1e-7
"""Standard deviation of the perturbation of the features (the noise control)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--share", type=float, default=SHARE)
    parser.add_argument(
        "--reuse-features",
        action="store_true",
        help="use the features of a previous run of this benchmark",
    )
    parser.add_argument(
        "--add",
        choices=("noise", "place"),
        help="only add this measurement to the saved rows",
    )


def refine_layout(
    rows: np.ndarray,
    positions: np.ndarray,
    *,
    n_neighbors: int,
    metric: str,
    min_dist: float,
    n_epochs: int,
    learning_rate: float,
    seed: int,
) -> np.ndarray:
    """Epochs of UMAP's own fit over every title, from the given positions.

    The previous layout was optimised for the previous catalogue's neighbour
    graph; the grown catalogue's graph has new edges (new titles among the
    old titles' neighbours). Running UMAP's optimiser over the whole current
    graph, starting from the followed positions (unlike ``UMAP(init=...)``,
    which rescales each dimension to [0, 10] and runs from a full learning
    rate), lets every title move a little towards the current graph's
    layout while the map stays the same one. An experiment, not the pipeline's:
    it moved more titles out of their cluster than continuity allows (see
    :func:`section`).

    Args:
        rows: Every title's unit-length features.
        positions: Every title's start position.
        n_neighbors: As the layout's fit (UMAP's ``n_neighbors``).
        metric: Of the neighbour search.
        min_dist: As the layout's fit.
        n_epochs: Passes over the graph's edges (0: positions unchanged).
        learning_rate: UMAP's initial learning rate (its fit's is 1.0); it
            decays linearly to 0 over the epochs.
        seed: Of the edge and negative sampling.

    Returns:
        The refined positions (a copy).
    """
    from umap.layouts import optimize_layout_euclidean
    from umap.umap_ import find_ab_params, fuzzy_simplicial_set, make_epochs_per_sample

    from netflix_dec.space import _cache_umap_kernels, exact_neighbours

    layout = np.array(positions, dtype=np.float32, order="C")
    if n_epochs <= 0 or learning_rate <= 0 or len(rows) < 3:
        return layout
    _cache_umap_kernels()
    k = min(n_neighbors, len(rows) - 1)
    indices, distances = exact_neighbours(rows, k, metric)
    random_state = np.random.RandomState(seed)
    graph, _, _ = fuzzy_simplicial_set(
        rows, k, random_state, metric, knn_indices=indices, knn_dists=distances
    )
    graph = graph.tocoo()
    graph.sum_duplicates()
    # As UMAP's fit: edges too weak to be sampled once over the epochs are dropped.
    graph.data[graph.data < graph.data.max() / float(max(n_epochs, 10))] = 0.0
    graph.eliminate_zeros()
    a, b = find_ab_params(1.0, min_dist)
    rng_state = random_state.randint(-(2**31) + 1, 2**31 - 1, 3).astype(np.int64)
    optimize_layout_euclidean(
        layout,
        layout,
        graph.row.astype(np.int32),
        graph.col.astype(np.int32),
        n_epochs,
        len(layout),
        make_epochs_per_sample(graph.data, n_epochs),
        a,
        b,
        rng_state,
        initial_alpha=learning_rate,
        move_other=True,
    )
    return layout


class _Real:
    """The real file's clean titles and features, and the pipeline's settings."""

    def __init__(self, root: Path) -> None:
        import yaml

        from netflix_dec import space
        from netflix_dec.datasets import NumpyDataset
        from netflix_dec.evaluation import weak_genre_labels
        from netflix_dec.params import DecClusteringParams, EncodingParams

        conf = root / "conf/base"
        self.enc = EncodingParams(
            **yaml.safe_load((conf / "parameters_encoding.yml").read_text())["encoding"]
        )
        self.dec = yaml.safe_load((conf / "parameters_dec_clustering.yml").read_text())[
            "dec_clustering"
        ]
        self.dec_params = DecClusteringParams
        self.titles = pd.read_csv(root / "data/03_primary/clean_titles.csv")
        self.descriptions = self.titles["description"].fillna("").astype(str).tolist()
        features = NumpyDataset(filepath=str(root / "data/04_feature/features.npz"))
        self.features = np.asarray(features.load(), dtype=np.float32)
        self.rows = space.unit_rows(self.features)
        self.truth = weak_genre_labels(self.titles["listed_in"]).to_numpy()
        self.show_ids = self.titles["show_id"].astype(str).tolist()
        self._layouts: dict[tuple[int, int, int], np.ndarray] = {}

    def layout(self, idx: np.ndarray, seed: int) -> np.ndarray:
        """UMAP positions of ``idx``'s titles, as the encoding node fits them."""

        key = (len(idx), int(idx[:50].sum()), seed)
        if key not in self._layouts:
            self._layouts[key] = self.fit(idx, self.rows[idx], seed)
        return self._layouts[key]

    def words(self, idx: np.ndarray) -> Any:
        """Word rows of ``idx``'s descriptions, as the encoding node makes them."""
        from netflix_dec import space

        if self.enc.umap_word_weight == 0:
            return None
        return space.word_rows([self.descriptions[i] for i in idx])

    def fit(self, idx: np.ndarray, rows: np.ndarray, seed: int) -> np.ndarray:
        """UMAP of ``rows`` (``idx``'s titles), with the node's settings and words."""
        from netflix_dec import space
        from netflix_dec.pipelines.encoding.nodes import umap_settings

        words = self.words(idx)
        params = self.enc.model_copy(update={"seed": seed})
        settings = umap_settings(params, len(idx), words is not None)
        return space.fit_umap(rows, words=words, **settings)

    def encoder(self, landmarks: np.ndarray, positions: np.ndarray) -> Any:
        from netflix_dec import space

        k = min(self.enc.umap_neighbors, len(landmarks) - 1)
        return space.build_space_encoder(
            landmarks, positions, k, self.enc.umap_temperature
        )

    def cluster(
        self,
        encoder: Any,
        idx: np.ndarray,
        seed: int,
        before: np.ndarray | None,
        features: np.ndarray | None = None,
    ) -> np.ndarray:
        """KMeans and DEC as train_dec runs them (previous start with ``before``)."""
        from netflix_dec import continuity, dec

        params = self.dec_params(**{**self.dec, "seed": seed})
        start = None
        if before is not None:
            start = partial(
                continuity.start_centroids,
                before=before,
                n_clusters=params.n_clusters,
                seed=seed,
            )
        result = dec.fit_dec(
            encoder,
            (self.features if features is None else features)[idx],
            dec.DecConfig.of(params),
            verbose=False,
            initial_centroids=start,
        )
        return np.asarray(result.q).argmax(axis=1)


def _scores(
    real: _Real, labels: np.ndarray, old: np.ndarray, previous: dict | None
) -> dict[str, float]:
    """NMI over all titles, the previous run's titles and the new ones; numbers kept."""
    from sklearn.metrics import normalized_mutual_info_score as nmi

    from netflix_dec import continuity

    scores = {
        "nmi": nmi(real.truth, labels),
        "nmi_old": nmi(real.truth[old], labels[old]),
        "nmi_new": nmi(real.truth[~old], labels[~old]),
    }
    if previous is not None:
        record = continuity.follow(
            previous, real.show_ids, labels, int(labels.max()) + 1
        )
        before = continuity.previous_numbers(real.show_ids, previous)
        now = np.asarray(record["titles"]["cluster"])
        scores["kept"] = float(np.mean(now[old] == before[old]))
    return {k: round(float(v), 4) for k, v in scores.items()}


def _one_seed(
    real: _Real, whole: pd.DataFrame, seed: int, share: float, only_place: bool = False
) -> dict:
    from sklearn.cluster import KMeans

    from netflix_dec import continuity, space_follow
    from netflix_dec.pipelines.encoding.nodes import placement_settings

    started = time.perf_counter()
    ids = set(whole.sample(frac=share, random_state=seed)["show_id"].astype(str))
    sub = np.flatnonzero(real.titles["show_id"].astype(str).isin(ids).to_numpy())
    every = np.arange(len(real.titles))
    old = np.zeros(len(every), dtype=bool)
    old[sub] = True
    place = placement_settings(real.enc)
    row: dict[str, Any] = {"seed": seed, "previous_titles": len(sub)}
    for layout_seed, name in ((LAYOUT_SEED, ""), (seed, "layout_seed_")):
        # 1. The fresh run on the subset; 2. the grown run following it; 3. fresh.
        first = real.encoder(real.rows[sub], real.layout(sub, layout_seed))
        labels = real.cluster(first, sub, seed, None)
        previous = continuity.fresh([real.show_ids[i] for i in sub], labels, 20)
        before = continuity.previous_numbers(real.show_ids, previous)
        if only_place:
            return {
                "place_all_epochs": _place_all(
                    real, first, place, seed, before, old, previous
                )
            }
        followed = space_follow.follow_layout(
            first, real.features, place, real.words(np.arange(len(real.titles)))
        )
        grown = real.encoder(followed.landmarks, followed.positions)
        fresh_positions = real.layout(every, layout_seed)
        fresh = real.encoder(real.rows, fresh_positions)
        row[f"{name}grown"] = _scores(
            real, real.cluster(grown, every, seed, before), old, previous
        )
        row[f"{name}fresh"] = _scores(
            real, real.cluster(fresh, every, seed, None), old, None
        )
        if name:
            continue
        row["subset_nmi"] = _scores(real, np.where(old, before, 0), old, None)[
            "nmi_old"
        ]
        # Is it the followed layout or the start? KMeans 20 starts on each.
        embed = grown.predict(real.features, verbose=0)
        row["followed_layout_kmeans20"] = _scores(
            real,
            KMeans(20, n_init=20, random_state=seed).fit_predict(embed),
            old,
            previous,
        )
        row["fresh_layout_previous_start"] = _scores(
            real, real.cluster(fresh, every, seed, before), old, previous
        )
        row["place_all_epochs"] = _place_all(
            real, first, place, seed, before, old, previous
        )
        for epochs, rate in REFINE:
            moved = refine_layout(
                followed.landmarks,
                followed.positions,
                **{k: place[k] for k in ("n_neighbors", "metric", "min_dist", "seed")},
                n_epochs=epochs,
                learning_rate=rate,
            )
            labels = real.cluster(
                real.encoder(followed.landmarks, moved), every, seed, before
            )
            row[f"refine_{epochs}_{rate:g}"] = _scores(real, labels, old, previous)
    row["seconds"] = round(time.perf_counter() - started, 1)
    return row


def _place_all(real, first, place, seed, before, old, previous) -> dict[str, float]:
    """The grown run with new titles placed with the fit's epochs, not a third."""
    from netflix_dec import space_follow

    longer = space_follow.follow_layout(
        first,
        real.features,
        {**place, "n_epochs": real.enc.umap_epochs},
        real.words(np.arange(len(real.titles))),
    )
    encoder = real.encoder(longer.landmarks, longer.positions)
    labels = real.cluster(encoder, np.arange(len(real.titles)), seed, before)
    return _scores(real, labels, old, previous)


def _placed(real: _Real, whole: pd.DataFrame, seed: int, share: float) -> dict:
    """The grown run with the new titles placed by all of UMAP's epochs."""
    return _one_seed(real, whole, seed, share, only_place=True)["place_all_epochs"]


def _perturbed(real: _Real, whole: pd.DataFrame, seed: int, share: float) -> dict:
    """The fresh run on 100% with the features perturbed by :data:`NOISE`."""
    from netflix_dec import space

    rng = np.random.default_rng(seed)
    noisy = real.features + rng.normal(0, NOISE, real.features.shape).astype(np.float32)
    rows = space.unit_rows(noisy)
    every = np.arange(len(rows))
    positions = real.fit(every, rows, LAYOUT_SEED)
    labels = real.cluster(real.encoder(rows, positions), every, seed, None, noisy)
    return _scores(real, labels, np.ones(len(rows), dtype=bool), None)


def run(args: argparse.Namespace) -> None:
    """In one process on the real file's features (from a kedro run), per seed.

    The subset is the continuity benchmark's (a random ``--share`` of the real
    file's rows, its movies' clean rows and features taken from the whole
    file's run); its run, the grown run following it and the fresh run on
    100% are the pipeline's nodes' library calls (UMAP, the followed layout,
    KMeans and DEC with the guard). Scores are split between the previous
    run's titles (old) and the new ones. Variants: KMeans with 20 k-means++
    starts on the followed layout; the fresh layout started from the previous
    clusters; UMAP's optimiser run over every title from the followed layout
    (:func:`refine_layout`) for ``REFINE``'s epochs and learning rates; every
    run with the layout seed = the seed (as the quality benchmark varies it)
    instead of encoding.seed's default; and, as a measure of the noise, the
    fresh run on features perturbed by ``NOISE`` (float rounding between
    CPUs: two runs' features of the real file differed by up to 1.3e-7). ``--add noise``
    (or ``place``) adds only that measurement to the saved rows.
    """
    root = WORK / "continuity-gap"
    if not (args.reuse_features and (root / "data/04_feature/features.npz").is_file()):
        scratch_project(root)
        kedro_run(root, REAL_CSV, "--pipelines", "data_processing,encoding")
    real = _Real(root)
    whole = pd.read_csv(REAL_CSV, encoding="utf-8")
    if args.add:
        saved = load(RESULT)
        key, measure = ADDABLE[args.add]
        for row in saved["rows"]:
            row[key] = measure(real, whole, row["seed"], saved["share"])
            print(row["seed"], row[key], flush=True)
        save(RESULT, {k: v for k, v in saved.items() if k != "machine"})
        return
    rows = []
    for seed in args.seeds:
        rows.append(_one_seed(real, whole, seed, args.share))
        rows[-1]["fresh_perturbed"] = _perturbed(real, whole, seed, args.share)
        print(rows[-1], flush=True)
    save(RESULT, {"share": args.share, "refine": REFINE, "rows": rows})


def section(d: dict[str, Any]) -> list[str]:
    rows = d["rows"]

    def mean(key: str, score: str) -> float:
        return statistics.mean(r[key][score] for r in rows)

    def gap(key: str, ref: str = "fresh", score: str = "nmi") -> str:
        return f"{mean(key, score) - mean(ref, score):+.4f}"

    def kept(key: str) -> str:
        return f"{100 * min(r[key]['kept'] for r in rows):.1f}%"

    variants = [
        ("grown (the default: followed layout, previous start)", "grown"),
        ("followed layout, KMeans 20 k-means++ starts", "followed_layout_kmeans20"),
        ("fresh layout on 100%, previous start", "fresh_layout_previous_start"),
        *(
            [("new titles placed with all of UMAP's epochs", "place_all_epochs")]
            if all("place_all_epochs" in r for r in rows)
            else []
        ),
        *[
            (
                f"followed layout + UMAP optimiser, {e} epochs, learning rate {r:g}",
                f"refine_{e}_{r:g}",
            )
            for e, r in d["refine"]
        ],
    ]
    return [
        f"## Continuity gap ({d['machine']['date']}): where the grown retrain's NMI gap "
        "comes from",
        "",
        "`python benchmarks/run.py continuity-gap`: per seed, in one process on the real "
        "file's sentence features, the continuity benchmark's runs as the pipeline's "
        f"library calls: a fresh run on a random {100 * d['share']:.0f}% of the rows, "
        "the whole file following it (grown), the whole file fresh; UMAP layouts with "
        f"encoding.seed's default {LAYOUT_SEED} unless said. NMI against the weak genre "
        "labels over every title, over the previous run's titles (old) and over the "
        f"new ones; seeds {', '.join(str(r['seed']) for r in rows)}.",
        "",
        "| seed | subset run, NMI on its titles | grown NMI (old / new) | fresh NMI (old / new) | grown - fresh |",
        "| ---: | ---: | ---: | ---: | ---: |",
        *[
            f"| {r['seed']} | {r['subset_nmi']:.4f} | {r['grown']['nmi']:.4f} "
            f"({r['grown']['nmi_old']:.4f} / {r['grown']['nmi_new']:.4f}) | "
            f"{r['fresh']['nmi']:.4f} ({r['fresh']['nmi_old']:.4f} / "
            f"{r['fresh']['nmi_new']:.4f}) | {r['grown']['nmi'] - r['fresh']['nmi']:+.4f} |"
            for r in rows
        ],
        "",
        "Variants (mean over seeds; kept: lowest share of the titles in both runs that "
        "kept their number, after the Hungarian matching):",
        "",
        "| clustering of the grown catalogue | NMI | - fresh | NMI on old titles - fresh's | kept |",
        "| --- | ---: | ---: | ---: | ---: |",
        *[
            f"| {label} | {mean(key, 'nmi'):.4f} | {gap(key)} | "
            f"{gap(key, score='nmi_old')} | {kept(key)} |"
            for label, key in variants
        ],
        f"| layout seed = seed (both runs), grown | {mean('layout_seed_grown', 'nmi'):.4f} | "
        f"{gap('layout_seed_grown', 'layout_seed_fresh')} (its own fresh, "
        f"{mean('layout_seed_fresh', 'nmi'):.4f}) | "
        f"{gap('layout_seed_grown', 'layout_seed_fresh', 'nmi_old')} | "
        f"{kept('layout_seed_grown')} |",
        "",
        *_noise(rows),
        _reading(rows),
        "",
    ]


def _noise(rows: list[dict[str, Any]]) -> list[str]:
    """The noise control's lines, when it was measured."""
    if not all("fresh_perturbed" in r for r in rows):
        return []
    shifts = [r["fresh_perturbed"]["nmi"] - r["fresh"]["nmi"] for r in rows]
    return [
        f"Noise: the same fresh runs on the features perturbed by N(0, {NOISE:g}) "
        "(float rounding; two runs' features of the real file differed by up to 1.3e-7) "
        "scored "
        + " / ".join(f"{r['fresh_perturbed']['nmi']:.4f}" for r in rows)
        + " ("
        + " / ".join(f"{x:+.4f}" for x in shifts)
        + " against the unperturbed runs).",
        "",
    ]


def _reading(rows: list[dict[str, Any]]) -> str:
    """One sentence: which titles carry the gap, and what moving costs."""

    def mean(key: str, score: str) -> float:
        return statistics.mean(r[key][score] for r in rows)

    mild_epochs, mild_rate = REFINE[0]
    mild = f"refine_{mild_epochs}_{mild_rate:g}"
    return (
        f"Reading: the grown runs' gap is {mean('grown', 'nmi_old') - mean('fresh', 'nmi_old'):+.4f} "
        f"on the previous run's titles and {mean('grown', 'nmi_new') - mean('fresh', 'nmi_new'):+.4f} "
        "on the new ones (means over seeds). Every variant that moves the layout or "
        "restarts KMeans keeps fewer than 90% of the numbers, whatever it does to NMI: "
        f"the clusters of a 5-d UMAP layout are fragile ({mild_epochs} epochs at "
        f"learning rate {mild_rate:g}, UMAP's fit uses 1, moved "
        f"{100 * (1 - mean(mild, 'kept')):.0f}% of the titles out of their number), "
        "so none became the default."
    )


ADDABLE = {
    "noise": ("fresh_perturbed", _perturbed),
    "place": ("place_all_epochs", _placed),
}
"""What ``--add`` adds to the saved rows: its key and the function measuring it."""
