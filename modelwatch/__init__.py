"""modelwatch client SDK: log predictions, labels and exact request counters to a collector.

``import modelwatch`` loads the standard library only. Typical use::

    import modelwatch
    modelwatch.init("http://collector:8000", token, model="fraud-detector", version="v2", sample_rate=0.1)
    modelwatch.log_prediction(request_id, features, prediction, score=p, latency_ms=ms)
    modelwatch.log_label(request_id, label)

The module functions delegate to the default client created by ``init`` and do nothing until
then. They never block and never raise on the serving path.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from modelwatch._internal import SDKInternalError
from modelwatch.client import Client, ClientStats
from modelwatch.in_memory import InMemoryTransport
from modelwatch.redact import RedactionPolicy
from modelwatch.sampling import is_sampled
from modelwatch.transport import HttpTransport, Transport, TransportResult, make_transport

__version__ = "0.1.0"

__all__ = [
    "Client",
    "ClientStats",
    "HttpTransport",
    "InMemoryTransport",
    "RedactionPolicy",
    "SDKInternalError",
    "Transport",
    "TransportResult",
    "close",
    "flush",
    "get_client",
    "init",
    "is_sampled",
    "log_label",
    "log_prediction",
    "make_transport",
]

_default: Client | None = None
_default_lock = threading.Lock()


def init(url: str | None, token: str | None, model: str, version: str, sample_rate: float = 1.0, **options: Any) -> Client:
    """Create the default client (closing a previous one) and return it.

    Takes the same arguments as ``Client``; raises ValueError for invalid settings.
    """
    global _default
    client = Client(url, token, model, version, sample_rate, **options)
    with _default_lock:
        previous, _default = _default, client
    if previous is not None:
        previous.close()
    return client


def get_client() -> Client | None:
    """Return the default client, or None before ``init``."""
    return _default


def log_prediction(
    prediction_id: str,
    features: Mapping[str, Any] | None,
    prediction: Any,
    score: float | None = None,
    latency_ms: float | None = None,
    error: Any = None,
    slices: Mapping[str, Any] | None = None,
    timestamp: Any = None,
    probabilities: Mapping[str, float] | None = None,
    feature_timestamp: Any = None,
) -> None:
    """Log a prediction with the default client (see Client.log_prediction); no-op before init."""
    client = _default
    if client is not None:
        client.log_prediction(prediction_id, features, prediction, score, latency_ms, error, slices, timestamp,
                              probabilities, feature_timestamp)


def log_label(prediction_id: str, label: Any, timestamp: Any = None) -> None:
    """Log a label with the default client (see Client.log_label); no-op before init."""
    client = _default
    if client is not None:
        client.log_label(prediction_id, label, timestamp)


def flush(timeout: float = 5.0) -> bool:
    """Flush the default client; return True when all was delivered (True too before init)."""
    client = _default
    return True if client is None else client.flush(timeout)


def close(timeout: float | None = None) -> bool:
    """Close and forget the default client; return True when all was delivered (True if none)."""
    global _default
    with _default_lock:
        client, _default = _default, None
    return True if client is None else client.close(timeout)
