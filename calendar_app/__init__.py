"""calendar-app: a sales team's calendar kept in two-way sync with Microsoft Exchange."""

__version__ = "0.1.0"
APP_NAME = "calendar-app"
