"""The platform's services, named once: every list of them elsewhere comes from here.

Each backend service answers RPCs (from the gateway only) and owns one database; the gateway owns
none and serves HTTP. A new service is added here, and then has a broker user
(broker_users.py), a store user (store_users.py), its probes, and its place in `./dev up` and the
tests' platform."""
BACKEND = ("profiles", "requests", "matching", "notify", "search", "campaigns")
GATEWAY = "gateway"
ALL = BACKEND + (GATEWAY,)
# Each service's Prometheus metrics port (services/common/metrics.py): one per service, so that
# several run side by side on one machine (`./dev up`); in Kubernetes every pod uses its own.
METRICS_PORTS = {name: 9101 + place for place, name in enumerate(ALL)}
