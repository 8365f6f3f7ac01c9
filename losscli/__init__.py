"""losscli: a command-line loss calculator for predictions in CSV, TSV and Parquet files."""

__version__ = "0.1.0"
