"""Test support: real services (redis-server, signalgate processes, Dovecot, SMTP, the Twilio API)
and clients for them, one job a module. Fixtures are declared in ``tests/conftest.py`` and in the
plugin modules it lists in ``pytest_plugins`` (``sending``); nothing here imports ``tests.conftest``.

- ``timing``: ``FACTOR`` (``SG_TEST_TIMEOUT_FACTOR``), ``wait_for``/``block_until`` polling, scaled sleeps
- ``redis``: ``RedisServer``, a throw-away redis-server
- ``processes``: ``Processes`` (``gateway.cli`` children), ``wait_healthy``, the child environment
- ``api``: ``Gateway``, ``OrgCtx``, provisioning through the real API, Twilio- and Standard
  Webhooks-signed requests, event posting
- ``ws``: ``Feed``, the /ws test client
- ``sending``: SMTP recorder, local Twilio API, workers, orgs ready to send (fixture plugin)
- ``imap``: ``Dovecot``, mail and DSN builders, listener environment
"""
