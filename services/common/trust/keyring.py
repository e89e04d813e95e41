"""What the services trust on the bus: sealed payloads, signed viewers, signed operator commands.

RabbitMQ carries every RPC request and reply, and writes persistent messages to disk; anyone who
can reach it can bind a queue to `nameko-rpc` and read them, or send any RPC (DESIGN, "Secrets
never cross the bus in clear"). So:

- **Sealed payloads.** A payload holding a secret (a password, an email, a session token, message
  text, a request's text) travels as `{"sealed": "<base64>"}`: a libsodium sealed box (X25519 +
  XSalsa20-Poly1305, PyNaCl's `SealedBox`) to the one service that may open it. Each service
  holds its own private key and the others' public keys only (`SEAL_KEY_<SERVICE>` /
  `SEAL_PUBLIC_<SERVICE>`).
- **Sealed replies, bound to their call.** A reply holding a secret travels as
  `{"sealed_reply": "<base64>"}`: a libsodium `Box` from the replying service's key to the
  gateway's (so it is authenticated: only that service could have written it) over
  `{from, method, call, result}`, where `call` is a fresh random value the gateway sent with this
  very call (in nameko's context data, `reply_call`). The gateway opens a reply only from the
  service it called, for the method it called, for this call: a reply copied off the bus and fed
  back by a compromised pod as its answer to another call is refused, so the gateway is no
  decryption oracle.
- **Signed viewers.** Who an RPC acts for is `{"claims": {account_id, role, handle, verified,
  aud, expires_at}, "signature"}`, signed by the gateway with Ed25519 (`VIEWER_SIGNING_KEY`, held
  by the gateway alone). Services hold only the verify keys (`VIEWER_VERIFY_KEYS`, current first,
  so the key rotates without downtime) and refuse an unsigned, forged or expired viewer. `aud` is
  the one call the viewer was signed for (`profiles.get_me`): the gateway signs a viewer for each
  call it makes, and a service accepts it only in that method (`ViewerAudience`), so a viewer
  copied off the bus acts for no one anywhere else. (`*`, any call, is signed only by tooling that
  holds the signing key anyway: the tests'; the gateway never signs it.)
- **Authors' decisions.** An author's confirmation of a helper is signed by the gateway too
  (`{kind: "author_decision", decision, match_id, author_id, version, issued_at}`) and travels on
  `match_confirmed`: requests shows a private request's text, and notify opens the channel, only
  for a decision the author's gateway signed for that very match (whose id is derived from the
  request and the volunteer: services/common/ids.py), on the match's version
  the author saw, no older than DECISION_MAX_AGE_S. A compromised matching pod cannot make one up,
  nor replay an old one after the author ended the helper's access (requests and campaigns compare
  the signed version with the end they applied; notify never reopens a channel).
- **Operator commands.** Appointing a role needs a command signed with the operator's key
  (`OPERATOR_SIGNING_KEY`, held by the operator tooling only; profiles holds
  `OPERATOR_VERIFY_KEYS`): no service and no gateway can appoint anyone.

Keys are base64 of the raw 32 bytes, one environment variable each (docs/security.md).
"""
import base64
import functools
import json
# `secrets` is this package's own module (the platform's secrets): the standard one by its function.
from secrets import token_urlsafe
import threading
import time

from nameko.extensions import DependencyProvider
from nacl.exceptions import BadSignatureError, CryptoError
from nacl.public import Box, PrivateKey, PublicKey, SealedBox
from nacl.signing import SigningKey, VerifyKey

from services.common.config import load_config
from services.common.errors import Forbidden, ValidationFailed
from services.common.ids import match_id_of

# The services a secret may be sealed to, and the gateway (for replies).
HOLDERS = ("gateway", "profiles", "requests", "notify", "campaigns", "matching")
VIEWER_TTL_S = 120  # a signed viewer lives for one request, with room for slow calls and clocks
# A viewer the gateway signs when it resolves a session, valid at no service: `call()` signs it again
# for each call (`for_call`).
GATEWAY_AUDIENCE = "gateway"
ANY_AUDIENCE = "*"
# The call each green thread is serving (ViewerAudience); eventlet makes threading.local green.
_serving = threading.local()
OPERATOR_TTL_S = 300
# How late a consumer may still apply an author's decision (after an outage of the bus, say): past
# it, the confirmation grants nothing and the author confirms again. Bounds a replay's window.
DECISION_MAX_AGE_S = 2 * 86400


def _b64(raw):
    return base64.b64encode(bytes(raw)).decode()


