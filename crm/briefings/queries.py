"""Reads for briefings: what the pages and the API show. Writes and rules live in service.py."""

from __future__ import annotations
