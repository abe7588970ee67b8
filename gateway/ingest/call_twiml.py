"""Call flow verbs (:mod:`gateway.domain.call_flow_run`) as TwiML, with twilio's own TwiML classes.

Every callback URL in the document (``<Dial action>``, ``<Record action>``,
``recordingStatusCallback``, ``<Enqueue action>`` and ``waitUrl``) is ``[gateway] public_url`` + a
``/webhooks/twilio/{org}/...`` path with a signed ``?t=`` token
(:mod:`gateway.domain.call_flow_token`): Twilio signs its request to exactly that URL, and the token
says where the flow goes on.
"""

from __future__ import annotations

from collections.abc import Callable

from twilio.twiml.voice_response import Dial as DialVerb
from twilio.twiml.voice_response import VoiceResponse

from gateway.domain.call_flow_run import Dial, Enqueue, Hangup, Leave, Pause, Play, Record, Resume, Say, Verb
from gateway.domain.call_queue import Spoken

# (kind, resume, record step's user or None) -> the absolute callback URL
CallbackUrl = Callable[[str, Resume, str | None], str]


def render(verbs: list[Verb], callback: CallbackUrl, queue: str = "") -> str:
    """The TwiML document (``<?xml ...?><Response>...``) for ``verbs``; ``queue`` names the call's
    queue (an ``Enqueue`` waits in it)."""
    response = VoiceResponse()
    for verb in verbs:
        if isinstance(verb, Say):
            response.say(verb.text, language=verb.language)
        elif isinstance(verb, Dial):
            dial = response.dial(timeout=verb.timeout, action=callback("dial", verb.resume, None), method="POST")
            for number in verb.numbers:
                dial.number(number)
        elif isinstance(verb, Record):
            response.record(
                max_length=verb.max_length,
                play_beep=True,
                action=callback("record", verb.resume, None),
                method="POST",
                recording_status_callback=callback("recording", verb.resume, verb.user),
                recording_status_callback_method="POST",
            )
        elif isinstance(verb, Enqueue):
            response.enqueue(
                queue,
                action=callback("queue", verb.resume, None),
                method="POST",
                wait_url=callback("wait", Resume(verb.step), None),
                wait_url_method="POST",
            )
        elif isinstance(verb, Play):
            response.play(verb.url)
        elif isinstance(verb, Pause):
            response.pause(length=verb.length)
        elif isinstance(verb, Leave):
            response.leave()
        elif isinstance(verb, Hangup):
            response.hangup()
    return str(response)


def answer_queue(queue: str) -> str:
    """A queue member's TwiML once they answer: ``<Dial><Queue>queue</Queue></Dial>`` (the first
    member to get there takes the waiting caller)."""
    response = VoiceResponse()
    dial = DialVerb()
    dial.queue(queue)
    response.append(dial)
    return str(response)


def whisper_gather(spoken: Spoken, action: str, timeout: int) -> str:
    """A queue member's TwiML once their phone answers: the whisper in a one-digit ``<Gather>``
    whose ``action`` (signed) decides, then ``<Hangup/>`` when nobody pressed anything (a machine
    answered) — so only a person takes the caller."""
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=action, method="POST", timeout=timeout)
    gather.say(spoken.text, language=spoken.language)
    response.hangup()
    return str(response)


def say_and_hang_up(spoken: Spoken) -> str:
    """``<Say>`` then ``<Hangup/>`` (a member who accepted after the wait was settled)."""
    response = VoiceResponse()
    response.say(spoken.text, language=spoken.language)
    response.hangup()
    return str(response)


HANGUP_TWIML = render([Hangup()], lambda *_: "")
