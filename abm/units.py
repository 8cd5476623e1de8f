"""Simulated time: the model's clock counts minutes, settings and outputs speak in days and
years. The one home of these conversions."""

MINUTES_PER_DAY = 1440.0
DAYS_PER_YEAR = 365.0
MINUTES_PER_YEAR = DAYS_PER_YEAR * MINUTES_PER_DAY
