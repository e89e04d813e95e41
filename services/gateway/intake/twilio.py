"""The SMS provider's webhook signature (Twilio's, which other providers copy): HMAC-SHA1, keyed
with the account's auth token, of the URL the provider posted to followed by each form field's
name and value, sorted by name; base64, in `X-Twilio-Signature`. No I/O.

The URL is the one the provider was given (PUBLIC_URL + the path), not what this process sees
behind a proxy: the provider signed what it called."""
import base64
import hashlib
import hmac

SIGNATURE_HEADER = "X-Twilio-Signature"


def signature(auth_token, url, form):
    """`form`: the posted fields, {name: value} or {name: [values]} (a repeated field counts each
    value, in order)."""
    payload = url
    for name in sorted(form):
        values = form[name] if isinstance(form[name], (list, tuple)) else [form[name]]
        for value in values:
            payload += name + value
    return base64.b64encode(hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()).decode()


def is_signed(auth_token, url, form, given):
    """Whether `given` is the provider's signature of this request (constant-time)."""
    if not auth_token or not given:
        return False
    return hmac.compare_digest(signature(auth_token, url, form).encode(), given.encode())
