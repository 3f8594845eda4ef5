"""netflix-dec"""

__version__ = "0.1"
