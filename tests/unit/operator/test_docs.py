"""docs/operator.md names every reason the operator can set or post."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CODE = ROOT / "operator" / "em_operator"
DOC = (ROOT / "docs" / "operator.md").read_text()

LITERAL = re.compile(r'"(?:Normal|Warning)",\s*(?:reason=)?"([A-Z][A-Za-z]+)"')
CONSTANT = re.compile(r'^[A-Z_]+ = "([A-Z][a-z]+(?:[A-Z][a-z]+)+)"$', re.M)
KOPF_INFO = re.compile(r'reason="([A-Z][A-Za-z]+)"')


def reasons() -> set[str]:
    found: set[str] = set()
    for path in CODE.rglob("*.py"):
        text = path.read_text()
        found |= set(LITERAL.findall(text)) | set(KOPF_INFO.findall(text))
        found |= set(CONSTANT.findall(text))
    return found - {"Normal", "Warning"}


def test_every_reason_is_documented() -> None:
    found = reasons()
    assert {"RolledBack", "DataLossRefused", "DatabaseSecretMissing", "MigrationStarted"} <= found
    missing = sorted(r for r in found if f"`{r}`" not in DOC)
    assert not missing, f"undocumented reasons: {missing}"
