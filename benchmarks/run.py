"""Benchmarks: speed against the notebook, scale, and cluster quality.

Run from the project root with the project's environment::

    python benchmarks/run.py speed     # default run vs the notebook script, alternating
    python benchmarks/run.py scale     # synthetic catalogues of 20,000 and 100,000 titles
    python benchmarks/run.py quality   # NMI/ARI/accuracy over 3 seeds against baselines
    python benchmarks/run.py quality --groups variants   # only some configurations
    python benchmarks/run.py dec-step  # ms per DEC training step
    python benchmarks/run.py report    # rewrite results.md from the JSON results

Every run of the project happens in a scratch copy (``benchmarks/.work/project``)
through the ``kedro run`` command, so Kedro's start-up is included and the
working tree's ``data/`` is left alone. The notebook runs as
``../shared/seed/seed_baseline.py`` in its own virtual environment with tf_keras
(``benchmarks/.work/seed-venv``, created on first use). Wall time and peak
resident memory of each command come from the operating system (``wait4``);
per-node figures from the project's ``run_timings.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / ".work"
RESULTS = ROOT / "benchmarks" / "results"
SEED_SCRIPT = (ROOT / "../shared/seed/seed_baseline.py").resolve()
# Resolved now: the runs happen in a scratch copy, where a relative path (as CI
# sets it, ../shared/...) would point somewhere else.
REAL_CSV = (
    Path(
        os.environ.get("NETFLIX_TITLES_CSV", ROOT / "../shared/data/netflix_titles.csv")
    )
    .expanduser()
    .resolve()
)
SEED_PACKAGES = [
    "tensorflow-cpu==2.21.*",
    "tf_keras==2.21.*",
    "pandas",
    "scikit-learn",
    "seaborn",
    "matplotlib",
]
PIPELINES = ("data_processing", "encoding", "dec_clustering", "visualization")


# ---- running and measuring commands ----------------------------------------------


def measure(
    command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run a command; return wall seconds, peak RSS (MB) and its output."""
    started = time.perf_counter()
    with subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        output = process.stdout.read()  # type: ignore[union-attr]
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        sys.stderr.write(output[-5000:])
        raise RuntimeError(
            f"{' '.join(command)} failed with exit code {process.returncode}"
        )
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "output": output,
    }


def _metrics(root: Path) -> dict[str, Any]:
    """The clustering metrics a run of the project at ``root`` wrote."""
    return json.loads(
        (root / "data/08_reporting/clustering_metrics.json").read_text(encoding="utf-8")
    )


def scratch_project(name: str = "project") -> Path:
    """A fresh copy of the project's configuration to run pipelines in."""
    root = WORK / name
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for item in ("pyproject.toml", ".telemetry"):
        shutil.copy2(ROOT / item, root / item)
    shutil.copytree(
        ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local")
    )
    (root / "conf" / "local").mkdir()
    (root / "src").mkdir()
    return root


def kedro_run(root: Path, csv: Path, *args: str) -> dict[str, Any]:
    """``kedro run`` in a scratch project; adds the per-node record."""
    kedro = str(Path(sys.executable).parent / "kedro")
    env = {
        "NETFLIX_TITLES_CSV": str(csv),
        "KEDRO_DISABLE_TELEMETRY": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    result = measure([kedro, "run", *args], cwd=root, env=env)
    timings = json.loads((root / "data/08_reporting/run_timings.json").read_text())
    result["nodes"] = timings["nodes"]
    result["pipelines"] = {
        name: {
            "seconds": round(
                sum(n["seconds"] for n in timings["nodes"] if n["pipeline"] == name), 2
            ),
            "peak_rss_mb": max(
                (n["peak_rss_mb"] for n in timings["nodes"] if n["pipeline"] == name),
                default=None,
            ),
        }
        for name in PIPELINES
    }
    return result


def seed_venv() -> Path:
    """The notebook's own environment (TF 2.21 with tf_keras), created once."""
    python = WORK / "seed-venv" / "bin" / "python"
    if not python.exists():
        subprocess.run(
            [sys.executable, "-m", "venv", str(python.parents[1])], check=True
        )
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *SEED_PACKAGES], check=True
        )
    return python


