"""``signalgate bench``: the load test users run against a gateway, and our benchmark.

Every figure is measured beside a bare baseline on the same machine in the same run, so a noisy
2-core box still yields honest ratios.

Layers, leaves first (a module imports only from its own layer or earlier ones; no import cycles,
no imports inside functions):

1. Pure leaves: :mod:`~gateway.bench.stats` (percentiles), :mod:`~gateway.bench.figures` (figures
   and goals), :mod:`~gateway.bench.feedtimes` (accept and write times read back from feed
   entries), :mod:`~gateway.bench.procfs` (CPU time and memory from ``/proc``),
   :mod:`~gateway.bench.payloads` (signed Twilio callbacks, tracking hits, Standard Webhooks
   events), :mod:`~gateway.bench.options` (command-line options and
   :class:`~gateway.bench.options.Settings`, with the sizes that follow from them, such as the
   ``send`` batches and the SMS credits they need).
2. Load generation: :mod:`~gateway.bench.httpload` and :mod:`~gateway.bench.wsclient` (the
   keep-alive HTTP generator and the WebSocket client fleet, raw asyncio protocols), and
   :mod:`~gateway.bench.agent`, the load-generator process built on them (JSON lines on stdin/stdout).
3. Processes, the gateway's API, output: :mod:`~gateway.bench.stack` (the private stack's
   processes), :mod:`~gateway.bench.agents` (handles on agent processes),
   :mod:`~gateway.bench.provision` (the throw-away bench org), :mod:`~gateway.bench.streams` (events
   appended straight to the event log, the routers' consumer group), :mod:`~gateway.bench.baselines` and
   :mod:`~gateway.bench.providers` (bare servers and the local Twilio/SMTP providers, each its own
   process), :mod:`~gateway.bench.ui` (live progress) and :mod:`~gateway.bench.report` (the table
   and the JSON).
4. :mod:`~gateway.bench.context`: the :class:`~gateway.bench.context.Bench` every scenario works
   with.
5. :mod:`~gateway.bench.scenarios`: ``scenarios.common``, then one module per scenario (``ingest``,
   ``live``, ``fanout``, ``send``, ``route``, ``failover``; none imports another), then the
   package's ``SCENARIOS`` registry.
6. :mod:`~gateway.bench.runner`: the command itself (set up, run the scenarios, report, clean up).
7. :mod:`~gateway.bench.command`: ``run_bench``, which :mod:`gateway.cli` imports only for the
   ``bench`` command (its arguments come from :mod:`~gateway.bench.options`), so that no other
   process loads the bench or its extra.
"""
