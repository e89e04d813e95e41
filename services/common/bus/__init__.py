"""The bus: the event contract, how events are consumed (once in effect), RPC, the queues' topology."""
