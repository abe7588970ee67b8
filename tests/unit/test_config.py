"""Unit tests for gateway.config: TOML + SIGNALGATE_* overrides, validated into frozen dataclasses."""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from gateway.config import (
    Config,
    ConfigError,
    GatewayConfig,
    ImapConfig,
    MailboxesConfig,
    QueueConfig,
    RedisConfig,
    RouterConfig,
    SignalsConfig,
    SmtpConfig,
    TwilioConfig,
    WorkerConfig,
    load_config,
)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config.toml"
IMAP_OK = 'org = "demo"\nuser = "sato"\nhost = "imap.example.jp"\n'


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "signalgate.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path | None, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, environ or {})
    message = str(info.value)
    assert "\n" not in message, f"ConfigError must be one line, got {message!r}"
    return message


def test_missing_file_gives_all_defaults(tmp_path: Path) -> None:
    """A config path that does not exist yields the dataclass defaults."""
    cfg = load_config(tmp_path / "absent.toml", {})
    assert cfg == Config()
    assert cfg.gateway.port == 8000
    assert cfg.redis.url == "embedded"
    assert cfg.imap == ()


def test_missing_required_file_is_refused(tmp_path: Path) -> None:
    """A path the operator named (--config) that does not exist is one line naming it, not the defaults."""
    missing = tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match=re.escape(f"config: {missing} does not exist")):
        load_config(missing, {}, required=True)


def test_directory_as_config_is_refused(tmp_path: Path) -> None:
    """A directory given as the config file is a ConfigError naming it, not a traceback."""
    assert str(tmp_path) in _error(tmp_path)


def test_no_path_gives_all_defaults() -> None:
    """load_config(None) with an empty environment yields the dataclass defaults."""
    assert load_config(None, {}) == Config()


def test_toml_values_are_applied(tmp_path: Path) -> None:
    """Values from the file override the defaults of their section only."""
    path = _write(tmp_path, '[gateway]\nport = 8123\nlog_level = "debug"\n[smtp]\nstarttls = true\n')
    cfg = load_config(path, {})
    assert cfg.gateway.port == 8123
    assert cfg.gateway.log_level == "debug"
    assert cfg.gateway.host == GatewayConfig().host
    assert cfg.smtp.starttls is True


def test_env_port_overrides_file_and_is_int(tmp_path: Path) -> None:
    """SIGNALGATE_GATEWAY_PORT=9000 overrides the file and is coerced to int."""
    path = _write(tmp_path, "[gateway]\nport = 8123\n")
    cfg = load_config(path, {"SIGNALGATE_GATEWAY_PORT": "9000"})
    assert cfg.gateway.port == 9000
    assert isinstance(cfg.gateway.port, int)


def test_env_key_with_underscores_maps_to_field() -> None:
    """The first underscore after the section separates it from a multi-word key."""
    cfg = load_config(
        None, {"SIGNALGATE_GATEWAY_PUBLIC_URL": "https://sg.example.jp", "SIGNALGATE_SMTP_FROM_ADDRESS": "a@b.jp"}
    )
    assert cfg.gateway.public_url == "https://sg.example.jp"
    assert cfg.smtp.from_address == "a@b.jp"


def test_env_float_is_coerced() -> None:
    """A float key set from the environment becomes a float."""
    cfg = load_config(None, {"SIGNALGATE_GATEWAY_HELLO_TIMEOUT": "2.5"})
    assert cfg.gateway.hello_timeout == 2.5


def test_env_variables_without_prefix_are_ignored() -> None:
    """Environment variables not starting with SIGNALGATE_ are not config."""
    assert load_config(None, {"PATH": "/usr/bin", "GATEWAY_PORT": "1", "signalgate_gateway_port": "1"}) == Config()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("on", True),
        ("false", False),
        ("False", False),
        ("0", False),
        ("no", False),
        ("off", False),
    ],
)
def test_env_bools(raw: str, expected: bool) -> None:
    """Boolean keys accept the usual true/false spellings from the environment."""
    assert load_config(None, {"SIGNALGATE_SMTP_STARTTLS": raw}).smtp.starttls is expected


