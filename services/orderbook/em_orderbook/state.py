"""The shard's deterministic state: the engine plus what the service must remember about it.

`apply` is the only writer. It takes one journal batch (sequence number, wall-clock stamp,
commands) and returns what the batch produced: per-command results for the waiting callers,
trades and book changes for the MARKET stream, changed orders for PostgreSQL. It reads no
clock and does no I/O, so replaying the journal after a crash rebuilds the same books, the
same idempotency map, the same per-symbol event sequence numbers and the same statistics.

Remembered beyond the engine: a record per order (for GetOrder, cancels and the original
answer to a retried PlaceOrder), kept while the order lives and for the last `retain`
finished orders; the (account, client_order_id) idempotency map over those records; and per
symbol the event sequence and the trade statistics.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from typing import Any, Final

from em_orderbook import commands, errors, pressure
from em_orderbook.engine import CANCELLED as CANCEL_DONE
from em_orderbook.engine import Engine, Fill

FORMAT: Final = "em-orderbook-state/1"
BOOK_EVENT_DEPTH: Final = 10

OPEN: Final = "open"
PARTIAL: Final = "partially_filled"
FILLED: Final = "filled"
CANCELLED: Final = "cancelled"
REJECTED: Final = "rejected"
LIVE: Final = frozenset({OPEN, PARTIAL})

# The original answer to a place: (order_number, status, reason, message,
# fills [[trade_number, maker_number, maker_account, price, qty], ...],
# filled, resting, cancelled, self_trade_cancelled_numbers).
# Settings that change what a batch produces, journaled with it: (retain, book interval ms).
Params = tuple[int, int]

PlaceResult = tuple[int, str, str, str, list[list[Any]], int, int, int, list[int]]


class Record:
    """What the service knows about one order; `result` is the answer it was placed with."""

    __slots__ = (
        "account",
        "client_order_id",
        "created_ms",
        "filled",
        "kind",
        "order_id",
        "price",
        "qty",
        "result",
        "side",
        "status",
        "symbol",
        "tif",
        "updated_ms",
    )

    def __init__(self, cmd: commands.Command, order_id: int, ts_ms: int) -> None:
        _, self.symbol, self.account, self.client_order_id, self.side, self.kind = cmd[:6]
        self.tif: str = cmd[6]
        self.price: int | None = cmd[7]
        self.qty: int = cmd[8]
        self.order_id = order_id
        self.filled = 0
        self.status = OPEN
        self.created_ms = ts_ms
        self.updated_ms = ts_ms
        self.result: PlaceResult | list[Any] = (0, REJECTED, "", "", [], 0, 0, 0, [])

    def command(self) -> commands.Command:
        """The place command this order came from."""
        return [
            *(commands.PLACE, self.symbol, self.account, self.client_order_id, self.side),
            *(self.kind, self.tif, self.price, self.qty),
        ]

    def dump(self) -> list[Any]:
        return [
            self.command(),
            self.order_id,
            self.filled,
            self.status,
            self.created_ms,
            self.updated_ms,
            list(self.result),
        ]

    @classmethod
    def load(cls, data: list[Any]) -> Record:
        cmd, order_id, filled, status, created_ms, updated_ms, result = data
        record = cls(cmd, order_id, created_ms)
        record.filled = filled
        record.status = status
        record.updated_ms = updated_ms
        record.result = result
        return record


class SymbolState:
    __slots__ = ("pressure", "seq")

    def __init__(self) -> None:
        self.seq = 0
        self.pressure = pressure.Pressure()


class BatchOutput:
    """Everything one journal batch produced, in order.

    results: per command, (Record, duplicate) for a place and (engine result, qty) for a
    cancel; trades: (fill, symbol sequence); books: (symbol, sequence, bids, asks, last price);
    changed: records whose stored state moved (repeats allowed).
    """

    __slots__ = ("books", "changed", "results", "seq", "trades", "ts_ms")

    def __init__(self, seq: int, ts_ms: int) -> None:
        self.seq = seq
        self.ts_ms = ts_ms
        self.results: list[Any] = []
        self.trades: list[tuple[Fill, int]] = []
        self.books: list[tuple[str, int, list[Any], list[Any], int | None]] = []
        self.changed: list[Record] = []


class MarketState:
    def __init__(self, *, retain: int, alpha: float, book_interval_ms: int = 0) -> None:
        self.engine = Engine()
        self.records: dict[int, Record] = {}
        self.by_key: dict[tuple[str, str], Record] = {}
        self.finished: deque[Record] = deque()
        self.symbols: dict[str, SymbolState] = {}
        self.retain = retain
        self.alpha = alpha
        self.book_interval_ms = book_interval_ms
        # Book changes not yet announced, and the earliest stamp at which the next may be.
        self.pending_books: dict[str, SymbolState] = {}
        self.next_book_ms = 0
        self.seq = 0
        self.ts_ms = 0

    # -- applying ------------------------------------------------------------------------

    def apply(
        self, seq: int, ts_ms: int, cmds: list[commands.Command], params: Params | None = None
    ) -> BatchOutput:
        """Apply one journal batch. `params` are the settings the batch was journaled with,
        so that changing them between restarts cannot make a replay diverge."""
        if seq != self.seq + 1:
            raise errors.RecoveryError(f"journal batch {seq} does not follow {self.seq}")
        if params is not None:
            self.retain, self.book_interval_ms = params
        self.seq = seq
        self.ts_ms = ts_ms
        out = BatchOutput(seq, ts_ms)
        dirty = self.pending_books
        for cmd in cmds:
            op = cmd[0]
            if op == commands.PLACE:
                self._place(cmd, ts_ms, out, dirty)
            elif op == commands.CANCEL:
                self._cancel(cmd, ts_ms, out, dirty)
            else:
                out.results.append(None)  # a tick: only lets pending book changes out
        if dirty and ts_ms >= self.next_book_ms:
            engine = self.engine
            for symbol, sym in dirty.items():
                sym.seq += 1
                bids, asks = engine.depth(symbol, BOOK_EVENT_DEPTH)
                last = engine.last_trade(symbol)
                last_price = None if last is None else last.price
                out.books.append((symbol, sym.seq, bids, asks, last_price))
            dirty.clear()
            self.next_book_ms = ts_ms + self.book_interval_ms
        return out

    def _place(
        self,
        cmd: commands.Command,
        ts_ms: int,
        out: BatchOutput,
        dirty: dict[str, SymbolState],
    ) -> None:
        _, symbol, account, coid, side, kind, tif, price, qty = cmd
        key = (account, coid)
        existing = self.by_key.get(key)
        if existing is not None:
            out.results.append((existing, True))
            return
        sym = self.symbols.get(symbol)
        if sym is None:
            self.engine.add_symbol(symbol)
            sym = self.symbols[symbol] = SymbolState()
        report = self.engine.place(symbol, account, side, kind, qty, price, tif)
        _, order_id, _, _, raw_fills, resting, cancelled_qty, stp_raw, reason, _, message = report
        number = order_id or 0
        record = Record(cmd, number, ts_ms)
        self.by_key[key] = record
        out.results.append((record, False))
        if not number:
            record.status = REJECTED
            record.result = (0, REJECTED, reason or "", message or "", [], 0, 0, 0, [])
            self._finish(record)
            return
        records = self.records
        records[number] = record
        out.changed.append(record)
        fills: list[list[Any]] = []
        filled = 0
        stats = sym.pressure
        taker_buys = side == "buy"
        for raw in raw_fills:
            fill = Fill._make(raw)
            maker = records.get(fill.maker_order_id)
            if maker is not None:
                maker.filled += fill.qty
                maker.updated_ms = ts_ms
                out.changed.append(maker)
                if maker.filled >= maker.qty:
                    maker.status = FILLED
                    self._finish(maker)
                else:
                    maker.status = PARTIAL
            sym.seq += 1
            out.trades.append((fill, sym.seq))
            stats.record(ts_ms, fill.price, fill.qty, taker_buys, self.alpha)
            fills.append(
                [fill.trade_id, fill.maker_order_id, fill.maker_account, fill.price, fill.qty]
            )
            filled += fill.qty
        stp: list[int] = []
        for cancelled in stp_raw:
            stp.append(cancelled[0])
            victim = records.get(cancelled[0])
            if victim is not None:
                victim.status = CANCELLED
                victim.updated_ms = ts_ms
                out.changed.append(victim)
                self._finish(victim)
        record.filled = filled
        if resting:
            record.status = PARTIAL if filled else OPEN
        else:
            record.status = CANCELLED if cancelled_qty else FILLED
        record.result = (number, record.status, "", "", fills, filled, resting, cancelled_qty, stp)
        if resting or fills or stp:
            dirty[symbol] = sym
        if not resting:
            self._finish(record)

    def _cancel(
        self,
        cmd: commands.Command,
        ts_ms: int,
        out: BatchOutput,
        dirty: dict[str, SymbolState],
    ) -> None:
        _, symbol, number, account = cmd
        record = self.records.get(number)
        if record is None or record.symbol != symbol:
            out.results.append(("unknown", 0))
            return
        result, *_, cancelled_qty = self.engine.cancel(number, account)
        out.results.append((result, cancelled_qty))
        if result == CANCEL_DONE:
            record.status = CANCELLED
            record.updated_ms = ts_ms
            out.changed.append(record)
            self._finish(record)
            dirty[symbol] = self.symbols[symbol]

    def _finish(self, record: Record) -> None:
        """Keep a finished order for retries and queries until `retain` newer ones finish."""
        self.finished.append(record)
        while len(self.finished) > self.retain:
            self._evict_oldest()

    def _evict_oldest(self) -> None:
        old = self.finished.popleft()
        if old.order_id and self.records.get(old.order_id) is old:
            del self.records[old.order_id]
        key = (old.account, old.client_order_id)
        if self.by_key.get(key) is old:
            del self.by_key[key]

    # -- snapshots -----------------------------------------------------------------------

    def to_snapshot(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "seq": self.seq,
            "ts_ms": self.ts_ms,
            "engine": self.engine.to_snapshot(),
            "live": [r.dump() for r in self.records.values() if r.status in LIVE],
            "finished": [r.dump() for r in self.finished],
            "symbols": {
                name: {"seq": sym.seq, "pressure": sym.pressure.dump()}
                for name, sym in sorted(self.symbols.items())
            },
            "params": [self.retain, self.book_interval_ms],
            "pending_books": list(self.pending_books),
            "next_book_ms": self.next_book_ms,
        }

    @classmethod
    def from_snapshot(cls, data: dict[str, Any], *, alpha: float) -> MarketState:
        """The state as snapshotted, with the settings it was running with (the next batch
        brings the ones it was journaled with)."""
        if data.get("format") != FORMAT:
            raise errors.RecoveryError(f"not a state snapshot of format {FORMAT}")
        retain, interval = (int(v) for v in data["params"])
        state = cls(retain=retain, alpha=alpha, book_interval_ms=interval)
        state.engine = Engine.from_snapshot(data["engine"])
        state.seq = int(data["seq"])
        state.ts_ms = int(data["ts_ms"])
        for raw in data["live"]:
            record = Record.load(raw)
            state.records[record.order_id] = record
            state.by_key[(record.account, record.client_order_id)] = record
        for raw in data["finished"]:
            record = Record.load(raw)
            state.finished.append(record)
            state.by_key[(record.account, record.client_order_id)] = record
            if record.order_id:
                state.records[record.order_id] = record
        for name, raw in data["symbols"].items():
            sym = state.symbols[name] = SymbolState()
            sym.seq = int(raw["seq"])
            sym.pressure = pressure.Pressure.load(raw["pressure"])
        state.pending_books = {name: state.symbols[name] for name in data["pending_books"]}
        state.next_book_ms = int(data["next_book_ms"])
        return state

    def digest(self) -> str:
        """sha256 of the books alone: equal digests mean identical order books."""
        return self.engine.digest()

    def state_digest(self) -> str:
        """sha256 of everything remembered (books, records, sequences, statistics)."""
        text = json.dumps(self.to_snapshot(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()
