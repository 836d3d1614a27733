# One image for every role: `api`, `worker`, `beat` or `migrate` (see docker/entrypoint.sh).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 factcheck

COPY pyproject.toml setup.cfg README.md ./
COPY service ./service
COPY workers ./workers
COPY schemas ./schemas
RUN pip install .

COPY docker/entrypoint.sh /usr/local/bin/factcheck-entrypoint
USER factcheck
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)" || exit 1
ENTRYPOINT ["factcheck-entrypoint"]
CMD ["api"]
