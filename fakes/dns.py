"""A tiny authoritative DNS server on 127.0.0.1 answering TXT queries from a dict (UDP),
so the real DNS adapter can be tested without the internet."""

from __future__ import annotations

import socket
import threading


class FakeDns:
    def __init__(self, records: dict[str, list[str]] | None = None) -> None:
        self.records = records or {}
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> FakeDns:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._socket.close()

    def _serve(self) -> None:
        import dns.message
        import dns.rcode
        import dns.rdatatype
        import dns.rrset

        self._socket.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data, peer = self._socket.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text().rstrip(".").lower()
            values = self.records.get(name)
            if values is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.TXT:
                response.answer.append(
                    dns.rrset.from_text(question.name, 60, "IN", "TXT", *[f'"{v}"' for v in values])
                )
            self._socket.sendto(response.to_wire(), peer)
