"""Levers: each speed lever measured against the version before it, side by side."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from benchmarks.harness import (
    REAL_CSV,
    RESULTS,
    ROOT,
    WORK,
    checkout,
    head_commit,
    kedro_run,
    latest,
    load,
    load_average,
    metrics,
    probe,
    save,
    scratch_project,
    shown,
    strip,
)

RESULT = "levers"
NEEDS_REAL_CSV = True
# main before this round's speed work: float32 MiniLM in batches of 64, every
# library imported at start-up, a fixed 15 autoencoder epochs, scikit-learn t-SNE.
BASELINE = "7d6fcf1"
NODES = (
    "encoding.encode_descriptions",
    "encoding.pretrain_autoencoder",
    "dec_clustering.train_dec",
    "visualization.project_2d",  # the baseline's t-SNE node (scikit-learn)
    "visualization.build_points",  # openTSNE, with the points table
)
# (precision, batch size) of the MiniLM encoder; the first is the baseline's.
ENCODER_SETTINGS = (
    ("float32", 64),
    ("bfloat16", 64),
    ("float32", 128),
    ("bfloat16", 128),
    ("bfloat16", 256),
)


# main before this session's MiniLM work: mixed_bfloat16 (float32 weights cast
# on every call), all texts tokenised and sorted up front, model kept alive.
MINILM_BASELINE = "d54cdd5"
# One cold encode of the real descriptions, as the node does it (model loading
# included), in a fresh process: printed as one JSON line.
_COLD_ENCODE = """
import json, resource, sys, time
import pandas as pd
import tensorflow  # imported before the clock starts: the node's run has it already
from netflix_dec.minilm import MiniLMEncoder
texts = pd.read_csv(sys.argv[1])["description"].fillna("").astype(str)
texts = list(dict.fromkeys(texts))  # the feature step embeds each text once
def rss():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024
started = time.perf_counter()
encoder = MiniLMEncoder.from_installed_package(precision="bfloat16")
loaded = time.perf_counter()
encoder.encode(texts)
done = time.perf_counter()
after = rss()
if hasattr(encoder, "close"):
    encoder.close()
