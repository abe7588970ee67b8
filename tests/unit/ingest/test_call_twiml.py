"""The TwiML a queue member hears once their phone answers, rendered with twilio's TwiML classes."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gateway.domain.call_queue import whisper
from gateway.ingest.call_twiml import whisper_gather

ACTION = "https://gw.example.jp/webhooks/twilio/acme/voice-queue-accept?t=abc&x=1"


def test_a_japanese_whisper_of_the_step_reaches_the_gather_intact() -> None:
    text = "サポート窓口（英語）のお客様です。1を押すと応答します。"
    twiml = whisper_gather(whisper("ja-JP", text), ACTION, 10)
    doc = ET.fromstring(twiml.encode("utf-8"))
    assert [child.tag for child in doc] == ["Gather", "Hangup"]
    gather = doc[0]
    assert (gather.attrib["numDigits"], gather.attrib["timeout"], gather.attrib["action"]) == ("1", "10", ACTION)
    assert [(say.tag, say.text, say.attrib["language"]) for say in gather] == [("Say", text, "ja-JP")]


def test_without_its_own_whisper_the_fixed_one_is_said() -> None:
    doc = ET.fromstring(whisper_gather(whisper("ja-JP"), ACTION, 10).encode("utf-8"))
    assert doc[0][0].text == "お客様からのお電話です。1を押すと応答します。"
