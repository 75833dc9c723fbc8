"""One pure evaluation function per control id."""

from . import t_fwh

EVALUATORS = {
    "T-FWH": t_fwh.evaluate,
}