def test_env_bool_garbage_is_refused() -> None:
    """A boolean key with an unrecognised value names the key."""
    assert "smtp.starttls" in _error(None, {"SIGNALGATE_SMTP_STARTTLS": "maybe"})


def test_unknown_section_is_refused(tmp_path: Path) -> None:
    """An unknown [section] stops start-up naming the section."""
    assert "[gatway]" in _error(_write(tmp_path, "[gatway]\nport = 1\n"))


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    """An unknown key in a known section stops start-up naming section.key."""
    assert "gateway.prot" in _error(_write(tmp_path, "[gateway]\nprot = 1\n"))


def test_unknown_env_section_is_refused() -> None:
    """SIGNALGATE_BOGUS_X is refused naming the variable."""
    assert "SIGNALGATE_BOGUS_X" in _error(None, {"SIGNALGATE_BOGUS_X": "1"})


def test_unknown_env_key_is_refused() -> None:
    """SIGNALGATE_GATEWAY_NOPE is refused naming gateway.nope."""
    assert "gateway.nope" in _error(None, {"SIGNALGATE_GATEWAY_NOPE": "1"})


@pytest.mark.parametrize("name", ["SIGNALGATE_", "SIGNALGATE_GATEWAY", "SIGNALGATE_GATEWAY_", "SIGNALGATE_IMAP_HOST"])
def test_incomplete_or_unsupported_env_names_are_refused(name: str) -> None:
    """A SIGNALGATE_ variable without a known section and a key is refused naming it."""
    assert name in _error(None, {name: "x"})


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[gateway]\nport = "abc"\n', "gateway.port"),
        ("[gateway]\nport = true\n", "gateway.port"),
        ("[gateway]\nport = 70000\n", "gateway.port"),
        ("[gateway]\nport = -1\n", "gateway.port"),
        ("[gateway]\nhost = 5\n", "gateway.host"),
        ('[gateway]\nhello_timeout = "soon"\n', "gateway.hello_timeout"),
        ("[gateway]\nmax_body_bytes = 10\n", "gateway.max_body_bytes"),
        ("[gateway]\nws_queue_size = 0\n", "gateway.ws_queue_size"),
        ('[gateway]\nlog_level = "chatty"\n', "gateway.log_level"),
        ("[gateway]\nfailover_seconds = 0\n", "gateway.failover_seconds"),
        ("[gateway]\nfailover_seconds = 0.5\n", "gateway.failover_seconds"),
        ("[gateway]\nfailover_seconds = 601\n", "gateway.failover_seconds"),
        ('[gateway]\nfailover_seconds = "fast"\n', "gateway.failover_seconds"),
        ('[gateway]\nfailover_seconds = "nan"\n', "gateway.failover_seconds"),
        ('[redis]\nurl = "http://127.0.0.1:6379"\n', "redis.url"),
        ("[signals]\nhistory_days = 0\n", "signals."),
        ("[signals]\nhistory_min_entries = 10\nhistory_max_entries = 5\n", "signals.history_max_entries"),
        ('[smtp]\nstarttls = "maybe"\n', "smtp.starttls"),
        ("[router]\nbatch_size = [1]\n", "router.batch_size"),
        ("[gateway]\nheader_timeout_seconds = 0\n", "gateway.header_timeout_seconds"),
        ("[gateway]\nmax_connections = 3\n", "gateway.max_connections"),
        ('[gateway]\naccess_log = "loud"\n', "gateway.access_log"),
        ("[gateway]\nmetrics_port = 70000\n", "gateway.metrics_port"),
        ("[gateway]\nport = 9000\nmetrics_port = 9000\n", "gateway.metrics_port"),
        ('[gateway]\nmetrics_token = "short"\n', "gateway.metrics_token"),
        ('[gateway]\nmetrics_token = "sixteen chars and spaces"\n', "gateway.metrics_token"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, toml: str, key: str) -> None:
    """A value of the wrong type or out of range is refused with one line naming the key."""
    assert key in _error(_write(tmp_path, toml))


