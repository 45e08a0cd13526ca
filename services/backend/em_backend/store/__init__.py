"""Database access of the backend's tables: small async functions over a given session.

Functions never commit: the caller owns the transaction, so several steps (a score move,
its score_changes row, the index recompute) commit or roll back together.
"""
