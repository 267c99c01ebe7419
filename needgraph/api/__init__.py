"""The HTTP face of needgraph (FastAPI). Only this package imports FastAPI."""
