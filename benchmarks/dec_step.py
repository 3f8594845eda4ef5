"""DEC training step: ms per iteration, a Python loop of train_on_batch against fit."""

from __future__ import annotations

import argparse
import time
from typing import Any

from benchmarks.harness import save

RESULT = "dec_step"
NEEDS_REAL_CSV = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--iterations", type=int, default=300)


def run(args: argparse.Namespace) -> None:
    """Milliseconds per DEC iteration: a Python loop of train_on_batch vs fit.

    Both train the encoder + clustering layer on the KL loss with SGD, on
    random data of the catalogue's size, after one warm-up call each.
    ``dec.fit_dec`` runs its iterations as one ``fit`` call per target update
    on the tf.data pipeline timed here (``batching.batches``).
    """
    import keras
    import numpy as np

    from netflix_dec import batching, dec

    iterations = args.iterations
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
            p = dec.target_distribution(batching.predict(model, x))
            if method == "fit":
                data = batching.batches(x, batch, (p,), shuffle_seed=0).repeat()
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
    save(RESULT, {"iterations": iterations, "rows": rows})


def section(d: dict[str, Any]) -> list[str]:
    return [
        f"## DEC training step ({d['machine']['date']}, {d['iterations']} iterations, ms per iteration)",
        "",
        "| setting | Python loop of Keras 3 `train_on_batch` | `fit` on `batching.batches`, as `dec.fit_dec` runs it |",
        "| --- | ---: | ---: |",
        *[
            f"| {r['setting']} | {r['train_on_batch_ms']} | {r['fit_dec_ms']} |"
            for r in d["rows"]
        ],
        "",
    ]