def notebook_run(csv: Path) -> dict[str, Any]:
    out = WORK / "seed-out"
    out.mkdir(parents=True, exist_ok=True)
    result = measure(
        [str(seed_venv()), str(SEED_SCRIPT), str(csv), str(out)],
        cwd=WORK,
        env={"TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    result["stages"] = json.loads(result["output"].strip().splitlines()[-1])
    return result


def machine() -> dict[str, Any]:
    flags = ""
    if Path("/proc/cpuinfo").exists():
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in lines
                if line.startswith("model name")
            ),
            "",
        )
        flags = next((line for line in lines if line.startswith("flags")), "")
    else:
        model = platform.processor()
    versions = {
        name: metadata.version(name)
        for name in (
            "kedro",
            "kedro-datasets",
            "kedro-viz",
            "tensorflow-cpu",
            "keras",
            "scikit-learn",
            "pandas",
            "bokeh",
        )
        if _installed(name)
    }
    return {
        "date": dt.date.today().isoformat(),
        "cpu": model,
        "cores": os.cpu_count(),
        "avx2": " avx2" in flags,
        "memory_gb": round(
            os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
        ),
        "python": platform.python_version(),
        "versions": versions,
    }


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def _strip(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "output"}


def save(name: str, payload: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"machine": machine(), **payload}
    (RESULTS / f"{name}.json").write_text(
        json.dumps(payload, indent=2) + "\n", encoding="utf-8"
    )
    report()


# ---- speed ----------------------------------------------------------------------------


def speed(repeats: int) -> None:
    """The full default run and the notebook, alternating, ``repeats`` times each."""
    project, notebook, tfidf = [], [], []
    for i in range(repeats):
        print(f"[speed {i + 1}/{repeats}] project", flush=True)
        project.append(_strip(kedro_run(scratch_project(), REAL_CSV)))
        print(f"[speed {i + 1}/{repeats}] notebook", flush=True)
        notebook.append(_strip(notebook_run(REAL_CSV)))
        print(f"[speed {i + 1}/{repeats}] project, tfidf features", flush=True)
        tfidf.append(
            _strip(
                kedro_run(
                    scratch_project(), REAL_CSV, "--params", "encoding.features=tfidf"
                )
            )
        )
    p_seconds = statistics.median(r["seconds"] for r in project)
    n_seconds = statistics.median(r["seconds"] for r in notebook)
    p_memory = statistics.median(r["peak_rss_mb"] for r in project)
    n_memory = statistics.median(r["peak_rss_mb"] for r in notebook)
    save(
        "speed",
        {
            "csv": str(REAL_CSV),
            "repeats": repeats,
            "project_median_seconds": p_seconds,
            "notebook_median_seconds": n_seconds,
            "ratio_seconds": round(p_seconds / n_seconds, 3),
            "project_median_peak_rss_mb": p_memory,
            "notebook_median_peak_rss_mb": n_memory,
            "targets": {
                "time_at_most_half_of_notebook": p_seconds <= 0.5 * n_seconds,
                "memory_at_most_notebook": p_memory <= n_memory,
            },
            "tfidf_median_seconds": statistics.median(r["seconds"] for r in tfidf),
            "tfidf_median_peak_rss_mb": statistics.median(
                r["peak_rss_mb"] for r in tfidf
            ),
            "project_runs": project,
            "notebook_runs": notebook,
            "tfidf_runs": tfidf,
        },
    )


# ---- scale ----------------------------------------------------------------------------


