"""Every Redis key signalgate uses, in one place.

Org data lives under the org's hash tag (``sg:{acme}:...``) so that all keys one Lua script
touches share a Redis Cluster slot; events live in a fixed set of partition streams, each with
its own hash tag (``sg:{p:7}:events``), so routers scale by partition and thousands of orgs cost
nothing extra.

Layout (two hash-tag namespaces that no input can make meet):

- ``sg:{<org>}:...`` — one org's data. Org ids are ``[a-z0-9-]{1,40}`` (checked at the API edge
  and again by :func:`org_prefix`), so an org tag never contains ``:``.
- ``sg:{p:<n>}:...`` — partition ``n``: its event stream (``sg:{p:7}:events``, consumer group
  ``routers``) and the ingest dedupe keys of the orgs in it
  (``sg:{p:7}:seen:<org>:<source>:<id>``, per org, same slot as the stream so dedupe + XADD is
  one script in Cluster too). The ``:`` inside the tag is what no org id can produce.
- ``sg:secrets``, ``sg:orgs`` — process-wide.

Until issue 9 partitions were ``sg:{p7}:...`` — the hash tag of the org ``p7`` — and dedupe
keys had no org (``sg:{p7}:seen:<source>:<id>``): two orgs of one partition deduped each
other's events, and ``PUT``/``DELETE`` of org ``p7`` wiped partition 7. An upgraded router does
not read the old ``sg:{p<n>}:events`` streams: drain the routers (pending 0) before upgrading;
old dedupe keys expire on their own within a day.

Until issue 10 every event of an org went to the org's partition; now events carrying a contact
reference go to ``partition_of(org, routing key)`` (and their dedupe keys with them). A provider
retry of a delivery accepted just before the upgrade can be accepted once more after it.
"""

from __future__ import annotations

import re
import zlib

from gateway.domain.tenancy import ORG_ID

# Fixed forever: changing it would move orgs between streams while events are in flight.
PARTITIONS = 16

# Consumer group every router joins on every partition stream.
ROUTER_GROUP = "routers"

# Process-wide secrets generated on first start when the config leaves them empty.
SECRETS = "sg:secrets"
# Set of every org id (kept by put_org and delete_org).
ORGS = "sg:orgs"

# Characters Redis glob-style patterns treat specially (stringmatchlen in util.c).
_GLOB_SPECIAL = re.compile(r"[\\*?\[\]^]")


def partition_of(org: str, route_key: str | None = None) -> int:
    """Stable partition of an event: crc32 is identical in every process and language.

    ``route_key`` (:func:`gateway.domain.events.routing_key`, the contact reference the event
    carries) spreads one org's events over every partition, so any number of routers share one
    busy org; events with the same org and key always share a partition, hence their order. An
    event without one goes to the org's own partition (``crc32(org)``, as before issue 10)."""
    if route_key is None:
        return zlib.crc32(org.encode()) % PARTITIONS
    # Org ids have no ':', so (org, key) pairs cannot collide in this string.
    return zlib.crc32(f"{org}:{route_key}".encode()) % PARTITIONS


def _partition_tag(partition: int) -> str:
    # ':' is outside the org id alphabet: no org's hash tag can ever equal a partition's.
    return f"{{p:{partition}}}"


def events_stream(partition: int) -> str:
    return f"sg:{_partition_tag(partition)}:events"


def due(partition: int) -> str:
    """Sorted set of things due at a time (ms score), members :mod:`gateway.store.due` entries of
    orgs whose own partition this is (e.g. a snoozed signal's return)."""
    return f"sg:{_partition_tag(partition)}:due"


def partition_lease(partition: int) -> str:
    """String with a TTL: the consumer name of the router that alone reads this partition now."""
    return f"sg:{_partition_tag(partition)}:lease"


def ingest_dedupe(org_id: str, source: str, dedupe_id: str, partition: int | None = None) -> str:
    """String: the first event id appended for ``dedupe_id`` from ``source`` of this org.

    The org is part of the name, so two orgs sending the same provider id never dedupe each
    other; the hash tag is the partition's the event goes to (default: the org's own), so
    dedupe + XADD is one atomic script in Cluster too — a retry carries the same content, hence
    the same routing key and partition, and meets this key. Neither the org id nor the source
    can contain ``:``, so names cannot collide."""
    return f"{ingest_dedupe_prefix(org_id, partition)}{source}:{dedupe_id}"


