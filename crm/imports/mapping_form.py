"""The upload page's mapping form, both ways: a Mapping shown as form values, and the submitted form read back
into a Mapping. Column ``n`` of the file is the select ``col_n`` (the header's names may hold any character);
the service checks the result and names what is wrong (``mapping.compile_mapping``), and those names are turned
into the form's field names here."""

from __future__ import annotations

from crm.forms import checked
from crm.imports.schemas import Mapping
from crm.imports.vocab import IGNORE, SENTIMENT_WORDS

SENTIMENT_SHOWN = ("positive", "negative", "neutral", "unknown")


def form_values(mapping: Mapping, header: list[str]) -> dict[str, str]:
    low, high = mapping.sentiment_thresholds
    values = {
        "date_format": mapping.date_format,
        "default_zone": mapping.default_zone,
        "platform": mapping.platform,
        "kind_default": mapping.kind_default,
        "encoding": mapping.encoding,
        "delimiter": {"\t": "tab"}.get(mapping.delimiter, mapping.delimiter),
        "url_template": mapping.url_template,
        "html_unescape": "on" if mapping.html_unescape else "",
        "sentiment_values": "\n".join(f"{word} = {value}" for word, value in mapping.sentiment_values.items()),
        "sentiment_thresholds": f"{low:g}, {high:g}",
    }
    for n, column in enumerate(header):
        values[f"col_{n}"] = mapping.columns.get(column, IGNORE)
    return values


def read_mapping(kind: str, header: list[str], form: dict[str, str]) -> tuple[Mapping | None, dict[str, str]]:
    """The Mapping the form describes, or None with the errors of the fields that cannot even be read."""
    errors: dict[str, str] = {}
    columns = {column: form.get(f"col_{n}", IGNORE).strip() or IGNORE for n, column in enumerate(header)}
    sentiment_values = {}
    for line in (form.get("sentiment_values") or "").splitlines():
        if not line.strip():
            continue
        word, sign, value = line.partition("=")
        if not sign or not word.strip():
            errors["sentiment_values"] = f"Write one per line, like: pos = positive (got {line.strip()!r})."
            break
        sentiment_values[word.strip().lower()] = value.strip().lower()
    thresholds = (0.0, 0.0)
    try:
        parts = [float(p) for p in (form.get("sentiment_thresholds") or "0, 0").replace(";", ",").split(",")]
        if len(parts) != 2:
            raise ValueError
        thresholds = (parts[0], parts[1])
    except ValueError:
        errors["sentiment_thresholds"] = "Give two numbers separated by a comma, the lower first, like 2.5, 3.5."
    if errors:
        return None, errors
    delimiter = form.get("delimiter", "")
    mapping = Mapping(
        kind=kind,
        columns=columns,
        date_format=(form.get("date_format") or "").strip() or "iso",
        default_zone=(form.get("default_zone") or "").strip() or "UTC",
        sentiment_values=sentiment_values,
        sentiment_thresholds=thresholds,
        platform=(form.get("platform") or "").strip(),
        kind_default=(form.get("kind_default") or "").strip() or "mention",
        html_unescape=checked(form, "html_unescape"),
        url_template=(form.get("url_template") or "").strip(),
        encoding=(form.get("encoding") or "").strip() or "utf-8",
        delimiter="\t" if delimiter == "tab" else delimiter,
    )
    return mapping, {}


def form_errors(fields: dict[str, str], header: list[str]) -> dict[str, str]:
    """The service's error names as the form's: ``columns.<name>`` is the select of that column."""
    position = {column: n for n, column in enumerate(header)}
    renamed = {"name": "save_as", "preset": "source", "mapping": "source", "columns": "columns"}
    errors: dict[str, str] = {}
    for key, message in fields.items():
        if key.startswith("columns.") and key[len("columns.") :] in position:
            errors[f"col_{position[key[len('columns.') :]]}"] = message
        else:
            errors[renamed.get(key, key)] = message
    return errors


def sentiment_words() -> dict[str, list[str]]:
    """The words every import reads as each sentiment (the form's hint)."""
    words: dict[str, list[str]] = {s: [] for s in SENTIMENT_SHOWN}
    for word, sentiment in SENTIMENT_WORDS.items():
        if word:
            words[sentiment].append(word)
    return words
