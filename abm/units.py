"""Simulated time: the model's clock counts minutes, settings and outputs speak in days and
years. The one home of these conversions."""

MINUTES_PER_DAY = 1440.0
DAYS_PER_YEAR = 365.0
MINUTES_PER_YEAR = DAYS_PER_YEAR * MINUTES_PER_DAY
HOURS_PER_DAY = 24
MINUTES_PER_HOUR = MINUTES_PER_DAY / HOURS_PER_DAY


def hour_of(minute: float) -> int:
    """The hour of the day (0-23) at a time in minutes since midnight of day 0."""
    return int(minute % MINUTES_PER_DAY // MINUTES_PER_HOUR)
