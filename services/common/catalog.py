"""The platform's services, named once: every list of them elsewhere comes from here.

Each backend service answers RPCs (from the gateway only) and owns one database; the gateway owns
none and serves HTTP. A new service is added here, and then has a broker user
(broker_users.py), a store user (store_users.py), its probes, and its place in `./dev up` and the
tests' platform."""
BACKEND = ("profiles", "requests", "matching", "notify", "search", "campaigns")
GATEWAY = "gateway"
ALL = BACKEND + (GATEWAY,)
