"""Word types for the static vectors, from text we may train on (never from
CoNLL ned.testa, the LassySmall dev/test or the gold-dev articles)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data").resolve()


def count_words() -> Counter:
    c: Counter = Counter()
    nl = DATA / "nl"
    for line in (nl / "conll2002" / "ned.train").read_text(encoding="utf8").splitlines():
        if line.strip() and not line.startswith("-DOCSTART-"):
            c[line.split()[0]] += 1
    for path in [nl / "ud-lassysmall" / "old-v2.0-train" / "nl_lassysmall-ud-train.v2.0-2017-02-01.conllu",
                 nl / "ud-alpino" / "nl_alpino-ud-dev.conllu", nl / "ud-alpino" / "nl_alpino-ud-test.conllu"]:
        for line in path.read_text(encoding="utf8").splitlines():
            parts = line.split("\t")
            if len(parts) == 10 and parts[0].isdigit():
                c[parts[1]] += 1
    for line in (nl / "europeana-ner" / "enp_NL.kb.bio").read_text(encoding="utf8", errors="replace").splitlines():
        parts = line.split()
        if parts:
            c[parts[0]] += 1
    for path in sorted((nl / "openboek" / "tokenized").glob("*.tok")):
        for line in path.read_text(encoding="utf8").splitlines():
            text = line.split("|", 1)[-1]
            c.update(text.split())
    return c


if __name__ == "__main__":
    c = count_words()
    print(len(c), sum(c.values()))
    print(c.most_common(20))