def ingest_dedupe_prefix(org_id: str, partition: int | None = None) -> str:
    """Every dedupe key of one org in ``partition`` (default: the org's own) starts with this.

    An org's dedupe keys can be in every partition: deleting an org looks in each."""
    p = partition_of(_org_id(org_id)) if partition is None else partition
    return f"sg:{_partition_tag(p)}:seen:{org_id}:"


def ingest_dedupe_match(org_id: str) -> str:
    """SCAN pattern covering the org's dedupe keys in every partition (deleting an org); it may
    match more (a dedupe id can contain anything): check each name against the exact prefixes."""
    return "sg:{p:*}:seen:" + glob_escape(_org_id(org_id)) + ":*"


def _org_id(org_id: str) -> str:
    # The API edge checks ids first; checked again here because a prefix built from anything
    # else (``*``, ``zz?``, ``p:9``) could name other orgs' or the partitions' keys.
    if not ORG_ID.fullmatch(org_id):
        raise ValueError(f"not an org id: {org_id!r}")
    return org_id


def org_prefix(org_id: str) -> str:
    """Every key of one org starts with exactly this (``sg:{acme}:``)."""
    return f"sg:{{{_org_id(org_id)}}}:"


def glob_escape(literal: str) -> str:
    """``literal`` as a Redis glob that matches only itself (for SCAN MATCH of a prefix)."""
    return _GLOB_SPECIAL.sub(r"\\\g<0>", literal)


# Heartbeats of every long-running process (router consumers, IMAP lease holders) share one hash
# tag that can never be an org's (org ids have no ':') nor a partition's: ``sg:{node:hb}:<member>``.
HEARTBEAT_TAG = "{node:hb}"


def heartbeat(member: str) -> str:
    """String with a short TTL: ``member`` (a router consumer, an IMAP holder token) is alive."""
    return f"sg:{HEARTBEAT_TAG}:{member}"


def org_pattern(org_id: str) -> str:
    """SCAN pattern of every key under the org's hash tag (deleting an org)."""
    return f"sg:{{{org_id}}}:*"


def org(org_id: str) -> str:
    return f"sg:{{{org_id}}}:org"


def users(org_id: str) -> str:
    return f"sg:{{{org_id}}}:users"


def contacts(org_id: str) -> str:
    return f"sg:{{{org_id}}}:contacts"


def contact_by_email(org_id: str) -> str:
    return f"sg:{{{org_id}}}:contact-by-email"


def contact_by_phone(org_id: str) -> str:
    return f"sg:{{{org_id}}}:contact-by-phone"


def tokens(org_id: str) -> str:
    """Hash sha256(token) -> user id; the token itself is never stored."""
    return f"sg:{{{org_id}}}:tokens"


def token_times(org_id: str) -> str:
    """Hash ``<token id>:created`` / ``<token id>:used`` -> ms: what ``GET .../tokens`` lists."""
    return f"sg:{{{org_id}}}:token-times"


def feed(org_id: str, user: str) -> str:
    """The user's feed stream: new signals and grouped updates, in delivery order."""
    return f"sg:{{{org_id}}}:feed:{user}"


def feed_meta(org_id: str, user: str) -> str:
    """Hash: ``trimmed`` = newest id a trim removed (for ``gap``); ``first``/``floor`` = first id retained."""
    return f"sg:{{{org_id}}}:feed-meta:{user}"


def signal_state(org_id: str, user: str) -> str:
    """Hash signal id -> current JSON of signals that were updated by grouping."""
    return f"sg:{{{org_id}}}:signal-state:{user}"


def unread(org_id: str, user: str) -> str:
    """Sorted set of unread signal ids, scored by :func:`gateway.domain.streamid.score`."""
    return f"sg:{{{org_id}}}:unread:{user}"


def archived(org_id: str, user: str) -> str:
    """Sorted set of the user's archived signal ids, scored like :func:`unread`."""
    return f"sg:{{{org_id}}}:archived:{user}"


def snoozed(org_id: str, user: str) -> str:
    """Sorted set of the user's snoozed signal ids, scored by the time they come back (ms)."""
    return f"sg:{{{org_id}}}:snoozed:{user}"


