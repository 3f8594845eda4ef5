"""netflix-dec"""

from netflix_dec.telemetry import kedro_telemetry_off

__version__ = "0.1"

kedro_telemetry_off()
