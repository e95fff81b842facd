"""HTTPS for ``pcsim serve --https``: a local certificate authority and a server certificate.

The CA (made with ``trustme``) is kept in ``<directory>/.pcsim-tls/`` (``ca.pem``, and
``ca-key.pem`` readable by the owner only), so a ``REQUESTS_CA_BUNDLE``/``SSL_CERT_FILE`` that
points at ``ca.pem`` stays valid across restarts. A fresh server certificate signed by it is
issued at every start and covers ``127.0.0.1``, ``localhost`` and ``::1`` (plus any extra names).
It is a test CA: never add it to a system trust store.
"""
from __future__ import annotations

import os
import ssl
from pathlib import Path

import trustme

TLS_DIR = ".pcsim-tls"
DEFAULT_NAMES = ("127.0.0.1", "localhost", "::1")


def _load_or_create_ca(folder: Path) -> trustme.CA:
    cert, key = folder / "ca.pem", folder / "ca-key.pem"
    if cert.is_file() and key.is_file():
        try:
            return trustme.CA.from_pem(cert.read_bytes(), key.read_bytes())
        except ValueError:
            pass  # unreadable leftovers: make a new CA
    ca = trustme.CA(organization_name="Partner Connect Simulator (local test CA)")
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(ca.private_key_pem.bytes())
    cert.write_bytes(ca.cert_pem.bytes())
    return ca


def ssl_context_for(directory: str | os.PathLike, extra_names: tuple[str, ...] = ()) -> tuple[ssl.SSLContext, str]:
    """A server SSL context and the path of the CA bundle that clients should trust."""
    folder = Path(directory) / TLS_DIR
    ca = _load_or_create_ca(folder)
    names = list(dict.fromkeys((*DEFAULT_NAMES, *(n for n in extra_names if n and n not in ("0.0.0.0", "::")))))
    leaf = ca.issue_cert(*names, common_name="pcsim")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    return context, str((folder / "ca.pem").resolve())