def _unb64(text):
    return base64.b64decode(text.encode())


KEY_NAMES = tuple(f"SEAL_{kind}_{holder.upper()}" for holder in HOLDERS for kind in ("KEY", "PUBLIC")) + (
    "VIEWER_SIGNING_KEY", "VIEWER_VERIFY_KEYS", "OPERATOR_SIGNING_KEY", "OPERATOR_VERIFY_KEYS")


# Which of these keys each workload holds (deploy/k8s/secrets.yaml and compose.yaml give each
# exactly these; tests/deploy checks it). A private key is held by its one holder only.
HELD_BY = {
    "gateway": ("SEAL_KEY_GATEWAY", "VIEWER_SIGNING_KEY", "SEAL_PUBLIC_PROFILES", "SEAL_PUBLIC_REQUESTS",
                "SEAL_PUBLIC_NOTIFY", "SEAL_PUBLIC_CAMPAIGNS", "SEAL_PUBLIC_MATCHING"),
    "profiles": ("SEAL_KEY_PROFILES", "SEAL_PUBLIC_GATEWAY", "VIEWER_VERIFY_KEYS", "OPERATOR_VERIFY_KEYS"),
    "requests": ("SEAL_KEY_REQUESTS", "SEAL_PUBLIC_GATEWAY", "VIEWER_VERIFY_KEYS"),
    "notify": ("SEAL_KEY_NOTIFY", "SEAL_PUBLIC_GATEWAY", "VIEWER_VERIFY_KEYS"),
    "matching": ("SEAL_KEY_MATCHING", "VIEWER_VERIFY_KEYS"),  # a volunteer's reason for declining
    "search": ("VIEWER_VERIFY_KEYS",),
    "campaigns": ("SEAL_KEY_CAMPAIGNS", "SEAL_PUBLIC_GATEWAY", "VIEWER_VERIFY_KEYS"),
}
# Held by the operator's own environment, never by a workload: no pod can appoint anyone.
OPERATOR_ONLY = ("OPERATOR_SIGNING_KEY",)


def new_keys():
    """Fresh keys for every holder and signer, as environment entries (services/common/ops/secrets.py)."""
    out = {}
    for holder in HOLDERS:
        private = PrivateKey.generate()
        out[f"SEAL_KEY_{holder.upper()}"] = _b64(private)
        out[f"SEAL_PUBLIC_{holder.upper()}"] = _b64(private.public_key)
    for signer in ("VIEWER", "OPERATOR"):
        signing = SigningKey.generate()
        out[f"{signer}_SIGNING_KEY"] = _b64(signing)
        out[f"{signer}_VERIFY_KEYS"] = _b64(signing.verify_key)
    return out


