# The episode worker. It connects to $TEMPORAL_ADDRESS; it never starts a
# server of its own in the image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml ./
COPY workflows ./workflows
COPY activities ./activities
COPY *.py ./
RUN pip install --no-cache-dir .

# The case record is written under /data, the only writable place.
RUN useradd --system --uid 10001 --home-dir /app worker \
    && mkdir /data && chown worker /data
USER worker

ENV TEMPORAL_ADDRESS=temporal:7233 \
    TEMPORAL_NAMESPACE=default \
    CASE_RECORD_PATH=/data/case_record

CMD ["python", "worker.py"]
