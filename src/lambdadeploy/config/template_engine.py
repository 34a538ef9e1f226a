"""The Jinja side of rendering lambda.yaml: the sandboxed environment, its guarded filters and
operators, and the render itself. Imported only for a file that has template syntax
(template.render decides), so a plain lambda.yaml never loads Jinja."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Mapping
from functools import update_wrapper
from itertools import islice
from pathlib import Path
from types import GeneratorType
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..errors import ConfigError, ConfigIssue
from . import template as _template
from .read import read_config_text
from .template import (
    _HUGE_BRACE,
    _HUGE_PERCENT,
    _INERT,
    MAX_INT_BITS,
    MAX_RANGE,
    MAX_RENDERED_CHARS,
    MIN_SECRET_LENGTH,
    RENDER_MEMORY_BYTES,
    DataText,
    Env,
    Lazy,
    Placeholders,
    Refused,
    Rendered,
    _bounded,
    data_kind,
    data_text,
    mark,
)


class _ProjectLoader(jinja2.BaseLoader):
    """Templates are files inside the project folder, and only those (symlinks resolved)."""

    def __init__(self, root: Path, main: Path, main_text: str) -> None:
        self.root = root
        self.main = main
        self.main_text = main_text
        self.files: set[str] = {str(main)}

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        if template in (self.main.name, str(self.main)):
            return self.main_text, str(self.main), lambda: True
        if os.path.isabs(template) or "\\" in template or ".." in template.split("/"):
            raise jinja2.TemplateNotFound(template, f"{{% include %}} reads files inside the project folder "
                                                    f"{self.root} only, by a relative path: {template!r}")
        path = Path(os.path.realpath(self.root / template))
        if path != self.root and self.root not in path.parents:
            raise jinja2.TemplateNotFound(template, f"{{% include %}} reads files inside the project folder "
                                                    f"{self.root} only: {template!r} leads outside it")
        if not path.is_file():
            raise jinja2.TemplateNotFound(template, f"included file not found: {template!r} "
                                                    f"(paths are relative to {self.root})")
        self.files.add(str(path))
        return read_config_text(path), str(path), lambda: True


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox, plus: outside data stays marked through operators, calls and filters,
    and operations that would build a huge value are refused before they run."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self, placeholders: Placeholders, risky: Callable[[], list[str]], **options: Any) -> None:
        super().__init__(**options)
        self.placeholders = placeholders
        self.risky = risky
        self.globals.pop("lipsum", None)
        self.globals["range"] = _capped_range
        self.filters = {**self.filters, **_GUARDED_FILTERS}
        self.finalize = self._finalize

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _check_binop(operator, left, right)
        return _derived(super().call_binop(context, operator, left, right), left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        target = getattr(__obj, "__wrapped__", __obj)
        owner = getattr(target, "__self__", None)
        if isinstance(owner, str):
            args = _check_str_method(owner, getattr(target, "__name__", ""), args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        return _derived(result, owner if isinstance(owner, str | list | tuple | dict) else None, *args,
                        *kwargs.values())

    def getitem(self, obj: Any, argument: Any) -> Any:
        return _derived(super().getitem(obj, argument), obj)

    def _finalize(self, value: Any) -> Any:
        """Every `{{ ... }}` passes here: outside data becomes a placeholder token."""
        if isinstance(value, Env):
            raise Refused("`env` cannot be printed or listed; read one variable: env.NAME")
        if isinstance(value, Lazy):
            value = data_text(value.value(), secret=False)
        _sized(value)
        if data_kind(value) is not None:
            return self.placeholders.add(value)
        if isinstance(value, str) and any(raw in value for raw in self.risky()):
            # Outside text joined in with `~` (which no hook sees): still one scalar.
            return self.placeholders.add(data_text(value, secret=True))
        return value


def _guarded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that keeps outside data marked and refuses to build huge values."""
    passes = getattr(function, "jinja_pass_arg", None) is not None

    def guarded(*args: Any, **kwargs: Any) -> Any:
        data = args[1:] if passes else args
        _check_filter(name, data, kwargs)
        result = function(*args, **kwargs)
        secret = data_kind(*data, *kwargs.values())
        if secret is None:
            return _sized(result)
        if name == "tojson" and isinstance(result, str):
            return data_text(result, secret, is_json=True)
        if isinstance(result, GeneratorType):  # map, select...: a list, so its items stay marked
            result = list(islice(result, MAX_RENDERED_CHARS + 1))
        return mark(_sized(result), secret)

    return update_wrapper(guarded, function)


