# One image for every role: `api`, `worker`, `beat` or `migrate` (see docker/entrypoint.sh).
#
# No HEALTHCHECK here: every role would inherit it, and a check of the API's port marks the
# workers, beat and migrate unhealthy. Each service declares its own in docker-compose.yml
# (`factcheck healthcheck api|worker|beat`).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 factcheck

# The dependencies at the versions constraints.txt pins (`make constraints` makes it), in a
# layer of their own that a change of the code does not rebuild.
COPY constraints.txt ./
RUN pip install --requirement constraints.txt

COPY pyproject.toml setup.cfg README.md ./
COPY service ./service
COPY workers ./workers
COPY schemas ./schemas
RUN pip install --constraint constraints.txt .
# The sentence encoder's int8 graph, built into the image once (readable by every user), so a
# worker's first task does not build it (workers/extraction/encoder.py).
ENV FACTCHECK_MODEL_CACHE=/opt/factcheck/models
RUN python -m workers.extraction.encoder build

COPY docker/entrypoint.sh /usr/local/bin/factcheck-entrypoint
USER factcheck
EXPOSE 8000
ENTRYPOINT ["factcheck-entrypoint"]
CMD ["api"]