print(json.dumps({
    "titles": len(texts), "load_seconds": round(loaded - started, 2),
    "encode_seconds": round(done - loaded, 2),
    "titles_per_second": round(len(texts) / (done - started), 1),
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    "rss_after_encode_mb": round(after, 1), "rss_after_close_mb": round(rss(), 1),
}))
"""
# Levers measured while tuning MiniLM on 2026-11-27 (load average 7-11 on 2
# cores, so each A/B alternated in one process or in alternating fresh
# processes, CPU seconds where wall time was swamped by other jobs).
MINILM_LEVERS = (
    (
        "bfloat16 weights (float32 norms, softmax, pooling) instead of mixed_bfloat16",
        "kept",
        "peak RSS 1,046 -> 930 MB in a fresh process; a pass 2-3% less CPU "
        "(within noise); cosine to float32 >= 0.99996 (mixed: 0.99994)",
    ),
    (
        "streaming in chunks of 16,384 texts",
        "kept",
        "memory beyond the output "
        "array flat in the catalogue's size; same rows (bfloat16: cosine >= 0.9999 "
        "across other batch compositions)",
    ),
    (
        "closing the encoder after the feature step (model dropped, malloc_trim)",
        "kept",
        "-40 MB resident after encoding (905 -> 863 MB)",
    ),
    ("MALLOC_ARENA_MAX=2", "not kept", "-4 to -9 MB resident, within noise"),
    (
        "one (tokens, width) residual stream, plain Dense projections",
        "kept",
        "trace 0.71 -> 0.46 CPU s, first call 0.58 -> 0.47 CPU s; a pass unchanged",
    ),
    (
        "zero initial weights (Keras' random initialisation skipped)",
        "kept",
        "model build 0.52 -> 0.31 CPU s, the checkpoint overwrites them anyway",
    ),
    (
        "padding batches to multiples of 4 / 8 tokens",
        "not kept",
        "cold encode +10% / +20% CPU: the padding costs more than the fewer "
        "oneDNN kernel shapes save",
    ),
    (
        "XLA (jit_compile) at fixed shapes",
        "not kept",
        "4-8 s compile per shape, "
        "and each call 1.2-3x slower than without (bfloat16 and float32)",
    ),
    (
        "batch size 32 / 48 / 128 / 256 (64 kept)",
        "not kept",
        "CPU per pass -3% / -3% / +4% / +12% against 64: 32 and 48 within noise",
    ),
    (
        "inter-op threads 1 (default 2)",
        "not kept",
        "a pass 40% slower in wall time, twice in alternating processes",
    ),
    (
        "weights as graph constants (frozen graph)",
        "not kept",
        "a pass 5-7% less "
        "CPU, but tracing +1.9 CPU s and freezing 2-8 s: a loss for one cold run",
    ),
    (
        "layer norms as one FusedBatchNormV3 per norm (rows as NCHW channels)",
        "not kept",
        "inconclusive: 9% less CPU per pass in one in-process A/B, 7% more in "
        "the next; not worth a hand-written layer without a clear gain",
    ),
    ("reading safetensors tensor by tensor", "not kept", "peak RSS 930 -> 976 MB"),
    (
        "oneDNN's pre-packed weights switch (TF_ONEDNN_ASSUME_FROZEN_WEIGHTS=1)",
        "not kept",
        "a pass 6% less CPU (2,000 texts: 8.4-8.9 against 9.0-10.0 CPU s, rows "
        "bit-identical), but TensorFlow reads it once per process and then "
        "treats every matrix product's weights as constant: DEC and the "
        "autoencoder, trained later in the same run, would keep computing with "
        "their first weights",
    ),
    (
        "AMD's ZenDNN switch (TF_ENABLE_ZENDNN_OPTS=1)",
        "not kept",
        "no effect: rows bit-identical, CPU within noise (the TensorFlow wheel "
        "is not built with ZenDNN)",
    ),
    (
        "duplicate descriptions embedded once",
        "kept (already in place)",
        "the feature step keys rows by text: 6,105 distinct of 6,131",
    ),
)

# Why no lever above reaches 400 titles/s: measured on 2026-11-27 with
# TensorFlow's profiler (1,500 of the real descriptions) and a lone bfloat16
# product of the model's shapes, per CPU second so that other jobs on the
# machine do not count.
MINILM_CEILING = (
    "Where a MiniLM pass goes: in TensorFlow's profile of 1,500 real descriptions "
    "the matrix products (oneDNN's fused MatMul + bias (+ GELU)) are 83.5% of the "
    "op time, softmax 2.1%, every other op under 2%. A lone bfloat16 product of "
    "the model's shapes runs at 185-188 GFLOP per CPU second. The 6,105 distinct "
    "descriptions are 196,530 tokens (length-sorted batches pad them by 0.65%), "
    "21.2 MFLOP of products each: at least 22 CPU s of products, 11 s on both "
    "cores, and about 13.4 s for a whole pass at full efficiency, against 15.0 s "
    "measured (28.3 CPU s: both cores busy). With the 0.8 s model load, the "
    "ceiling of this model in TensorFlow on this machine is about 420 titles/s, "
    "so 400 would need the pass within 5% of perfect."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--baseline", default=BASELINE, help="git commit to compare")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--parts",
        default="startup,run,encoder,nmi,nmi_seeds,minilm",
        help="some of startup, run, encoder, nmi, nmi_seeds (after nmi), minilm",
    )


def _versions(baseline: str) -> dict[str, dict[str, Any]]:
    old = checkout(baseline)
    return {
        "baseline": {"source": old, "src": old / "src"},
        "current": {"source": ROOT, "src": None},
    }


def _startup(versions: dict[str, Any], repeats: int) -> dict[str, Any]:
    """`kedro run --pipelines data_processing`: what start-up costs a light run."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in versions}
    for _ in range(repeats):
        for name, version in versions.items():
            root = scratch_project(WORK / f"levers-{name}", source=version["source"])
            runs[name].append(
                strip(
                    kedro_run(
                        root,
                        REAL_CSV,
                        "--pipelines",
                        "data_processing",
                        src=version["src"],
                    )
                )
            )
    return {
        name: {
            "seconds": statistics.median(r["seconds"] for r in rs),
            "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in rs),
        }
        for name, rs in runs.items()
    }


