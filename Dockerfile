# stepgrad: a slim image with a CPU build of torch, served by uvicorn as a non-root user.
# Build: docker build -t stepgrad .   Run: docker run -p 8000:8000 stepgrad
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STEPGRAD_HOST=0.0.0.0 \
    STEPGRAD_PORT=8000 \
    STEPGRAD_DATABASE_URL=sqlite:////srv/stepgrad/data/stepgrad.db

WORKDIR /srv/stepgrad

# torch first, from PyTorch's CPU index (a few hundred MB instead of the CUDA build).
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"

COPY pyproject.toml README.md constraints.txt ./
COPY app ./app
COPY solvers ./solvers
COPY templates ./templates
COPY static ./static
COPY locales ./locales
RUN pip install -c constraints.txt -e . \
    && useradd --system --uid 10001 --home-dir /srv/stepgrad stepgrad \
    && mkdir data && chown stepgrad data

USER stepgrad
# the classroom's SQLite file; at scale set STEPGRAD_DATABASE_URL to a PostgreSQL and
# STEPGRAD_WORKERS (see the README: all shared state is in the database)
VOLUME /srv/stepgrad/data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
CMD ["stepgrad", "serve"]
