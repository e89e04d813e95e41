"""The store: each service's database, the outbox that writes events with the change, timers' due work."""
