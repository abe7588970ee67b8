"""``signalgate bench``: set up (a private stack, or a throw-away org on ``--target``), run the
scenarios in order, print the table, write the JSON, and stop everything it started — also on
Ctrl-C, SIGTERM or a failure.

Exit status: 0 when every figure is correct (lost = duplicated = 0, counters exact; goals are
reported, not enforced), 1 when a scenario failed or a correctness column is not 0, 2 for bad
options, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import uvloop
from rich.console import Console

from gateway.bench.agent import raise_fd_limit
from gateway.bench.agents import Agent
from gateway.bench.context import Bench
from gateway.bench.options import Settings, settings_from
from gateway.bench.provision import Admin, BenchOrg, delete_org, provision
from gateway.bench.report import machine_info, print_report, report_json, write_json
from gateway.bench.scenarios import SCENARIOS
from gateway.bench.stack import Stack, wait_http
from gateway.bench.ui import Ui
from gateway.store.connect import open_client


async def _start_local(settings: Settings, stack: Stack, ui: Ui) -> tuple[str, str]:
    """Redis, gateway and routers; returns (gateway URL, admin token)."""
    redis = "Redis Cluster (3 masters) and queue Redis" if settings.redis_cluster else "Redis"
    with ui.phase(f"starting a private {redis}, the gateway and {settings.routers} router(s)"):
        if settings.redis_cluster:
            await stack.start_redis_cluster()
        else:
            await stack.start_redis()
        url = await stack.start_gateway()
        for _ in range(settings.routers):
            await stack.signalgate("router")
    return url, stack.admin_token


async def _redis_version(stack: Stack) -> str | None:
    if not stack.redis_url:
        return None
    client = open_client(stack.redis_url)
    try:
        info = await client.info("server")
        return str(info.get("redis_version"))
    finally:
        await client.aclose()


async def _prepare(settings: Settings, stack: Stack, ui: Ui, admin_box: list[Admin], org_box: list[BenchOrg]) -> Bench:
    if settings.target:
        with ui.phase(f"checking {settings.target}"):
            await wait_http(settings.target + "/healthz", None, within=15)
        base_url, admin_token = settings.target, settings.admin_token or ""
    else:
        base_url, admin_token = await _start_local(settings, stack, ui)
    admin = Admin(base_url, admin_token)
    admin_box.append(admin)
    with ui.phase("starting the load generator and the client fleet"):
        http_agents = [await Agent.start(stack, "generator", ui.on_agent_progress) for _ in range(settings.agents)]
        ws_agent = await Agent.start(stack, "ws-clients")
    sending = "send" in settings.scenarios and not settings.target
    with ui.phase(f"provisioning a bench org: {settings.users:,} users with tokens, {settings.users:,} contacts"):
        org = await provision(admin, settings.users, sending=sending, credits=settings.sms_credits)
    org_box.append(org)
    ui.log(f"bench org {org.id} on {base_url}")
    return Bench(
        settings=settings,
        ui=ui,
        base_url=base_url,
        public_url=settings.public_url or base_url,
        admin=admin,
        org=org,
        http_agents=http_agents,
        ws_agent=ws_agent,
        stack=stack,
        secret_key=settings.secret_key if settings.target else stack.secret_key,
    )


async def _scenarios(b: Bench) -> bool:
    ok = True
    for name in b.settings.scenarios:
        try:
            await SCENARIOS[name](b)
        except Exception as exc:  # one failed scenario must not hide the others' figures
            ok = False
            b.notes.append(f"{name} failed: {type(exc).__name__}: {exc}")
            b.ui.log(f"[red]{name} failed[/red]: {type(exc).__name__}: {exc}")
    return ok


async def _cleanup(settings: Settings, stack: Stack, admin_box: list[Admin], org_box: list[BenchOrg]) -> None:
    """Remove the org from a target, then stop every process (newest first, Redis last)."""
    for admin in admin_box:
        try:
            if settings.target and org_box:
                await delete_org(admin, org_box[0].id)
        finally:
            await admin.aclose()
    await stack.aclose()


async def bench(settings: Settings, console: Console) -> int:
    started = time.monotonic()
    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    stack = Stack(Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="signalgate-bench-")))
    admin_box: list[Admin] = []
    org_box: list[BenchOrg] = []
    b: Bench | None = None
    ok = False
    try:
        with Ui(console) as ui:
            try:
                b = await _prepare(settings, stack, ui, admin_box, org_box)
                ok = await _scenarios(b)
                redis_version = await _redis_version(stack)
            finally:
                with ui.phase("stopping everything this run started"):
                    await asyncio.shield(_cleanup(settings, stack, admin_box, org_box))
    except BaseException:
        console.print(f"[red]bench aborted[/red]; process logs are in {stack.workdir}")
        raise
    assert b is not None  # noqa: S101 - _prepare either returned or raised
    machine = machine_info(redis_version)
    print_report(console, machine, settings, b.figures, b.notes)
    if settings.json_path:
        data = report_json(machine, settings, b.figures, b.notes, time.monotonic() - started)
        await asyncio.to_thread(write_json, settings.json_path, data)
        console.print(f"JSON written to {settings.json_path}")
    correct = all(f.lost == 0 and f.duplicated == 0 and f.extra.get("counters_exact", True) for f in b.figures)
    if ok and correct and not settings.keep:
        await asyncio.to_thread(stack.remove_workdir)
    else:
        console.print(f"process logs kept in {stack.workdir}")
    return 0 if ok and correct else 1


def main(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(args, dict(os.environ))
    except ValueError as exc:
        print(f"signalgate bench: {exc}", file=sys.stderr)  # noqa: T201 - the one clear line
        return 2
    raise_fd_limit()  # before any child starts: they inherit it (the gateway needs one fd per client)
    # Piped output (CI, tee) would otherwise wrap the table at 80 columns.
    wide = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    console = Console(width=170 if wide else None)
    try:
        return uvloop.run(bench(settings, console))
    except (KeyboardInterrupt, asyncio.CancelledError):
        console.print("interrupted: every process this run started has been stopped")
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        return 130
