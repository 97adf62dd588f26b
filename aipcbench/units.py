"""Unit conversions used across parts, each defined once."""

J_PER_KWH = 3.6e6
SECONDS_PER_HOUR = 3600.0
DAYS_PER_YEAR = 365.0
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0
HOURS_PER_YEAR = DAYS_PER_YEAR * 24.0
