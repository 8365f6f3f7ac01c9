"""The engine: batches to blocks to mergeable states to reported numbers (see pipeline.py for the pipeline)."""

from .pipeline import DEFAULT_BATCH_ROWS, Accumulator, Options, run

__all__ = ["DEFAULT_BATCH_ROWS", "Accumulator", "Options", "run"]
