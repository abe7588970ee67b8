"""Local stand-ins for third-party services, used by the integration tests and ``signalgate bench``.

Nothing here is imported by the gateway, router or workers at run time.
"""