def _full_run(versions: dict[str, Any]) -> dict[str, Any]:
    """The cold default run of each version: wall, memory and the levers' nodes."""
    found = {}
    for name, version in versions.items():
        root = scratch_project(WORK / f"levers-{name}", source=version["source"])
        result = strip(kedro_run(root, REAL_CSV, src=version["src"]))
        history_file = latest(root / "data/08_reporting/pretraining_history.json")
        history = json.loads(history_file.read_text()) if history_file.exists() else {}
        found[name] = {
            "seconds": result["seconds"],
            "peak_rss_mb": result["peak_rss_mb"],
            "nodes": {
                n["node"]: n["seconds"] for n in result["nodes"] if n["node"] in NODES
            },
            "autoencoder_epochs": len(history.get("loss", [])),
            "nmi": metrics(root).get("final", {}).get("nmi"),
        }
    return found


def _encoder(rounds: int) -> list[dict[str, Any]]:
    """MiniLM alone on the real descriptions: titles/s per precision and batch."""
    import numpy as np
    import pandas as pd

    from netflix_dec.minilm import MiniLMEncoder

    root = WORK / "levers-current"
    if not (root / "data/03_primary/clean_titles.csv").exists():
        root = scratch_project(root)
        kedro_run(root, REAL_CSV, "--pipelines", "data_processing")
    texts = (
        pd.read_csv(root / "data/03_primary/clean_titles.csv")["description"]
        .fillna("")
        .astype(str)
        .tolist()
    )
    encoders = {
        precision: MiniLMEncoder.from_installed_package(precision=precision)
        for precision in {p for p, _ in ENCODER_SETTINGS}
    }
    for encoder in encoders.values():
        encoder.encode(texts[:256])  # trace once
    seconds: dict[tuple[str, int], list[float]] = {s: [] for s in ENCODER_SETTINGS}
    outputs = {}
    for _ in range(rounds):
        for precision, batch in ENCODER_SETTINGS:
            started = time.perf_counter()
            outputs[precision, batch] = encoders[precision].encode(
                texts, batch_size=batch
            )
            seconds[precision, batch].append(time.perf_counter() - started)
    reference = outputs[ENCODER_SETTINGS[0]]
    rows = []
    for (precision, batch), times in seconds.items():
        cosine = np.sum(outputs[precision, batch] * reference, axis=1)
        rows.append(
            {
                "precision": precision,
                "batch_size": batch,
                "titles": len(texts),
                "titles_per_second": round(len(texts) / statistics.median(times), 1),
                "min_cosine_to_float32": round(float(cosine.min()), 6),
            }
        )
        print(rows[-1], flush=True)
    return rows


def _minilm(rounds: int) -> dict[str, Any]:
    """Cold encodes of the real descriptions, baseline and current alternating."""

    root = WORK / "levers-current"
    if not (root / "data/03_primary/clean_titles.csv").exists():
        root = scratch_project(root)
        kedro_run(root, REAL_CSV, "--pipelines", "data_processing")
    clean = root / "data/03_primary/clean_titles.csv"
    sources = {"baseline": checkout(MINILM_BASELINE) / "src", "current": ROOT / "src"}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sources}
    for _ in range(rounds):
        for name, src in sources.items():
            runs[name].append(probe(_COLD_ENCODE, src, str(clean)))
            print(name, runs[name][-1], flush=True)
    return {
        "baseline": MINILM_BASELINE,
        "rounds": rounds,
        "load_average": load_average(),
        "median": {
            name: {
                key: statistics.median(r[key] for r in rs)
                for key in rs[0]
                if key != "titles"
            }
            for name, rs in runs.items()
        },
        "runs": runs,
    }


