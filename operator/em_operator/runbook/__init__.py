"""Pure planners: the runbook's decisions as functions of plain data.

Nothing here talks to Kubernetes, reads the clock or draws random numbers: the
current time and the token generator are parameters, so the same inputs always
give the same plan and the planners are tested without a cluster.
"""

from __future__ import annotations
