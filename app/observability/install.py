"""The observing middleware and the metrics route, added to the app in one call."""

import hmac

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.config import Settings
from app.errors import NotAuthenticated
from app.observability.metrics import HttpMetrics
from app.observability.middleware import RequestObserver
from app.observability.request_id import REQUEST_ID_HEADER, is_safe_request_id, new_request_id

METRICS_PATH = "/metrics"


def install_observability(app: FastAPI, settings: Settings) -> None:
    """Wrap the application in the observing middleware. Called after every other
    middleware is added, so that these run outermost and see every response."""
    metrics = HttpMetrics() if settings.metrics_enabled else None
    if metrics is not None:
        install_metrics_route(app, metrics, settings)
    app.add_middleware(RequestObserver, metrics=metrics, access_log=settings.access_log)
    app.add_middleware(
        CorrelationIdMiddleware,
        header_name=REQUEST_ID_HEADER,
        generator=new_request_id,
        validator=is_safe_request_id,
    )


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
