"""``signalgate bench``: the load test users run against a gateway, and our benchmark.

Every figure is measured beside a bare baseline on the same machine in the same run, so a noisy
2-core box still yields honest ratios. Modules, leaves first:

- :mod:`~gateway.bench.options` — command-line options and settings (stdlib only, the CLI imports it);
- :mod:`~gateway.bench.stats`, :mod:`~gateway.bench.figures` — percentiles, figures, goals (pure);
- :mod:`~gateway.bench.payloads` — signed Twilio callbacks, tracking hits, Standard Webhooks events;
- :mod:`~gateway.bench.httpload`, :mod:`~gateway.bench.wsclient` — the keep-alive HTTP load
  generator and the WebSocket client fleet (raw asyncio protocols, uvloop);
- :mod:`~gateway.bench.procfs` — CPU time and resident memory of processes (``/proc``);
- :mod:`~gateway.bench.agent` — the load-generator process (JSON lines on stdin/stdout);
- :mod:`~gateway.bench.baselines`, :mod:`~gateway.bench.providers` — bare servers and the local
  Twilio/SMTP providers, each run as its own process;
- :mod:`~gateway.bench.stack`, :mod:`~gateway.bench.agents`, :mod:`~gateway.bench.provision` —
  processes of the self-contained stack, agent handles, the throw-away bench org;
- :mod:`~gateway.bench.context`, :mod:`~gateway.bench.ui` — what scenarios share, live progress;
- :mod:`~gateway.bench.scenarios` — one module per scenario;
- :mod:`~gateway.bench.report`, :mod:`~gateway.bench.runner` — table/JSON and the command itself.
"""
