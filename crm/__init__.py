"""Advocate CRM: keep your brand's advocates close."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
