"""Bytes to text, with clear reasons for what is not text."""

from __future__ import annotations

import os

from charset_normalizer import from_bytes

# Articles are a few kB; anything past this is a dump or a mistake. The limit
# is a setting: --max-size on the command line or KRONIEK_MAX_BYTES.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


class InputError(Exception):
    """An input that cannot become an article; the message says why and what to do."""


def max_bytes_setting(value: int | None = None) -> int:
    if value is not None:
        return value
    env = os.environ.get("KRONIEK_MAX_BYTES")
    return int(env) if env else DEFAULT_MAX_BYTES


def check_size(size: int, limit: int) -> None:
    if size > limit:
        raise InputError(
            f"too large: {size / 1e6:.1f} MB is over the {limit / 1e6:.1f} MB limit "
            "(raise it with --max-size or KRONIEK_MAX_BYTES, or split the file)"
        )


def looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if b"\x00" in head and not (head.startswith((b"\xff\xfe", b"\xfe\xff"))):
        return True
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return control > len(head) * 0.05


# Detectors confuse the single-byte Latin code pages with each other (a Dutch
# "ï" reads as Czech "ď" in cp1250). Western news dumps are Windows-1252, so
# within that family it wins whenever it decodes the bytes.
_LATIN_FAMILY = {"cp1250", "cp1252", "cp1257", "latin_1", "iso8859_2", "iso8859_15", "iso8859_9", "cp1254", "mac_roman"}


def _detect(data: bytes) -> str:
    best = from_bytes(data).best()
    if best is None or best.encoding in _LATIN_FAMILY:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    if best is None:
        raise InputError("undecodable: neither UTF-8 nor a recognisable encoding; convert it to UTF-8")
    return str(best)


def decode(data: bytes, limit: int) -> str:
    """UTF-8 first (news feeds mostly are), then detect (Windows-1252 is common
    in news dumps). Line ends become \\n so that offsets mean the same everywhere."""
    check_size(len(data), limit)
    if not data.strip():
        raise InputError("empty: no text in the input")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        if looks_binary(data):
            raise InputError("binary data, not text (is this the right file?)") from None
        text = _detect(data)
    else:
        if looks_binary(data):
            raise InputError("binary data, not text (is this the right file?)")
    return text.replace("\r\n", "\n").replace("\r", "\n")
