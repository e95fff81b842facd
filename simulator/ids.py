"""Databricks-shaped identifiers and secrets, from one generator that a seed makes reproducible.

Shapes: PATs ``dapi`` + 32 hex, OAuth secrets ``dose`` + 32 hex, service principals as UUIDs,
SQL warehouses as 16 hex characters, clusters as ``MMDD-HHMMSS-xxxxxxxx``, workspace and user ids
as positive 64-bit integers.
"""
from __future__ import annotations

import random
import secrets
import string
import time
import uuid

_CLUSTER_ALPHABET = string.ascii_lowercase + string.digits


class IdGenerator:
    """Makes ids and secrets. Unseeded it uses the OS's CSPRNG; seeded it is reproducible."""

    def __init__(self, seed: int | None = None):
        self._rng = random.Random(seed) if seed is not None else secrets.SystemRandom()

    def hex(self, n_chars: int) -> str:
        return "".join(self._rng.choice("0123456789abcdef") for _ in range(n_chars))

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def pat(self) -> str:
        return "dapi" + self.hex(32)

    def oauth_secret(self) -> str:
        return "dose" + self.hex(32)

    def signing_secret(self) -> str:
        return "pcsk_" + self.hex(48)

    def warehouse_id(self) -> str:
        return self.hex(16)

    def cluster_id(self, now: float) -> str:
        stamp = time.strftime("%m%d-%H%M%S", time.gmtime(now))
        suffix = "".join(self._rng.choice(_CLUSTER_ALPHABET) for _ in range(8))
        return f"{stamp}-{suffix}"

    def int64(self) -> int:
        """A positive id that needs all 64 bits' worth of digits (beyond 2**53, so floats break it)."""
        return self._rng.randint(2**60, 2**63 - 1)

    def token_id(self) -> str:
        return self.hex(64)
