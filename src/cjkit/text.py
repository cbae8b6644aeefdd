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


# Select Graphic Rendition (colours, bold): the only escape sequences rich's tables emit.
_SGR_OR_CONTROL = re.compile(r"\x1b\[[0-9;]*m|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """Return coloured terminal text with every control character escaped except the SGR
    colour sequences (``ESC[…m``): data can change a colour, never move the cursor, set the
    title or write the clipboard."""
    return _SGR_OR_CONTROL.sub(lambda m: m.group() if len(m.group()) > 1 else _escaped(m), text)