def away_unread(org_id: str, user: str) -> str:
    """Sorted set of unread signals out of the inbox (archived or snoozed), scored like :func:`unread`.

    :func:`unread` holds the unread signals *in the inbox* (what every unread count counts); a
    signal leaving or re-entering the inbox moves between the two in the same script."""
    return f"sg:{{{org_id}}}:away-unread:{user}"


def user_feed_keys(org_id: str, user: str) -> tuple[str, ...]:
    """Every per-user feed key (deleting a user); group and done keys expire on their own."""
    return (
        feed(org_id, user),
        feed_meta(org_id, user),
        signal_state(org_id, user),
        unread(org_id, user),
        settings(org_id, user),
        archived(org_id, user),
        snoozed(org_id, user),
        away_unread(org_id, user),
        signal_acted(org_id, user),
    )


def settings(org_id: str, user: str) -> str:
    return f"sg:{{{org_id}}}:settings:{user}"


def group(org_id: str, user: str, signal_type: str, contact: str) -> str:
    return f"sg:{{{org_id}}}:group:{user}:{signal_type}:{contact}"


# Done markers outlive any plausible redelivery of an event (routers reclaim within seconds).
DONE_TTL_SECONDS = 86400


def event_done(org_id: str, event_id: str) -> str:
    """Marker that an event was applied; makes the router's writes idempotent on replay."""
    return f"sg:{{{org_id}}}:done:{event_id}"


def live_channel(org_id: str, user: str) -> str:
    """Pub/sub channel carrying a user's live frames to every gateway node."""
    return f"sg:{{{org_id}}}:live:{user}"


def stats(org_id: str) -> str:
    """Hash of counters (e.g. events from unknown senders, per source)."""
    return f"sg:{{{org_id}}}:stats"


def sms_status(org_id: str, message_sid: str) -> str:
    """Hash for one SMS: status, rank, notification, user, contact."""
    return f"sg:{{{org_id}}}:sms:{message_sid}"


def sms_history(org_id: str, message_sid: str) -> str:
    """List of ``"<ms> <status>"`` entries of one SMS, oldest first."""
    return f"sg:{{{org_id}}}:sms:{message_sid}:history"


def calls(org_id: str) -> str:
    """Sorted set of call sids scored by first-seen time (ms): the call log index."""
    return f"sg:{{{org_id}}}:calls"


def call(org_id: str, call_sid: str) -> str:
    """Hash for one call: status, rank, from, to, direction, duration."""
    return f"sg:{{{org_id}}}:call:{call_sid}"


def call_history(org_id: str, call_sid: str) -> str:
    """List of ``"<ms> <status>"`` entries of one call, oldest first."""
    return f"sg:{{{org_id}}}:call:{call_sid}:history"


def call_answered(org_id: str, call_sid: str) -> str:
    """String with a TTL: someone took an inbound call a flow handles (``dial``: a rung member
    answered, ``queue``: a queue member accepted, ``voicemail``: the caller left a message); read
    at the call's final status to tell a missed call (``call_flow_missed.lua``)."""
    return f"sg:{{{org_id}}}:call-answered:{call_sid}"


# -- sending (notifications, templates, credits, quotas, reports) -----------------------------
def notification(org_id: str, nid: str) -> str:
    """Hash: one notification (status, rank, channel, recipient, attempt, charge, ...)."""
    return f"sg:{{{org_id}}}:notification:{nid}"


def notification_history(org_id: str, nid: str) -> str:
    """List of ``"<ms> <status>[ <reason>]"`` entries, oldest first."""
    return f"sg:{{{org_id}}}:notification:{nid}:history"


def message_id(org_id: str, mid: str) -> str:
    """String: notification id of the email sent with this Message-ID (for replies and bounces)."""
    return f"sg:{{{org_id}}}:msgid:{mid}"


def templates(org_id: str) -> str:
    """Hash template id -> JSON."""
    return f"sg:{{{org_id}}}:templates"


def credits(org_id: str) -> str:
    """Hash: balance, auto-recharge settings and its armed flag."""
    return f"sg:{{{org_id}}}:credits"


def credits_low_owed(org_id: str) -> str:
    """Hash: credits.low warnings owed to the org's admins, crossing id -> JSON facts
    (:mod:`gateway.domain.credits_low`); a field lives from the crossing until it is delivered."""
    return f"sg:{{{org_id}}}:credits-low-owed"