def _canonical(data):
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Keyring:
    """The keys one process holds, from its config (absent keys: that power is simply missing)."""

    def __init__(self, config):
        self.config = config

    def _get(self, name):
        value = self.config.get(name)
        if not value:
            raise RuntimeError(f"{name} is not configured (services/common/trust/keyring.py)")
        return value

    # ---- sealing

    def seal(self, holder, data):
        """`data` (anything JSON) sealed to `holder`'s public key."""
        box = SealedBox(PublicKey(_unb64(self._get(f"SEAL_PUBLIC_{holder.upper()}"))))
        return {"sealed": _b64(box.encrypt(_canonical(data)))}

    def open(self, holder, payload, field="payload"):
        """What was sealed to `holder` (this process must hold its private key). Anything else,
        a payload in clear included, is refused: a secret must not have crossed the bus."""
        if not isinstance(payload, dict) or set(payload) != {"sealed"} or not isinstance(payload["sealed"], str):
            raise ValidationFailed("This must arrive sealed to its service.", {field: "Not sealed."})
        box = SealedBox(PrivateKey(_unb64(self._get(f"SEAL_KEY_{holder.upper()}"))))
        try:
            return json.loads(box.decrypt(_unb64(payload["sealed"])))
        except (CryptoError, ValueError):
            raise ValidationFailed("This could not be opened.", {field: "Not sealed to this service."}) from None

    # ---- replies bound to their call

    def seal_reply(self, service, method, call, result):
        """`result` of `service.method`, for the gateway's call `call`, in a Box from `service`."""
        box = Box(PrivateKey(_unb64(self._get(f"SEAL_KEY_{service.upper()}"))),
                  PublicKey(_unb64(self._get("SEAL_PUBLIC_GATEWAY"))))
        sealed = box.encrypt(_canonical({"from": service, "method": method, "call": call, "result": result}))
        return {"sealed_reply": _b64(sealed)}

    def open_reply(self, service, method, call, reply):
        """The result in `reply`, if `service` sealed it for `method` and this call `call`; else
        UnboundReply (a service without a sealing key never sends one)."""
        if not (isinstance(reply, dict) and set(reply) == {"sealed_reply"} and isinstance(reply["sealed_reply"], str)):
            raise UnboundReply(f"{service}.{method}: a sealed reply in an unknown form")
        public = self.config.get(f"SEAL_PUBLIC_{service.upper()}") if service in HOLDERS else None
        if not public:
            raise UnboundReply(f"{service}.{method}: this service does not seal replies")
        box = Box(PrivateKey(_unb64(self._get("SEAL_KEY_GATEWAY"))), PublicKey(_unb64(public)))
        try:
            opened = json.loads(box.decrypt(_unb64(reply["sealed_reply"])))
        except (CryptoError, ValueError):
            raise UnboundReply(f"{service}.{method}: a reply not sealed by this service") from None
        if (opened.get("from"), opened.get("method"), opened.get("call")) != (service, method, call):
            raise UnboundReply(f"{service}.{method}: a reply sealed for another call")
        return opened["result"]

    # ---- signatures

    def _sign(self, key_name, claims):
        signing = SigningKey(_unb64(self._get(key_name)))
        return {"claims": claims, "signature": _b64(signing.sign(_canonical(claims)).signature)}

    def _verify(self, keys_name, signed, what, check_expiry=True):
        if not isinstance(signed, dict) or set(signed) != {"claims", "signature"} \
                or not isinstance(signed["claims"], dict) or not isinstance(signed["signature"], str):
            raise Forbidden(f"The {what} is not signed.")
        message = _canonical(signed["claims"])
        try:
            signature = _unb64(signed["signature"])
        except ValueError:
            raise Forbidden(f"The {what}'s signature is not valid.") from None
        for key in self._get(keys_name).split(","):
            try:
                VerifyKey(_unb64(key.strip())).verify(message, signature)
                break
            except (BadSignatureError, ValueError):
                continue
        else:
            raise Forbidden(f"The {what}'s signature is not valid.")
        expires_at = signed["claims"].get("expires_at")
        if not isinstance(expires_at, (int, float)) or (check_expiry and expires_at < time.time()):
            raise Forbidden(f"The {what} has expired.")
        return dict(signed["claims"])

    def sign_viewer(self, viewer, ttl_s=VIEWER_TTL_S, audience=GATEWAY_AUDIENCE):
        """`viewer` signed for `audience`: one call (`service.method`), or the gateway itself."""
        claims = {key: value for key, value in viewer.items() if key not in ("aud", "expires_at")}
        return self._sign("VIEWER_SIGNING_KEY", dict(claims, aud=audience, expires_at=int(time.time()) + ttl_s))

    def for_call(self, signed, service, method):
        """A viewer the gateway signed for itself, signed again for one call; anything else as it is."""
        if not (isinstance(signed, dict) and set(signed) == {"claims", "signature"}
                and isinstance(signed["claims"], dict) and signed["claims"].get("aud") == GATEWAY_AUDIENCE):
            return signed
        claims = self._verify("VIEWER_VERIFY_KEYS", signed, "viewer")  # only what this gateway signed
        return self.sign_viewer(claims, ttl_s=max(1, claims["expires_at"] - int(time.time())),
                                audience=f"{service}.{method}")

    def verify_viewer(self, signed, audience=None):
        """The claims of a viewer signed for `audience` (default: the call this green thread serves)."""
        claims = self._verify("VIEWER_VERIFY_KEYS", signed, "viewer")
        if "kind" in claims:  # another signed statement of the gateway (a decision) is no viewer
            raise Forbidden("The viewer is not signed.")
        audience = audience if audience is not None else getattr(_serving, "call", None)
        if claims.get("aud") not in (ANY_AUDIENCE, audience) or claims.get("aud") is None:
            raise Forbidden("The viewer was signed for another call.")
        claims.pop("expires_at")
        claims.pop("aud")
        return claims

    def sign_decision(self, match_id, author_id, version, decision="confirm", ttl_s=VIEWER_TTL_S):
        """The gateway's word that `author_id` decided `decision` on `match_id` as it was at
        `version` (what the author saw), just now."""
        now = int(time.time())
        return self._sign("VIEWER_SIGNING_KEY", {"kind": "author_decision", "decision": decision,
                                                 "match_id": match_id, "author_id": author_id, "version": version,
                                                 "issued_at": now, "expires_at": now + ttl_s})

    def verify_decision(self, signed, match_id, author_id, decision="confirm", fresh=True):
        """Forbidden unless `signed` is the gateway's `sign_decision` for exactly this match, author
        and decision, with the version it was made on. `fresh`: also unexpired (as the author acts);
        else (a consumer of the event that carries it, which may see it late after an outage) no
        older than DECISION_MAX_AGE_S: an old decision replayed later grants nothing."""
        claims = self._verify("VIEWER_VERIFY_KEYS", signed, "author's decision", check_expiry=fresh)
        if (claims.get("kind"), claims.get("decision"), claims.get("match_id"), claims.get("author_id")) != (
                "author_decision", decision, match_id, author_id) or not isinstance(claims.get("version"), int):
            raise Forbidden("The author's decision is not for this match.")
        if time.time() - int(claims.get("issued_at") or 0) > DECISION_MAX_AGE_S:
            raise Forbidden("The author's decision is too old.")
        return claims

    def sign_command(self, command, ttl_s=OPERATOR_TTL_S):
        return self._sign("OPERATOR_SIGNING_KEY", dict(command, expires_at=int(time.time()) + ttl_s))

    def verify_command(self, signed):
        claims = self._verify("OPERATOR_VERIFY_KEYS", signed, "operator command")
        claims.pop("expires_at")
        return claims

    def export_page(self, signed, action):
        """(after_id, limit) of an export page the operator signed for `action` (the export RPCs
        hand out whole tables: no pod may page through them)."""
        claims = self.verify_command(signed)
        if claims.get("action") != action:
            raise Forbidden("The operator command is not for this export.")
        after_id = claims.get("after_id")
        return (str(after_id) if after_id is not None else None), max(1, min(int(claims.get("limit") or 500), 1000))


