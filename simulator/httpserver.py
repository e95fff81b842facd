"""Serve a WSGI app on a real socket, in the foreground or in a background thread.

Used by ``pcsim serve``, ``pcsim partner serve``, ``pcsim demo``, the pytest plugin and the tests
(port 0 picks a free port; :attr:`ServerThread.url` tells which).
"""
from __future__ import annotations

import logging
import threading

from werkzeug.serving import make_server


class ServerThread:
    """A threaded werkzeug server running in a daemon thread until :meth:`stop`."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, ssl_context=None):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = make_server(host, port, app, threaded=True)
        if ssl_context is not None:
            # TLS handshake in the request's thread, not in accept(): werkzeug's own wrapping lets one
            # client that connects and stays silent stall the whole server.
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True,
                                                          do_handshake_on_connect=False)
            self._server.ssl_context = ssl_context
        self.host = host
        self.port = self._server.server_port
        scheme = "https" if ssl_context else "http"
        self.url = f"{scheme}://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"pcsim-{self.port}", daemon=True)

    def start(self) -> "ServerThread":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Block in the calling thread (for CLI commands); Ctrl-C ends it."""
        try:
            self._server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self._server.server_close()

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
