"""bench/tail.py's probe, loaded into the suite's processes only when that benchmark asks for it
(`PYTHONPATH` names this folder and `PHB_TAIL_PROBE_DIR` a folder to write to). Never on in
production or the tests: nothing imports it and no deployment sets either variable.

In each granian worker (started after the fork, where the app runs) it records:

- the interpreter lock's wait: a thread sleeps `PHB_TAIL_PROBE_MS` (2 ms) at a time and notes how
  late it runs again. A thread coming back from a database call or a socket waits the same way
  for the lock (or for a core: the two are told apart by /proc's run-queue figures, bench/tail.py);
- the garbage collector's pauses: each collection's generation and duration (`gc.callbacks`).

Lines `probe WALL LATE_MS` and `gc WALL GENERATION MS` go to `DIR/PORT-PID.txt` once a second.
"""

from __future__ import annotations

import os

_DIR = os.environ.get("PHB_TAIL_PROBE_DIR")


def _start() -> None:
    import gc
    import threading
    import time

    period = float(os.environ.get("PHB_TAIL_PROBE_MS", "2")) / 1000
    path = os.path.join(_DIR or ".", f"{os.environ.get('PORT', 'x')}-{os.getpid()}.txt")
    lines: list[str] = []
    started: list[float] = [0.0]

    def collected(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            took = (time.perf_counter() - started[0]) * 1000
            lines.append(f"gc {time.time():.6f} {info['generation']} {took:.3f}\n")

    gc.callbacks.append(collected)

    def probe() -> None:
        flushed = time.monotonic()
        while True:
            before = time.perf_counter()
            time.sleep(period)
            late = (time.perf_counter() - before - period) * 1000
            lines.append(f"probe {time.time():.6f} {late:.3f}\n")
            if time.monotonic() - flushed > 1.0:
                flushed = time.monotonic()
                taken = lines[:]
                del lines[: len(taken)]
                with open(path, "a") as out:
                    out.writelines(taken)

    threading.Thread(target=probe, name="tail-probe", daemon=True).start()


if _DIR:
    os.register_at_fork(after_in_child=_start)
