"""The Databricks error shape: ``{"error_code": "...", "message": "..."}`` with the status the real
API uses. Raise :class:`ApiError` (or call :func:`abort`) anywhere in a workspace API view."""
from __future__ import annotations

STATUS_CODES = {
    400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED", 409: "RESOURCE_CONFLICT", 413: "REQUEST_TOO_LARGE", 415: "BAD_REQUEST",
    422: "INVALID_PARAMETER_VALUE", 429: "REQUEST_LIMIT_EXCEEDED", 500: "INTERNAL_ERROR",
    501: "NOT_IMPLEMENTED", 503: "TEMPORARILY_UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
}


class ApiError(Exception):
    def __init__(self, status: int, error_code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error_code": self.error_code, "message": self.message}


def abort(status: int, error_code: str, message: str):
    raise ApiError(status, error_code, message)


def not_found(message: str):
    """404 RESOURCE_DOES_NOT_EXIST (warehouses, tokens, secrets, UC objects, ...)."""
    raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", message)


def invalid(message: str):
    """400 INVALID_PARAMETER_VALUE (also how clusters/jobs/runs say "does not exist")."""
    raise ApiError(400, "INVALID_PARAMETER_VALUE", message)


def permission_denied(message: str):
    raise ApiError(403, "PERMISSION_DENIED", message)
