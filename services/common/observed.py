"""What every service shows the ops teams (docs/operations.md): its Prometheus metrics and its spans.

Every service class (and the gateway's routes) derives from `Observed`; nameko finds the dependency
providers a class inherits as it finds its own, and gives each container its own copy.
"""
from services.common.metrics import Metrics
from services.common.tracing import Tracing


class Observed:
    metrics = Metrics()  # Prometheus, on METRICS_PORT (services/common/metrics.py)
    tracing = Tracing()  # a span per handler, one trace per act (services/common/tracing.py)
