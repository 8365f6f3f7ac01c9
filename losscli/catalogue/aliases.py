"""Names people already use for catalogue losses: PyTorch, Keras, scikit-learn, XGBoost and LightGBM.

Each alias resolves to one catalogue loss, and presets the parameters that make our numbers the
library's numbers where the catalogue has a switch for it (Keras' ``binary_crossentropy`` is
``bce`` with ``compat=keras``, scikit-learn's ``mean_tweedie_deviance`` is ``tweedie`` with its
default ``power=0``). A preset is a default: ``-l binary_crossentropy:compat=torch`` overrides it.

Gradient-boosting objectives (``reg:squarederror``, ``binary``) name the loss the objective
minimises, evaluated on what the library's ``predict()`` returns by default: probabilities for
``binary:logistic`` and ``multiclass``, the rate for ``count:poisson``, margins for ``binary:logitraw``.

A catalogue name always wins: Keras' ``bce``, ``BCE`` and ``Poisson`` mean other numbers than the
catalogue's ``bce`` and ``poisson`` and are not aliases (no alias differs from a catalogue name only
in letter case unless it means the same loss with the same parameters). Names that mean different numbers in
different libraries are either left out (Keras' ``MeanAbsolutePercentageError`` is in percent) or
follow the library named in ``source`` and say so in ``note``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Alias:
    """``name`` means catalogue loss ``loss`` with ``preset`` (``key=value,...``, as after the colon of a spec)."""

    name: str
    loss: str
    source: str
    preset: str = ""
    note: str = ""

    @property
    def spec(self) -> str:
        """The catalogue spec this alias stands for, e.g. ``bce:compat=keras``."""
        return self.loss + (f":{self.preset}" if self.preset else "")


def _many(loss: str, source: str, names: str, preset: str = "", note: str = "") -> list[Alias]:
    return [Alias(name, loss, source, preset, note) for name in names.split()]


_PROBABILITIES = "on probabilities, as predict() returns them"

ALIASES: tuple[Alias, ...] = tuple(
    # ------------------------------------------------------------------ regression
    _many("mse", "PyTorch", "MSELoss mse_loss")
    + _many("mse", "Keras, scikit-learn, LightGBM", "mean_squared_error")
    + _many("mse", "Keras", "MeanSquaredError MSE")
    + _many("mse", "XGBoost", "reg:squarederror")
    + _many("mse", "LightGBM", "regression regression_l2 l2")
    + _many("mse", "scikit-learn", "squared_error")
    + _many("rmse", "scikit-learn", "root_mean_squared_error")
    + _many("rmse", "LightGBM", "l2_root")
    + _many("mae", "PyTorch", "L1Loss l1_loss")
    + _many("mae", "Keras, scikit-learn, LightGBM", "mean_absolute_error")
    + _many("mae", "Keras", "MeanAbsoluteError MAE")
    + _many("mae", "XGBoost", "reg:absoluteerror")
    + _many("mae", "LightGBM", "regression_l1 l1")
    + _many("mae", "scikit-learn", "absolute_error")
    + _many("huber", "PyTorch", "HuberLoss huber_loss")
    + _many("huber", "Keras", "Huber")
    + _many("smooth_l1", "PyTorch", "SmoothL1Loss smooth_l1_loss")
    + _many("log_cosh", "Keras", "LogCosh logcosh")
    + _many("quantile", "scikit-learn", "mean_pinball_loss", note="scikit-learn calls the level alpha; here it is q")
    + _many("quantile", "shorthand", "pinball pinball_loss")
    + _many("quantile", "XGBoost", "reg:quantileerror", note="XGBoost calls the level quantile_alpha; here it is q")
    + _many("msle", "Keras", "mean_squared_logarithmic_error MeanSquaredLogarithmicError MSLE",
            note="Keras also clips pred below at 1e-7 first; the two agree for pred >= 1e-7")
    + _many("msle", "scikit-learn", "mean_squared_log_error")
    + _many("msle", "XGBoost", "reg:squaredlogerror")
    + _many("mape", "scikit-learn, LightGBM", "mean_absolute_percentage_error",
            note="a fraction, as scikit-learn; Keras' function of this name reports percent (100 times this)")
    + _many("poisson", "PyTorch", "PoissonNLLLoss poisson_nll_loss")
    + _many("poisson", "XGBoost", "count:poisson", "log_input=false",
            note="on the rate, as predict() returns it; without XGBoost's constant log(y!)")
    + _many("gaussian_nll", "PyTorch", "GaussianNLLLoss gaussian_nll_loss")
    + _many("tweedie", "scikit-learn", "mean_tweedie_deviance", "power=0", note="scikit-learn's default power is 0")
    + _many("tweedie", "scikit-learn", "mean_poisson_deviance", "power=1")
    + _many("tweedie", "scikit-learn", "mean_gamma_deviance", "power=2")
    + _many("tweedie", "XGBoost", "reg:tweedie", note="the mean deviance at tweedie_variance_power (default 1.5)")
    + _many("tweedie", "XGBoost", "reg:gamma", "power=2", note="the mean gamma deviance")
    + _many("tweedie", "LightGBM", "gamma", "power=2", note="the mean gamma deviance")
    + _many("charbonnier", "XGBoost", "reg:pseudohubererror",
            note="equals XGBoost's pseudo-Huber at huber_slope=1 (scale=1)")
    # ------------------------------------------------------------------ binary classification
    + _many("bce", "PyTorch", "BCELoss binary_cross_entropy")
    + _many("bce", "Keras", "binary_crossentropy BinaryCrossentropy", "compat=keras")
    + _many("bce", "scikit-learn", "log_loss", "compat=sklearn", note="binary: one probability column")
    + _many("bce", "XGBoost", "binary:logistic reg:logistic logloss", note=_PROBABILITIES)
    + _many("bce", "LightGBM", "binary binary_logloss xentropy", note=_PROBABILITIES)
    + _many("bce_logits", "PyTorch", "BCEWithLogitsLoss binary_cross_entropy_with_logits")
    + _many("bce_logits", "XGBoost", "binary:logitraw", note="on margins (predict(output_margin=True))")
    + _many("focal", "torchvision", "sigmoid_focal_loss")
    + _many("hinge", "Keras", "Hinge")
    + _many("hinge", "scikit-learn", "hinge_loss")
    + _many("squared_hinge", "Keras", "SquaredHinge")
    + _many("soft_margin", "PyTorch", "SoftMarginLoss soft_margin_loss")
    # ------------------------------------------------------------------ multi-class
    + _many("cross_entropy", "PyTorch", "CrossEntropyLoss")
    + _many("cross_entropy", "Keras",
            "categorical_crossentropy CategoricalCrossentropy sparse_categorical_crossentropy "
            "SparseCategoricalCrossentropy", "from_logits=false,compat=keras",
            note="Keras' default from_logits=False: pred are probabilities; sparse means one index column")
    + _many("cross_entropy", "XGBoost", "multi:softprob mlogloss", "from_logits=false", note=_PROBABILITIES)
    + _many("cross_entropy", "LightGBM", "multiclass softmax multi_logloss", "from_logits=false",
            note=_PROBABILITIES)
    + _many("nll", "PyTorch", "NLLLoss nll_loss")
    + _many("kl_div", "PyTorch", "KLDivLoss", note="pred holds probabilities, not torch's log-probabilities")
    + _many("kl_div", "Keras", "kl_divergence KLDivergence kld KLD",
            note="Keras also clips both inputs to [1e-7, 1]; the two agree away from 0")
    + _many("multi_margin", "PyTorch", "MultiMarginLoss multi_margin_loss")
    + _many("brier", "scikit-learn", "brier_score_loss")
    # ------------------------------------------------------------------ embeddings and boxes
    + _many("cosine_embedding", "PyTorch", "CosineEmbeddingLoss cosine_embedding_loss")
    + _many("triplet", "PyTorch", "TripletMarginLoss triplet_margin_loss")
    + _many("giou", "torchvision", "generalized_box_iou_loss")
    + _many("diou", "torchvision", "distance_box_iou_loss")
    + _many("ciou", "torchvision", "complete_box_iou_loss")
)