def credit_ledger(org_id: str) -> str:
    """Stream of credit movements (purchase, charge, refund, auto_recharge)."""
    return f"sg:{{{org_id}}}:credit-ledger"


def email_usage(org_id: str, local_day: str) -> str:
    """Hash individual/mass -> emails counted on one local calendar day of the org."""
    return f"sg:{{{org_id}}}:email-usage:{local_day}"


def report_day(org_id: str, local_day: str) -> str:
    """Hash of email report counters for one local day (``sent``, ``t:<template>:sent``, ...)."""
    return f"sg:{{{org_id}}}:report:{local_day}"


def report_seen(org_id: str, local_day: str) -> str:
    """Hash of event ids already counted in that day's report (events without a notification)."""
    return f"sg:{{{org_id}}}:report-seen:{local_day}"


def reminders(org_id: str) -> str:
    """Hash reminder id -> JSON (status: scheduled|sending|sent|skipped|failed|cancelled, version)."""
    return f"sg:{{{org_id}}}:reminders"


def sms_notifications(org_id: str) -> str:
    """Hash SMS notification definition id -> JSON (name, module, phone_field, template)."""
    return f"sg:{{{org_id}}}:sms-notifications"


def reminder_index(org_id: str) -> str:
    """Sorted set (all scores 0) of the org's reminder ids: paged in id order with ZRANGEBYLEX."""
    return f"sg:{{{org_id}}}:reminder-ids"


# -- IMAP ingest --------------------------------------------------------------------
def imap_lease(org_id: str, mailbox: str) -> str:
    """String: token of the one process listening to this mailbox (SET NX PX, renewed while held)."""
    return f"sg:{{{org_id}}}:imap:{mailbox}:lease"


def imap_checkpoint(org_id: str, mailbox: str) -> str:
    """Hash: ``uidvalidity``, ``uid`` (last handled), ``high_water_ms`` — see gateway.ingest.imap.rules.

    Same hash tag as the lease, so the lease check and the checkpoint write are one script."""
    return f"sg:{{{org_id}}}:imap:{mailbox}:checkpoint"


def api_mailboxes(org_id: str) -> str:
    """Hash: mailbox id -> JSON record (with its password) of the mailboxes the org added by API."""
    return f"sg:{{{org_id}}}:mailboxes"


# Set of orgs that have (or had) API mailboxes, and a counter bumped on every add or delete: the
# IMAP processes poll the counter and re-read the list when it moved (gateway.ingest.imap.service).
API_MAILBOX_ORGS = "sg:mailboxes:orgs"
API_MAILBOX_VERSION = "sg:mailboxes:version"


def activity(org_id: str, contact: str) -> str:
    """Sorted set of a contact's activity entries (JSON, e.g. mail from the dropbox), by time (ms)."""
    return f"sg:{{{org_id}}}:activity:{contact}"


def imap_state(org_id: str, mailbox: str) -> str:
    """Hash: ``state`` (see gateway.domain.mailbox.MAILBOX_STATES), ``since_ms``, and the last
    failure's ``error`` / ``error_ms``; written by the process holding the mailbox's lease."""
    return f"sg:{{{org_id}}}:imap:{mailbox}:state"


def signal_acted(org_id: str, user: str) -> str:
    """Hash signal id -> JSON ``{"action", "notification", "at"}``: what the user did about a signal
    (``POST /api/v1/me/actions``); the feed listing shows it as ``signal["acted"]``."""
    return f"sg:{{{org_id}}}:acted:{user}"


# -- consent, suppressions, segments (issue 14) -------------------------------------------------
def suppressions(org_id: str) -> str:
    """Hash address (lower-case) -> JSON ``{"reason", "at"}``: mail to it is rejected ``suppressed``."""
    return f"sg:{{{org_id}}}:suppressed"


def segments(org_id: str) -> str:
    """Hash segment id -> JSON ``{"id", "name", "match"}``."""
    return f"sg:{{{org_id}}}:segments"


def fanout(org_id: str, batch: str) -> str:
    """Hash: one segment send (what each member gets, cursor, step, total, enqueued, skipped, done, status)."""
    return f"sg:{{{org_id}}}:fanout:{batch}"


