"""Counts of what the reader did in this process: answers written by the model, partial
answers (the verified part of a stream that failed), fallbacks to the extractive answer by
cause, and generated sentences kept, dropped and re-attributed (for `/stats` and `eval`)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class ReaderOutcome:
    """What happened to one question: `used` is "llm" or "extractive"; `cause` says why a
    stream ended early or the extractive answer was kept ("" when all went well)."""

    used: str
    cause: str = ""
    generated: int = 0
    kept: int = 0
    dropped: int = 0
    reattributed: int = 0
    dropped_reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"used": self.used, "cause": self.cause, "generated": self.generated,
                "kept": self.kept, "dropped": self.dropped,
                "reattributed": self.reattributed, "dropped_reasons": self.dropped_reasons}


class ReaderStats:
    """Thread-safe running totals of `ReaderOutcome`s."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.answers = 0
        self.partial = 0
        self.fallbacks: Counter[str] = Counter()
        self.sentences: Counter[str] = Counter()

    def record(self, outcome: ReaderOutcome) -> None:
        with self._lock:
            if outcome.used == "llm":
                self.answers += 1
                self.partial += bool(outcome.cause)
            else:
                self.fallbacks[outcome.cause or "unknown"] += 1
            self.sentences.update(generated=outcome.generated, kept=outcome.kept,
                                  dropped=outcome.dropped, reattributed=outcome.reattributed)

    def to_dict(self) -> dict[str, object]:
        with self._lock:
            return {"llm_answers": self.answers, "partial_answers": self.partial,
                    "fallbacks": sum(self.fallbacks.values()),
                    "fallback_causes": dict(self.fallbacks.most_common()),
                    "sentences": {k: self.sentences[k] for k in
                                  ("generated", "kept", "dropped", "reattributed")}}