def scale(sizes: list[int], extra: list[str]) -> None:
    """The full default pipeline on synthetic catalogues of the given sizes."""
    from netflix_dec.sample import write_catalogue

    runs = []
    for size in sizes:
        csv = WORK / f"synthetic_{size}.csv"
        if not csv.exists():
            write_catalogue(csv, n_titles=size, seed=size)
        print(f"[scale] {size} titles", flush=True)
        root = scratch_project()
        result = _strip(kedro_run(root, csv, *extra))
        clean = (root / "data/03_primary/clean_titles.csv").read_text().count("\n") - 1
        metrics = _metrics(root)
        runs.append(
            {
                "titles": size,
                "clean_titles": clean,
                "params": extra,
                "nmi_planted": metrics["final"]["nmi"],
                **result,
            }
        )
    rates = [r["seconds"] / r["titles"] for r in runs]
    save(
        "scale",
        {
            "runs": runs,
            "seconds_per_1000_titles": [round(1000 * r, 3) for r in rates],
            "targets": {
                "largest_under_10_minutes": runs[-1]["seconds"] < 600,
                "largest_under_4_gb": runs[-1]["peak_rss_mb"] < 4096,
            },
        },
    )


# ---- quality --------------------------------------------------------------------------


QUALITY_GROUPS = ("default", "tfidf", "notebook", "quality", "variants")
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


