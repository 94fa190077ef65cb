"""Short texts for messages."""
from __future__ import annotations


def one_line(value) -> str:
    """The first non-blank line of ``str(value)``, stripped: an error's message fit for one
    line of a report. An exception with no message gives its type's name; other empty
    values give ``""``."""
    for line in str(value).splitlines():
        if line.strip():
            return line.strip()
    return type(value).__name__ if isinstance(value, BaseException) else ""
