"""``signalgate reseal`` on a Redis Cluster: the product's cluster client, an org's record and its
mailbox in the org's slot, each written back by a one-slot compare-and-set script."""

from __future__ import annotations

import json
import uuid
from typing import cast

from gateway.config import GatewayConfig
from gateway.domain.sealing import (
    TWILIO_AUTH_TOKEN,
    WEBHOOK_SECRET,
    derive_key,
    mailbox_password,
    open_secret,
    seal_secret,
)
from gateway.store import keys
from gateway.store.connect import open_client
from gateway.store.reseal import reseal_all
from gateway.store.vault import Vault
from tests.support.processes import SECRET_KEY
from tests.support.redis_cluster import RedisCluster

OLD_KEY = "cluster-reseal-old-key-0123456789"


async def test_reseal_moves_an_orgs_secrets_to_the_current_key_on_a_cluster(redis_cluster: RedisCluster) -> None:
    """Sealed under a previous key, resealed under the current one (the tests' key, so the other
    cluster tests' orgs, already under it, are left as they are); a second run writes nothing."""
    client = open_client(redis_cluster.url, cluster=True)
    org, mailbox = f"reseal-{uuid.uuid4().hex[:10]}", "mbx-cluster"
    old, new = derive_key(OLD_KEY.encode()), derive_key(SECRET_KEY.encode())
    rec = {
        "id": org,
        "name": "cluster",
        "twilio": {"account_sid": "AC1", "auth_token": seal_secret(old, org, TWILIO_AUTH_TOKEN, "tok")},
        "webhook_secret": seal_secret(old, org, WEBHOOK_SECRET, "whsec"),
    }
    box = {"id": mailbox, "org": org, "password": seal_secret(old, org, mailbox_password(mailbox), "pw")}
    try:
        await client.set(keys.org(org), json.dumps(rec))
        await client.sadd(keys.ORGS, org)
        await client.hset(keys.api_mailboxes(org), mailbox, json.dumps(box))
        await client.sadd(keys.API_MAILBOX_ORGS, org)
        vault = Vault(client, GatewayConfig(secret_key=SECRET_KEY, previous_secret_keys=(OLD_KEY,)), None)

        summary = await reseal_all(client, vault)
        assert org in summary.orgs and all(o != org for o, _ in summary.unopened), summary.line()
        stored = json.loads(cast(str, await client.get(keys.org(org))))
        assert open_secret(new, org, TWILIO_AUTH_TOKEN, stored["twilio"]["auth_token"]) == "tok"
        assert open_secret(new, org, WEBHOOK_SECRET, stored["webhook_secret"]) == "whsec"
        stored_box = json.loads(cast(str, await client.hget(keys.api_mailboxes(org), mailbox)))
        assert open_secret(new, org, mailbox_password(mailbox), stored_box["password"]) == "pw"

        again = await reseal_all(client, vault)
        assert org not in again.orgs
        assert json.loads(cast(str, await client.get(keys.org(org)))) == stored
    finally:
        await client.delete(keys.org(org), keys.api_mailboxes(org))
        await client.srem(keys.ORGS, org)
        await client.srem(keys.API_MAILBOX_ORGS, org)
        await client.aclose()
