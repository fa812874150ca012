# The divergence service: the API (`serve`) and the training worker (`worker`) in one image.
FROM python:3.11.14-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
WORKDIR /src
RUN python -m venv /opt/venv

# Dependencies first, in a layer of their own: rebuilt only when pyproject.toml or the lock change.
# EXTRAS=gpu installs the project's gpu extra: tensorflow[and-cuda], for GPU workers.
# They are installed through a stub of the project built in a folder of its own, then removed:
# setuptools builds in the source tree and keeps a build/ folder, and a stale build/ in /src
# would be copied over the real sources by the install below (an empty __init__.py shipped so).
# The secrets (tools/image/build passes them; a plain `docker build` needs none) are a pip
# configuration and CA bundle for a machine that reaches the package index through a proxy:
# mounted for these RUN steps only, in no layer of the image.
ARG EXTRAS=""
COPY pyproject.toml requirements.lock ./
# The versions are held to requirements.lock, the versions CI tests and audits.
# hadolint ignore=DL3013
RUN --mount=type=secret,id=pip.conf,target=/etc/pip.conf --mount=type=secret,id=ca-bundle.crt \
    mkdir -p /tmp/stub/service && cp pyproject.toml /tmp/stub/ && touch /tmp/stub/README.md \
    && pip install --constraint requirements.lock "/tmp/stub${EXTRAS:+[$EXTRAS]}" \
    && pip uninstall --yes divergence-service && rm -rf /tmp/stub

# The project from a tree that was never built: what is installed is exactly service/.
COPY README.md ./
COPY service ./service
RUN --mount=type=secret,id=pip.conf,target=/etc/pip.conf --mount=type=secret,id=ca-bundle.crt \
    pip install --no-deps . \
    && find /opt/venv -name __pycache__ -prune -exec rm -rf {} +

FROM python:3.11.14-slim-bookworm

# Writable places for a read-only root: the data volume and a tmpfs at /tmp. GLIBC_TUNABLES:
# malloc asks for transparent huge pages, so large bodies and their parses are faulted in by
# 2 MiB pages instead of 4 KiB ones (docs/operations.md, "Tuning").
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    MPLCONFIGDIR=/tmp/matplotlib \
    KERAS_HOME=/tmp/keras \
    DIVERGENCE_DATA_DIR=/var/lib/divergence \
    GLIBC_TUNABLES=glibc.malloc.hugetlb=1

RUN useradd --create-home --uid 10001 app \
    && mkdir -p /var/lib/divergence \
    && chown 10001:10001 /var/lib/divergence
COPY --from=build /opt/venv /opt/venv

USER 10001:10001
WORKDIR /home/app
VOLUME ["/var/lib/divergence"]
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]

CMD ["divergence-service", "serve", "--host", "0.0.0.0", "--port", "8000"]
