"""Clustering and map levers: KMeans starts, t-SNE settings, map cache, DEC at scale.

Each lever of the dec_clustering and visualization pipelines measured in one
process, settings alternated round by round (medians), on the real
catalogue's saved features and embeddings (``--data``: the ``data`` folder
of a finished default run), except ``dec_scale``, which runs ``fit_dec`` on
a synthetic clustered matrix in a fresh process per version (``--baseline``,
a git commit, against the working tree). Wall seconds on a shared machine are
noisy; CPU seconds are given next to them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.harness import ROOT, WORK, checkout, load, load_average, probe, save

RESULT = "clustering_levers"
NEEDS_REAL_CSV = False
# main before fit_dec's memory work (4a28086): a whole-input tensor, a shuffle
# buffer of every row at each target update, concatenated predictions.
BASELINE = "55be735"
PARTS = ("kmeans", "tsne", "tsne_steps", "map_cache", "silhouette", "dec_scale")
N_INITS = (1, 3, 5, 10, 20)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        type=Path,
        default=ROOT / "benchmarks/.work/levers-current/data",
        help="data folder of a finished default run on the real catalogue",
    )
    parser.add_argument("--parts", default=",".join(PARTS), help=",".join(PARTS))
    parser.add_argument("--baseline", default=BASELINE, help="git commit (dec_scale)")
    parser.add_argument("--titles", type=int, default=200_000, help="dec_scale rows")
    parser.add_argument("--seeds", default="0,1,2", help="KMeans seeds")


def _real(data: Path) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from netflix_dec.datasets import NumpyDataset
    from netflix_dec.evaluation import weak_genre_labels

    features = NumpyDataset(filepath=str(data / "04_feature/features.npz")).load()
    features = np.asarray(features, dtype=np.float32)
    titles = pd.read_csv(data / "03_primary/clean_titles.csv")
    return {
        "features": features / np.linalg.norm(features, axis=1, keepdims=True),
        "titles": titles,
        "truth": weak_genre_labels(titles["listed_in"]).to_numpy(),
        "dec_embeddings": np.load(data / "07_model_output/dec_embeddings.npy"),
        "cluster_labels": pd.read_csv(data / "07_model_output/clusters.csv")[
            "cluster"
        ].to_numpy(),
    }


def _timed(call: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = call()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def _kmeans(real: dict[str, Any], seeds: list[int]) -> list[dict[str, Any]]:
    """NMI against the weak genre labels and seconds per KMeans setting."""
    import numpy as np
    from sklearn.cluster import KMeans

    from netflix_dec.evaluation import agreement

    x = real["features"]
    settings = [(n, "float32", "lloyd") for n in N_INITS]
    settings += [(20, "float64", "lloyd"), (20, "float32", "elkan")]
    found: dict[tuple, dict[str, list[float]]] = {s: {} for s in settings}
    for seed in seeds:
        for setting in settings:
            n_init, dtype, algorithm = setting
            if setting[1:] != ("float32", "lloyd") and seed != seeds[0]:
                continue
            kmeans = KMeans(20, n_init=n_init, random_state=seed, algorithm=algorithm)
            model, wall, cpu = _timed(lambda: kmeans.fit(x.astype(dtype)))  # noqa: B023
            record = found[setting]
            for key, value in (
                ("wall", wall),
                ("cpu", cpu),
                ("nmi", agreement(real["truth"], model.labels_)["nmi"]),
                ("inertia", float(model.inertia_)),
            ):
                record.setdefault(key, []).append(value)
            print("[kmeans]", setting, seed, round(wall, 2), flush=True)
    return [
        {
            "n_init": n_init,
            "dtype": dtype,
            "algorithm": algorithm,
            "fits": len(r["nmi"]),
            "wall_median": round(statistics.median(r["wall"]), 2),
            "cpu_median": round(statistics.median(r["cpu"]), 2),
            "nmi_mean": round(float(np.mean(r["nmi"])), 4),
            "nmi_std": round(float(np.std(r["nmi"])), 4),
            "inertia_mean": round(float(np.mean(r["inertia"])), 1),
        }
        for (n_init, dtype, algorithm), r in found.items()
    ]


def _knn_recall(high: Any, low: Any, k: int = 10, n: int = 2000) -> float:
    """Share of each title's 10 nearest neighbours that stay its neighbours on the map."""
    import numpy as np
    from sklearn.neighbors import NearestNeighbors

    rows = np.random.default_rng(0).choice(len(high), min(n, len(high)), replace=False)
    near = [
        NearestNeighbors(n_neighbors=k + 1).fit(m).kneighbors(m[rows])[1][:, 1:]
        for m in (high, low)
    ]
    return float(
        np.mean([len(set(a) & set(b)) / k for a, b in zip(*near, strict=True)])
    )


