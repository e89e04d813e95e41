"""The RPC entrypoint every service uses: nameko's, except that a reply the broker cannot take
does not kill the service.

nameko sends an RPC's reply after the method returned; if the broker is restarting at that moment
the publish fails, and nameko lets that failure kill the whole container (every entrypoint of the
process, seen in the fault suite's broker restart). The work itself is done and stored; the
request, never acknowledged, is delivered again once the broker is back (every RPC that creates
something is idempotent or keyed: Idempotency-Key, deterministic ids), and the caller gets its
answer then or retries. So the failure is logged and the process carries on.
"""
import logging

from nameko.rpc import Rpc

from services.common.outage import is_outage

log = logging.getLogger(__name__)


class ReplyTolerantRpc(Rpc):
    def handle_result(self, message, worker_ctx, result, exc_info):
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except Exception as exc:
            if not is_outage(exc):
                raise
            log.warning("%s: the reply could not be sent, the broker is unreachable (%s); the request "
                        "comes again once it is back", self.method_name, type(exc).__name__)
            return result, exc_info


rpc = ReplyTolerantRpc.decorator
