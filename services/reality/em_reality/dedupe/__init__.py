"""Near-duplicate detection and story grouping within a sliding time window (pure).

``vectors`` turns text into vectors (a lexical backend by default; an embedding model can be
plugged in through ``vectors.Embedder``), ``index`` finds the nearest recent vectors,
``clustering`` decides duplicate / same story / new story, ``evaluation`` measures it.
"""

from __future__ import annotations
