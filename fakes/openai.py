"""A fake OpenAI embeddings endpoint (`POST /v1/embeddings`) for pytest-httpserver.

Vectors are deterministic bags of hashed words, so texts sharing words are close; they come
back as floats or, when the SDK asks for `encoding_format=base64`, as little-endian float32
bytes in base64, as OpenAI sends them."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
from typing import Any

from werkzeug.wrappers import Request, Response

DIMENSIONS = 64


def embedding_of(text: str) -> list[float]:
    vector = [0.0] * DIMENSIONS
    for word in re.findall(r"\w+", text.lower()):
        slot = int(hashlib.sha256(word.encode()).hexdigest(), 16) % DIMENSIONS
        vector[slot] += 1.0
    norm = sum(v * v for v in vector) ** 0.5 or 1.0
    return [v / norm for v in vector]


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_with: int | None = None

    def handle(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        self.requests.append({"body": body, "authorization": request.headers.get("Authorization")})
        if self.fail_with is not None:
            return Response(
                json.dumps(
                    {
                        "error": {
                            "message": "unavailable",
                            "type": "server_error",
                            "param": None,
                            "code": None,
                        }
                    }
                ),
                status=self.fail_with,
                content_type="application/json",
            )
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = []
        for index, text in enumerate(inputs):
            vector = embedding_of(str(text))
            if body.get("encoding_format") == "base64":
                encoded: Any = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            else:
                encoded = vector
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(len(str(t).split()) for t in inputs)
        return Response(
            json.dumps(
                {
                    "object": "list",
                    "data": data,
                    "model": body["model"],
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                }
            ),
            content_type="application/json",
        )

    @property
    def embedded_texts(self) -> list[str]:
        texts: list[str] = []
        for request in self.requests:
            value = request["body"]["input"]
            texts += value if isinstance(value, list) else [value]
        return texts
