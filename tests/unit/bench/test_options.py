"""``gateway.bench.options``: command-line options and the settings that follow from them."""

from __future__ import annotations

import argparse

import pytest

from gateway.bench.options import WORKER_COUNTS, Settings, add_bench_arguments, settings_from


def test_options_refuse_a_target_without_an_admin_token() -> None:
    """--target needs an admin token (flag or environment); scenarios run in the documented order."""
    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    with pytest.raises(ValueError, match="admin-token"):
        settings_from(parser.parse_args(["--target", "http://gw:8000"]), {})
    s = settings_from(parser.parse_args(["--target", "http://gw:8000/", "--scenario", "pixel", "--scenario", "e2e"]),
                      {"SIGNALGATE_GATEWAY_ADMIN_TOKEN": "t"})  # fmt: skip
    assert (s.target, s.admin_token, s.scenarios, s.public_url) == (
        "http://gw:8000",
        "t",
        ("e2e", "pixel"),
        "http://gw:8000",
    )
    assert settings_from(parser.parse_args(["--clients", "5", "--clients-per-user", "2"]), {}).users == 3


def test_router_scenarios_are_selectable_and_run_last() -> None:
    """``--scenario route`` / ``failover`` pick them; they run after the others (they start and kill routers)."""
    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    picked = settings_from(
        parser.parse_args(["--scenario", "failover", "--scenario", "route", "--scenario", "e2e"]), {}
    )
    assert picked.scenarios == ("e2e", "route", "failover")
    assert settings_from(parser.parse_args([]), {}).scenarios[-2:] == ("route", "failover")


def test_send_batches_scale_with_the_duration() -> None:
    """Jobs per send batch: 30 per second of --duration, at least 20; credits as the bench has always bought."""
    assert (Settings(duration=5).send_jobs, Settings(duration=0.1).send_jobs) == (150, 20)
    assert Settings(duration=5).sms_credits == (150 + 20) * len(WORKER_COUNTS) + 100


@pytest.mark.parametrize("duration", [0.1, 0.5, 0.7, 1, 2.5, 5, 10, 33.3])
def test_credits_cover_every_sms_batch(duration: float) -> None:
    """The bench org can pay for one SMS batch at each worker count, with 100 to spare."""
    s = Settings(duration=duration)
    assert s.sms_credits >= s.send_jobs * len(WORKER_COUNTS) + 100


def test_scale_is_asked_for_by_name_and_redis_cluster_is_self_contained_only() -> None:
    """``scale`` is not in the default run (it takes 60-90 s more); ``--redis-cluster`` refuses ``--target``."""
    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    assert "scale" not in settings_from(parser.parse_args([]), {}).scenarios
    picked = settings_from(parser.parse_args(["--scenario", "scale", "--scenario", "route", "--redis-cluster"]), {})
    assert (picked.scenarios, picked.redis_cluster) == (("route", "scale"), True)
    assert settings_from(parser.parse_args([]), {}).redis_cluster is False
    with pytest.raises(ValueError, match="redis-cluster"):
        settings_from(
            parser.parse_args(["--target", "http://gw:8000", "--redis-cluster"]),
            {"SIGNALGATE_GATEWAY_ADMIN_TOKEN": "t"},
        )