@functools.lru_cache(maxsize=1)
def keyring():
    """This process's keys, from the one config loader (environment substituted)."""
    return Keyring(load_config())


def decided_version(match, author_id):
    """The match's version `author_id` confirmed it at, if `match` (a `match_confirmed` event's
    data) carries their signed decision for this very match (whose id must be the one derived from
    its request and volunteer), not too old; else None. What requests, notify and campaigns check
    before granting anything on a confirmation, and what they compare with an end they applied: a
    compromised matching pod that replays an old confirmation (the signed decision it holds) after
    the author ended the helper's access gives nothing back, whatever version its event claims."""
    if not author_id or match.get("match_id") != match_id_of(match.get("request_id"), match.get("volunteer_id")):
        return None
    try:
        return keyring().verify_decision(match.get("author_decision"), match["match_id"], author_id,
                                         fresh=False)["version"]
    except Forbidden:
        return None


def chosen_by_author(match, author_id):
    """Whether `match` carries `author_id`'s signed decision (decided_version)."""
    return decided_version(match, author_id) is not None


class UnboundReply(Exception):
    """A sealed reply that is not the called service's answer to this call (docstring above)."""


# The context data key carrying the gateway's value for one call (nameko sends context data as
# message headers, `nameko.reply_call`; the server's worker gets it back in `worker_ctx.data`).
REPLY_CALL = "reply_call"


def new_reply_call():
    return token_urlsafe(18)


class ViewerAudience(DependencyProvider):
    """Records the call each worker serves (`service.method`), so that `verify_viewer` accepts a
    viewer only in the call it was signed for. Every service with RPCs that take a viewer declares
    `viewer_audience = ViewerAudience()`."""

    def worker_setup(self, worker_ctx):
        _serving.call = f"{self.container.service_name}.{worker_ctx.entrypoint.method_name}"

    def worker_teardown(self, worker_ctx):
        _serving.call = None


class ReplyCall(DependencyProvider):
    """Injects the gateway's value for the call being served (or None): what `sealed_reply` binds
    the reply to. A service with sealed replies declares `reply_call = ReplyCall()`."""

    def get_dependency(self, worker_ctx):
        value = worker_ctx.data.get(REPLY_CALL)
        return value if isinstance(value, str) else None


def sealed_reply():
    """Decorator for an RPC whose reply holds a secret: the reply travels sealed to the gateway,
    from this service, bound to the method and to the gateway's call (`ReplyCall`)."""
    def decorate(method):
        @functools.wraps(method)
        def wrapper(service, *args, **kwargs):
            result = method(service, *args, **kwargs)
            return keyring().seal_reply(service.name, method.__name__, service.reply_call, result)
        return wrapper
    return decorate
