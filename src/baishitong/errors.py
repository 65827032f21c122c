"""One domain error type; the API turns it into {"error": {"code", "message"}}."""


class DomainError(Exception):
    status_code = 400

    def __init__(self, code: str, message: str, *, status_code: int | None = None, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        if status_code is not None:
            self.status_code = status_code


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Forbidden(DomainError):
    status_code = 403


class Unauthorized(DomainError):
    status_code = 401


class InvalidInput(DomainError):
    status_code = 422


class RateLimited(DomainError):
    status_code = 429
