"""Text safe for a terminal: control characters from the data shown, never obeyed."""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, and the C1 controls (U+0080-U+009F: 0x9B is a CSI
# on terminals that read 8-bit controls).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}"


def escape_controls(text: str) -> str:
    """Return ``text`` with control characters (ESC, CR, BEL, …) written as ``\\xNN``."""
    return _CONTROLS.sub(_escaped, text)
