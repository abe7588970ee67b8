# signalgate: one image for every process kind (up, serve, router, worker, imap, demo, bench: a plain
# install has everything). No secrets baked in:
# pass SIGNALGATE_GATEWAY_ADMIN_TOKEN, SIGNALGATE_GATEWAY_SECRET_KEY, SIGNALGATE_REDIS_URL, ...
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SIGNALGATE_GATEWAY_HOST=0.0.0.0

RUN useradd --create-home --uid 10001 signalgate
WORKDIR /app

COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY workers ./workers
COPY web ./web
COPY config.toml ./
RUN pip install . && mkdir -p /app/data && chown signalgate:signalgate /app/data

USER signalgate
# 8000: up/serve (HTTP, WebSocket, /healthz, /metrics); 8001/8002/8003: /healthz + /metrics of
# router/worker/imap ([gateway] health_port = 0 means port + 1/2/3).
EXPOSE 8000 8001 8002 8003
VOLUME ["/app/data"]
# Checks port 8000, right for `up` and `serve`; router/worker/imap containers override it with
# their health port (compose.yaml does).
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
ENTRYPOINT ["signalgate", "--config", "/app/config.toml"]
CMD ["up"]
