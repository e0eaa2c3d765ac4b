"""Exceptions raised by grove_client.

Every error the server reports becomes a :class:`GroveError` subclass whose message is the
server's own message (the text that says what to fix), whichever transport carried it. The
HTTP status (REST) or gRPC status code name is kept on the exception for programs that branch
on it.
"""

from __future__ import annotations


class GroveError(Exception):
    """Base class of every error raised by the client.

    Attributes:
        message: the server's message (or the client's, for errors raised locally).
        http_status: HTTP status code when the REST transport carried the error, else None.
        grpc_code: gRPC status code name (e.g. ``"NOT_FOUND"``) when gRPC carried it, else None.
    """

    def __init__(self, message: str, *, http_status: int | None = None, grpc_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.grpc_code = grpc_code

    def __str__(self) -> str:
        where = self.grpc_code if self.grpc_code else (str(self.http_status) if self.http_status else None)
        return f"{self.message} ({where})" if where else self.message


class BadRequestError(GroveError):
    """The request was invalid (HTTP 400/422, gRPC INVALID_ARGUMENT / FAILED_PRECONDITION)."""


class UnauthorizedError(GroveError):
    """Missing or wrong API key (HTTP 401/403, gRPC UNAUTHENTICATED / PERMISSION_DENIED)."""


class NotFoundError(GroveError):
    """The collection, point or snapshot does not exist (HTTP 404, gRPC NOT_FOUND)."""


class ConflictError(GroveError):
    """The object already exists (HTTP 409, gRPC ALREADY_EXISTS)."""


class ResourceExhaustedError(GroveError):
    """A limit was exceeded: body size, batch size, rate (HTTP 413/429, gRPC RESOURCE_EXHAUSTED)."""


class GroveTimeoutError(GroveError):
    """The call did not finish in time (HTTP 504 / client timeout, gRPC DEADLINE_EXCEEDED)."""


class UnavailableError(GroveError):
    """The server could not be reached or is not ready (connection errors, HTTP 503, gRPC UNAVAILABLE)."""


class ServerError(GroveError):
    """The server failed internally (HTTP 5xx, gRPC INTERNAL / UNKNOWN); details are in its log."""


class UnsupportedError(GroveError):
    """The operation is not available over the chosen transport or on this server version."""


_HTTP: dict[int, type[GroveError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: UnauthorizedError,
    404: NotFoundError,
    405: UnsupportedError,
    409: ConflictError,
    413: ResourceExhaustedError,
    422: BadRequestError,
    429: ResourceExhaustedError,
    501: UnsupportedError,
    503: UnavailableError,
    504: GroveTimeoutError,
}

_GRPC: dict[str, type[GroveError]] = {
    "INVALID_ARGUMENT": BadRequestError,
    "FAILED_PRECONDITION": BadRequestError,
    "OUT_OF_RANGE": BadRequestError,
    "UNAUTHENTICATED": UnauthorizedError,
    "PERMISSION_DENIED": UnauthorizedError,
    "NOT_FOUND": NotFoundError,
    "ALREADY_EXISTS": ConflictError,
    "RESOURCE_EXHAUSTED": ResourceExhaustedError,
    "DEADLINE_EXCEEDED": GroveTimeoutError,
    "UNAVAILABLE": UnavailableError,
    "UNIMPLEMENTED": UnsupportedError,
}


def from_http(status: int, message: str) -> GroveError:
    """The exception for an HTTP error status."""
    cls = _HTTP.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else BadRequestError
    return cls(message, http_status=status)


def from_grpc(code_name: str, message: str) -> GroveError:
    """The exception for a gRPC status code name."""
    return _GRPC.get(code_name, ServerError)(message, grpc_code=code_name)
