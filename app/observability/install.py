"""The metrics route, and the metrics it serves."""

import hmac

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.config import Settings
from app.errors import NotAuthenticated
from app.observability.metrics import HttpMetrics

METRICS_PATH = "/metrics"


def install_metrics(app: FastAPI, settings: Settings) -> HttpMetrics | None:
    """The metrics the edge middleware counts into, and their route; None when off."""
    if not settings.metrics_enabled:
        return None
    metrics = HttpMetrics()
    install_metrics_route(app, metrics, settings)
    return metrics


def install_metrics_route(app: FastAPI, metrics: HttpMetrics, settings: Settings) -> None:
    token = settings.metrics_bearer_token

    def read_metrics(request: Request) -> Response:
        if token is not None:
            offered = request.headers.get("authorization", "")
            expected = f"Bearer {token.get_secret_value()}"
            if not hmac.compare_digest(offered.encode(), expected.encode()):
                raise NotAuthenticated("The metrics need the configured bearer token.")
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route(METRICS_PATH, read_metrics, methods=["GET"], include_in_schema=False)
