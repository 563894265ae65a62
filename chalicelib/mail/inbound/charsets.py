"""Turning the bytes of a text part or header into text, whatever charset it claims."""

from __future__ import annotations

import codecs

# Names seen in real mail that Python does not know, or knows as something narrower.
_CHARSET_ALIASES = {
    "gb2312": "gb18030",  # senders label GBK/GB18030 text as gb2312
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "x-mac-roman": "mac-roman",
    "x-sjis": "shift_jis",
    "x-euc-jp": "euc_jp",
    "iso-2022-jp": "iso2022_jp_ext",  # clients use the half-width katakana extension
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
    # Mail labelled ASCII or Latin-1 is nearly always Windows-1252 (curly quotes, euro sign).
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
}

# Text labelled with these that is valid UTF-8 is UTF-8 sent with the wrong label: UTF-8
# validity of non-ASCII Western European text is too unlikely to be chance.
_UTF8_FIRST = frozenset({"cp1252", "iso8859-15"})

# charset-normalizer is given at most this much: detection cost grows with the input.
_DETECTION_SAMPLE_BYTES = 64 * 1024


def text_codec(charset: str | None) -> str | None:
    """The Python codec for a declared `charset`, or None when it is unknown or not a text
    encoding (a part cannot make us run `base64` or `zlib` by naming it)."""
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    if not name or len(name) > 40:
        return None
    name = _CHARSET_ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def decode_text(data: bytes, charset: str | None) -> str:
    """`data` as text: the declared charset, else UTF-8, else the declared charset with
    replacement characters, else a detected charset, else Latin-1.  Never raises."""
    codec = text_codec(charset)
    if codec in _UTF8_FIRST:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if codec is not None:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError, ValueError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if codec is not None:
        # A known charset with a few bad bytes: keep every good character where it was.
        try:
            return data.decode(codec, errors="replace")
        except (LookupError, ValueError):
            pass
    detected = _detect_codec(data)
    if detected is not None:
        try:
            return data.decode(detected)
        except (UnicodeDecodeError, LookupError, ValueError):
            pass
    return data.decode("latin-1")


def _detect_codec(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:
        return None
    try:
        best = from_bytes(data[:_DETECTION_SAMPLE_BYTES]).best()
    except Exception:  # a detector bug must not lose the mail: Latin-1 still decodes it
        return None
    if best is None:
        return None
    return text_codec(best.encoding)
