"""Progress of a solve job that a person can follow.

The solvers say nothing while they search (CP-SAT returns when its time is up or the
answer is proven), so a job's progress would jump from 0 to 1. `SolveClock` reports
instead, every half second from a helper thread, the step the solver is in (its stage
hook, see models.events.solver.StageHook) as the job's phase, and the milliseconds spent
against the time limit as done / total: the solver plans its stages on that limit, so
the bar tracks the real remaining time (a solve that proves its answer early ends early,
and the job then jumps to done). `done` stays below `total` until the work says it ended.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

from models.progress import Progress

TICK_S = 0.5


class SolveClock:
    """`with SolveClock(progress, time_limit) as clock: solve(..., on_stage=clock.stage)`"""

    def __init__(self, progress: Progress, time_limit: float, *, tick_s: float = TICK_S) -> None:
        self._progress = progress
        self._total = max(1, round(time_limit * 1000))
        self._tick = tick_s
        self._phase = "preparing"
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="solve-clock", daemon=True)

    @property
    def total(self) -> int:
        return self._total

    def elapsed_ms(self) -> int:
        return round((time.monotonic() - self._started) * 1000)

    def stage(self, name: str) -> None:
        """The solver's stage hook: a new phase, reported at once."""
        self._phase = f"solving:{name}"
        self._report()

    def _report(self) -> None:
        with self._lock:  # the helper thread and the solver's thread both report
            done = min(self.elapsed_ms(), self._total - 1)
            self._progress(self._phase, done, self._total)

    def _run(self) -> None:
        while not self._stop.wait(self._tick):
            self._report()

    def __enter__(self) -> SolveClock:
        self._started = time.monotonic()
        self._report()
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
