"""Cluster colours shared by the map, the explorer and the report.

Colorcet's Glasbey palette ``glasbey_bw_minc_20_maxl_70``: up to 256 colours
chosen one by one to be as far as possible (in a perceptual colour space)
from all those before, with neither near-white nor grey ones (lightness at
most 70, chroma at least 20), so they show on a white page. Unlike tab20,
whose light and dark twins (10 and 19, 5 and 15 on the real map) look alike,
the first 20 or 30 stay told apart. No Kedro, no plotting library.
"""

from __future__ import annotations

GLASBEY = "glasbey_bw_minc_20_maxl_70"


def cluster_palette(n_clusters: int) -> list[str]:
    """``n_clusters`` hex colours, indexed by cluster id.

    Colours are tied to the cluster id (not to the rank among non-empty
    clusters) so a cluster keeps its colour when another one is empty. Past
    256 ids the palette repeats.

    Raises:
        ValueError: If ``n_clusters`` is not positive.
    """
    import colorcet

    if n_clusters <= 0:
        raise ValueError(f"n_clusters must be positive, got {n_clusters}")
    colours = colorcet.palette[GLASBEY]
    return [colours[i % len(colours)] for i in range(n_clusters)]