def _nmi() -> dict[str, Any]:
    """Clustering NMI with float32 and with bfloat16 sentence features."""
    found = {}
    for precision in ("float32", "bfloat16"):
        root = scratch_project(WORK / f"levers-nmi-{precision}")
        kedro_run(
            root,
            REAL_CSV,
            "--pipelines",
            "data_processing,encoding,dec_clustering",
            "--params",
            f"encoding.sentence_precision={precision}",
        )
        scores = metrics(root)
        found[precision] = {
            "final_nmi": scores["final"]["nmi"],
            "kmeans_start_nmi": scores["kmeans_start"]["nmi"],
        }
        print(precision, found[precision], flush=True)
    return found


NMI_SEEDS = tuple(range(8))


def _nmi_seeds() -> dict[str, Any]:
    """KMeans NMI on the float32 and bfloat16 features of the NMI runs, per seed.

    One seed's NMI moves by up to 0.006 between float32 runs of different seeds,
    so a single run cannot tell bfloat16's effect from KMeans' luck; the mean
    over seeds can.
    """
    import numpy as np
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import normalized_mutual_info_score

    from netflix_dec.evaluation import weak_genre_labels

    folders = {p: WORK / f"levers-nmi-{p}" / "data" for p in ("float32", "bfloat16")}
    titles = pd.read_csv(folders["float32"] / "03_primary/clean_titles.csv")
    truth = weak_genre_labels(titles["listed_in"]).to_numpy()
    found: dict[str, Any] = {"seeds": list(NMI_SEEDS)}
    for precision, folder in folders.items():
        with np.load(folder / "04_feature/features.npz") as archive:
            features = archive[archive.files[0]]
        found[precision] = [
            float(
                normalized_mutual_info_score(
                    truth,
                    KMeans(20, n_init=20, random_state=seed).fit_predict(features),
                )
            )
            for seed in NMI_SEEDS
        ]
        print(precision, found[precision], flush=True)
    return found


def run(args: argparse.Namespace) -> None:
    parts = args.parts.split(",")
    versions = _versions(args.baseline)
    payload: dict[str, Any] = {
        "csv": shown(REAL_CSV),
        "baseline": args.baseline,
        "current_commit": head_commit(),
        "load_average_before": load_average(),
    }
    if "startup" in parts:
        print("[levers] start-up", flush=True)
        payload["startup"] = _startup(versions, args.repeats)
    if "run" in parts:
        print("[levers] full runs", flush=True)
        payload["full_run"] = _full_run(versions)
    if "encoder" in parts:
        print("[levers] encoder", flush=True)
        payload["encoder"] = _encoder(max(2, args.repeats))
    if "nmi" in parts:
        print("[levers] NMI by precision", flush=True)
        payload["nmi"] = _nmi()
    if "nmi_seeds" in parts:
        print("[levers] KMeans NMI by precision over seeds", flush=True)
        payload["nmi_seeds"] = _nmi_seeds()
    if "minilm" in parts:
        print("[levers] MiniLM cold encodes", flush=True)
        payload["minilm"] = _minilm(max(3, args.repeats))
    payload["load_average_after"] = load_average()
    previous = RESULTS / f"{RESULT}.json"
    if previous.exists():  # parts not re-measured keep their last figures
        kept = json.loads(previous.read_text())
        payload = {
            **{k: v for k, v in kept.items() if k not in payload and k != "machine"},
            **payload,
        }
    save(RESULT, payload)