@pytest.mark.parametrize(
    ("toml", "key", "value"),
    [
        ("[signals]\ngroup_window_seconds = -5\n", "signals.group_window_seconds", "-5"),
        ("[signals]\nhistory_days = 0\n", "signals.history_days", "0"),
        ("[signals]\nhistory_min_entries = -1\n", "signals.history_min_entries", "-1"),
        ("[gateway]\nhello_timeout = -1.5\n", "gateway.hello_timeout", "-1.5"),
        ("[gateway]\nws_ping_interval = 0\n", "gateway.ws_ping_interval", "0"),
        ("[gateway]\nmax_body_bytes = 10\n", "gateway.max_body_bytes", "10"),
        ("[redis]\nembedded_port = 0\n", "redis.embedded_port", "0"),
        ("[redis]\nembedded_port = 70000\n", "redis.embedded_port", "70000"),
        ("[router]\nblock_ms = -1\n", "router.block_ms", "-1"),
        ("[router]\nclaim_interval_ms = 0\n", "router.claim_interval_ms", "0"),
        ("[worker]\nmax_tries = 0\n", "worker.max_tries", "0"),
        ("[twilio]\ntimeout = 0.0\n", "twilio.timeout", "0.0"),
        ("[smtp]\nport = 0\n", "smtp.port", "0"),
        ("[smtp]\ntimeout = -3\n", "smtp.timeout", "-3"),
        (f"[[imap]]\n{IMAP_OK}lease_seconds = -1\n", "imap[0].lease_seconds", "-1"),
        (f"[[imap]]\n{IMAP_OK}port = 0\n", "imap[0].port", "0"),
    ],
)
def test_out_of_range_numbers_name_the_key_and_the_value(tmp_path: Path, toml: str, key: str, value: str) -> None:
    """A negative, zero-where-meaningless or out-of-range number is one line naming the key and the value."""
    message = _error(_write(tmp_path, toml))
    assert key in message
    assert re.search(rf"got {re.escape(value)}\b", message), message


def test_zero_group_window_is_accepted() -> None:
    """group_window_seconds = 0 is meaningful (no grouping) and accepted."""
    assert load_config(None, {"SIGNALGATE_SIGNALS_GROUP_WINDOW_SECONDS": "0"}).signals.group_window_seconds == 0


def test_empty_data_dir_is_refused() -> None:
    """redis.data_dir = "" would put the embedded server's AOF in the working directory: refused."""
    assert "redis.data_dir" in _error(None, {"SIGNALGATE_REDIS_DATA_DIR": ""})


@pytest.mark.parametrize("raw", ["--5", "-", "5-", "1e3", "²", " "])
def test_env_malformed_integers_name_the_key(raw: str) -> None:
    """Integers from the environment that are not plain decimals are a ConfigError, never a traceback."""
    assert "gateway.port" in _error(None, {"SIGNALGATE_GATEWAY_PORT": raw})


def test_env_bad_int_names_the_key() -> None:
    """SIGNALGATE_GATEWAY_PORT=abc is refused naming gateway.port."""
    assert "gateway.port" in _error(None, {"SIGNALGATE_GATEWAY_PORT": "abc"})


@pytest.mark.parametrize(
    "url",
    ["", "127.0.0.1:8000", "ftp://example.jp", "http://", "https:///path", "example.jp", "ws://example.jp"],
)
def test_bad_public_url_is_refused(url: str) -> None:
    """gateway.public_url must be an absolute http(s) URL with a host."""
    assert "gateway.public_url" in _error(None, {"SIGNALGATE_GATEWAY_PUBLIC_URL": url})


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "https://sg.example.jp", "https://sg.example.jp/base"])
def test_good_public_url_is_accepted(url: str) -> None:
    """http and https URLs with a host are accepted as public_url."""
    assert load_config(None, {"SIGNALGATE_GATEWAY_PUBLIC_URL": url}).gateway.public_url == url