# The map's code before its speed work (TruncatedSVD, Annoy neighbours, 250
# exaggerated iterations always), run from a checkout next to the current one.
TSNE_BASELINE = "6a4ac59"


def _projection_at(commit: str) -> Any:
    """projection.py of ``commit`` as a module of its own (it imports no other module of ours)."""
    import importlib.util

    path = checkout(commit) / "src/netflix_dec/projection.py"
    spec = importlib.util.spec_from_file_location(f"projection_{commit}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _map_quality(high: Any, positions: Any, labels: Any, p: Any) -> dict[str, float]:
    """KL divergence to fixed input affinities, neighbours kept, cluster purity.

    Every map is scored against the same affinities ``p`` (of the input before
    any reduction) with the exact Student-t similarities of all pairs, so maps
    of different reductions, neighbour searches and gradients compare.
    """
    import numpy as np
    from sklearn.neighbors import NearestNeighbors

    y = np.asarray(positions, dtype=np.float64)
    z = 0.0
    for start in range(0, len(y), 1024):
        chunk = y[start : start + 1024]
        d2 = (chunk**2).sum(1)[:, None] + (y**2).sum(1)[None, :] - 2 * chunk @ y.T
        z += float((1 / (1 + np.maximum(d2, 0))).sum()) - len(chunk)
    coo = p.tocoo()
    d2 = ((y[coo.row] - y[coo.col]) ** 2).sum(1)
    kl = float(np.sum(coo.data * (np.log(coo.data) + np.log1p(d2))) + np.log(z))
    near = [
        NearestNeighbors(n_neighbors=11).fit(m).kneighbors(m)[1][:, 1:]
        for m in (high, y)
    ]
    kept = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(*near, strict=True)])
    return {
        "kl_divergence": round(kl, 4),
        "knn10_kept": round(float(kept), 4),
        "same_cluster_10nn": round(
            float(np.mean(labels[near[1]] == labels[:, None])), 4
        ),
    }


def _tsne_settings() -> list[tuple[str, int, dict[str, Any]]]:
    """(name, titles, changes) per lever: changes patch the current projection module."""
    now = {"n_jobs": 1, "initialization": "pca", "ints_in_interval": 2}
    return [
        ("before (main)", 0, {"before": True}),
        (
            "after: PCA, exact neighbours, exaggeration until the map shrinks, "
            "FFT cells of 2 units",
            0,
            {},
        ),
        ("after, but TruncatedSVD", 0, {"sparse": True}),
        ("after, but Annoy neighbours", 0, {"EXACT_NEIGHBOURS_BELOW": 0}),
        ("after, but 250 exaggerated iterations always", 0, {"SHRINK_CHECKS": 0}),
        ("after, 2 threads", 0, {"TSNE_SETTINGS": now | {"n_jobs": 2}}),
        (
            "after, but FFT cells of 1 unit (openTSNE's)",
            0,
            {"TSNE_SETTINGS": now | {"ints_in_interval": 1}},
        ),
        ("after, reduced to 20 dimensions", 0, {"MAX_INPUT_DIMS": 20}),
        ("after, reduced to 100 dimensions", 0, {"MAX_INPUT_DIMS": 100}),
        ("after, not reduced (384 dimensions)", 0, {"MAX_INPUT_DIMS": 384}),
        ("after, but BLAS's own threads", 0, {"_one_blas_thread": nullcontext}),
        ("after, Barnes-Hut gradients", 0, {"FFT_FROM": 10**9}),
        ("after, max_iter 400", 0, {"max_iter": 400}),
        ("after, max_iter 750 (openTSNE's 500 normal)", 0, {"max_iter": 750}),
        ("before (main), 2,000 titles", 2000, {"before": True}),
        ("after, 2,000 titles (Barnes-Hut)", 2000, {}),
        ("after, 2,000 titles, FFT gradients", 2000, {"FFT_FROM": 0}),
    ]


