"""An incident in plain words, for every page that shows one (the list, the incident page, the interactions
page, the dashboard): the response clock with its missed-target warning, and the sentiment counts."""

from __future__ import annotations

from typing import Any

from crm.formatting import duration
from crm.incidents.queries import Clock


def clock_view(incident: dict, clock: Clock) -> dict[str, Any]:
    """The response clock in words, with the warning when the acknowledgement target is missed."""
    target = duration(clock.ack_target_seconds)
    if clock.seconds_to_acknowledge is not None:
        ack = f"{duration(clock.seconds_to_acknowledge)} (target {target})"
        waited = clock.seconds_to_acknowledge
    else:
        waited = clock.seconds_since_detection
        left = clock.ack_target_seconds - waited
        ack = f"not yet: waiting {duration(waited)}, target {target}" + (f", {duration(left)} left" if left > 0 else "")
    warning = None
    if clock.ack_target_missed:
        over = duration(waited - clock.ack_target_seconds)
        if clock.seconds_to_acknowledge is None:
            warning = (
                f"Acknowledgement target missed: a {incident['severity']} incident should be acknowledged "
                f"within {target}; this one has waited {duration(waited)} ({over} over). "
                "Acknowledge it publicly now, even before you know everything."
            )
        else:
            warning = (
                f"Acknowledgement target missed: acknowledged after {duration(waited)}, "
                f"{over} over the {target} target for a {incident['severity']} incident."
            )
    if clock.seconds_to_resolve is not None:
        resolve = duration(clock.seconds_to_resolve)
    else:
        resolve = f"not yet: open for {duration(clock.seconds_since_detection)}"
    return {
        "since_detection": duration(clock.seconds_since_detection),
        "acknowledge": ack,
        "resolve": resolve,
        "target": target,
        "missed": clock.ack_target_missed,
        "warning": warning,
    }


def counts_sentence(counts: dict[str, int]) -> str:
    """queries.sentiment_counts in one line: "3 negative, 1 positive since detection (and 2 neutral)"."""
    text = f"{counts['negative']} negative, {counts['positive']} positive since detection"
    others = [f"{counts[k]} {k}" for k in ("neutral", "unknown") if counts[k]]
    return text + (f" (and {', '.join(others)})" if others else "")
