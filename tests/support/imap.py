"""A real Dovecot for IMAP tests (shared/TESTING.md recipe), mail delivery like an MTA, listener env
([[imap]] entries: ``imap_env``; API mailboxes: ``mailbox_env``; both with short test timings).

Each :class:`Dovecot` is a throw-away instance: a config in a ``tempfile.mkdtemp`` directory
(0755 — the ``dovecot`` auth user must enter it; pytest's ``tmp_path`` is 0700), a free loopback
port, passwd-file users with plaintext passwords, Maildir storage, its own ``base_dir`` and
``instance_name`` (so its processes can be found by pid). Stopped by pid, never by name.
With ``CI=true`` a missing dovecot binary fails the test instead of skipping it.

A pytest plugin (``pytest_plugins`` in ``tests/conftest.py``): it declares the ``dovecot`` fixture,
one Dovecot per test module (a module wanting one per test declares its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
import redis as redis_sync

from gateway.devtools.net import free_port
from gateway.ingest.imap.rules import mailbox_id
from gateway.store import keys
from tests.support.timing import FACTOR, block_until, wait_for

DOVECOT = "/usr/sbin/dovecot"
LDA = "/usr/lib/dovecot/dovecot-lda"
DOVEADM = "/usr/bin/doveadm"
DOMAIN = "example.test"
# Mailboxes written before Dovecot starts (see Dovecot.add_user).
USER_POOL = 40


def unavailable(message: str) -> NoReturn:
    """A missing binary: the test fails with ``CI=true``, else it is skipped."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def require_dovecot() -> None:
    missing = [b for b in (DOVECOT, LDA, DOVEADM) if not os.access(b, os.X_OK)]
    if missing:
        unavailable(f"dovecot-imapd is not installed ({', '.join(missing)} missing)")


