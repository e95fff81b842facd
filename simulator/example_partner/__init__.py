"""The example partner: a real Partner Connect 2.x partner service for the simulator to call."""

from .app import create_app

__all__ = ["create_app"]