TRIED = {
    "time_at_most_half_of_notebook": "bfloat16 MiniLM with bfloat16 weights and "
    "length-sorted batches (MiniLM levers), lazy imports (start-up table), no "
    "autoencoder on the sentence path, 3 KMeans starts instead of 20, openTSNE "
    "with exact neighbours, FFT gradients and an early exaggeration that stops "
    "when it only shrinks the map (clustering and map levers), one silhouette "
    "where DEC kept its start. The budget in the speed section says where the "
    "rest goes: the embedding alone is over half of the target, within 12% of "
    "this machine's ceiling for the model (see under the MiniLM levers), and "
    "Python, Kedro, kedro-mlflow's commands and TensorFlow's import take about "
    "6 s before any work",
    "rerun_at_most_0.3_of_notebook": "re-running only dec_clustering and visualization "
    "on the saved features; the feature cache for a full re-run. What remains is "
    "the start-up, TensorFlow's import for DEC, and the t-SNE map",
    "memory_at_most_notebook": "lazy imports, bfloat16 weights, closing the encoder "
    "and trimming the heap after encoding, memory-mapped arrays; but the libraries "
    "alone, once imported, peak within 20 MB of the notebook's whole run "
    "(memory floor in the speed section), so any data or model on top exceeds it",
    "embedding_at_least_400_titles_per_second": "bfloat16 (AVX-512 BF16) with "
    "bfloat16 weights, batch sizes 32 to 256, length-sorted batches, padding "
    "buckets, XLA at fixed padded shapes (4-8 s to compile a shape, then each call "
    "1.2-3x slower), inter-op threads, weights as graph constants and oneDNN's "
    "pre-packed weights switch, a fused layer norm, a cheaper model load (see the "
    "MiniLM levers table). What remains is the matrix products: 83.5% of a pass "
    "at 185-188 GFLOP per CPU second, which puts this model's ceiling in "
    "TensorFlow on this machine near 420 titles/s (see under the MiniLM levers); "
    "int8 was slower on this backend (issue 17)",
    "million_under_60_minutes": "streaming tokenisation into flat int32 arrays; the "
    "embedding rate bounds it (a million titles at 400 titles/s is 42 minutes alone)",
    "million_under_4_gb": "flat token arrays, streamed MiniLM chunks, memory-mapped "
    "features and embeddings read by row, DEC's batches gathered from the array, "
    "the heap trimmed between nodes (scale section); the features themselves are "
    "1.07 GB at 699,088 x 384 float32",
}


def _closing_note() -> list[str]:
    """Each target not met, with what was tried for it (see the tables above)."""
    unmet = []
    for name in ("speed", "scale"):
        found = load(name)
        if found:
            unmet += [key for key, ok in found.get("targets", {}).items() if not ok]
    lines = [f"- {key}: not met. Tried: {TRIED[key]}." for key in unmet if key in TRIED]
    if not lines:
        return []
    return ["Closing note, targets not met:", "", *lines, ""]


