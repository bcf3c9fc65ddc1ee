"""The web workbench: server-rendered pages for the staff of the offices, on the service layer,
served by the same application as the REST API (``safetynet serve``)."""

from safetynet.entrypoints.web.app import install_web

__all__ = ["install_web"]
