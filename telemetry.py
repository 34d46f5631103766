"""Metrics and traces: the SDK's Prometheus endpoint, and optional tracing.

The ``[metrics]`` table of the configuration (``config.py``):

    prometheus = "127.0.0.1:9464"   serve /metrics here; unset, no endpoint
    tracing = false                 OpenTelemetry spans through the SDK's
                                    TracingInterceptor (the ``tracing`` extra)

The product's own counters (``activities/metrics.py``) are recorded through
the SDK's metric meter, so they are served on the same endpoint as the
SDK's. Spans go to the OTLP endpoint the standard ``OTEL_EXPORTER_OTLP_*``
variables name; no span carries an error's message, only its type.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

# The product's counters on the endpoint start with this.
PRODUCT_PREFIX = "missing_youth_"
TRACING_MODULES = (
    "opentelemetry.sdk.trace",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
)


class MetricsConfig(BaseModel):
    """The ``[metrics]`` table: where metrics are served, whether to trace."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prometheus: str | None = Field(default=None, pattern=r"^\S+:\d{1,5}$")
    tracing: bool = False

    @field_validator("tracing")
    @classmethod
    def tracing_installed(cls, tracing: bool) -> bool:
        if tracing and not tracing_available():
            raise ValueError(
                "needs the OpenTelemetry packages: "
                "pip install 'missing-youth-protocol[tracing]'"
            )
        return tracing


def tracing_available() -> bool:
    """Whether the ``tracing`` extra is installed."""
    try:
        return all(importlib.util.find_spec(name) for name in TRACING_MODULES)
    except ModuleNotFoundError:
        return False


class MetricsEndpointError(ValueError):
    """The metrics endpoint cannot be served where it is configured."""


def metrics_runtime(
    bind_address: str, telemetry: TelemetryConfig | None = None
) -> Runtime:
    """An SDK runtime that serves Prometheus metrics on ``bind_address``.

    Give it to every client of the process (``Client.connect(runtime=)``):
    a worker records its metrics, and the product's, on its client's
    runtime.

    Args:
        bind_address: host:port for ``/metrics``.
        telemetry: Other telemetry settings (logging) to keep.

    Raises:
        MetricsEndpointError: the address cannot be bound.
    """
    base = telemetry or TelemetryConfig()
    config = TelemetryConfig(
        logging=base.logging,
        metrics=PrometheusConfig(bind_address=bind_address),
    )
    try:
        return Runtime(telemetry=config)
    except Exception as error:  # noqa: BLE001 - the core's error is a plain one
        raise MetricsEndpointError(
            f"metrics.prometheus: {bind_address} cannot be served "
            f"({type(error).__name__}; is the port in use?)"
        ) from None


def product_counters(url: str) -> list[str]:
    """The product's counter lines on a metrics endpoint, e.g. for the demo.

    Args:
        url: The endpoint, ``http://host:port/metrics``.
    """
    text = httpx.get(url, timeout=5).text
    return sorted(line for line in text.splitlines() if line.startswith(PRODUCT_PREFIX))


def counter_values(url: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    """One counter's value for each set of labels on a metrics endpoint."""
    values: dict[frozenset[tuple[str, str]], float] = {}
    for line in product_counters(url):
        metric, _, value = line.rpartition(" ")
        family, _, labels = metric.partition("{")
        if family != name:
            continue
        pairs = (pair.split("=", 1) for pair in labels.rstrip("}").split(",") if pair)
        values[frozenset((k, v.strip('"')) for k, v in pairs)] = float(value)
    return values


class Tracing:
    """Spans for every workflow, activity and client call, sent by OTLP.

    Args:
        exporter: Where spans go; by default OTLP over HTTP, configured by
            the standard ``OTEL_EXPORTER_OTLP_*`` variables. Tests give an
            in-memory one.
    """

    def __init__(self, exporter: Any = None) -> None:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from temporalio.contrib.opentelemetry import TracingInterceptor

        if exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                OTLPSpanExporter,
            )

            exporter = OTLPSpanExporter()
        resource = Resource.create({"service.name": "missing-youth-worker"})
        self.provider = TracerProvider(resource=resource)
        self.provider.add_span_processor(
            BatchSpanProcessor(_without_messages(exporter))
        )
        self.interceptor = TracingInterceptor(self.provider.get_tracer(__name__))

    @property
    def interceptors(self) -> Sequence[Any]:
        """For ``Client.connect(interceptors=)``; its workers use them too."""
        return [self.interceptor]

    def shutdown(self) -> None:
        """Send the spans still buffered, then stop."""
        self.provider.shutdown()


def _without_messages(exporter: Any) -> Any:
    """An exporter that keeps errors' types and drops their messages.

    The SDK's interceptor puts an exception's message in the span's status
    and its events; a message from a library might quote the data it choked
    on, and a trace collector is not the case record.
    """
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Status

    def scrubbed(span: ReadableSpan) -> ReadableSpan:
        status = span.status
        if status.description:
            kind = status.description.split(":", 1)[0]
            status = Status(status.status_code, kind)
        events = [
            Event(
                event.name,
                {"exception.type": (event.attributes or {}).get("exception.type", "")},
                event.timestamp,
            )
            if event.name == "exception"
            else event
            for event in span.events
        ]
        return ReadableSpan(
            name=span.name,
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=span.attributes,
            events=events,
            links=span.links,
            kind=span.kind,
            status=status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )

    class WithoutMessages(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> Any:
            return exporter.export([scrubbed(span) for span in spans])

        def shutdown(self) -> None:
            exporter.shutdown()

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return bool(exporter.force_flush(timeout_millis))

    return WithoutMessages()
