"""Errors a caller can act on. The CLI prints them as one line and exits 2; the web shows them."""


class PcsimError(Exception):
    """Base class: the message is written for the user and names what to fix."""


class NotFound(PcsimError):
    pass


class Invalid(PcsimError):
    pass


class Conflict(PcsimError):
    pass


class Forbidden(PcsimError):
    pass
