"""An HTTP endpoint on 127.0.0.1, in a thread: it keeps every request it gets and answers
each as the test told it to."""

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Answer:
    status: int = 200
    delay: float = 0.0
    body: bytes = b"ok"


class Receiver:
    def __init__(self, server: HTTPServer) -> None:
        self._server = server
        self._lock = threading.Lock()
        self._answers: deque[Answer] = deque()
        self.requests: list[Received] = []
        # What it answers once the queued answers ran out.
        self.default = Answer()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def answer(self, *answers: Answer) -> None:
        """Answer the next requests with these, in order."""
        with self._lock:
            self._answers.extend(answers)

    def received_ids(self) -> set[str]:
        with self._lock:
            return {request.headers["webhook-id"] for request in self.requests}

    def _take(self, request: Received) -> Answer:
        with self._lock:
            self.requests.append(request)
            return self._answers.popleft() if self._answers else self.default


def _handler(receiver: "list[Receiver]") -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = self.rfile.read(length)
            headers = {key.lower(): value for key, value in self.headers.items()}
            answer = receiver[0]._take(Received(self.path, headers, body))
            time.sleep(answer.delay)
            try:
                self.send_response(answer.status)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except OSError:
                pass  # the sender gave up waiting

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


class _OneAtATime(HTTPServer):
    # Senders that connect while it answers wait in the backlog rather than being refused.
    request_queue_size = 128


class _AllAtOnce(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True


@contextmanager
def receiving(*, one_at_a_time: bool = False) -> Iterator[Receiver]:
    """A receiver for the duration; `one_at_a_time` answers requests in turn, not at once."""
    holder: list[Receiver] = []
    server_class = _OneAtATime if one_at_a_time else _AllAtOnce
    server = server_class(("127.0.0.1", 0), _handler(holder))
    receiver = Receiver(server)
    holder.append(receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
