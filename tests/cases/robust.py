import numpy as np

from . import Case
from .regression import residuals

CASES = {
    "robust": [Case("alpha 1", residuals()),
               Case("alpha 2", residuals(), {"alpha": 2.0}),
               Case("alpha 0", residuals(), {"alpha": 0.0}),
               Case("alpha -inf scale 0.7", residuals(), {"alpha": -np.inf, "scale": 0.7}),
               Case("alpha 0.5 scale 3", residuals(scale=3.0), {"alpha": 0.5, "scale": 3.0}),
               Case("alpha 3.5", residuals(), {"alpha": 3.5}),
               Case("alpha -7", residuals(), {"alpha": -7.0}),
               # next to the removable singularities of eq. (1): the stable form must be smooth there too
               Case("alpha 1e-7", residuals(), {"alpha": 1e-7}),
               Case("alpha 2 - 1e-7", residuals(), {"alpha": 2.0 - 1e-7}),
               Case("alpha 2 + 1e-7 scale 0.3", residuals(scale=0.3), {"alpha": 2.0 + 1e-7, "scale": 0.3})],
    "charbonnier": [Case("random", residuals()), Case("scale 0.2", residuals(), {"scale": 0.2})],
    "cauchy": [Case("random", residuals()), Case("scale 2", residuals(), {"scale": 2.0})],
    "geman_mcclure": [Case("random", residuals()), Case("scale 0.5", residuals(), {"scale": 0.5})],
    "welsch": [Case("random", residuals()), Case("scale 3", residuals(), {"scale": 3.0})],
}
