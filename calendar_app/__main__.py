"""`python -m calendar_app` behaves exactly like the `calendar-app` command."""

import sys

from calendar_app.cli import main

sys.exit(main())
