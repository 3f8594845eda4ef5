"""Quality: NMI/ARI/accuracy over seeds on the real catalogue against baselines."""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    REAL_CSV,
    RESULTS,
    WORK,
    kedro_run,
    metrics,
    save,
    scratch_project,
    yes,
)

RESULT = "quality"
NEEDS_REAL_CSV = True
GROUPS = ("default", "tfidf", "notebook", "quality", "variants")
N_CLUSTERS = 20  # the default's; every quality row clusters into as many
SCORES = ("nmi", "ari", "accuracy", "non_empty_clusters")
DEFAULT_START = "default: autoencoder + KMeans (DEC's start)"
DEFAULT_FINAL = "default: DEC/IDEC (final)"
# DEC against IDEC, and the notebook's learning rate against the default's,
# on the default features and autoencoder (dec_clustering re-run on them).
VARIANTS = {
    "variant=dec (plain DEC), learning_rate 0.001": "dec_clustering.variant=dec",
    "variant=idec, learning_rate 0.01 (the notebook's), update_interval 140": "dec_clustering.learning_rate=0.01,dec_clustering.update_interval=140",
    "variant=dec, learning_rate 0.01, update_interval 140": "dec_clustering.variant=dec,dec_clustering.learning_rate=0.01,dec_clustering.update_interval=140",
}
TARGET_BASELINES = (
    "notebook settings (--env notebook)",
    "TF-IDF + KMeans",
    "TF-IDF → SVD(100) + KMeans",
    "tfidf features: autoencoder + KMeans",
    DEFAULT_START,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--groups", default=",".join(GROUPS), help=f"some of {GROUPS}")


def run(args: argparse.Namespace) -> None:
    """NMI/ARI/accuracy against weak genre labels on the real catalogue.

    ``--groups`` picks which configurations to (re)compute; rows of other groups
    are kept from the previous results when they used the same seeds.
    """
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD

    from netflix_dec import text
    from netflix_dec.datasets import NumpyDataset
    from netflix_dec.evaluation import agreement, weak_genre_labels

    seeds = [int(s) for s in args.seeds.split(",")]
    groups = args.groups.split(",")
    rows: dict[str, list[dict[str, float]]] = {}
    previous = RESULTS / f"{RESULT}.json"
    kept: dict[str, Any] = {}
    if previous.exists():
        old = json.loads(previous.read_text())
        if old["seeds"] == seeds:
            kept = old

    def add(name: str, scores: dict[str, float]) -> None:
        rows.setdefault(name, []).append(
            {k: round(v, 4) for k, v in scores.items() if k in SCORES}
        )
        print(f"  {name}: NMI {scores['nmi']:.3f}", flush=True)

    def add_run(root: Path, start: str | None, final: str | None) -> None:
        found = metrics(root)
        if start:
            add(start, found["kmeans_start"])
        if final:
            add(final, found["final"])

    def kmeans(features: Any, seed: int) -> Any:
        return KMeans(N_CLUSTERS, n_init=20, random_state=seed).fit_predict(features)

    stages = ["--pipelines", "data_processing,encoding,dec_clustering"]
    embed_seconds = (
        [] if "default" in groups else kept.get("sentence_embedding_seconds", [])
    )
    for seed in seeds:
        print(f"[quality] seed {seed}", flush=True)
        seeded = f"encoding.seed={seed},dec_clustering.seed={seed}"
        if "default" in groups:
            root = scratch_project(WORK / "quality-default")
            result = kedro_run(root, REAL_CSV, *stages, "--params", seeded)
            embed_seconds += [
                n["seconds"]
                for n in result["nodes"]
                if n["node"] == "encoding.encode_descriptions"
            ]
            add_run(root, DEFAULT_START, DEFAULT_FINAL)
            clean = pd.read_csv(root / "data/03_primary/clean_titles.csv")
            truth = weak_genre_labels(clean["listed_in"]).to_numpy()
            features = NumpyDataset(
                filepath=str(root / "data/04_feature/features.npz")
            ).load()
            add("sentence + KMeans", agreement(truth, kmeans(features, seed)))
            descriptions = clean["description"].tolist()
            tfidf = text.encode_texts(
                text.fit_text_encoder(descriptions, "tfidf", 10000), descriptions
            )
            add("TF-IDF + KMeans", agreement(truth, kmeans(tfidf, seed)))
            lsa = TruncatedSVD(100, random_state=seed).fit_transform(tfidf)
            add("TF-IDF → SVD(100) + KMeans", agreement(truth, kmeans(lsa, seed)))
        if "tfidf" in groups:
            root = scratch_project(WORK / "quality-tfidf")
            kedro_run(
                root, REAL_CSV, *stages, "--params", f"{seeded},encoding.features=tfidf"
            )
            add_run(
                root, "tfidf features: autoencoder + KMeans", "tfidf features: DEC/IDEC"
            )
        if "notebook" in groups:
            root = scratch_project(WORK / "quality-notebook")
            kedro_run(root, REAL_CSV, *stages, "--env", "notebook", "--params", seeded)
            add_run(root, None, "notebook settings (--env notebook)")
        if "quality" in groups:
            root = scratch_project(WORK / "quality-env")
            kedro_run(root, REAL_CSV, *stages, "--env", "quality", "--params", seeded)
            add_run(
                root,
                "quality environment: autoencoder + KMeans",
                "quality environment: DEC/IDEC (final)",
            )
        if "variants" in groups:
            root = scratch_project(WORK / "quality-variants")
            kedro_run(
                root,
                REAL_CSV,
                "--pipelines",
                "data_processing,encoding",
                "--params",
                seeded,
            )
            for name, params in VARIANTS.items():
                kedro_run(
                    root,
                    REAL_CSV,
                    "--pipelines",
                    "dec_clustering",
                    "--params",
                    f"{seeded},{params}",
                )
                add_run(
                    root,
                    f"default features, {name}: DEC's start",
                    f"default features, {name}: final",
                )

    rows = {**{k: v for k, v in kept.get("runs", {}).items() if k not in rows}, **rows}
    summary = {
        name: {
            key: round(statistics.mean(r[key] for r in runs), 4)
            for key in SCORES
            if all(key in r for r in runs)
        }
        for name, runs in rows.items()
    }
    default = summary[DEFAULT_FINAL]["nmi"]
    save(
        RESULT,
        {
            "csv": str(REAL_CSV),
            "seeds": seeds,
            "weak_labels": "each title's most specific listed_in genre: of its genres that are not broad tags "
            "(International/Independent Movies, International TV Shows, Movies, TV Shows), the rarest in the catalogue",
            "n_clusters": N_CLUSTERS,
            "mean": summary,
            "runs": rows,
            "sentence_embedding_seconds": embed_seconds,
            # Issue 7's baselines: the notebook, TF-IDF + KMeans, TF-IDF → SVD +
            # KMeans and autoencoder + KMeans (both feature kinds). Sentence +
            # KMeans and the quality environment are reported, not targets.
            "target_baselines": list(TARGET_BASELINES),
            "targets": {
                "default_beats_every_baseline_on_nmi": all(
                    default > summary[name]["nmi"]
                    for name in TARGET_BASELINES
                    if name in summary
                )
            },
        },
    )


def section(q: dict[str, Any]) -> list[str]:
    parts = [
        f"## Quality on the real catalogue ({q['machine']['date']}, mean over seeds {q['seeds']}, {q['n_clusters']} clusters)",
        "",
        f"Weak labels: {q['weak_labels']}.",
        "",
        "| configuration | NMI | ARI | accuracy (Hungarian) | non-empty clusters |",
        "| --- | ---: | ---: | ---: | ---: |",
        *[
            f"| {name} | {m['nmi']:.3f} | {m['ari']:.3f} | {m['accuracy']:.3f} | {m.get('non_empty_clusters', '')} |"
            for name, m in sorted(q["mean"].items(), key=lambda kv: -kv[1]["nmi"])
        ],
        "",
        "Default DEC/IDEC (final) against each other row, mean NMI: "
        + "; ".join(
            f"{name} {'beaten' if q['mean'][DEFAULT_FINAL]['nmi'] > m['nmi'] else 'NOT beaten'}"
            for name, m in q["mean"].items()
            if name != DEFAULT_FINAL
        )
        + ".",
        "",
        f"Target: the default beats the baselines ({', '.join(q['target_baselines'])}) on NMI: "
        f"**{yes(q['targets']['default_beats_every_baseline_on_nmi'])}**.",
    ]
    start = q["mean"].get(DEFAULT_START)
    if start:
        gain = q["mean"][DEFAULT_FINAL]["nmi"] - start["nmi"]
        parts += [
            "",
            f"DEC/IDEC's own gain over its KMeans start in the default configuration: {gain:+.4f} NMI. "
            "The default beats the baselines through its sentence features; on these weak labels "
            "the clustering layer keeps its start rather than improving it, and plain KMeans on the "
            "384-d sentence embeddings scores higher than anything clustered in the 10-d embedding.",
        ]
    if q.get("sentence_embedding_seconds"):
        parts += [
            "",
            f"Sentence embeddings of the {5277:,} descriptions (encode_descriptions node): "
            + ", ".join(f"{s:.1f} s" for s in q["sentence_embedding_seconds"])
            + ".",
        ]
    parts.append("")
    return parts
