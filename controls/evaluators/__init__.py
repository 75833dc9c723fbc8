"""One pure evaluation module per control, found by its CONTROL_ID.

A module here defines CONTROL_ID, evaluate(ctx) -> Findings, and MESSAGES
(its deviation texts in nl and en). Helper modules (named with a leading
underscore) have no CONTROL_ID but may add MESSAGES.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from ..framework import EvaluationContext, Findings
from ..messages import MESSAGES

EVALUATORS: dict[str, Callable[[EvaluationContext], Findings]] = {}

for _info in pkgutil.iter_modules(__path__):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    _id = getattr(_module, "CONTROL_ID", None)
    if _id is not None:
        if _id in EVALUATORS:
            raise RuntimeError(f"two evaluators for {_id}")
        EVALUATORS[_id] = _module.evaluate
    for _code, _texts in getattr(_module, "MESSAGES", {}).items():
        if _code in MESSAGES:
            raise RuntimeError(f"message code {_code} defined twice")
        MESSAGES[_code] = _texts
