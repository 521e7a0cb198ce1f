"""Starting the whole suite as real HTTP server processes: used by `phb up`, the tests and the benchmarks."""

from __future__ import annotations

import ctypes
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from shared.config import DEFAULT_PORTS, SERVICES, child_environment

ALL = (*SERVICES, "gateway")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: the child gets SIGTERM if `phb up` itself dies, so nothing is orphaned."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass
class Suite:
    ports: dict[str, int]
    env: dict[str, str]
    log_dir: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def gateway(self) -> str:
        return self.url("gateway")

    def command(self, name: str) -> tuple[list[str], dict[str, str]]:
        """How `name` is started: waitress (`python -m services.NAME`), or with
        `PHB_SUITE_SERVER=gunicorn` or `granian` the production server as `phb serve NAME`
        starts it, in `PHB_SUITE_WORKERS_<NAME>` processes where that is set (else
        `WEB_CONCURRENCY`: a benchmark's shape can differ by service)."""
        port = str(self.ports[name])
        server = self.env.get("PHB_SUITE_SERVER")
        if server in ("gunicorn", "granian"):
            serve = "from services.cli import main; main()"
            env = {**self.env, "PORT": port, "PHB_BIND_HOST": "127.0.0.1", "PHB_SERVER": server}
            workers = self.env.get(f"PHB_SUITE_WORKERS_{name.upper()}")
            if workers:
                env["WEB_CONCURRENCY"] = workers
            return [sys.executable, "-c", serve, "serve", name], env
        return [sys.executable, "-m", f"services.{name}", "--port", port], self.env

    def start(self, name: str) -> None:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        argv, env = self.command(name)
        self.processes[name] = subprocess.Popen(
            argv,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
        )
        log.close()

    def start_all(self) -> None:
        for name in ALL:
            self.start(name)

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        # 30 s: a loaded machine can take more than a few seconds to finish requests in flight.
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def wait_ready(
        self, timeout: float = 120, names: tuple[str, ...] = ALL, limit: float = 900
    ) -> None:
        """Wait until every one of `names` answers its health check.

        A process that has exited fails at once, with its log. One still starting is given time
        for as long as it makes progress (uses CPU, or writes to its log): on a loaded machine a
        start-up can take a minute or more, and that is not a failure. Only a process that goes
        `timeout` seconds without answering or making progress, or all of them not being ready
        after `limit` seconds, is."""
        started = time.monotonic()
        watches = {
            name: Progress(self.processes.get(name), self.log_dir / f"{name}.log") for name in names
        }
        pending = list(names)
        while pending:
            now = time.monotonic()
            for name in list(pending):
                process = self.processes.get(name)
                if process is not None and process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {process.returncode}: {self.tail(name)}"
                    )
                if self._answers(name):
                    pending.remove(name)
                    continue
                idle = watches[name].idle_for(now)
                if idle > timeout:
                    raise TimeoutError(
                        f"{name} was not ready and made no progress for {idle:.0f}s: {self.tail(name)}"
                    )
            if pending and now - started > limit:
                raise TimeoutError(f"{pending} not ready within {limit}s: {self.tail(pending[0])}")
            if pending:
                time.sleep(0.1)

    def _answers(self, name: str) -> bool:
        path = "/health" if name == "gateway" else "/ready"
        try:
            return requests.get(self.url(name) + path, timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class Progress:
    """Whether a starting process is getting anywhere: the CPU time it and its children have used
    (Linux /proc; gunicorn's workers are its children) and the size of its log."""

    def __init__(self, process: subprocess.Popen | None, log: Path):
        self.pid = process.pid if process is not None else None
        self.log = log
        self.seen = self._reading()
        self.since = time.monotonic()

    def idle_for(self, now: float) -> float:
        """Seconds since the last sign of progress (0 when there is some now)."""
        reading = self._reading()
        if reading != self.seen:
            self.seen, self.since = reading, now
        return now - self.since

    def _reading(self) -> tuple[int, int]:
        try:
            size = self.log.stat().st_size
        except OSError:
            size = -1
        return (cpu_ticks(self.pid) if self.pid is not None else 0, size)


def cpu_ticks(pid: int) -> int:
    """User and system CPU ticks of `pid` and its children (0 where /proc cannot tell)."""
    total = 0
    for one in (pid, *_children(pid)):
        try:
            with open(f"/proc/{one}/stat", encoding="ascii") as stat:
                fields = stat.read().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as children:
            return [int(child) for child in children.read().split()]
    except (OSError, ValueError):
        return []


def suite_env(
    ports: dict[str, int], var_dir: Path, extra: dict[str, str] | None = None
) -> dict[str, str]:
    urls = {f"{name.upper()}_URL": f"http://127.0.0.1:{ports[name]}" for name in ALL}
    return child_environment({"PHB_VAR_DIR": str(var_dir), **urls, **(extra or {})})


def make_suite(
    var_dir: Path,
    *,
    ports: dict[str, int] | None = None,
    extra_env: dict[str, str] | None = None,
) -> Suite:
    ports = ports or dict(DEFAULT_PORTS)
    log_dir = var_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    return Suite(ports=ports, env=suite_env(ports, var_dir, extra_env), log_dir=log_dir)


def ephemeral_ports() -> dict[str, int]:
    return {name: free_port() for name in ALL}
