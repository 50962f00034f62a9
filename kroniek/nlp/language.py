"""Language identification with a detector that ships its model (CLD2)."""

from __future__ import annotations

import re

import pycld2

# CLD2 rejects control characters and lone surrogates; they carry no language.
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

# Enough text to decide; CLD2 is linear in its input.
_SAMPLE_CHARS = 20_000


def detect(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when it cannot tell."""
    sample = _UNSAFE.sub(" ", text[:_SAMPLE_CHARS])
    if not sample.strip():
        return None
    try:
        reliable, _, details = pycld2.detect(sample)
    except pycld2.error:
        return None
    code = details[0][1]
    if code in ("un", "xxx"):
        return None
    # Short texts: take CLD2's best guess even when it is not "reliable".
    return code.split("-")[0]
