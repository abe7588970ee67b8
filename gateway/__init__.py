"""signalgate gateway: HTTP/WebSocket app, ingest, streams, router, hub, CLI."""
