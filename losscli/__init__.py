"""losscli: a command-line loss calculator for predictions in CSV, TSV and Parquet files, and its Python API.

    import losscli
    losscli.get("focal", gamma=1.5).value(pred=logits, target=labels)          # one loss on arrays
    losscli.get("focal", gamma=1.5).hess(pred=logits, target=labels)           # its Hessian diagonal
    losscli.compute("preds.parquet", losses=["mse", "huber:delta=2"], grad=True).to_frame()
    losscli.grad("preds.parquet", ["huber"], hess=True, out="derivatives.parquet")
    losscli.boosting.xgboost_objective("focal", gamma=2.0)                     # a custom objective

The public API is what ``__all__`` lists here and ``losscli.boosting``; it is loaded on first use,
so `losscli --help` imports neither NumPy nor pyarrow. Errors are
:class:`~losscli.errors.UsageProblem` (a bad request; exit 2 on the command line) and
:class:`~losscli.errors.InputDataError` (bad data; exit 3), with the command line's messages.
"""

__version__ = "0.2.0"

__all__ = ["compute", "diff", "grad", "get", "losses", "LossFunction", "Report", "Result", "DiffReport",
           "DiffResult", "InputDataError", "UsageProblem", "__version__"]

_API = {"compute", "diff", "grad", "get", "losses", "LossFunction"}
_MODEL = {"Report", "Result", "DiffReport", "DiffResult"}
_ERRORS = {"InputDataError", "UsageProblem"}


def __getattr__(name: str):
    if name in _API:
        from . import api

        return getattr(api, name)
    if name in _MODEL:
        from . import model

        return getattr(model, name)
    if name in _ERRORS:
        from . import errors

        return getattr(errors, name)
    if name == "boosting":
        import importlib

        return importlib.import_module(f"{__name__}.boosting")
    raise AttributeError(f"module 'losscli' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | {"boosting"})


def _keep_api_names() -> None:
    """Keep ``losscli.diff`` the API function once the engine module ``losscli/diff.py`` is imported.

    Importing a submodule binds it as an attribute of its package, which would shadow the function
    of the same name that ``__getattr__`` gives; the package's class refuses that one binding.
    """
    import sys
    import types

    class Package(types.ModuleType):
        def __setattr__(self, name, value):
            if name in _API and isinstance(value, types.ModuleType):
                return
            super().__setattr__(name, value)

    sys.modules[__name__].__class__ = Package


_keep_api_names()
