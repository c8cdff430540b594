"""xdist scheduling: every case of one op and dtype goes to the same worker.

The cases of an op share one torch.compile and feed its sweep item, so they
must run in one process, in collection order. pytest-xdist's `loadgroup`
would do this, but with pytest 9.2 its node-id rewrite (`item._nodeid`) no
longer takes effect, so grouping silently degrades to plain `load`. This
scheduler groups by the op prefix of our own node ids instead
(`suites/x/ops.py::add[f32-N=7]` -> `suites/x/ops.py::add[f32`); any other
test is its own unit, as under `load`.
"""

from __future__ import annotations

import re

from xdist.scheduler import LoadScopeScheduling

_CASE_ID = re.compile(r"^(?P<scope>.+/ops\.py::[^\[\]]+\[[^\]-]+)-.*\]$")


def op_scope(nodeid: str) -> str:
    match = _CASE_ID.match(nodeid)
    return match.group("scope") if match else nodeid


class OpGroupScheduling(LoadScopeScheduling):
    def _split_scope(self, nodeid: str) -> str:
        return op_scope(nodeid)