@pytest.mark.parametrize(
    "url", ["embedded", "redis://127.0.0.1:6379/0", "rediss://r.example.jp:6380", "unix:///tmp/r.sock"]
)
def test_good_redis_urls_are_accepted(url: str) -> None:
    """redis.url accepts 'embedded' and redis/rediss/unix URLs."""
    assert load_config(None, {"SIGNALGATE_REDIS_URL": url}).redis.url == url


def test_imap_entries_are_loaded_with_defaults(tmp_path: Path) -> None:
    """Each [[imap]] table becomes an ImapConfig; unspecified keys take their defaults."""
    path = _write(tmp_path, f'[[imap]]\n{IMAP_OK}\n[[imap]]\n{IMAP_OK}port = 143\ntls = "starttls"\nmode = "dropbox"\n')
    cfg = load_config(path, {})
    assert len(cfg.imap) == 2
    first, second = cfg.imap
    assert (first.org, first.user, first.host, first.port, first.tls, first.mode) == (
        "demo",
        "sato",
        "imap.example.jp",
        993,
        "implicit",
        "inbox",
    )
    assert (second.port, second.tls, second.mode) == (143, "starttls", "dropbox")


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('tls = "ssl"\n', "imap[0].tls"),
        ('mode = "archive"\n', "imap[0].mode"),
        ('port = "imap"\n', "imap[0].port"),
        ("bogus = 1\n", "imap[0].bogus"),
    ],
)
def test_bad_imap_values_are_refused(tmp_path: Path, extra: str, key: str) -> None:
    """Bad tls/mode/port or unknown keys in an [[imap]] table name imap[i].key."""
    assert key in _error(_write(tmp_path, f"[[imap]]\n{IMAP_OK}{extra}"))


@pytest.mark.parametrize("missing", ["org", "user", "host"])
def test_imap_missing_required_key_is_refused(tmp_path: Path, missing: str) -> None:
    """An [[imap]] table without org, user or host is refused naming the missing key."""
    lines = [line for line in IMAP_OK.splitlines() if not line.startswith(missing)]
    message = _error(_write(tmp_path, "[[imap]]\n" + "\n".join(lines) + "\n"))
    assert "imap[0]" in message
    assert missing in message


def test_second_imap_entry_is_named_by_index(tmp_path: Path) -> None:
    """Errors in the second [[imap]] table name imap[1]."""
    message = _error(_write(tmp_path, f'[[imap]]\n{IMAP_OK}\n[[imap]]\n{IMAP_OK}tls = "tls13"\n'))
    assert "imap[1].tls" in message


def test_imap_as_plain_table_is_refused(tmp_path: Path) -> None:
    """[imap] written as a single table instead of [[imap]] is refused."""
    assert "imap" in _error(_write(tmp_path, f"[imap]\n{IMAP_OK}"))


def test_imap_entry_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    """imap = [1] is refused with a ConfigError naming imap, not a crash."""
    assert "imap" in _error(_write(tmp_path, "imap = [1]\n"))


def test_section_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    """gateway = 1 is refused naming [gateway]."""
    assert "gateway" in _error(_write(tmp_path, "gateway = 1\n"))


def test_section_that_is_not_a_table_with_env_override_is_refused(tmp_path: Path) -> None:
    """gateway = 1 plus SIGNALGATE_GATEWAY_PORT is a ConfigError naming gateway, not a crash."""
    assert "gateway" in _error(_write(tmp_path, "gateway = 1\n"), {"SIGNALGATE_GATEWAY_PORT": "9000"})


def test_fractional_integer_is_refused(tmp_path: Path) -> None:
    """port = 8000.7 is refused rather than silently truncated to 8000."""
    assert "gateway.port" in _error(_write(tmp_path, "[gateway]\nport = 8000.7\n"))


