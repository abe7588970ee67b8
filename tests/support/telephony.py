"""A telephony test org: a gateway (+ router) whose Twilio is the local Twilio API, and an org with
an account there (its auth token is the org's webhook token, so callbacks sign as the org's).

Shared by the telephony integration tests and the telephony admin views in the browser; each
file's ``tel`` fixture is :func:`telephony_org` with its own org id prefix.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.devtools.twilio_api import TwilioApi
from tests.support.api import Gateway, OrgCtx, provision_org
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR


@dataclass
class Tel:
    gw: Gateway
    client: httpx.AsyncClient
    org: OrgCtx
    api: TwilioApi
    account: str

    def path(self, rest: str) -> str:
        return f"/api/v1/orgs/{self.org.id}{rest}"

    @property
    def admin(self) -> dict[str, str]:
        return self.gw.admin

    async def get(self, rest: str) -> dict[str, Any]:
        """GET an org path as the operator; 200 expected."""
        r = await self.client.get(self.path(rest), headers=self.gw.admin)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


@asynccontextmanager
async def telephony_org(
    procs: Processes, redis_server: RedisServer, twilio_api: TwilioApi, prefix: str = "tel-", **env: str
) -> AsyncIterator[Tel]:
    """Start the gateway (``env``: extra settings) and a router against ``redis_server``, provision
    an org (``prefix`` + a random tail) and give it a Twilio account on the local Twilio API."""
    gw, _ = procs.serve(redis_server.url, with_router=False, SIGNALGATE_TWILIO_API_BASE=twilio_api.base_url, **env)
    procs.router(redis_server.url)
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, gw, prefix + uuid.uuid4().hex[:10])
        account = "AC" + secrets.token_hex(16)
        twilio_api.add_account(account, org.auth_token)
        r = await client.put(
            f"/api/v1/orgs/{org.id}",
            json={"twilio": {"account_sid": account, "auth_token": org.auth_token}},
            headers=gw.admin,
        )
        assert r.status_code == 200, r.text
        yield Tel(gw, client, org, twilio_api, account)
