"""Timesheet: an async REST backend for team time tracking."""
