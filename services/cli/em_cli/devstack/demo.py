"""Demo data for `make up`: three symbols a newcomer can trade at once.

Inserted only when missing, so a second `make up` keeps whatever the market did since.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from em_backend.db import tables
from em_common import db

REPO = Path(__file__).resolve().parents[4]
DEMO_SOURCES = REPO / "services" / "reality" / "demo_sources.yaml"

DEMO_STOCKS: list[dict[str, Any]] = [
    {
        "symbol": "ELON",
        "name": "Elon Musk",
        "description": "The entrepreneur's public fortunes: launches, lawsuits, posts.",
        "kind": "stock",
        "aliases": ["Elon Musk", "Musk"],
    },
    {
        "symbol": "TECH",
        "name": "Technology sector",
        "description": "Big tech as an industry: earnings, regulation, product launches.",
        "kind": "stock",
        "aliases": ["big tech", "tech sector", "technology companies", "tech giants"],
    },
    {
        "symbol": "AI_INDEX",
        "name": "AI Index",
        "description": "An index of the AI economy: half ELON, half TECH.",
        "kind": "index",
        "aliases": ["artificial intelligence", "AI industry"],
        "components": [{"symbol": "ELON", "weight": "0.5"}, {"symbol": "TECH", "weight": "0.5"}],
    },
]
SYMBOLS = [s["symbol"] for s in DEMO_STOCKS]


def seed(database_url: str) -> int:
    """Insert the demo symbols that are missing; return how many were added."""
    engine = create_engine(db.sync_url(database_url), poolclass=NullPool)
    added = 0
    try:
        with Session(engine) as session, session.begin():
            existing = set(session.scalars(select(tables.Stock.symbol)))
            for spec in DEMO_STOCKS:
                if spec["symbol"] in existing:
                    continue
                score = Decimal("50")
                session.add(
                    tables.Stock(
                        symbol=spec["symbol"],
                        name=spec["name"],
                        description=spec["description"],
                        kind=spec["kind"],
                        aliases=spec["aliases"],
                        components=spec.get("components", []),
                        initial_score=score,
                    )
                )
                session.flush()
                session.add(
                    tables.Score(symbol=spec["symbol"], reality_score=score, final_price=score)
                )
                added += 1
    finally:
        engine.dispose()
    return added
