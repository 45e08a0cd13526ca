"""The text a story is compared on: title and body without syndication boilerplate.

Syndicated copies differ mostly in what the re-publisher wraps around the story (a dateline,
credits, a copyright line, "Read more" links); removing those keeps copies near 1.0 without
lowering the bar for genuinely different texts.
"""

from __future__ import annotations

import re

_DATELINE = re.compile(
    r"^\s*(?:[A-Z][A-Z .'/-]{1,40}(?:,\s*[A-Z][a-z]{2,8}\.?\s+\d{1,2})?\s*)?"
    r"(?:\([A-Za-z .&'-]{2,40}\)\s*)?(?:-{1,2}|\u2013|\u2014)\s+"
)
_BOILERPLATE = re.compile(
    r"^\s*(?:\((?:additional\s+)?(?:reporting|writing|editing)\b.*\)|copyright\b.*"
    r"|all rights reserved.*|read more\b.*|related:.*|click here\b.*"
    r"|this (?:story|article) (?:was|has been) .*(?:produced|republished|syndicated).*"
    r"|\((?:c|©)\)\s*\d{4}.*)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_TITLE_TAG = re.compile(
    r"^\s*(?:UPDATE\s*\d*|REFILE|CORRECTED|BREAKING|EXCLUSIVE)\s*[-:]+\s*", re.IGNORECASE
)
_TITLE_TAIL = re.compile(r"\s+[-|\u2013\u2014]\s+[\w .'&]{2,40}$")


def clean_title(title: str) -> str:
    return _TITLE_TAIL.sub("", _TITLE_TAG.sub("", title.strip()))


def clean_body(body: str) -> str:
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", body) if part.strip()]
    kept = [part for part in paragraphs if not _BOILERPLATE.match(part)]
    if kept:
        kept[0] = _DATELINE.sub("", kept[0], count=1)
    return "\n\n".join(kept)


def dedupe_text(title: str, body: str) -> str:
    return f"{clean_title(title)}\n\n{clean_body(body)}"
