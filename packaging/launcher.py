"""Entry point of the packaged app: the same `calendar-app` command as the pip-installed one."""

import sys

from calendar_app.cli import main

if __name__ == "__main__":
    sys.exit(main())
