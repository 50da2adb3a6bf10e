"""Headless matplotlib figures (Agg). Imported lazily, only when a figure is asked for."""