def _reduce_and_fit(module: Any, data: Any, max_iter: int) -> Any:
    return module.fit(module.reduce(data, seed=42)[0], 30, max_iter, 42)


def _tsne(real: dict[str, Any], rounds: int = 3) -> list[dict[str, Any]]:
    """The map as build_points makes it (reduce, then fit), per lever, alternated.

    Wall and CPU seconds cover the reduction and the fit, not the imports.
    """
    from unittest import mock

    import numpy as np
    from openTSNE.affinity import PerplexityBasedNN
    from scipy import sparse

    from netflix_dec import projection

    before = _projection_at(TSNE_BASELINE)
    x = np.asarray(real["dec_embeddings"], dtype=np.float32)
    labels = real["cluster_labels"]
    sample = np.sort(np.random.default_rng(0).choice(len(x), 2000, replace=False))
    inputs = {}
    for titles, rows in ((0, np.arange(len(x))), (2000, sample)):
        high = x[rows].astype(np.float64)
        p = PerplexityBasedNN(high, perplexity=30, method="exact", random_state=42).P
        inputs[titles] = (x[rows], high, labels[rows], p)
    settings = _tsne_settings()
    found: dict[str, dict[str, Any]] = {
        name: {"wall": [], "cpu": []} for name, _, _ in settings
    }
    for round_ in range(rounds):
        for index, (name, titles, changes) in enumerate(settings):
            rows, high, cluster, p = inputs[titles]
            patches = dict(changes)
            module = before if patches.pop("before", False) else projection
            data = sparse.csr_matrix(rows) if patches.pop("sparse", False) else rows
            max_iter = patches.pop("max_iter", 500)
            patched = (
                mock.patch.multiple(module, **patches) if patches else nullcontext()
            )
            with patched:
                positions, wall, cpu = _timed(
                    partial(_reduce_and_fit, module, data, max_iter)
                )
            record = found[name]
            record["wall"].append(wall)
            record["cpu"].append(cpu)
            if round_ == 0:
                record["first"] = positions
                record |= _map_quality(high, positions, cluster, p)
                np.save(WORK / f"tsne-map-{index:02d}.npy", positions)
            else:
                record["repeats"] = bool(np.array_equal(record["first"], positions))
            print("[tsne]", name, round(wall, 2), round(cpu, 2), flush=True)
    return [
        {
            "setting": name,
            "titles": len(inputs[titles][0]),
            "wall_median": round(statistics.median(found[name]["wall"]), 2),
            "cpu_median": round(statistics.median(found[name]["cpu"]), 2),
            **{
                k: found[name][k]
                for k in ("kl_divergence", "knn10_kept", "same_cluster_10nn")
            },
            "same_positions_twice": found[name].get("repeats"),
        }
        for name, titles, _ in settings
    ]


