"""A tiny OpenAI-compatible chat-completions server on loopback, answering from a Python function.

Used to test :class:`~hivla.planning.llm.LLMPlanner` without a model server, and handy to serve the
learned planner to tools that speak the OpenAI protocol (``hivla planner serve``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ChatServer:
    """``ChatServer(answer)`` where ``answer(messages) -> str`` gives the assistant's content."""

    def __init__(self, answer: Callable[[list[dict]], str], host: str = "127.0.0.1", port: int = 0) -> None:
        self.answer = answer
        self.requests: list[dict] = []
        handler = self._handler()
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1/chat/completions"

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                try:
                    body = json.loads(self.rfile.read(length))
                    messages = body["messages"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    self._send(400, {"error": {"message": "expected JSON with a 'messages' list"}})
                    return
                server.requests.append(body)
                content = server.answer(messages)
                self._send(200, {"object": "chat.completion", "model": body.get("model", "loopback"),
                                 "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                              "finish_reason": "stop"}]})  # fmt: skip

            def _send(self, code: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:  # quiet
                pass

        return Handler
