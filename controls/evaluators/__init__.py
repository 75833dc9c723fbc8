"""One pure evaluation module per control, found by its CONTROL_ID.

A module here defines CONTROL_ID and evaluate(ctx) -> Findings; helper modules
(named with a leading underscore) have no CONTROL_ID. The words of the findings
they record are not code: each code's nl/en text is in the control's catalogue
file (catalogue/<CONTROL-ID>.yaml, `messages:`) or, when several controls share
it, in catalogue/_shared_messages.yaml. So rendering a report needs only the
catalogue, and this registry only collects evaluate functions.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from ..framework import EvaluationContext, Findings

EVALUATORS: dict[str, Callable[[EvaluationContext], Findings]] = {}

for _info in pkgutil.iter_modules(__path__):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    _id = getattr(_module, "CONTROL_ID", None)
    if _id is not None:
        if _id in EVALUATORS:
            raise RuntimeError(f"two evaluators for {_id}")
        EVALUATORS[_id] = _module.evaluate