_CONFIG = """instance_name = {instance}
base_dir = {d}/run
state_dir = {d}/run/state
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {d}/dovecot.log
first_valid_uid = 8
mail_uid = mail
mail_gid = mail
mail_location = maildir:{d}/mail/%d/%n/Maildir
mail_fsync = never
namespace inbox {{
  inbox = yes
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={d}/mail/%d/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
protocol lda {{
  postmaster_address = postmaster@example.test
}}
# No growing auth penalty per IP (every test logs in from 127.0.0.1; one test's wrong passwords
# would slow the next test's good logins towards 15 s). The 2 s delay of a refusal stays.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def _self_signed(directory: Path) -> None:
    if not shutil.which("openssl"):
        unavailable("openssl is needed for the TLS Dovecot")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(directory / "key.pem"), "-out", str(directory / "cert.pem")],
        check=True,
        capture_output=True,
    )  # fmt: skip


@dataclass(frozen=True)
class MailUser:
    address: str
    password: str


class Dovecot:
    """One Dovecot instance on a free port; users, delivery, freeze/thaw, restart, teardown."""

    def __init__(self, tls: bool = False) -> None:
        """``tls``: also serve implicit TLS (``tls_port``) and STARTTLS (``port``) with a fresh
        self-signed certificate for 127.0.0.1 (``ca_file`` trusts it)."""
        require_dovecot()
        self.dir = Path(tempfile.mkdtemp(prefix="sg-dovecot-"))
        self.dir.chmod(0o755)
        self.port = free_port()
        self.tls_port = free_port() if tls else 0
        self.ca_file = str(self.dir / "cert.pem") if tls else ""
        self.instance = f"sgtest-{self.dir.name}"
        self.conf = self.dir / "dovecot.conf"
        ssl = "ssl = no"
        if tls:
            _self_signed(self.dir)
            ssl = f"ssl = yes\nssl_cert = <{self.dir}/cert.pem\nssl_key = <{self.dir}/key.pem"
        config = _CONFIG.format(instance=self.instance, d=self.dir, port=self.port, tls_port=self.tls_port, ssl=ssl)
        self.conf.write_text(config)
        (self.dir / "users").write_text("")
        self._pool = [self._write_user() for _ in range(USER_POOL)]
        (self.dir / "run" / "state").mkdir(parents=True)
        (self.dir / "mail").mkdir()
        shutil.chown(self.dir / "mail", "mail", "mail")
        self.start()

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        # The daemon keeps inherited descriptors open: never a pipe here, or run() waits forever.
        with (self.dir / "start.log").open("ab") as out:
            subprocess.run([DOVECOT, "-c", str(self.conf)], check=True, stdout=out, stderr=out)

        def greets() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    return s.recv(200).startswith(b"* OK")
            except OSError:
                return False

        if not block_until(greets, 10):
            raise RuntimeError(f"dovecot did not start; see {self.dir}/dovecot.log")

    def master_pid(self) -> int | None:
        try:
            return int((self.dir / "run" / "master.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def pids(self) -> list[int]:
        """The master and every process of this instance (imap, imap-login, auth, ...), also one
        just forked that has not yet taken its ``dovecot-<instance>/`` title (a child of a found one)."""
        master = self.master_pid()
        marker = f"dovecot-{self.instance}/".encode()
        found: set[int] = set()
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            if cmdline.startswith(marker) or (pid == master and cmdline):
                found.add(pid)
            with contextlib.suppress(IndexError, ValueError):
                parents[pid] = int(stat.rsplit(b")", 1)[1].split()[1])  # field 4, after "(comm)"
        grew = True
        while grew:
            children = {pid for pid, parent in parents.items() if parent in found} - found
            grew = bool(children)
            found |= children
        return sorted(found)

    def _signal_all(self, sig: signal.Signals) -> None:
        for pid in self.pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        """Kill every process of the instance, as a crash or a hard restart would (clients see EOF)."""
        self._signal_all(signal.SIGCONT)  # a frozen instance cannot exit

        def gone() -> bool:
            # Again each time: a process forked while the previous round was being killed survives
            # it (it would keep serving an old connection through the "restart").
            self._signal_all(signal.SIGKILL)
            return not self.pids()

        if not block_until(gone, 10):
            raise RuntimeError(f"dovecot processes survived SIGKILL: {self.pids()}")
        for leftover in ("master.pid",):
            (self.dir / "run" / leftover).unlink(missing_ok=True)

    def restart(self) -> None:
        self.stop()
        self.start()

    def freeze(self) -> None:
        """SIGSTOP every process: connections stay open but nothing answers (a silently dead peer)."""
        self._signal_all(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal_all(signal.SIGCONT)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- users and mail ------------------------------------------------------------------------
    def add_user(self, password: str | None = None) -> MailUser:
        """A fresh mailbox. Dovecot looks at passwd-file at most once a second, so users written
        after it started are only known from the next second on: tests take pre-written ones."""
        if password is None and self._pool:
            return self._pool.pop()
        user = self._write_user(password)
        time.sleep(1.05 - time.time() % 1)  # into the next second: the next login re-reads the file
        return user

    def _write_user(self, password: str | None = None) -> MailUser:
        user = MailUser(f"m{uuid.uuid4().hex[:10]}@{DOMAIN}", password or "pw-" + uuid.uuid4().hex[:12])
        with (self.dir / "users").open("a") as f:
            f.write(f"{user.address}:{{PLAIN}}{user.password}\n")
        return user

    def maildir(self, user: MailUser) -> Path:
        local, domain = user.address.split("@")
        return self.dir / "mail" / domain / local / "Maildir"

    def deliver(self, user: MailUser, raw: bytes, sender: str = "sender@client.example.jp") -> None:
        """Deliver like an MTA does: dovecot-lda -d user (blocks; for setup outside the event loop)."""
        cmd = [LDA, "-c", str(self.conf), "-d", user.address, "-f", sender]
        subprocess.run(cmd, input=raw, check=True, capture_output=True, timeout=20 * FACTOR)

    async def adeliver(self, user: MailUser, raw: bytes, sender: str = "sender@client.example.jp") -> None:
        """dovecot-lda without blocking the test's event loop."""
        proc = await asyncio.create_subprocess_exec(
            LDA,
            "-c",
            str(self.conf),
            "-d",
            user.address,
            "-f",
            sender,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _, err = await proc.communicate(raw)
        assert proc.returncode == 0, err.decode(errors="replace")

    def drop_into_maildir(self, user: MailUser, raw: bytes) -> None:
        """Write a message straight into Maildir/new, as an MTA does while the IMAP server is down."""
        box = self.maildir(user)
        assert (box / "new").is_dir(), "the mailbox must exist (Dovecot creates it on first login)"
        name = f"{time.time():.6f}.{uuid.uuid4().hex}.sgtest"
        tmp = box / "tmp" / name
        tmp.write_bytes(raw)
        shutil.chown(tmp, "mail", "mail")
        tmp.rename(box / "new" / name)

    def doveadm(self, *args: str) -> str:
        done = subprocess.run([DOVEADM, "-c", str(self.conf), *args], check=True, capture_output=True, text=True)
        return done.stdout

    async def asave(self, user: MailUser, raw: bytes, folder: str) -> None:
        """Store a message into ``folder`` of ``user`` (created first when missing), as a client's
        APPEND would (``doveadm save``), without blocking the test's event loop."""
        if folder not in self.doveadm("mailbox", "list", "-u", user.address).split():
            self.doveadm("mailbox", "create", "-u", user.address, folder)
        proc = await asyncio.create_subprocess_exec(
            DOVEADM, "-c", str(self.conf), "save", "-u", user.address, "-m", folder,
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        _, err = await proc.communicate(raw)
        assert proc.returncode == 0, err.decode(errors="replace")

    def folder_status(self, user: MailUser, folder: str) -> dict[str, int]:
        out = self.doveadm("mailbox", "status", "-u", user.address, "messages uidnext uidvalidity", folder)
        return {k: int(v) for k, v in (part.split("=") for part in out.split()[1:])}

    def set_uidvalidity(self, user: MailUser, value: int) -> None:
        self.doveadm("mailbox", "update", "-u", user.address, "--uid-validity", str(value), "INBOX")

    def status(self, user: MailUser) -> dict[str, int]:
        out = self.doveadm("mailbox", "status", "-u", user.address, "messages uidnext uidvalidity", "INBOX")
        return {k: int(v) for k, v in (part.split("=") for part in out.split()[1:])}

    def connections(self, user: MailUser) -> int:
        """IMAP connections Dovecot has for ``user`` (``doveadm who``)."""
        out = self.doveadm("who", user.address)
        for line in out.splitlines()[1:]:
            parts = line.split()
            if parts and parts[0] == user.address:
                return int(parts[1])
        return 0


def mail(
    subject: str,
    *,
    sender: str = "Yamada@Client.example.jp",
    name: str = "山田 太郎",
    to: str = "sales@example.test",
    body: str = "本文です。",
    headers: dict[str, str] | None = None,
) -> bytes:
    """A UTF-8 message as a mail client would send it (subject and name as RFC 2047 words)."""
    from email.header import Header
    from email.utils import formataddr, formatdate, make_msgid

    lines = [
        f"From: {formataddr((str(Header(name, 'utf-8')), sender))}" if name else f"From: {sender}",
        f"To: {to}",
        f"Subject: {Header(subject, 'utf-8').encode()}",
        f"Date: {formatdate(localtime=True)}",
        f"Message-ID: {make_msgid(domain='client.example.jp')}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        *(f"{k}: {v}" for k, v in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


def dsn(original_message_id: str, *, status: str, action: str, recipient: str = "yamada@client.example.jp") -> bytes:
    """A multipart/report delivery status notification (RFC 3464), as Postfix writes one."""
    return f"""From: Mail Delivery System <MAILER-DAEMON@mx.client.example.jp>
To: sales@example.test
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-{uuid.uuid4().hex}@mx.client.example.jp>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.client.example.jp.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.client.example.jp

Final-Recipient: rfc822; {recipient}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {status.replace(".", "")[0]}50 {status} mailbox problem

--B
Content-Type: text/rfc822-headers

From: sales@example.test
To: {recipient}
Subject: Our proposal
Message-ID: <{original_message_id}>

--B--
""".replace("\n", "\r\n").encode()


# Short heartbeat, timeout, backoff and lease for a test mailbox: the same knobs for an [[imap]]
# entry (SIGNALGATE_IMAP_<n>_*, imap_env) and for API mailboxes (SIGNALGATE_MAILBOXES_*).
FAST_MAILBOX = {
    "heartbeat_seconds": "1",
    "timeout_seconds": str(2 * FACTOR),
    "backoff_initial_seconds": "0.1",
    "backoff_max_seconds": "0.5",
    "lease_seconds": "2",
}


def imap_env(dovecot: Dovecot, user: MailUser, org: str, owner: str, index: int = 0, **knobs: str) -> dict[str, str]:
    """SIGNALGATE_IMAP_<n>_* for one mailbox, with short heartbeat/backoff/lease for tests."""
    values = {
        "org": org,
        "user": owner,
        "host": "127.0.0.1",
        "port": str(dovecot.port),
        "tls": "none",
        "username": user.address,
        "password": user.password,
        **FAST_MAILBOX,
        **knobs,
    }
    return {f"SIGNALGATE_IMAP_{index}_{k.upper()}": v for k, v in values.items()}


def mailbox_env(**knobs: str) -> dict[str, str]:
    """Short timings for API mailboxes (SIGNALGATE_MAILBOXES_*), as imap_env does for [[imap]]; the
    tests' IMAP servers listen on loopback, so private hosts are allowed unless a test says otherwise."""
    values = {
        "allow_private_hosts": "true",
        **FAST_MAILBOX,
        **knobs,
    }
    return {f"SIGNALGATE_MAILBOXES_{k.upper()}": v for k, v in values.items()}


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    """One Dovecot for a module's tests (each uses its own mailbox)."""
    server = Dovecot()
    yield server
    server.close()


def box_id(server: Dovecot, user: MailUser, org: str) -> str:
    """The id of an [[imap]] mailbox on ``server`` (INBOX of ``user``)."""
    return mailbox_id(org, "127.0.0.1", server.port, user.address, "INBOX")


async def listening(r: redis_sync.Redis | redis_sync.RedisCluster, server: Dovecot, user: MailUser, org: str) -> None:
    """Wait until a listener has checkpointed the mailbox and holds an IMAP connection."""
    mid = box_id(server, user, org)
    await wait_for(
        lambda: r.exists(keys.imap_checkpoint(org, mid)) and server.connections(user) >= 1, timeout=20, interval=0.1
    )
