"""Read a text file of the project (lambda.yaml, a file it includes) with the limits every
such file has: at most MAX_CONFIG_BYTES, UTF-8 (a UTF-8 byte order mark is allowed).
Anything else is a ConfigError naming the file and line, never a traceback."""

from __future__ import annotations

import codecs
from pathlib import Path

from ..errors import ConfigError

MAX_CONFIG_BYTES = 1024 * 1024


def read_config_text(path: Path) -> str:
    """The file's text, or ConfigError (too big, not UTF-8, unreadable)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise ConfigError.single(path, None, "", f"cannot read {path}: {error.strerror or error}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError.single(path, 1, "", f"the file is larger than {MAX_CONFIG_BYTES // 1024 // 1024} MB",
                                 "a lambda.yaml and the files it includes are small text files")
    return decode_utf8(path, data)


def decode_utf8(path: Path, data: bytes, what: str = "the file") -> str:
    """`data` as UTF-8 text; a ConfigError with the line of the first bad byte otherwise."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding = "UTF-32" if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) else "UTF-16"
        raise ConfigError.single(path, 1, "", f"{what} is {encoding}; it must be UTF-8",
                                 "save it as UTF-8 (most editors: File > Save with Encoding)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConfigError.single(path, line, "", f"{what} is not UTF-8 text: byte 0x{data[error.start]:02x} "
                                 f"at line {line} cannot be decoded", "save it as UTF-8") from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ConfigError.single(path, line, "", f"{what} contains a NUL character at line {line} "
                                 "(is it UTF-16 without a byte order mark?)", "save it as UTF-8")
    return text.removeprefix("\ufeff")
