"""Cohort analyses over calendar periods: retention, lifecycle and stickiness."""