_GUARDED_FILTERS = {name: _guarded_filter(name, f) for name, f in jinja2.filters.FILTERS.items()}


def _capped_range(*args: int) -> range:
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise Refused(f"range() of {len(values)} items; at most {MAX_RANGE} are allowed")
    return values


def _sized(value: Any) -> Any:
    if isinstance(value, str | list | tuple | dict) and len(value) > MAX_RENDERED_CHARS:
        raise Refused(f"a value of {len(value)} characters or items; at most {MAX_RENDERED_CHARS} are allowed")
    return value


def _derived(result: Any, *sources: Any) -> Any:
    secret = data_kind(*sources)
    return _sized(result) if secret is None else mark(_sized(result), secret)


def _too_big(size: int) -> None:
    if size > MAX_RENDERED_CHARS:
        raise Refused(f"this would build a value of {size} characters or items; "
                      f"at most {MAX_RENDERED_CHARS} are allowed")


def _check_binop(operator: str, left: Any, right: Any) -> None:
    sized = str | list | tuple
    if operator == "*":
        if isinstance(left, sized) and isinstance(right, int):
            _too_big(len(left) * right)
        elif isinstance(right, sized) and isinstance(left, int):
            _too_big(len(right) * left)
        elif isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise Refused(f"a number of more than {MAX_INT_BITS} bits")
    elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 \
            and abs(left) > 1 and right * abs(left).bit_length() > MAX_INT_BITS:
        raise Refused(f"{left} ** {right} is a number of more than {MAX_INT_BITS} bits")
    elif operator == "%" and isinstance(left, str):
        _check_format(left, right if isinstance(right, tuple) else (right,))


def _check_format(text: str, args: Any = ()) -> None:
    if _HUGE_PERCENT.search(text) or _HUGE_BRACE.search(text) or any(
            isinstance(a, int) and abs(a) > MAX_RENDERED_CHARS for a in args):
        raise Refused("a format width or precision of a million or more (or `*`) is not allowed")


def _check_str_method(owner: str, name: str, args: tuple[Any, ...],
                      kwargs: Mapping[str, Any] | None = None) -> tuple[Any, ...]:
    kwargs = kwargs or {}
    if name in ("center", "ljust", "rjust", "zfill") and args and isinstance(args[0], int):
        _too_big(args[0])
    elif name == "expandtabs" and args and isinstance(args[0], int):
        _too_big(len(owner) + owner.count("\t") * args[0])
    elif name in ("format", "format_map"):
        mapping = args[0] if name == "format_map" and args and isinstance(args[0], dict) else {}
        _check_format(owner, [*args, *kwargs.values(), *mapping.values()])
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        _too_big(len(owner) + (owner.count(args[0]) if args[0] else len(owner) + 1) * len(args[1]))
    elif name == "join" and args:
        items = list(args[0])
        _too_big(sum(len(i) for i in items if isinstance(i, str)) + len(owner) * len(items))
        args = (items, *args[1:])
    return args


