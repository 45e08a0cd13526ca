"""The kopf operator that runs the runbook as code."""
