"""Talking to helper processes over JSON lines: load-generator agents, providers, the ws baseline."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson

from gateway.bench.stack import Proc, Stack

Progress = Callable[[dict[str, Any]], None]
# The longest a single agent command may take (a phase plus its warm-up and drain).
COMMAND_TIMEOUT = 900.0


class AgentError(Exception):
    """A helper process failed or answered with an error."""


class LineChannel:
    """JSON lines to a child's stdin and back from its stdout."""

    def __init__(self, proc: Proc) -> None:
        if proc.process.stdin is None or proc.process.stdout is None:
            raise AgentError(f"{proc.name} was started without pipes")
        self.proc = proc
        self._stdin = proc.process.stdin
        self._stdout = proc.process.stdout

    async def send(self, message: dict[str, Any] | str) -> None:
        data = message.encode() if isinstance(message, str) else orjson.dumps(message)
        self._stdin.write(data + b"\n")
        await self._stdin.drain()

    async def read(self, within: float = COMMAND_TIMEOUT) -> dict[str, Any]:
        while True:
            line = await asyncio.wait_for(self._stdout.readline(), within)
            if not line:
                raise AgentError(f"{self.proc.name} exited; see {self.proc.log}")
            if line.startswith(b"{"):
                value = orjson.loads(line)
                if isinstance(value, dict):
                    return value

    async def read_text(self, within: float = COMMAND_TIMEOUT) -> str:
        line = await asyncio.wait_for(self._stdout.readline(), within)
        if not line:
            raise AgentError(f"{self.proc.name} exited; see {self.proc.log}")
        return line.decode().strip()


class Agent:
    """One load-generator process (:mod:`gateway.bench.agent`)."""

    def __init__(self, proc: Proc, on_progress: Progress | None = None) -> None:
        self.proc = proc
        self.channel = LineChannel(proc)
        self.on_progress = on_progress
        self._id = 0
        self.fd_limit = 0

    @classmethod
    async def start(cls, stack: Stack, name: str = "agent", on_progress: Progress | None = None) -> Agent:
        proc = await stack.python_module(name, "gateway.bench.agent", pipes=True)
        agent = cls(proc, on_progress)
        hello = await agent.channel.read(within=60)
        agent.fd_limit = int(hello.get("fd_limit", 0))
        return agent

    async def call(self, op: str, within: float = COMMAND_TIMEOUT, **params: Any) -> dict[str, Any]:
        self._id += 1
        await self.channel.send({"op": op, "id": self._id, **params})
        while True:
            msg = await self.channel.read(within)
            if "progress" in msg:
                if self.on_progress is not None:
                    self.on_progress(msg["progress"])
                continue
            if msg.get("id") != self._id:
                continue
            if "error" in msg:
                raise AgentError(f"{self.proc.name} {op}: {msg['error']}")
            result: dict[str, Any] = msg["result"]
            return result
