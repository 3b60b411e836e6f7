"""Helpers a notebook imports with `from passenger_tools import *` (a module kept beside the notebook)."""

__all__ = ["fare_band", "title_of"]


def fare_band(fare: float) -> str:
    if fare < 10:
        return "low"
    if fare < 30:
        return "mid"
    return "high"


def title_of(name: str) -> str:
    return name.split(",")[1].split(".")[0].strip()


def _unused() -> None:
    pass
