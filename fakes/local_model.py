"""A local stand-in model for `make run AI=local`: the Anthropic Messages API
(`POST /v1/messages`) answered by rules, so that the AI teammate can be tried without a key.

It answers the forced tool of each request the way the real tool schemas ask
(`chalicelib/ai/prompts.py`): triage from keywords (tags only from the allowed list in the
prompt, priority and sentiment from words), a draft that quotes the numbered knowledge-base
articles it was given with their [n] citations, a summary, a "translation" (the original
text, untranslated) and a style guide.  Every answer names the model `local-stand-in` and
starts its text with `MARKER`, so that no one mistakes it for a real model's.  It also
serves OpenAI's `POST /v1/embeddings` with bags of hashed words (`fakes.openai.embedding_of`)
for the knowledge base's dense search.

`answer(body)` is the rule book (no server, for unit tests); `LocalModel` serves it over HTTP
for the real SDKs."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from fakes.openai import embedding_of

MODEL = "local-stand-in"
MARKER = "[local stand-in model, not a real AI]"

_URGENT = ("outage", "down", "security", "hacked", "breach", "data loss", "urgent", "asap")
_HIGH = (
    "cannot",
    "can't",
    "can not",
    "unable",
    "blocked",
    "refused",
    "locked out",
    "charged twice",
    "refund",
    "broken",
    "error",
    "not working",
    "doesn't work",
)
_LOW = ("feedback", "suggestion", "idea", "just wanted", "thank you", "thanks", "love")
_NEGATIVE = (
    "angry",
    "annoyed",
    "frustrated",
    "disappointed",
    "unacceptable",
    "terrible",
    "refused",
    "cannot",
    "can't",
    "broken",
    "twice",
    "still",
    "again",
    "worst",
)
_POSITIVE = ("thank", "thanks", "great", "love", "awesome", "perfect", "happy", "merci")
_GREETING = {"fr": ("Bonjour,", "Cordialement,"), "de": ("Hallo,", "Viele Grüße,")}
_PASSAGE = re.compile(r"^\[(\d+)\] (.+)$", re.MULTILINE)


def _system_text(body: dict[str, Any]) -> list[str]:
    system = body.get("system") or []
    if isinstance(system, str):
        return [system]
    return [str(block.get("text", "")) for block in system if isinstance(block, dict)]


def _user_text(body: dict[str, Any]) -> str:
    parts: list[str] = []
    for message in body.get("messages", []):
        content = message.get("content", "")
        if isinstance(content, str):
            parts.append(content)
        else:
            parts.extend(str(block.get("text", "")) for block in content if isinstance(block, dict))
    return "\n\n".join(parts)


def _subject(text: str) -> str:
    first = text.split("\n", 1)[0]
    return first.removeprefix("Subject: ").strip() if first.startswith("Subject: ") else ""


def _customer_text(text: str) -> str:
    """What the customer wrote (the `--- Customer ---` parts), else the whole text."""
    parts = re.split(r"^--- (.+?) ---$", text, flags=re.MULTILINE)
    said = [parts[i + 1] for i in range(1, len(parts) - 1, 2) if parts[i] == "Customer"]
    return "\n".join(said) if said else text


def _line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _first_word(text: str, words: tuple[str, ...]) -> str | None:
    return next((word for word in words if word in text), None)


def _stem(word: str) -> str:
    """ "refunds" matches "refund" (a plural tag, a singular word)."""
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _triage(body: dict[str, Any]) -> dict[str, Any]:
    text = _user_text(body)
    words = f"{_subject(text)}\n{_customer_text(text)}".lower()
    allowed_line = next(
        (block for block in _system_text(body) if block.startswith("Allowed tags: ")), ""
    )
    schema_tags = body["tools"][0]["input_schema"]["properties"]["tags"]["items"].get("enum")
    vocabulary = schema_tags or [
        tag.strip() for tag in allowed_line.removeprefix("Allowed tags: ").split(",") if tag
    ]
    tags = [
        tag
        for tag in vocabulary
        if not tag.startswith("(")
        and any(_stem(part) in words for part in re.split(r"[-_ /]+", tag.lower()) if part)
    ][:10]
    priority, reason = "normal", "no urgent or blocking words"
    for level, keywords in (("urgent", _URGENT), ("high", _HIGH), ("low", _LOW)):
        found = _first_word(words, keywords)
        if found:
            priority, reason = level, f'the customer wrote "{found}"'
            break
    negative = sum(word in words for word in _NEGATIVE)
    positive = sum(word in words for word in _POSITIVE)
    sentiment = (
        "negative" if negative > positive else "positive" if positive > negative else "neutral"
    )
    strength = abs(negative - positive)
    return {
        "tags": tags,
        "sentiment": sentiment,
        "sentiment_score": round(min(1.0, 0.4 + 0.2 * strength), 2) if strength else 0.5,
        "priority": priority,
        "priority_reason": _line(f"{MARKER} Keyword rule: {reason}."),
        "summary": _line(f"{MARKER} {_subject(text) or _customer_text(text)}"),
    }


def _passages(body: dict[str, Any]) -> list[tuple[int, str, str]]:
    """The numbered articles of the prompt: (number, title, text)."""
    block = next((b for b in _system_text(body) if b.startswith("Knowledge-base articles:\n")), "")
    found = list(_PASSAGE.finditer(block))
    passages = []
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(block)
        passages.append((int(match.group(1)), match.group(2).strip(), block[match.end() : end]))
    return passages


def _language(text: str) -> str:
    match = re.search(r"Write the reply in (\w+)\.", text)
    names = {"French": "fr", "German": "de"}
    return names.get(match.group(1), "en") if match else "en"


def _draft(body: dict[str, Any]) -> dict[str, Any]:
    text = _user_text(body)
    hello, bye = _GREETING.get(_language(text), ("Hello,", "Best regards,"))
    passages = _passages(body)[:2]
    if not passages:
        return {
            "body": f"{MARKER}\n\n{hello}\n\nThank you for your message. I could not find the "
            "answer in our help centre, so a teammate will follow up shortly.\n\n" + bye,
            "citations": [],
            "answered": False,
            "missing": "No knowledge-base article matched this conversation.",
        }
    quoted = "\n\n".join(
        f'From "{title}": {_line(passage, 600)} [{number}]' for number, title, passage in passages
    )
    return {
        "body": f"{MARKER}\n\n{hello}\n\nThank you for your message. Our help centre says:\n\n"
        f"{quoted}\n\n{bye}",
        "citations": [number for number, _, _ in passages],
        "answered": True,
        "missing": "",
    }


def _summary(body: dict[str, Any]) -> dict[str, Any]:
    text = _user_text(body)
    turns = re.findall(r"^--- (.+?) ---$", text, flags=re.MULTILINE)
    last = turns[-1].lower() if turns else "the customer"
    return {
        "summary": _line(
            f"{MARKER} {_subject(text) or 'A conversation'}: {len(turns)} message(s), the last "
            f"from {last}. Customer wrote: {_customer_text(text)}",
            1500,
        ),
        "next_step": "Reply to the customer." if last == "customer" else "Wait for the customer.",
    }


def _translation(body: dict[str, Any]) -> dict[str, Any]:
    text = _user_text(body)
    match = re.match(r"Translate into (.+?):\n\n", text)
    language = match.group(1) if match else "the asked language"
    original = text[match.end() :] if match else text
    return {"text": f"{MARKER} (not translated into {language})\n\n{original}"}


def _style_guide(body: dict[str, Any]) -> dict[str, Any]:
    replies = re.findall(r"^--- Reply \d+ ---$", _user_text(body), flags=re.MULTILINE)
    return {
        "guide": f"{MARKER}\n- Learned from {len(replies)} sent replies by a rule, not a model.\n"
        "- Greet the customer, answer in short paragraphs, close with the team's sign-off."
    }


ANSWERS = {
    "record_triage": _triage,
    "write_draft": _draft,
    "write_summary": _summary,
    "write_translation": _translation,
    "write_style_guide": _style_guide,
}


def answer(body: dict[str, Any]) -> dict[str, Any]:
    """The input of the forced tool call for a Messages API request body; raises KeyError for
    a tool this stand-in does not know."""
    tool = (body.get("tool_choice") or {}).get("name") or body["tools"][0]["name"]
    return ANSWERS[tool](body)


def _tokens(value: Any) -> int:
    return -(-len(json.dumps(value, ensure_ascii=False)) // 4)


def message(body: dict[str, Any], number: int = 0) -> dict[str, Any]:
    """The whole Messages API answer: one tool call, named as the stand-in's."""
    tool = (body.get("tool_choice") or {}).get("name") or body["tools"][0]["name"]
    content = [{"type": "tool_use", "id": f"toolu_local_{number:04d}", "name": tool}]
    content[0]["input"] = answer(body)
    return {
        "id": f"msg_local_{number:04d}",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": content,
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": _tokens([body.get("system"), body.get("messages")]),
            "output_tokens": _tokens(content),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


def embeddings(body: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's embeddings answer (floats, whatever `encoding_format` asked: the SDK takes
    both), one bag of hashed words per input."""
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    tokens = sum(len(str(text).split()) for text in inputs)
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": index, "embedding": embedding_of(str(text))}
            for index, text in enumerate(inputs)
        ],
        "model": MODEL,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


class LocalModel:
    """`answer` served as `POST /v1/messages` on 127.0.0.1 (port 0: a free one)."""

    def __init__(self, port: int = 0, *, echo: bool = False) -> None:
        self.echo = echo
        self.calls = 0
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", port, self._wsgi, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> LocalModel:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._handle(Request(environ))(environ, start_response)

    def _handle(self, request: Request) -> Response:
        if request.method == "POST" and request.path == "/v1/embeddings":
            return Response(
                json.dumps(embeddings(json.loads(request.get_data()))),
                content_type="application/json",
            )
        if request.method != "POST" or request.path != "/v1/messages":
            return _error(404, "not_found_error", f"the local stand-in has no {request.path}")
        try:
            body = json.loads(request.get_data())
            with self._lock:
                self.calls += 1
                number = self.calls
            answered = message(body, number)
        except (ValueError, KeyError, IndexError, TypeError) as e:
            return _error(400, "invalid_request_error", f"local stand-in: {e!r}")
        if self.echo:
            print(f"local stand-in model answered {answered['content'][0]['name']}", flush=True)
        return Response(json.dumps(answered), content_type="application/json")


def _error(status: int, error_type: str, text: str) -> Response:
    return Response(
        json.dumps({"type": "error", "error": {"type": error_type, "message": text}}),
        status=status,
        content_type="application/json",
    )


def _plain(markdown: str) -> str:
    """An article's Markdown as plain text: links as their words, no emphasis or heading
    marks."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"(\*\*|__|\*|`)(\S(?:.*?\S)?)\1", r"\2", text)
    return re.sub(r"^\s{0,3}#{1,6}\s+", "", text, flags=re.MULTILINE)


_PERSON = ("person", "human", "agent", "humain", "quelqu'un", "conseiller")


def _chat_answer(body: dict[str, Any]) -> dict[str, Any]:
    """The chat's answer bot: the best given article quoted with its citation; no article,
    or a visitor asking for a person, hands off with a summary for the team."""
    text = _user_text(body)
    turns = re.split(r"^--- (.+?) ---$", text, flags=re.MULTILINE)
    visitor = [turns[i + 1] for i in range(1, len(turns) - 1, 2) if turns[i] == "Customer"]
    question = _line(visitor[-1] if visitor else text, 200)
    summary = _line(f"{MARKER} The visitor asked: {question}", 1000)
    wants_person = any(word in question.lower() for word in _PERSON)
    passages = _passages(body)[:1]
    if wants_person or not passages:
        return {
            "answered": False,
            "body": "",
            "citations": [],
            "wants_person": wants_person,
            "summary": summary,
        }
    number, title, passage = passages[0]
    return {
        "answered": True,
        # A chat answer is plain text (the widget shows it as text): no Markdown marks.
        "body": f'{MARKER} From "{title}": {_line(_plain(passage), 400)} [{number}]',
        "citations": [number],
        "wants_person": False,
        "summary": "",
    }


ANSWERS["write_chat_answer"] = _chat_answer
