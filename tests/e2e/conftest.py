"""Real-browser fixtures: the real `crm` CLI serving a fresh SQLite database,
and the system Chromium driven by Playwright (never downloaded).

No Chromium at /usr/bin/chromium: the browser tests are skipped with a reason,
unless CRM_REQUIRE_BROWSER=1 (CI), where that is a failure."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ADMIN_EMAIL = "alice@example.com"
ADMIN_NAME = "Alice"
ADMIN_PASSWORD = "violet-harbour-lantern-2718"
SECRET_KEY = "e2e-secret-" + "k" * 40
HEALTH_ATTEMPTS = 300  # each one waits at most HEALTH_POLL seconds
HEALTH_POLL = 0.1


def _crm_command() -> list[str]:
    """The `crm` script installed next to this interpreter, else the module."""
    script = Path(sys.executable).with_name("crm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "crm.cli"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(
        {
            "CRM_DATABASE_URL": f"sqlite:///{database}",
            "CRM_SECRET_KEY": SECRET_KEY,
            "CRM_ENV": "development",
            "CRM_TIMEZONE": "UTC",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _run_cli(args: list[str], *, env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run([*_crm_command(), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.fail(f"`crm {' '.join(args)}` exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=HEALTH_POLL) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@dataclass(frozen=True)
class Server:
    url: str
    email: str
    name: str
    password: str


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    """`crm migrate`, `crm user add`, then `crm serve` on a free loopback port."""
    home = tmp_path_factory.mktemp("e2e-server")
    env = _server_env(home / "e2e.sqlite")
    _run_cli(["migrate"], env=env, cwd=home)
    _run_cli(
        ["user", "add", ADMIN_EMAIL, "--role", "admin", "--name", ADMIN_NAME],
        env={**env, "CRM_PASSWORD": ADMIN_PASSWORD},
        cwd=home,
    )

    with serving(home, env) as url:
        yield Server(url=url, email=ADMIN_EMAIL, name=ADMIN_NAME, password=ADMIN_PASSWORD)


@contextmanager
def serving(home: Path, env: dict[str, str], *extra_args: str):
    """`crm serve` on a free loopback port until the block ends; yields its base URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    stdout_path, stderr_path = home / "serve.out", home / "serve.err"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        process = subprocess.Popen(
            [*_crm_command(), "serve", "--host", "127.0.0.1", "--port", str(port), *extra_args],
            env=env,
            cwd=home,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )

    def server_output() -> str:
        return (
            f"--- stdout ---\n{stdout_path.read_text(errors='replace')}\n"
            f"--- stderr ---\n{stderr_path.read_text(errors='replace')}"
        )

    try:
        for _ in range(HEALTH_ATTEMPTS):
            if process.poll() is not None:
                pytest.fail(f"`crm serve` exited with {process.returncode} before it was healthy:\n{server_output()}")
            if _healthy(f"{url}/healthz"):
                break
            time.sleep(HEALTH_POLL)
        else:
            pytest.fail(f"`crm serve` did not answer GET /healthz with 200 at {url}:\n{server_output()}")

        yield url

        if process.poll() is not None:
            pytest.fail(f"`crm serve` died during the tests (exit {process.returncode}):\n{server_output()}")
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


@pytest.fixture(scope="session")
async def browser():
    """The system Chromium, headless."""
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM}: install the Debian 'chromium' package to run the browser tests"
        if os.environ.get("CRM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"CRM_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def new_page(browser, server):
    """Factory: a page in its own fresh context (no cookies), at a given viewport."""
    contexts = []

    async def make(width: int = 1280, height: int = 800):
        context = await browser.new_context(base_url=server.url, viewport={"width": width, "height": height})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return await context.new_page()

    yield make
    for context in contexts:
        await context.close()
