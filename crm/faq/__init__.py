"""Incident FAQ: approved answers to the questions customers keep asking, and their full-text search."""