def quality(seeds: list[int], groups: list[str]) -> None:
    """NMI/ARI/accuracy against weak genre labels on the real catalogue.

    ``groups`` picks which configurations to (re)compute; rows of other groups
    are kept from the previous results when they used the same seeds.
    """
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD

    from netflix_dec import text
    from netflix_dec.datasets import NumpyDataset
    from netflix_dec.evaluation import agreement, weak_genre_labels

    rows: dict[str, list[dict[str, float]]] = {}
    previous = RESULTS / "quality.json"
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
        found = _metrics(root)
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
            root = scratch_project("quality-default")
            run = kedro_run(root, REAL_CSV, *stages, "--params", seeded)
            embed_seconds += [
                n["seconds"]
                for n in run["nodes"]
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
            root = scratch_project("quality-tfidf")
            kedro_run(
                root, REAL_CSV, *stages, "--params", f"{seeded},encoding.features=tfidf"
            )
            add_run(
                root, "tfidf features: autoencoder + KMeans", "tfidf features: DEC/IDEC"
            )
        if "notebook" in groups:
            root = scratch_project("quality-notebook")
            kedro_run(root, REAL_CSV, *stages, "--env", "notebook", "--params", seeded)
            add_run(root, None, "notebook settings (--env notebook)")
        if "quality" in groups:
            root = scratch_project("quality-env")
            kedro_run(root, REAL_CSV, *stages, "--env", "quality", "--params", seeded)
            add_run(
                root,
                "quality environment: autoencoder + KMeans",
                "quality environment: DEC/IDEC (final)",
            )

        if "variants" in groups:
            root = scratch_project("quality-variants")
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
        "quality",
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


# ---- DEC training step ------------------------------------------------------------


def dec_step(iterations: int) -> None:
    """Milliseconds per DEC iteration: a Python loop of train_on_batch vs fit.

    Both train the encoder + clustering layer on the KL loss with SGD, on
    random data of the catalogue's size, after one warm-up call each.
    ``dec.fit_dec`` runs its iterations as one ``fit`` call per target update
    on the tf.data pipeline timed here (``dec._batches``).
    """
    import keras
    import numpy as np

    from netflix_dec import dec

    rows = []
    for name, dims, batch in (
        (
            "notebook: sequences, [46, 500, 500, 1000, 10], batch 32",
            [46, 500, 500, 1000, 10],
            32,
        ),
        (
            "DEC paper sizes on sentence features, [384, 500, 500, 2000, 10], batch 256",
            [384, 500, 500, 2000, 10],
            256,
        ),
        ("default: [384, 256, 256, 512, 10], batch 256", [384, 256, 256, 512, 10], 256),
    ):
        x = np.random.default_rng(0).random((5277, dims[0]), dtype=np.float32)
        timings = {}
        for method in ("train_on_batch", "fit"):
            _, encoder = dec.build_autoencoder(dims, seed=0)
            model = keras.Model(
                encoder.input,
                dec.ClusteringLayer(20, name="clustering")(encoder.output),
            )
            model.compile(
                keras.optimizers.SGD(0.01, momentum=0.9), loss="kl_divergence"
            )
            p = dec.target_distribution(dec.predict(model, x))
            if method == "fit":
                data = dec._batches(x, batch, (p,), shuffle_seed=0).repeat()
                model.fit(data, steps_per_epoch=10, epochs=1, shuffle=False, verbose=0)
                started = time.perf_counter()
                model.fit(
                    data, steps_per_epoch=iterations, epochs=1, shuffle=False, verbose=0
                )
            else:
                model.train_on_batch(x[:batch], p[:batch])
                started = time.perf_counter()
                index = 0
                for _ in range(iterations):
                    model.train_on_batch(
                        x[index : index + batch], p[index : index + batch]
                    )
                    index = index + batch if index + 2 * batch <= len(x) else 0
            timings[method] = round(
                1000 * (time.perf_counter() - started) / iterations, 2
            )
        rows.append(
            {
                "setting": name,
                "train_on_batch_ms": timings["train_on_batch"],
                "fit_dec_ms": timings["fit"],
            }
        )
        print(rows[-1], flush=True)
    save("dec_step", {"iterations": iterations, "rows": rows})


# ---- report ---------------------------------------------------------------------------


def report() -> None:
    """Rewrite results.md from whichever JSON results exist."""
    parts = [
        "# Benchmark results",
        "",
        "Written by `python benchmarks/run.py`; see benchmarks/README.md.",
        "",
    ]
    loaded = {
        name: json.loads((RESULTS / f"{name}.json").read_text())
        for name in ("speed", "scale", "quality", "dec_step")
        if (RESULTS / f"{name}.json").exists()
    }
    if not loaded:
        return
    first = next(iter(loaded.values()))["machine"]
    parts += [
        f"Machine: {first['cpu']}, {first['cores']} cores, {first['memory_gb']} GB, AVX2: {first['avx2']}; Python {first['python']}.",
        "Versions: "
        + ", ".join(f"{k} {v}" for k, v in first["versions"].items())
        + ".",
        "",
    ]
    if "speed" in loaded:
        s = loaded["speed"]
        parts += [
            f"## Speed: full default run vs the notebook (real catalogue, {s['machine']['date']}, median of {s['repeats']})",
            "",
            "| | wall seconds | peak RSS (MB) |",
            "| --- | ---: | ---: |",
            f"| project (`kedro run`, start-up included) | {s['project_median_seconds']} | {s['project_median_peak_rss_mb']} |",
            f"| notebook (`seed_baseline.py`) | {s['notebook_median_seconds']} | {s['notebook_median_peak_rss_mb']} |",
            f"| project with `--params encoding.features=tfidf` | {s['tfidf_median_seconds']} | {s['tfidf_median_peak_rss_mb']} |",
            f"| ratio project / notebook | {s['ratio_seconds']} | {round(s['project_median_peak_rss_mb'] / s['notebook_median_peak_rss_mb'], 3)} |",
            "",
            f"Targets: time ≤ 0.5 × notebook: **{_yes(s['targets']['time_at_most_half_of_notebook'])}**; "
            f"peak memory ≤ notebook: **{_yes(s['targets']['memory_at_most_notebook'])}**.",
            "",
            "Per pipeline (first project run; node function time, loads and saves excluded):",
            "",
            "| pipeline | seconds | peak RSS (MB) |",
            "| --- | ---: | ---: |",
            *[
                f"| {k} | {v['seconds']} | {v['peak_rss_mb']} |"
                for k, v in s["project_runs"][0]["pipelines"].items()
            ],
            "",
            "Slowest nodes (first project run):",
            "",
            *[
                f"- {n['node']}: {n['seconds']} s"
                for n in sorted(
                    s["project_runs"][0]["nodes"], key=lambda n: -n["seconds"]
                )[:6]
            ],
            "",
            "Notebook stages (first run, seconds): "
            + ", ".join(f"{k} {v}" for k, v in s["notebook_runs"][0]["stages"].items()),
            "",
        ]
    if "scale" in loaded:
        s = loaded["scale"]
        parts += [
            f"## Scale: synthetic catalogues ({s['machine']['date']})",
            "",
            "| titles | clean titles | wall seconds | peak RSS (MB) | s per 1,000 titles | "
            + " | ".join(f"{p} s" for p in PIPELINES)
            + " |",
            "| ---: | ---: | ---: | ---: | ---: | "
            + " | ".join("---:" for _ in PIPELINES)
            + " |",
            *[
                f"| {r['titles']:,} | {r['clean_titles']:,} | {r['seconds']} | {r['peak_rss_mb']} | {round(1000 * r['seconds'] / r['titles'], 2)} | "
                + " | ".join(str(r["pipelines"][p]["seconds"]) for p in PIPELINES)
                + " |"
                for r in s["runs"]
            ],
            "",
            f"Targets for the largest: under 10 minutes **{_yes(s['targets']['largest_under_10_minutes'])}**, "
            f"under 4 GB **{_yes(s['targets']['largest_under_4_gb'])}**. Parameters: {s['runs'][0]['params'] or 'defaults'}.",
            "",
        ]
    if "quality" in loaded:
        q = loaded["quality"]
        parts += [
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
            f"**{_yes(q['targets']['default_beats_every_baseline_on_nmi'])}**.",
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
    if "dec_step" in loaded:
        d = loaded["dec_step"]
        parts += [
            f"## DEC training step ({d['machine']['date']}, {d['iterations']} iterations, ms per iteration)",
            "",
            "| setting | Python loop of Keras 3 `train_on_batch` | `fit` on `dec._batches`, as `dec.fit_dec` runs it |",
            "| --- | ---: | ---: |",
            *[
                f"| {r['setting']} | {r['train_on_batch_ms']} | {r['fit_dec_ms']} |"
                for r in d["rows"]
            ],
            "",
        ]
    (RESULTS / "results.md").write_text("\n".join(parts), encoding="utf-8")


def _yes(flag: bool) -> str:
    return "met" if flag else "not met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("speed").add_argument("--repeats", type=int, default=3)
    scale_parser = sub.add_parser("scale")
    scale_parser.add_argument("--sizes", default="20000,100000")
    scale_parser.add_argument("--params", default="", help="extra kedro run --params")
    quality_parser = sub.add_parser("quality")
    quality_parser.add_argument("--seeds", default="0,1,2")
    quality_parser.add_argument(
        "--groups", default=",".join(QUALITY_GROUPS), help=f"some of {QUALITY_GROUPS}"
    )
    sub.add_parser("dec-step").add_argument("--iterations", type=int, default=300)
    sub.add_parser("report")
    args = parser.parse_args()
    if args.command in ("speed", "quality") and not REAL_CSV.is_file():
        parser.error(
            f"the real catalogue is needed: set NETFLIX_TITLES_CSV (now {REAL_CSV})"
        )
    if args.command == "speed":
        speed(args.repeats)
    elif args.command == "scale":
        scale(
            [int(s) for s in args.sizes.split(",")],
            ["--params", args.params] if args.params else [],
        )
    elif args.command == "quality":
        quality([int(s) for s in args.seeds.split(",")], args.groups.split(","))
    elif args.command == "dec-step":
        dec_step(args.iterations)
    else:
        report()


if __name__ == "__main__":
    main()
