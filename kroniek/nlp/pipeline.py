"""Pick the language's stages and run them, in batches, in order.

Stages are small components with one job each, registered by name (like
spaCy's factories). Which stages run for a language, and which spaCy model
gives its tokens, is data: ``lexicon/languages.toml``. A language that has no
entry there still gets the language-independent layers (sentences) and a
warning, never a refusal.

A stage is a class ``Stage(lang, mode)`` whose instances are called with a
batch of articles and fill one layer of each. The ``tokens`` stage runs first
and leaves the spaCy ``Doc`` on ``article._doc`` for the later stages.
"""

from __future__ import annotations

import contextlib
import time
import tomllib
from functools import lru_cache
from importlib import import_module
from importlib.resources import files
from typing import Callable, Iterable, Iterator, Protocol

from ..document import Article
from . import language as language_id

MODES = ("accurate", "fast")
DEFAULT_MODE = "accurate"


class Stage(Protocol):
    name: str

    def __call__(self, articles: list[Article]) -> None: ...


_REGISTRY: dict[str, type] = {}

# Modules that register stages; imported lazily so that `kroniek schema`
# does not pay for spaCy.
_STAGE_MODULES = {
    "tokens": "kroniek.nlp.tokens",
    "mentions": "kroniek.nlp.mentions",
    "times": "kroniek.nlp.times",
    "places": "kroniek.nlp.places",
    "quotes": "kroniek.nlp.quotes",
    "entities": "kroniek.nlp.entities",
}


def register_stage(name: str) -> Callable[[type], type]:
    def deco(cls: type) -> type:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def stage_class(name: str) -> type:
    if name not in _REGISTRY:
        module = _STAGE_MODULES.get(name)
        if module is None:
            raise KeyError(f"unknown stage {name!r}; known: {sorted(_STAGE_MODULES)}")
        import_module(module)
    return _REGISTRY[name]


@lru_cache(maxsize=None)
def language_table() -> dict[str, dict]:
    with files("kroniek.nlp.lexicon").joinpath("languages.toml").open("rb") as fh:
        return tomllib.load(fh)


def supported_languages() -> list[str]:
    return sorted(k for k in language_table() if k != "default")


class Pipeline:
    """Analyses articles: language, then the language's stages in order.

    Models load once per process (``get_pipeline`` caches instances) and each
    stage sees whole batches.
    """

    def __init__(self, mode: str = DEFAULT_MODE, lang: str = "auto", batch_size: int = 32):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.mode = mode
        self.lang = lang
        self.batch_size = batch_size
        self._stages: dict[str, list[Stage]] = {}
        self.timings: dict[str, list] = {}

    def stages_for(self, lang: str) -> list[Stage]:
        key = lang if lang in language_table() else "default"
        if key not in self._stages:
            names = language_table()[key]["stages"]
            self._stages[key] = [stage_class(n)(key, self.mode) for n in names]
        return self._stages[key]

    def _assign_language(self, article: Article) -> None:
        if self.lang != "auto":
            article.language = self.lang
        elif not article.language:
            article.language = language_id.detect(article.text, supported_languages())
        if article.language not in language_table():
            shown = article.language or "unknown"
            article.warnings.append(
                f"no models for language {shown!r}: stored with sentences only "
                f"(supported: {', '.join(supported_languages())})"
            )

    def analyse_batch(self, articles: list[Article]) -> list[Article]:
        by_lang: dict[str, list[Article]] = {}
        for a in articles:
            self._assign_language(a)
            key = a.language if a.language in language_table() else "default"
            by_lang.setdefault(key, []).append(a)
        for key, group in by_lang.items():
            stages = self.stages_for(key)
            # spaCy memory zones: the strings and lexemes of the batch's new words are
            # freed when it is done (without them a long run's vocabulary grows with
            # every new name and number: kroniek watch, days of news). Nothing of
            # spaCy's may outlive the batch, so the Docs are dropped inside.
            with contextlib.ExitStack() as zones:
                for nlp in {id(s.nlp): s.nlp for s in stages if getattr(s, "nlp", None) is not None}.values():
                    zones.enter_context(nlp.memory_zone())
                for stage in stages:
                    t0 = time.perf_counter()
                    stage(group)
                    # Seconds and documents per stage, so benchmarks can show the slowest.
                    spent = self.timings.setdefault(stage.name, [0.0, 0])
                    spent[0] += time.perf_counter() - t0
                    spent[1] += len(group)
                for a in group:
                    a._doc = None  # the spaCy Doc is working state only
        return articles

    def analyse(self, article: Article) -> Article:
        return self.analyse_batch([article])[0]

    def pipe(self, articles: Iterable[Article]) -> Iterator[Article]:
        batch: list[Article] = []
        for a in articles:
            batch.append(a)
            if len(batch) >= self.batch_size:
                yield from self.analyse_batch(batch)
                batch = []
        if batch:
            yield from self.analyse_batch(batch)


_PIPELINES: dict[tuple[str, str], Pipeline] = {}


def get_pipeline(mode: str = DEFAULT_MODE, lang: str = "auto") -> Pipeline:
    """One pipeline per (mode, lang) per process: models load once."""
    key = (mode, lang)
    if key not in _PIPELINES:
        _PIPELINES[key] = Pipeline(mode=mode, lang=lang)
    return _PIPELINES[key]
