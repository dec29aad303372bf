"""The wizard's pages, in the order the integration guide does the steps."""

from __future__ import annotations

import enum


class PageId(enum.IntEnum):
    WELCOME = 0
    SERVER = 1
    CERTIFICATE = 2
    KEYSTORE = 3
    AUTHENTICATION = 4
    TEST = 5
    ENABLE = 6
