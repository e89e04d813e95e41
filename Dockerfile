# One image for every service; `SERVICE` picks which one a container runs.
#   docker build -t allies/platform:latest .
#   docker run -e SERVICE=gateway -e AMQP_URI=... -e MONGO_URI=... -e ES_URL=... -p 8080:8080 allies/platform:latest
# profiles and notify also need their secrets (compose.yaml and deploy/k8s/secrets.yaml say which).

# ---- builder: compile the pinned dependencies into a venv that the final stage copies whole.
FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt constraints.txt /tmp/
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt -c /tmp/constraints.txt

# ---- final: no compilers, no pip cache, no root.
FROM python:3.11-slim
# The letters bundle (services/gateway/web/bundle.py): WeasyPrint sets text with Pango, in Noto's
# fonts for Persian, Arabic and Chinese. tor: the gateway's onion service runs from this image too,
# beside the gateway (deploy/k8s/gateway.yaml).
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-core fonts-noto-cjk tor \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /app --shell /usr/sbin/nologin allies
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY config.yaml ./
COPY services/ ./services/
# Compile now: the root filesystem is read-only at run time (Kubernetes), so Python could not
# write its bytecode cache later and would recompile on every start.
RUN python -m compileall -q /app/services
# The web pages' catalogs are kept as .po in the repository and compiled at install.
RUN /opt/venv/bin/pybabel compile -d /app/services/gateway/web/translations
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# A container must listen on all its interfaces to be reachable; only the gateway serves HTTP.
ENV GATEWAY_ADDRESS=0.0.0.0:8080
USER 10001:10001
EXPOSE 8080
# `exec` makes nameko PID 1, so it gets SIGTERM on stop and shuts its workers down cleanly.
CMD ["sh", "-c", "exec nameko run --config config.yaml services.${SERVICE:?set SERVICE to one of profiles requests matching notify search gateway}.service"]
