"""Which files agents may attach, told by name, declared type and by their first bytes.

A file is accepted only when its declared type is one of ATTACHMENT_TYPES and its first
bytes are what that type starts with; programs and scripts are refused whatever they are
called (a `.pdf` that starts like a Windows program is a program)."""

from __future__ import annotations

from collections.abc import Callable

# How many leading bytes `looks_like` needs to see.
SNIFF_BYTES = 512

_OOXML_ZIP = b"PK\x03\x04"


def _starts(*prefixes: bytes) -> Callable[[bytes], bool]:
    return lambda head: head.startswith(prefixes)


def _is_webp(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def _is_text(head: bytes) -> bool:
    """UTF-8 (or ASCII) text without NUL bytes; the last character may be cut by the sniff."""
    if not head or b"\x00" in head:
        return False
    for cut in range(4):
        try:
            head[: len(head) - cut].decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False


# Declared type -> what its first bytes must look like.
ATTACHMENT_TYPES: dict[str, Callable[[bytes], bool]] = {
    "application/pdf": _starts(b"%PDF-"),
    "image/png": _starts(b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": _starts(b"\xff\xd8\xff"),
    "image/gif": _starts(b"GIF87a", b"GIF89a"),
    "image/webp": _is_webp,
    "text/plain": _is_text,
    "text/csv": _is_text,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _starts(_OOXML_ZIP),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _starts(_OOXML_ZIP),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": _starts(
        _OOXML_ZIP
    ),
}

# First bytes of programs and scripts: refused whatever type or name they came with.
_PROGRAM_STARTS = (
    b"MZ",  # Windows programs and libraries (PE)
    b"\x7fELF",  # Linux programs
    b"\xfe\xed\xfa\xce",  # Mach-O (macOS) programs, both byte orders, 32 and 64 bit
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal binaries (and Java classes)
    b"#!",  # scripts with an interpreter line
)

# Names that run when opened on the recipient's machine, whatever is inside.
BLOCKED_EXTENSIONS = frozenset(
    {
        "app", "apk", "bat", "bin", "cmd", "com", "cpl", "dll", "dmg", "exe", "hta", "jar",
        "js", "jse", "lnk", "msi", "msp", "pif", "ps1", "psm1", "reg", "scr", "sh", "vb",
        "vbe", "vbs", "ws", "wsf", "wsh",
    }
)  # fmt: skip


def normalise_type(content_type: str) -> str:
    """`Application/PDF; charset=x` -> `application/pdf`."""
    return content_type.split(";", 1)[0].strip().lower()


def has_blocked_extension(filename: str) -> bool:
    name = filename.strip().rstrip(".").lower()
    return "." in name and name.rsplit(".", 1)[1] in BLOCKED_EXTENSIONS


def is_program(head: bytes) -> bool:
    return head.startswith(_PROGRAM_STARTS)


def looks_like(content_type: str, head: bytes) -> bool:
    """True when `head` (the first SNIFF_BYTES bytes) is a file of `content_type` and not a
    program or script."""
    check = ATTACHMENT_TYPES.get(normalise_type(content_type))
    return check is not None and not is_program(head) and check(head)