def test_bool_for_float_key_is_refused(tmp_path: Path) -> None:
    """hello_timeout = true is refused (as booleans are for integer keys), not read as 1.0."""
    assert "gateway.hello_timeout" in _error(_write(tmp_path, "[gateway]\nhello_timeout = true\n"))


def test_invalid_toml_is_refused_naming_the_file(tmp_path: Path) -> None:
    """A file that is not TOML gives one line naming the file."""
    path = _write(tmp_path, "[gateway\nport = \n")
    message = _error(path)
    assert str(path) in message
    assert "TOML" in message


def test_shipped_config_loads_cleanly() -> None:
    """The shipped config.toml loads with an empty environment and equals the built-in defaults."""
    assert load_config(SHIPPED, {}) == Config()


_SECTION_CLASSES: dict[str, Any] = {
    "gateway": GatewayConfig,
    "redis": RedisConfig,
    "queue": QueueConfig,
    "signals": SignalsConfig,
    "router": RouterConfig,
    "twilio": TwilioConfig,
    "worker": WorkerConfig,
    "smtp": SmtpConfig,
    "mailboxes": MailboxesConfig,
}


def test_section_table_covers_every_config_section() -> None:
    """The section list used below matches the sections of Config (so the doc check is complete)."""
    assert {f.name for f in fields(Config)} == {*_SECTION_CLASSES, "imap"}


@pytest.mark.parametrize("section", sorted(_SECTION_CLASSES))
def test_shipped_config_documents_every_key(section: str) -> None:
    """Every key of every section dataclass appears in the shipped config.toml, and nothing else."""
    data = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    expected = {f.name for f in fields(_SECTION_CLASSES[section])}
    assert set(data[section]) == expected


def _commented_imap_block() -> list[str]:
    lines = SHIPPED.read_text(encoding="utf-8").splitlines()
    start = lines.index("# [[imap]]")
    block: list[str] = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        block.append(line[1:].strip())
    return block


def test_shipped_config_documents_every_imap_key() -> None:
    """The commented [[imap]] example in config.toml lists every ImapConfig key."""
    keys = {m.group(1) for line in _commented_imap_block() if (m := re.match(r"^(\w+)\s*=", line))}
    assert keys == {f.name for f in fields(ImapConfig)}


def test_commented_imap_example_is_valid(tmp_path: Path) -> None:
    """Uncommenting the documented [[imap]] example gives a loadable config."""
    path = _write(tmp_path, "\n".join(_commented_imap_block()) + "\n")
    cfg = load_config(path, {})
    assert len(cfg.imap) == 1
    assert cfg.imap[0].host == "imap.example.jp"


@pytest.mark.parametrize(("raw", "port"), [("-1", -1), ("0", 0), ("9101", 9101)])
def test_health_port(raw: str, port: int) -> None:
    """[gateway] health_port: -1 (none), 0 (port + 1/2/3 by process kind) or a port."""
    assert load_config(None, {"SIGNALGATE_GATEWAY_HEALTH_PORT": raw}).gateway.health_port == port


@pytest.mark.parametrize("raw", ["-2", "65536"])
def test_health_port_out_of_range(raw: str) -> None:
    """Anything else stops start-up naming the key and the value."""
    message = _error(None, {"SIGNALGATE_GATEWAY_HEALTH_PORT": raw})
    assert "gateway.health_port" in message and raw in message


def test_failover_seconds_defaults_to_5_and_can_be_set() -> None:
    """[gateway] failover_seconds: 5 by default (SPEC "Running" → "Failover"), any 1-600 accepted."""
    assert load_config(None, {}).gateway.failover_seconds == 5.0
    assert load_config(None, {"SIGNALGATE_GATEWAY_FAILOVER_SECONDS": "2.5"}).gateway.failover_seconds == 2.5


