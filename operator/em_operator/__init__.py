"""The Everything Market operator: the ops runbook as a kopf controller.

`runbook/` holds the pure planners (plain data in, plain data out, no I/O);
`handlers/` holds the thin kopf edge that reads the cluster, calls a planner and
applies its plan.
"""

from __future__ import annotations
