"""losscli: a command-line loss calculator for predictions in CSV, TSV and Parquet files, and its Python API.

    import losscli
    losscli.get("focal", gamma=1.5).value(pred=logits, target=labels)
    losscli.compute("preds.parquet", losses=["mse", "huber:delta=2"], grad=True).to_frame()

The API is loaded on first use, so `losscli --help` imports neither NumPy nor pyarrow.
"""

__version__ = "0.2.0"

__all__ = ["compute", "diff", "get", "__version__"]


def __getattr__(name: str):
    if name in ("compute", "diff", "get", "LossFunction"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'losscli' has no attribute {name!r}")
