"""Partner Connect Simulator: a local, stateful fake of the Databricks side of Partner Connect."""

__version__ = "0.1.0"