def _check_filter(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    value = args[0] if args else None
    rest = list(args[1:]) + list(kwargs.values())
    if name == "center" and rest and isinstance(rest[0], int):
        _too_big(rest[0])
    elif name == "indent" and isinstance(value, str) and rest and isinstance(rest[0], int | str):
        width = rest[0] if isinstance(rest[0], int) else len(rest[0])
        _too_big(len(value) + (value.count("\n") + 1) * width)
    elif name == "format" and isinstance(value, str):
        _check_format(value, rest)
    elif name == "join" and isinstance(value, list | tuple):
        separator = rest[0] if rest and isinstance(rest[0], str) else ""
        _too_big(sum(len(v) for v in value if isinstance(v, str)) + len(separator) * len(value))
    elif name == "replace" and isinstance(value, str) and len(rest) >= 2 and all(isinstance(r, str) for r in rest[:2]):
        _check_str_method(value, "replace", tuple(rest[:2]))


# --- time and memory ---------------------------------------------------------------------

def render_with_jinja(path: Path, text: str, variables: Mapping[str, Any]) -> Rendered:
    """template.render for a file with template syntax (template.render holds the lock)."""
    env = variables.get("env")
    placeholders = Placeholders()
    loader = _ProjectLoader(path.parent, path, text)

    def risky() -> list[str]:
        values = list(env._read) if isinstance(env, Env) else []
        values += [str(v) for k, v in variables.items() if k != "env" and isinstance(v, str)]
        return [v for v in values if v and not _INERT.match(v)]

    environment = _Sandbox(placeholders, risky, loader=loader, undefined=jinja2.StrictUndefined,
                           keep_trailing_newline=True, autoescape=False)
    data = {k: data_text(v, secret=False) if isinstance(v, str) and not isinstance(v, DataText) else v
            for k, v in variables.items()}
    try:
        template = environment.get_template(path.name)  # compiling is bounded by the file's size
        with _bounded(_template.RENDER_SECONDS):  # read at render time: tests shorten it
            chunks, size = [], 0
            for chunk in template.generate(data):
                size += len(chunk)
                if size > MAX_RENDERED_CHARS:
                    raise Refused(f"the rendered file is longer than {MAX_RENDERED_CHARS} characters")
                chunks.append(chunk)
    except ConfigError as error:
        error.secret_values = _secret(env)
        raise
    except jinja2.TemplateSyntaxError as error:
        file = Path(error.filename) if error.filename else path
        raise _error(env, file, error.lineno, f"template syntax error: {error.message}") from None
    except Exception as error:  # whatever the template did: one located message, never a traceback
        file, line = _where(error, loader.files, path)
        raise _error(env, file, line, _message(error), _hint(error)) from None
    return Rendered("".join(chunks), placeholders, frozenset(env._read if isinstance(env, Env) else ()))


def _secret(env: Any) -> frozenset[str]:
    read = env._read if isinstance(env, Env) else set()
    return frozenset(v for v in read if len(v) >= MIN_SECRET_LENGTH)


def _error(env: Any, file: Path, line: int | None, message: str, hint: str | None = None) -> ConfigError:
    error = ConfigError([ConfigIssue(file, line or 1, "", message, hint)])
    error.secret_values = _secret(env)
    return error


def _message(error: BaseException) -> str:
    if isinstance(error, Refused):
        return f"template error: {error}"
    if isinstance(error, jinja2.TemplateError):
        return f"template error: {error.message}"
    if isinstance(error, RecursionError):
        return "template error: nested too deeply (a file that includes itself, a recursive macro, " \
               "or a very deep expression)"
    if isinstance(error, MemoryError):
        return f"template error: rendering needs more than {RENDER_MEMORY_BYTES // 2**20} MB of memory"
    return f"template error: {type(error).__name__}: {error}"


def _hint(error: BaseException) -> str | None:
    if isinstance(error, jinja2.UndefinedError):
        return ("variables are alias, env (e.g. env.HOME), region, account_id; "
                "use {{ env.X | default('...') }} for optional ones")
    return None


def _where(error: BaseException, files: set[str], main: Path) -> tuple[Path, int | None]:
    """The template file and line an error comes from: Jinja rewrites traceback frames of
    template code to the template's file and line; a parser error names the token it was at."""
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        if frame.filename in files:
            return Path(frame.filename), frame.lineno
    tb = error.__traceback__
    line = None
    while tb is not None:  # a parser that recursed too deep: its stream knows the line
        parser = tb.tb_frame.f_locals.get("self")
        if isinstance(parser, jinja2.parser.Parser):
            line = parser.stream.current.lineno
            main = Path(parser.filename) if parser.filename else main
        tb = tb.tb_next
    return main, line
