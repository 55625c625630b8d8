"""Choosing the bulk embedding backend by measuring it on this machine, not by a CPU flag.

The first large job of an `auto` embedder runs a short calibration: each candidate backend
("onnx", "torch", and "bf16" where the CPU multiplies bfloat16 natively) loads, then
embeds the same small sample of the job's texts, the backends taking turns over two rounds
(each keeps its fastest, so a burst of other work on a shared machine does not decide);
its load time and tokens per second are recorded. The measurements are cached in
`<cache dir>/bulk-calibration.json` under a key of the machine (CPU model and flags), the
model and the workers, so later jobs and processes on the same machine choose without
measuring again. A job then runs on the backend with the least expected time: its tokens
at the measured speed, plus the load time of a backend this process has not loaded yet.
`CITEBOT_BULK_BACKEND` set to a backend skips all this; deleting the file measures again.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

CALIBRATION_FILE = "bulk-calibration.json"
# Tokens of the job's texts each candidate embeds (after one warm-up batch): long enough to
# be steady, short next to a large job (~1 s per backend here).
SAMPLE_TOKENS = 6_000
ROUNDS = 2  # timed rounds per backend, taking turns; the fastest is kept


@dataclass(frozen=True, slots=True)
class Measurement:
    """One backend on one machine: seconds to load it, tokens embedded per second."""

    load_seconds: float
    tokens_per_second: float


def machine_key() -> str:
    """The CPU model and flags (what decides which kernels run), as a short key."""
    model, flags = "?", ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name") and model == "?":
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = " ".join(sorted(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return f"{model} [{hashlib.sha256(flags.encode()).hexdigest()[:12]}]"


def calibration_key(model: str, workers: int, threads: int) -> str:
    """The key measurements are cached under: machine, model, workers and threads."""
    return f"{machine_key()} | {model} | workers={workers} threads={threads}"


def expected_seconds(measurement: Measurement, tokens: int, *, loaded: bool) -> float:
    """How long a job of `tokens` tokens takes on a backend (plus loading it if needed)."""
    speed = max(measurement.tokens_per_second, 1e-9)
    return tokens / speed + (0.0 if loaded else measurement.load_seconds)


def choose(measurements: dict[str, Measurement], tokens: int,
           loaded: Callable[[str], bool]) -> str:
    """The backend with the least expected time for a job of `tokens` tokens."""
    return min(measurements, key=lambda route: expected_seconds(
        measurements[route], tokens, loaded=loaded(route)))


def sample_of(texts: Sequence[str]) -> list[str]:
    """Texts spread evenly over the job, about `SAMPLE_TOKENS` tokens in all (about four
    characters a token)."""
    if not texts:
        return []
    average = max(1, sum(len(text) for text in texts) // (4 * len(texts)))
    count = max(1, min(len(texts), SAMPLE_TOKENS // average))
    step = len(texts) / count
    return [texts[int(i * step)] for i in range(count)]


def measure(runs: dict[str, Callable[[list[str]], object]], sample: list[str], tokens: int,
            load_seconds: dict[str, float], *, rounds: int = ROUNDS) -> dict[str, Measurement]:
    """Time loaded backends on the same sample (`tokens` tokens): each warmed up on a few
    texts, then `rounds` rounds taking turns, each backend's fastest round kept — so a
    burst of other work on the machine does not decide the choice."""
    for run in runs.values():
        run(sample[: max(1, len(sample) // 8)])
    best = dict.fromkeys(runs, float("inf"))
    for _round in range(rounds):
        for route, run in runs.items():
            started = time.perf_counter()
            run(sample)
            best[route] = min(best[route], max(time.perf_counter() - started, 1e-9))
    return {route: Measurement(load_seconds=round(load_seconds[route], 3),
                               tokens_per_second=round(tokens / best[route], 1))
            for route in runs}


class CalibrationCache:
    """The cached measurements of every machine/model key, in one small JSON file."""

    def __init__(self, cache_dir: Path) -> None:
        self.path = cache_dir / CALIBRATION_FILE

    def _read(self) -> dict[str, dict[str, dict[str, float]]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> dict[str, Measurement] | None:
        """The measurements cached for `key`, None when there are none (or unreadable)."""
        entry = self._read().get(key)
        try:
            return {route: Measurement(**values) for route, values in entry.items()
                    } if entry else None
        except TypeError:
            return None

    def put(self, key: str, measurements: dict[str, Measurement]) -> None:
        """Record measurements for `key` (written aside then renamed: never half a file)."""
        data = self._read()
        data[key] = {route: asdict(m) for route, m in measurements.items()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        temporary.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.path)