def _tsne_steps(real: dict[str, Any], rounds: int = 3) -> dict[str, Any]:
    """CPU seconds of the map's first steps alone: reduction, then neighbours.

    Larger inputs for the neighbour search repeat the reduced rows with a
    little noise (brute force grows with the square of the rows).
    """
    from unittest import mock

    import numpy as np
    from openTSNE.affinity import PerplexityBasedNN
    from scipy import sparse

    from netflix_dec import projection

    x = np.asarray(real["dec_embeddings"], dtype=np.float32)
    cpu: dict[str, list[float]] = {}
    for _ in range(rounds):
        for one_thread in (False, True):
            # reduce() holds BLAS to one thread; unpatched, BLAS uses its own.
            threads = {} if one_thread else {"_one_blas_thread": nullcontext}
            for name, data in (("PCA", x), ("TruncatedSVD", sparse.csr_matrix(x))):
                with (
                    mock.patch.multiple(projection, **threads)
                    if threads
                    else nullcontext()
                ):
                    _, _, seconds = _timed(partial(projection.reduce, data, seed=42))
                key = f"{name}, one BLAS thread" if one_thread else name
                cpu.setdefault(key, []).append(seconds)
    reduced, _ = projection.reduce(x, seed=42)
    rng = np.random.default_rng(0)
    neighbours = []
    for rows in (len(reduced), 12_000, 24_000):
        repeats = -(-rows // len(reduced))
        data = np.concatenate([reduced] * repeats)[:rows]
        data = data + rng.normal(scale=0.05, size=data.shape) * (rows > len(reduced))
        found = {}
        for method in ("exact", "annoy"):
            _, _, seconds = _timed(
                partial(
                    PerplexityBasedNN,
                    data,
                    perplexity=30,
                    method=method,
                    random_state=42,
                )
            )
            found[method] = round(seconds, 2)
        neighbours.append({"rows": rows, **found})
        print("[tsne_steps]", neighbours[-1], flush=True)
    return {
        "reduction_cpu_median": {
            name: round(statistics.median(v), 2) for name, v in cpu.items()
        },
        "neighbours_cpu": neighbours,
    }


def _map_cache(data: Path, real: dict[str, Any]) -> dict[str, Any]:
    """build_points on the real catalogue: a fit (cache miss) against a reuse."""
    import pandas as pd

    from netflix_dec.params import VisualizationParams
    from netflix_dec.pipelines.visualization import nodes
    from netflix_dec.storage.caches import MapCache

    summary_dir = data / "08_reporting/cluster_summary.json"
    summary_file = (
        max(summary_dir.glob("*/cluster_summary.json"))
        if summary_dir.is_dir()
        else summary_dir
    )
    inputs = (
        pd.read_csv(data / "07_model_output/clusters.csv"),
        real["titles"],
        json.loads(summary_file.read_text()),
        real["dec_embeddings"],
        real["dec_embeddings"],
        None,
        VisualizationParams(
            projection_source="dec_embeddings",
            perplexity=30,
            max_iter=500,
            max_points=10_000,
            seed=42,
        ),
    )
    with tempfile.TemporaryDirectory() as folder:
        cache = MapCache(filepath=f"{folder}/map_cache.npz")
        _, miss_wall, miss_cpu = _timed(lambda: nodes.build_points(*inputs, cache))
        hits = [_timed(lambda: nodes.build_points(*inputs, cache)) for _ in range(3)]
    return {
        "titles": len(inputs[0]),
        "fit_wall": round(miss_wall, 2),
        "fit_cpu": round(miss_cpu, 2),
        "reuse_wall_median": round(statistics.median(h[1] for h in hits), 3),
        "reuse_cpu_median": round(statistics.median(h[2] for h in hits), 3),
    }


def _silhouette(real: dict[str, Any], rounds: int = 3) -> dict[str, Any]:
    """One silhouette over every title, float32 against float64 input."""
    import sklearn
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    x = real["dec_embeddings"]
    labels = KMeans(20, n_init=1, random_state=0).fit_predict(x)
    found: dict[str, list[tuple[float, float, float]]] = {}
    for _ in range(rounds):
        for dtype in ("float32", "float64"):
            with sklearn.config_context(working_memory=64):
                score, wall, cpu = _timed(
                    lambda: silhouette_score(x.astype(dtype), labels)  # noqa: B023
                )
            found.setdefault(dtype, []).append((wall, cpu, float(score)))
    return {
        dtype: {
            "wall_median": round(statistics.median(v[0] for v in values), 2),
            "cpu_median": round(statistics.median(v[1] for v in values), 2),
            "silhouette": round(values[0][2], 6),
        }
        for dtype, values in found.items()
    } | {"titles": int(len(x))}


_DEC_PROBE = """
import json, re, sys, time
import numpy as np
from netflix_dec import dec
from netflix_dec.params import DecClusteringParams
def status(key):
    return int(re.search(key + r":\\s+(\\d+)", open("/proc/self/status").read())[1]) // 1024
n = int(sys.argv[1])
rng = np.random.default_rng(0)
centres = rng.normal(size=(20, 384)).astype(np.float32)
x = rng.standard_normal(size=(n, 384), dtype=np.float32)
x *= 2.0
x += centres[rng.integers(0, 20, n)]
x /= np.linalg.norm(x, axis=1, keepdims=True)
encoder = dec.build_feature_embedding(384)
params = DecClusteringParams(
    n_clusters=20, variant="idec", gamma=0.1, alpha=1.0, batch_size=256, maxiter=100,
    update_interval=50, tol=0.0, learning_rate=0.001, momentum=0.9, kmeans_n_init=1,
    guard="silhouette", silhouette_sample=10000, top_words=8, examples=5, seed=42)
dec.predict(encoder, x[:100])
before = status("VmRSS")
open("/proc/self/clear_refs", "w").write("5")  # the high-water mark starts here
wall, cpu = time.perf_counter(), time.process_time()
result = dec.fit_dec(encoder, x, params, verbose=False)
print(json.dumps({
    "rss_before_mb": before,
    "peak_mb": status("VmHWM"),
    "wall": round(time.perf_counter() - wall, 1),
    "cpu": round(time.process_time() - cpu, 1),
    "iterations": result.iterations,
}))
"""


def _dec_scale(baseline: str, titles: int) -> dict[str, Any]:
    """fit_dec (one KMeans start, two target updates) per version, fresh processes."""
    versions = {"baseline": checkout(baseline) / "src", "current": ROOT / "src"}
    found: dict[str, Any] = {"titles": titles, "baseline_commit": baseline}
    for name, src in versions.items():
        found[name] = probe(_DEC_PROBE, src, str(titles))
        print("[dec_scale]", name, found[name], flush=True)
    return found


def run(args: argparse.Namespace) -> None:
    parts = args.parts.split(",")
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise SystemExit(f"--parts: unknown {unknown}; choose from {list(PARTS)}")
    payload: dict[str, Any] = {"load_average_before": load_average()}
    real = _real(args.data) if set(parts) - {"dec_scale"} else {}
    if "kmeans" in parts:
        payload["kmeans"] = _kmeans(real, [int(s) for s in args.seeds.split(",")])
    if "tsne" in parts:
        payload["tsne"] = _tsne(real)
    if "tsne_steps" in parts:
        payload["tsne_steps"] = _tsne_steps(real)
    if "map_cache" in parts:
        payload["map_cache"] = _map_cache(args.data, real)
    if "silhouette" in parts:
        payload["silhouette"] = _silhouette(real)
    if "dec_scale" in parts:
        payload["dec_scale"] = _dec_scale(args.baseline, args.titles)
    payload["load_average_after"] = load_average()
    previous = load(RESULT)
    if previous:  # parts not re-measured keep their last figures
        payload = {
            **{
                k: v for k, v in previous.items() if k not in payload and k != "machine"
            },
            **payload,
        }
    save(RESULT, payload)


def section(s: dict[str, Any]) -> list[str]:
    parts = [
        f"## Clustering and map levers ({s['machine']['date']}, in-process, alternating)",
        "",
        f"Load average before: {s['load_average_before']}, after: "
        f"{s['load_average_after']} on {s['machine']['cores']} cores: wall seconds are "
        "those of a shared machine; CPU seconds are given next to them.",
        "",
    ]
    if "kmeans" in s:
        rows = s["kmeans"]
        ref = next(r for r in rows if r["n_init"] == 20 and r["algorithm"] == "lloyd")
        parts += [
            "KMeans on the real sentence features (L2-normalised, 20 clusters; NMI "
            "against the weak genre labels, mean over the seeds):",
            "",
            "| n_init | input | algorithm | fits | wall s | CPU s | NMI | ± | "
            "NMI − n_init 20 | inertia |",
            "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            *[
                f"| {r['n_init']} | {r['dtype']} | {r['algorithm']} | {r['fits']} | "
                f"{r['wall_median']} | {r['cpu_median']} | {r['nmi_mean']:.4f} | "
                f"{r['nmi_std']:.4f} | {r['nmi_mean'] - ref['nmi_mean']:+.4f} | "
                f"{r['inertia_mean']} |"
                for r in rows
            ],
            "",
        ]
    if "tsne" in s:
        parts += [
            "The t-SNE map as `build_points` makes it (reduction to 50 dimensions, "
            "then openTSNE; perplexity 30, `max_iter` 500, seed 42) of the real "
            f"catalogue's DEC embeddings, before (`{TSNE_BASELINE}`) and after its "
            "speed work, and each lever changed alone from the new code; medians "
            "of 3 alternated rounds. Every map is scored against the affinities of "
            "the 384-dimensional input (exact neighbours, perplexity 30): KL "
            "divergence with exact similarities of all pairs (lower is better), "
            "share of each title's 10 nearest input neighbours among its 10 "
            "nearest on the map, share of its 10 nearest on the map in its own DEC "
            "cluster:",
            "",
            "| setting | titles | wall s | CPU s | KL divergence | 10-NN kept | "
            "10-NN in own cluster | same positions twice |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
            *[
                f"| {r['setting']} | {r['titles']:,} | {r['wall_median']} | "
                f"{r['cpu_median']} | {r['kl_divergence']} | {r['knn10_kept']} | "
                f"{r['same_cluster_10nn']} | {r['same_positions_twice']} |"
                for r in s["tsne"]
            ],
            "",
        ]
    if "tsne_steps" in s:
        t = s["tsne_steps"]
        cpu = t["reduction_cpu_median"]
        parts += [
            f"The map's first steps alone, CPU seconds: reducing the 6,131 × 384 "
            f"embeddings to 50 dimensions with PCA {cpu['PCA']}, with TruncatedSVD "
            f"{cpu['TruncatedSVD']} (with one BLAS thread "
            f"{cpu['PCA, one BLAS thread']} and "
            f"{cpu['TruncatedSVD, one BLAS thread']}: two threads on a busy "
            "machine wait for each other); neighbours and affinities (perplexity "
            "30) of "
            + "; ".join(
                f"{n['rows']:,} rows exact {n['exact']}, Annoy {n['annoy']}"
                for n in t["neighbours_cpu"]
            )
            + " (rows beyond 6,131 repeat the reduced rows with a little noise).",
            "",
        ]
    if "map_cache" in s:
        m = s["map_cache"]
        parts += [
            f"Map cache, `build_points` on {m['titles']:,} real titles: fitting the "
            f"map {m['fit_wall']} s ({m['fit_cpu']} s CPU), reusing it "
            f"{m['reuse_wall_median']} s ({m['reuse_cpu_median']} s CPU).",
            "",
        ]
    if "silhouette" in s:
        m = s["silhouette"]
        parts += [
            f"One silhouette over all {m['titles']:,} titles: float32 "
            f"{m['float32']['wall_median']} s ({m['float32']['cpu_median']} s CPU), "
            f"float64 {m['float64']['wall_median']} s "
            f"({m['float64']['cpu_median']} s CPU); scores "
            f"{m['float32']['silhouette']} and {m['float64']['silhouette']}.",
            "",
        ]
    if "dec_scale" in s:
        d = s["dec_scale"]
        b, c = d["baseline"], d["current"]
        parts += [
            f"`fit_dec` on {d['titles']:,} synthetic titles × 384 (one KMeans start, "
            f"two target updates), baseline `{d['baseline_commit']}` against current:",
            "",
            "| version | wall s | CPU s | peak RSS during the call (MB) |",
            "| --- | ---: | ---: | ---: |",
            f"| baseline | {b['wall']} | {b['cpu']} | {b['peak_mb']} |",
            f"| current | {c['wall']} | {c['cpu']} | {c['peak_mb']} |",
            "",
        ]
    return parts + _decisions()


