"""The package version, importable without importing the package root (which registers magics)."""

__version__ = "0.1.0"
