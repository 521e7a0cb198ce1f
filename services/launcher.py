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
        `PHB_SUITE_SERVER=gunicorn` the production server as `phb serve NAME` starts it."""
        port = str(self.ports[name])
        if self.env.get("PHB_SUITE_SERVER") == "gunicorn":
            serve = "from services.cli import main; main()"
            env = {**self.env, "PORT": port, "PHB_BIND_HOST": "127.0.0.1"}
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

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
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

    def wait_ready(self, timeout: float = 60, names: tuple[str, ...] = ALL) -> None:
        deadline = time.monotonic() + timeout
        pending = list(names)
        while pending:
            name = pending[0]
            process = self.processes.get(name)
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}: {self.tail(name)}")
            try:
                path = "/health" if name == "gateway" else "/ready"
                if requests.get(self.url(name) + path, timeout=2).status_code == 200:
                    pending.pop(0)
                    continue
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} was not ready within {timeout}s: {self.tail(name)}")
            time.sleep(0.1)

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


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
