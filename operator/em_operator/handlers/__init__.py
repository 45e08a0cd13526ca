"""The kopf edge: read the cluster, call a runbook planner, apply its plan.

Importing `em_operator.handlers.registry` registers every handler with kopf.
Each module is one runbook action and stays thin; decisions live in
`em_operator.runbook`.
"""

from __future__ import annotations
