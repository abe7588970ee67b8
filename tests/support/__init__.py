"""Test support: real services (redis-server, signalgate processes, Dovecot, SMTP, the Twilio API)
and clients for them. Fixtures are declared in ``tests/conftest.py`` and in the plugin modules it
lists in ``pytest_plugins``; nothing here imports ``tests.conftest``.

- ``timing``: ``FACTOR`` (``SG_TEST_TIMEOUT_FACTOR``), polling and scaled sleeps
- ``api``: provisioning through the real API, provider-signed webhook requests
- ``ws``: the /ws test client
"""
