"""The one error type that crosses RPC and becomes the public JSON error.

Domain code raises `DomainError` subclasses; nameko serialises them over RPC with their
arguments (they are registered with `deserialize_to_instance`), so the gateway receives the
same class back and renders `{"error": {"code", "message", "fields"}}` with its HTTP status.
"""
from nameko.exceptions import deserialize_to_instance


class DomainError(Exception):
    status = 500
    code = "internal"

    def __init__(self, message, fields=None):
        super().__init__(message, fields or {})
        self.message = message
        self.fields = fields or {}

    def to_dict(self):
        body = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return {"error": body}

    def __str__(self):
        return self.message


@deserialize_to_instance
class ValidationFailed(DomainError):
    status = 400
    code = "validation_failed"

    @classmethod
    def from_marshmallow(cls, exc):
        return cls("Some fields are not valid.", _flatten(exc.messages))


@deserialize_to_instance
class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


@deserialize_to_instance
class Forbidden(DomainError):
    status = 403
    code = "forbidden"


@deserialize_to_instance
class NotFound(DomainError):
    status = 404
    code = "not_found"


@deserialize_to_instance
class Conflict(DomainError):
    status = 409
    code = "conflict"


@deserialize_to_instance
class Unprocessable(DomainError):
    status = 422
    code = "unprocessable"


@deserialize_to_instance
class ConfirmationRequired(DomainError):
    """The input is valid but needs the author's explicit confirmation (e.g. it may identify
    someone). The same request with `confirm_public: true` goes through."""
    status = 422
    code = "confirmation_required"


@deserialize_to_instance
class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"


def _flatten(messages, prefix=""):
    """marshmallow's nested {field: [msgs]} -> {"field" or "a.b": "msg; msg"}."""
    flat = {}
    if isinstance(messages, list):
        return {prefix or "_schema": "; ".join(str(m) for m in messages)}
    for key, value in messages.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(_flatten(value, name))
        else:
            flat[name] = "; ".join(str(m) for m in value) if isinstance(value, list) else str(value)
    return flat
