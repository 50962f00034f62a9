import json

import jsonschema
import pytest

from kroniek.document import Article, Mention, content_id, json_schema, normalise_published, published_interval


@pytest.mark.parametrize(
    "given, expected",
    [
        ("2022", "2022"),
        ("2022-09", "2022-09"),
        ("2022-09-15", "2022-09-15"),
        ("2022-09-15T08:30:00+02:00", "2022-09-15T08:30:00+02:00"),
        ("2022-09-15 08:30Z", "2022-09-15T08:30Z"),
        ("", None),
        (None, None),
    ],
)
def test_published_keeps_its_precision(given, expected):
    assert normalise_published(given) == expected


@pytest.mark.parametrize("bad", ["gisteren", "2022-13", "2022-02-30", "15-09-2022"])
def test_published_rejects_what_is_not_iso(bad):
    with pytest.raises(ValueError):
        normalise_published(bad)


def test_published_interval_widens_to_the_precision():
    assert published_interval("2022-09") == ("2022-09-01", "2022-09-30")
    assert published_interval("2024-02") == ("2024-02-01", "2024-02-29")
    assert published_interval("2022") == ("2022-01-01", "2022-12-31")
    assert published_interval("2022-12-31T23:00:00Z") == ("2022-12-31", "2022-12-31")
    assert published_interval(None) == (None, None)


def test_ids_are_content_hashes_unless_given():
    a = Article.new("Het Kremlin.")
    assert a.id == content_id("Het Kremlin.") == Article.new("Het Kremlin.").id
    assert Article.new("Het Kremlin.", id="nos-1").id == "nos-1"
    assert Article.new("Iets anders.").id != a.id


def test_check_spans_finds_wrong_offsets():
    a = Article.new("Het Kremlin zegt niets.")
    a.mentions = [Mention(start=4, end=11, text="Kremlin", type="ORG")]
    assert a.check_spans() == []
    a.mentions.append(Mention(start=0, end=3, text="Kremlin", type="ORG"))
    assert len(a.check_spans()) == 1


def test_json_round_trip_and_schema():
    a = Article.new("Het Kremlin zegt niets.", published="2022-09", language="nl")
    a.mentions = [Mention(start=4, end=11, text="Kremlin", type="ORG")]
    data = json.loads(a.to_json())
    jsonschema.validate(data, json_schema())
    assert Article.from_dict(data) == a
    data["mentions"][0]["type"] = "GPE"  # not a contract type
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, json_schema())
