"""pavedroad: the handoff contract between data science and engineering, checked by a machine."""

__version__ = "0.1.0"
