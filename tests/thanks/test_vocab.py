"""The thank-you channels build on the briefing channels: the same values keep the same label."""

from crm.briefings import vocab as briefings
from crm.thanks import vocab as thanks


def test_the_thank_you_channels_are_the_briefing_channels_plus_public_replies_and_gifts():
    assert set(thanks.CHANNELS) == set(briefings.CHANNELS) | {"public_reply", "gift"}
    assert list(thanks.CHANNEL_LABELS) == thanks.CHANNELS
    assert {c: thanks.CHANNEL_LABELS[c] for c in briefings.CHANNELS} == briefings.CHANNEL_LABELS
    assert thanks.CHANNEL_LABELS["phone"] == "phone"  # once "phone call" for thank-yous: one label per channel