DECISIONS = (
    (
        "KMeans `kmeans_n_init` 20 → 3",
        "kept",
        "NMI within 0.005 of 20 starts (table above: -0.0030 at 20 clusters; "
        "+0.0007 over seeds 0, 1, 2, 42 at 15 and 20 clusters in an earlier "
        "round) at a seventh of the CPU",
    ),
    (
        "KMeans float64 input, Elkan's algorithm",
        "not kept",
        "the same clusters as float32 Lloyd on seed 0 (same inertia), no faster",
    ),
    (
        "t-SNE map cache (`map_cache`)",
        "kept",
        "a re-run with unchanged map input reuses the map instead of refitting",
    ),
    (
        "openTSNE `n_jobs=2`",
        "not kept",
        "twice the wall and CPU time of one thread on this shared 2-core machine "
        "(table above); with exact neighbours the map is the same as one thread's",
    ),
    (
        "openTSNE FFT from 5,000 titles (openTSNE switches at 10,000)",
        "kept",
        "at 6,131 titles Barnes-Hut takes more than twice the CPU for a higher KL "
        "divergence; at 2,000 the two are about as fast (FFT's grid has a floor "
        "of 50 cells a side)",
    ),
    (
        "Map input reduced with PCA (covariance solver) instead of randomised "
        "TruncatedSVD for dense rows",
        "kept",
        "an eighth of the reduction's CPU (steps line above; 0.2 s of the map), "
        "exact components, the same map quality; sparse rows keep TruncatedSVD",
    ),
    (
        "Exact neighbours below 25,000 map rows instead of Annoy",
        "kept",
        "a quarter to a third of the neighbour search's CPU up to 24,000 rows, "
        "repeatable, the index place_new already rebuilt; Annoy's map scores a "
        "little better (KL divergence 0.04 lower, 1.5 points more neighbours in "
        "the own cluster, the same over seeds 1-3): its 4% other neighbours "
        "smooth the affinities",
    ),
    (
        "Early exaggeration ended once it only shrinks the map (spread down at "
        "2 checks 10 iterations apart)",
        "kept",
        "on the real map the exaggerated phase shrinks it from a spread of 1e-4 "
        "to 1e-7 in 250 steps; it now ends after 20, with 2.6 s less CPU and a "
        "lower KL divergence; maps of well-separated groups still run all 250 "
        "(tests)",
    ),
    (
        "A fixed, shorter exaggerated phase (50 or 125 iterations)",
        "not kept",
        "about as fast on the real map (one exploratory round: 50 iterations "
        "reached openTSNE's KL 2.91 against 2.99 for 250), but it would cut the "
        "phase on catalogues whose groups it does separate",
    ),
    (
        "FFT grid cells of 2 units (`ints_in_interval=2`)",
        "kept",
        "40% less CPU for the map, a KL divergence 0.35% higher, as many "
        "neighbours kept, the same picture (table above)",
    ),
    (
        "BLAS held to one thread while the map is made",
        "kept",
        "the same positions; BLAS's own two threads took more CPU and wall time "
        "on the busy machine (table and steps line above)",
    ),
    (
        "`max_iter` 400 instead of 500",
        "not kept (for the lead to weigh)",
        "0.6 s less CPU for a KL divergence 0.1% higher and the same picture; "
        "a parameter users set, left at 500",
    ),
    (
        "`max_iter` 750 (openTSNE's default); Barnes-Hut at 6,131 titles; input "
        "reduced to 20 or 100 dimensions, or not reduced",
        "not kept",
        "750 costs 80% more for a KL divergence 0.3% lower; Barnes-Hut is slower "
        "with a higher KL divergence; 20 dimensions lose a third of the "
        "neighbours kept; 100 and 384 dimensions keep more input neighbours but "
        "mix the DEC clusters on the map (fewer neighbours in the own cluster), "
        "384 at 1.5 times the CPU",
    ),
    (
        "Silhouette measured once when DEC kept its start in an unchanged embedding",
        "kept",
        "one of the two quadratic silhouettes of evaluate_clustering saved",
    ),
    (
        "Silhouette on float32 rather than float64",
        "not kept: float64 kept",
        "scikit-learn's float32 distances are slower (table above); "
        "evaluate_clustering now scores its sample in float64, same score",
    ),
    (
        "fit_dec without whole-input copies (gathered batches, preallocated "
        "predict, KMeans in place; landed in 4a28086) and train_dec returning "
        "its float32 arrays without copying them",
        "kept",
        "peak memory of fit_dec at scale in the table above",
    ),
)


def _decisions() -> list[str]:
    return [
        "Levers of the clustering and map steps:",
        "",
        "| lever | kept? | why |",
        "| --- | --- | --- |",
        *[f"| {lever} | {kept} | {why} |" for lever, kept, why in DECISIONS],
        "",
    ]
