"""Storage below the Kedro datasets: atomic writes, arrays, the run ledger, caches.

- :mod:`.atomic`: atomic writes and the sweep of killed writes.
- :mod:`.arrays`: a memory-mapped ``.npz`` member; sampled rows of a map.
- :mod:`.spreadsheet`: escaping CSV cells a spreadsheet would run as formulas.
- :mod:`.ledger`: the run ledger (which runs completed) and the run lock.
- :mod:`.versions`: versioned files that see only complete runs (the ledger mixin).
- :mod:`.caches`: the content-addressed stores (:class:`FeatureCache`, :class:`MapCache`).

The Kedro dataset classes the catalogue names for files are in
:mod:`netflix_dec.datasets`.
"""