def test_cluster_defaults_off_and_queue_follows_redis() -> None:
    """[redis] cluster defaults to false and [queue] url to "" (= the same server as [redis] url)."""
    cfg = load_config(None, {})
    assert cfg.redis.cluster is False
    assert cfg.queue.url == ""


def test_cluster_with_a_plain_queue_is_accepted() -> None:
    """A cluster node URL plus a plain Redis for arq is the supported cluster setup."""
    env = {
        "SIGNALGATE_REDIS_URL": "redis://127.0.0.1:7000",
        "SIGNALGATE_REDIS_CLUSTER": "true",
        "SIGNALGATE_QUEUE_URL": "redis://127.0.0.1:6379/0",
    }
    cfg = load_config(None, env)
    assert (cfg.redis.cluster, cfg.queue.url) == (True, "redis://127.0.0.1:6379/0")


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"SIGNALGATE_REDIS_URL": "redis://127.0.0.1:7000", "SIGNALGATE_REDIS_CLUSTER": "true"}, "queue.url"),
        (
            {
                "SIGNALGATE_REDIS_URL": "redis://127.0.0.1:7000",
                "SIGNALGATE_REDIS_CLUSTER": "1",
                "SIGNALGATE_QUEUE_URL": "redis://127.0.0.1:7000",
            },
            "queue.url",
        ),
        ({"SIGNALGATE_REDIS_CLUSTER": "true", "SIGNALGATE_QUEUE_URL": "redis://127.0.0.1:6379"}, "redis.url"),
        ({"SIGNALGATE_QUEUE_URL": "http://127.0.0.1:6379"}, "queue.url"),
        ({"SIGNALGATE_REDIS_CLUSTER": "maybe"}, "redis.cluster"),
    ],
)
def test_cluster_without_a_plain_queue_is_one_line(env: dict[str, str], key: str) -> None:
    """cluster = true needs a node URL and a separate plain Redis for the queue: one line naming the key."""
    message = _error(None, env)
    assert key in message
    assert "\n" not in message


# -- [gateway] previous_secret_keys (key rotation) ---------------------------------------------
def test_previous_secret_keys_from_toml_and_comma_separated_env(tmp_path: Path) -> None:
    path = _write(tmp_path, '[gateway]\nsecret_key = "new"\nprevious_secret_keys = ["old", "older"]\n')
    assert load_config(path, {}).gateway.previous_secret_keys == ("old", "older")
    env = {"SIGNALGATE_GATEWAY_SECRET_KEY": "new", "SIGNALGATE_GATEWAY_PREVIOUS_SECRET_KEYS": " old , older,"}
    assert load_config(None, env).gateway.previous_secret_keys == ("old", "older")
    assert load_config(None, {}).gateway.previous_secret_keys == ()
    assert "old" not in repr(load_config(path, {}).gateway)  # never in a logged config


def test_previous_secret_keys_are_validated_without_echoing_them(tmp_path: Path) -> None:
    message = _error(_write(tmp_path, '[gateway]\nsecret_key = "new"\nprevious_secret_keys = 3\n'))
    assert message == "config: gateway.previous_secret_keys must be a list of strings"
    message = _error(_write(tmp_path, '[gateway]\nsecret_key = "new"\nprevious_secret_keys = ["old", 3]\n'))
    assert message == "config: gateway.previous_secret_keys must be a list of strings"
    message = _error(_write(tmp_path, '[gateway]\nsecret_key = "new-k"\nprevious_secret_keys = ["o", "new-k"]\n'))
    assert message == "config: gateway.previous_secret_keys[1] must differ from gateway.secret_key"
    message = _error(_write(tmp_path, '[gateway]\nsecret_key = "new"\nprevious_secret_keys = [""]\n'))
    assert message == "config: gateway.previous_secret_keys[0] must not be empty"
    message = _error(None, {"SIGNALGATE_GATEWAY_PREVIOUS_SECRET_KEYS": "old-key"})
    assert "needs gateway.secret_key set" in message and "old-key" not in message
