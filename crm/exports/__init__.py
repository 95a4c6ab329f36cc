"""The way out: CSV exports of members and interactions (streamed), and backup/restore of the whole database."""
