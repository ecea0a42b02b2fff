"""Helpers for the book: run a kernel in a child process and read its messages."""
