"""Where a run's time and memory go: per-node timing, peak memory, heap trims.

:class:`NodeTimingHooks` times every node, dataset load and save and samples
each node's peak resident memory, into the ``run_timings`` dataset (read by
tracking and the benchmarks); :class:`FreedMemoryHooks` hands the memory a
node freed back to the system before the next node runs
(:mod:`netflix_dec.memory` does the trimming, without Kedro).
"""

from __future__ import annotations

import logging
import os
import resource
import threading
import time
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Node

from netflix_dec.dataset_names import RUN_TIMINGS
from netflix_dec.memory import trim_heap

logger = logging.getLogger(__name__)


class FreedMemoryHooks:
    """Hand the memory a node freed back to the system before the next node runs.

    glibc keeps freed blocks in its heaps for reuse (one heap per thread that
    allocated, and TensorFlow's and scikit-learn's thread pools make several),
    and the next node's large arrays are mapped afresh beside them, so the
    process holds both. ``malloc_trim(0)`` returns the free pages (on a
    million titles, 699,088 clustered, it lowered the peaks of ``train_dec``
    and ``embed_titles`` by 0.6 and 0.7 GB); where the C library has no
    ``malloc_trim`` (not glibc) this does nothing.
    """

    # First of the before_node_run hooks: the peak NodeTimingHooks measures
    # for a node starts from the trimmed process.
    @hook_impl(tryfirst=True)
    def before_node_run(self) -> None:
        trim_heap()


class _PeakMemory:
    """Sample the process's resident memory while a node runs (Linux /proc)."""

    def __init__(self, interval: float = 0.05) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self.peak = _resident_bytes()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, _resident_bytes())

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return max(self.peak, _resident_bytes())


def _resident_bytes() -> int:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # not Linux: the lifetime peak
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class NodeTimingHooks:
    """Time every node, dataset load and save; record each node's peak memory.

    The record goes to the ``run_timings`` dataset when the catalogue has one,
    so that benchmarks (and curious users) can see where a run spends its
    time: in the nodes, or in reading and writing their datasets (a large CSV
    can take longer to save than the node that made it).
    """

    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self._memory: dict[str, _PeakMemory] = {}
        self._records: list[dict[str, Any]] = []
        # (dataset, "load" | "save", thread) -> start; a thread per pair since
        # asynchronous loading and saving (`kedro run --async`) overlap.
        self._io_started: dict[tuple[str, str, int], float] = {}
        self._io: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()
        self._run_started = 0.0

    @hook_impl
    def before_pipeline_run(self) -> None:
        self._records = []
        self._io = {}
        self._io_started = {}
        self._run_started = time.perf_counter()

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        self._memory[node.name] = _PeakMemory()
        self._started[node.name] = time.perf_counter()

    @hook_impl
    def after_node_run(self, node: Node) -> None:
        seconds = time.perf_counter() - self._started.pop(node.name)
        peak = self._memory.pop(node.name).stop()
        self._records.append(
            {
                "node": node.name,
                "pipeline": node.namespace or "",
                "seconds": round(seconds, 3),
                "peak_rss_mb": round(peak / 2**20, 1),
            }
        )

    def _io_begin(self, dataset_name: str, operation: str) -> None:
        key = (dataset_name, operation, threading.get_ident())
        with self._lock:
            self._io_started[key] = time.perf_counter()

    def _io_end(self, dataset_name: str, operation: str) -> None:
        key = (dataset_name, operation, threading.get_ident())
        with self._lock:
            started = self._io_started.pop(key, None)
            if started is None:
                return
            record = self._io.setdefault(dataset_name, {"load": 0.0, "save": 0.0})
            record[operation] += time.perf_counter() - started

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str) -> None:
        self._io_begin(dataset_name, "load")

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str) -> None:
        self._io_end(dataset_name, "load")

    @hook_impl
    def before_dataset_saved(self, dataset_name: str) -> None:
        self._io_begin(dataset_name, "save")

    @hook_impl
    def after_dataset_saved(self, dataset_name: str) -> None:
        self._io_end(dataset_name, "save")

    def record(self, total: float) -> dict[str, Any]:
        """The run's seconds, its nodes and its datasets' load and save seconds."""
        datasets = [
            {
                "dataset": name,
                "load_seconds": round(times["load"], 3),
                "save_seconds": round(times["save"], 3),
            }
            for name, times in sorted(
                self._io.items(), key=lambda item: -sum(item[1].values())
            )
        ]
        return {
            "seconds": round(total, 3),
            "node_seconds": round(sum(r["seconds"] for r in self._records), 3),
            "load_seconds": round(sum(d["load_seconds"] for d in datasets), 3),
            "save_seconds": round(sum(d["save_seconds"] for d in datasets), 3),
            "nodes": self._records,
            "datasets": datasets,
        }

    @hook_impl
    def after_pipeline_run(self, catalog: DataCatalog) -> None:
        record = self.record(time.perf_counter() - self._run_started)
        slowest = sorted(self._records, key=lambda r: -r["seconds"])[:5]
        logger.info(
            "Pipeline time %.1f s (nodes %.1f s, loading %.1f s, saving %.1f s); "
            "slowest nodes: %s.",
            record["seconds"],
            record["node_seconds"],
            record["load_seconds"],
            record["save_seconds"],
            ", ".join(f"{r['node']} {r['seconds']:.1f} s" for r in slowest),
        )
        if RUN_TIMINGS in catalog:
            catalog.save(RUN_TIMINGS, record)