def fanout_results(org_id: str, batch: str) -> str:
    """Hash contact id -> JSON ``{"contact", "notification"} | {"contact", "error"}``: what one
    segment send did for each member."""
    return f"sg:{{{org_id}}}:fanout:{batch}:results"


def fanout_order(org_id: str, batch: str) -> str:
    """Sorted set (all scores 0, so by contact id) of the members in :func:`fanout_results`: its pages."""
    return f"sg:{{{org_id}}}:fanout:{batch}:order"


# -- telephony (numbers, groups) -------------------------------------------------------------
def numbers(org_id: str) -> str:
    """Hash E.164 -> JSON of one of the org's Twilio numbers (sid, phone_number, friendly_name,
    capabilities, bought_at)."""
    return f"sg:{{{org_id}}}:numbers"


def numbers_releasing(org_id: str) -> str:
    """Hash E.164 -> JSON: numbers taken out of :func:`numbers` while Twilio releases them (put back
    if Twilio refuses; left here by a release cut short, which the next ``DELETE`` finishes)."""
    return f"sg:{{{org_id}}}:numbers-releasing"


def groups(org_id: str) -> str:
    """Hash group id -> JSON ``{"id", "name", "members": [user ids]}``."""
    return f"sg:{{{org_id}}}:groups"


# -- call flows ------------------------------------------------------------------------------
# One org's flows and their live index share its hash tag, so publish/enable/delete are one script
# (gateway/store/lua/call_flow_write.lua) and "one live flow per number" holds under concurrency.
def call_flows(org_id: str) -> str:
    """Set of the org's call flow ids."""
    return f"sg:{{{org_id}}}:call-flows"


def call_flow(org_id: str, flow: str) -> str:
    """Hash of one call flow: ``draft`` (JSON), ``draft_number``, ``published`` (JSON), ``live_number``,
    ``version``, ``rev``, ``enabled`` (1/0), ``created_ms``, ``updated_ms``, ``published_ms``."""
    return f"sg:{{{org_id}}}:call-flow:{flow}"


def call_flow_numbers(org_id: str) -> str:
    """Hash E.164 -> the id of the published, enabled flow that answers calls to it (the live index)."""
    return f"sg:{{{org_id}}}:call-flow-numbers"


def call_flow_revs(org_id: str) -> str:
    """Hash ``<flow>:<rev>`` -> JSON of a published revision; calls in progress keep theirs."""
    return f"sg:{{{org_id}}}:call-flow-revs"


def call_flow_retired(org_id: str) -> str:
    """Sorted set of ``<flow>:<rev>`` revisions no longer live, by when they stopped being (ms);
    kept a day for the calls still in them, then pruned."""
    return f"sg:{{{org_id}}}:call-flow-retired"


def call_flow_seq(org_id: str) -> str:
    """Hash flow id -> its last revision number; never reset (a re-created flow never reuses one)."""
    return f"sg:{{{org_id}}}:call-flow-seq"


# A queue step's member calls (gateway/store/call_queues.py); the queue name is the call's own
# (gateway.domain.call_flow_run.queue_name), so these are per call.
def queue_rung(org_id: str, call_sid: str, step: str) -> str:
    """String with a TTL: the members of the queue step at ``step`` (a path like ``2`` or ``1.0``)
    were called for this call; a retried webhook finds it and calls nobody again."""
    return f"sg:{{{org_id}}}:queue-rung:{call_sid}:{step}"


def queue_legs(org_id: str, queue: str) -> str:
    """Set with a TTL: the call sids Twilio placed to the members of one caller's queue."""
    return f"sg:{{{org_id}}}:queue-legs:{queue}"


def queue_settled(org_id: str, queue: str) -> str:
    """String with a TTL: who settled one caller's wait: the call sid of the member leg that took
    the caller, or ``""`` when the caller left the queue first."""
    return f"sg:{{{org_id}}}:queue-settled:{queue}"


def automation_rules(org_id: str) -> str:
    """Hash rule id -> JSON of the org's automation rules (read with the org by the router)."""
    return f"sg:{{{org_id}}}:rules"


def template_versions(org_id: str, template: str) -> str:
    """Hash version number -> JSON of a template's versions (text, status, times)."""
    return f"sg:{{{org_id}}}:template-versions:{template}"