def section(s: dict[str, Any]) -> list[str]:
    parts = [
        f"## Levers: each against the version before it ({s['machine']['date']}, baseline `{s['baseline']}`, side by side)",
        "",
        f"Current version measured: `{s.get('current_commit', 'not recorded')}`; the speed "
        "section above measures the integrated main.",
        "",
        f"Load average before: {s['load_average_before']}, after: {s['load_average_after']} "
        f"on {s['machine']['cores']} cores (a shared machine: compare within a table, not across days).",
        "",
    ]
    if "startup" in s:
        b, c = s["startup"]["baseline"], s["startup"]["current"]
        parts += [
            "Start-up, `kedro run --pipelines data_processing` (Kedro imports only the requested pipeline's "
            "modules, so neither version loads TensorFlow here; one run each, noise dominates):",
            "",
            "| version | wall seconds | peak RSS (MB) |",
            "| --- | ---: | ---: |",
            f"| baseline | {b['seconds']} | {b['peak_rss_mb']} |",
            f"| current | {c['seconds']} | {c['peak_rss_mb']} |",
            f"| ratio | {round(c['seconds'] / b['seconds'], 3)} | {round(c['peak_rss_mb'] / b['peak_rss_mb'], 3)} |",
            "",
        ]
    if "full_run" in s:
        b, c = s["full_run"]["baseline"], s["full_run"]["current"]
        parts += [
            "Cold default run, each version with its own configuration:",
            "",
            "| | baseline | current |",
            "| --- | ---: | ---: |",
            f"| wall seconds | {b['seconds']} | {c['seconds']} |",
            f"| peak RSS (MB) | {b['peak_rss_mb']} | {c['peak_rss_mb']} |",
            *[
                f"| {node} s | {b['nodes'].get(node, '')} | {c['nodes'].get(node, '')} |"
                for node in NODES
            ],
            f"| autoencoder epochs | {b['autoencoder_epochs']} | {c['autoencoder_epochs']} |",
            "| final NMI (weak labels) | "
            + " | ".join("" if v["nmi"] is None else f"{v['nmi']:.4f}" for v in (b, c))
            + " |",
            "",
        ]
    if "encoder" in s:
        base = s["encoder"][0]["titles_per_second"]
        parts += [
            "MiniLM alone on the real descriptions (median of alternating rounds; the first row is the baseline's setting):",
            "",
            "| precision | batch | titles/s | vs baseline | min cosine to float32 |",
            "| --- | ---: | ---: | ---: | ---: |",
            *[
                f"| {r['precision']} | {r['batch_size']} | {r['titles_per_second']} | "
                f"{round(r['titles_per_second'] / base, 2)}× | {r['min_cosine_to_float32']} |"
                for r in s["encoder"]
            ],
            "",
        ]
    if "nmi" in s:
        f32, bf16 = s["nmi"]["float32"], s["nmi"]["bfloat16"]
        delta = bf16["final_nmi"] - f32["final_nmi"]
        parts += [
            f"Clustering with bfloat16 features against float32 (real file, default seed): final NMI "
            f"{bf16['final_nmi']:.4f} vs {f32['final_nmi']:.4f} ({delta:+.4f}; target within 0.005: "
            f"**{'met' if abs(delta) <= 0.005 else 'not met'}**); KMeans start {bf16['kmeans_start_nmi']:.4f} "
            f"vs {f32['kmeans_start_nmi']:.4f}.",
            "",
        ]
    if "nmi_seeds" in s:
        seeds = s["nmi_seeds"]
        f32, bf16 = seeds["float32"], seeds["bfloat16"]
        delta = statistics.mean(bf16) - statistics.mean(f32)
        parts += [
            f"KMeans (20 clusters, 20 restarts) on the same two feature sets over seeds "
            f"{seeds['seeds']}: mean NMI bfloat16 {statistics.mean(bf16):.4f} vs float32 "
            f"{statistics.mean(f32):.4f} ({delta:+.4f}; target within 0.005: "
            f"**{'met' if abs(delta) <= 0.005 else 'not met'}**); float32 alone ranges "
            f"{min(f32):.4f} to {max(f32):.4f} across seeds, bfloat16 {min(bf16):.4f} to {max(bf16):.4f}.",
            "",
        ]
    if "minilm" in s:
        m = s["minilm"]
        b, c = m["median"]["baseline"], m["median"]["current"]
        parts += [
            f"MiniLM cold encode in a fresh process, model loading included, baseline `{m['baseline']}` "
            f"and current alternating (median of {m['rounds']}; load average {m['load_average']}):",
            "",
            "| | baseline | current | ratio |",
            "| --- | ---: | ---: | ---: |",
            *[
                f"| {label} | {b[key]} | {c[key]} | {round(c[key] / b[key], 3)} |"
                for label, key in (
                    ("titles/s (load + encode)", "titles_per_second"),
                    ("load s", "load_seconds"),
                    ("encode s", "encode_seconds"),
                    ("peak RSS (MB)", "peak_rss_mb"),
                    ("RSS after encode (MB)", "rss_after_encode_mb"),
                    ("RSS after close (MB)", "rss_after_close_mb"),
                )
            ],
            "",
        ]
    parts += [
        "MiniLM levers tried on 2026-11-27 (side by side, see `MINILM_LEVERS` in benchmarks/levers.py):",
        "",
        "| lever | kept | measured effect |",
        "| --- | --- | --- |",
        *[f"| {lever} | {kept} | {effect} |" for lever, kept, effect in MINILM_LEVERS],
        "",
        MINILM_CEILING,
        "",
    ]
    return parts + _closing_note()
