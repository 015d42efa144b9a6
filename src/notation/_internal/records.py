"""``@dataclass`` for notation's own classes, without the standard library's start-up cost (issue 15).

Why not :mod:`dataclasses`: importing it pulls in ``inspect`` (and with it ``ast``, ``dis``, ``tokenize``), and
each decorated class compiles its ``__init__``, ``__repr__``, ``__eq__``, ``__hash__`` and frozen
``__setattr__``/``__delattr__`` from source with ``exec``: with some thirty classes on the way of one ``notation
verify`` that was a quarter of the command's own time. Here the methods are closures over the class's field list,
built in microseconds, and nothing is imported; only a class instantiated hundreds of times in one process (a loop
over envelopes or descriptors) gets its ``__init__`` compiled, as dataclasses writes it, once it is that hot.

What is kept of dataclasses' behaviour (the subset notation uses): fields from the class's own annotations after its
bases' (a base decorated here), defaults and ``field(default=, default_factory=, repr=, compare=)``, positional or
keyword ``__init__`` with dataclasses' ``TypeError`` wording, ``__post_init__``, ``__repr__``, ``__eq__`` on the
``compare`` fields of instances of the same class, ``__hash__`` (generated when frozen, ``None`` for a mutable
class, an explicit one kept), ``frozen`` refusing assignment and deletion (:class:`FrozenInstanceError`, an
``AttributeError`` as dataclasses' is), ``__match_args__``, methods written in the class body left alone, and
mutable defaults (list, dict, set) refused. ``dataclasses.fields``, ``asdict``, ``replace`` and ``is_dataclass``
still work on these classes (``__dataclass_fields__`` is made, with the stdlib's Field objects, on first use), so
the public models behave as dataclasses for callers. Type checkers see standard dataclass semantics through
``typing.dataclass_transform``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: on Python 3.11 it imports re (``notation --help``)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, dataclass_transform, overload

    _T = TypeVar("_T")
    _C = TypeVar("_C", bound=type)

__all__ = ["FrozenInstanceError", "dataclass", "field", "replace"]

_FIELDS = "__notation_fields__"


class FrozenInstanceError(AttributeError):
    """Assignment to a field of a frozen instance (as ``dataclasses.FrozenInstanceError``)."""


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


_MISSING: Any = _Missing()


class _Field:
    __slots__ = ("compare", "default", "default_factory", "name", "repr", "type")

    def __init__(self, default: Any, default_factory: Any, repr: bool, compare: bool) -> None:
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare
        self.name = ""
        self.type: object = None


if TYPE_CHECKING:

    @overload
    def field(*, default: _T, repr: bool = True, compare: bool = True) -> _T: ...
    @overload
    def field(*, default_factory: Callable[[], _T], repr: bool = True, compare: bool = True) -> _T: ...


def field(
    *,
    default: Any = _MISSING,
    default_factory: Any = _MISSING,
    repr: bool = True,
    compare: bool = True,
) -> Any:
    """``dataclasses.field`` (the keywords notation uses)."""
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return _Field(default, default_factory, repr, compare)


def _is_classvar(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__qualname__", "")
    return isinstance(text, str) and (text.startswith("ClassVar") or text.startswith("typing.ClassVar"))


def _collect(cls: type) -> list[_Field]:
    fields: dict[str, _Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for f in base.__dict__.get(_FIELDS, ()):
            fields[f.name] = f
    # the class's own annotations, unevaluated (inspect.get_annotations would import inspect)
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063
        if _is_classvar(annotation):
            continue
        value = cls.__dict__.get(name, _MISSING)
        f = value if isinstance(value, _Field) else _Field(value, _MISSING, True, True)
        f.name, f.type = name, annotation
        if f.default is not _MISSING and type(f.default).__hash__ is None:
            raise ValueError(f"mutable default {type(f.default)} for field {name} is not allowed: use default_factory")
        if isinstance(value, _Field):
            if f.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
        fields[name] = f
    ordered = list(fields.values())
    seen_default = False
    for f in ordered:
        if f.default is not _MISSING or f.default_factory is not _MISSING:
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
    return ordered


def _make_init(cls: type, fields: list[_Field], frozen: bool) -> Callable[..., None]:
    specs = tuple((f.name, f.default, f.default_factory) for f in fields)
    count = len(specs)
    post_init = getattr(cls, "__post_init__", None) is not None
    qualname = cls.__qualname__
    setter = object.__setattr__
    names = tuple(spec[0] for spec in specs)
    name_set = frozenset(names)
    required = sum(1 for _name, default, factory in specs if default is _MISSING and factory is _MISSING)

    made = 0

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal made
        made += 1
        if made >= _COMPILE_AFTER and cls.__dict__.get("__init__") is __init__:
            type.__setattr__(cls, "__init__", _compiled_init(cls, specs, post_init))  # a hot class: see below
        # Every field given, all by keyword or all by position: what the envelope decoders do for each envelope
        # verified; the general loop below costs about twice as much.
        if not args and len(kwargs) == count and name_set.issuperset(kwargs):
            for name in names:
                setter(self, name, kwargs[name])
        elif not kwargs and len(args) == count:
            for name, value in zip(names, args, strict=True):
                setter(self, name, value)
        else:
            _general(self, args, kwargs)
        if post_init:
            self.__post_init__()

    def _general(self: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if len(args) > count:
            takes = f"from {required + 1} to {count + 1}" if required < count else f"{count + 1}"  # Python's words
            raise TypeError(f"{qualname}.__init__() takes {takes} positional arguments but {len(args) + 1} were given")
        missing = []
        for i, (name, default, factory) in enumerate(specs):
            if i < len(args):
                if name in kwargs:
                    raise TypeError(f"{qualname}.__init__() got multiple values for argument {name!r}")
                value = args[i]
            elif name in kwargs:
                value = kwargs.pop(name)
            elif default is not _MISSING:
                value = default
            elif factory is not _MISSING:
                value = factory()
            else:
                missing.append(name)
                continue
            setter(self, name, value)
        if missing:
            listed = " and ".join(", ".join(repr(m) for m in missing).rsplit(", ", 1))
            plural = "s" if len(missing) > 1 else ""
            raise TypeError(
                f"{qualname}.__init__() missing {len(missing)} required positional argument{plural}: {listed}"
            )
        if kwargs:
            extra = next(iter(kwargs))
            raise TypeError(f"{qualname}.__init__() got an unexpected keyword argument {extra!r}")

    __init__.__qualname__ = f"{qualname}.__init__"
    return __init__


_COMPILE_AFTER = 256
"""Instances of a class after which its ``__init__`` is compiled: a one-shot command never gets there (compiling is
~0.2 ms a class), a loop over many envelopes or descriptors does, and then each instance costs half as much."""


def _compiled_init(cls: type, specs: tuple[tuple[str, Any, Any], ...], post_init: bool) -> Callable[..., None]:
    """The ``__init__`` dataclasses would write, compiled from source: Python's own argument binding (and its
    ``TypeError`` wording, which the closure imitates) instead of a loop over the fields."""
    params, body = [], []
    namespace: dict[str, Any] = {"_set": object.__setattr__, "_MISSING": _MISSING}
    for index, (name, default, factory) in enumerate(specs):
        if factory is not _MISSING:
            namespace[f"_factory{index}"] = factory
            params.append(f"{name}=_MISSING")
            body.append(f"    if {name} is _MISSING:\n        {name} = _factory{index}()\n")
        elif default is not _MISSING:
            namespace[f"_default{index}"] = default
            params.append(f"{name}=_default{index}")
        else:
            params.append(name)
        body.append(f"    _set(self, {name!r}, {name})\n")
    if post_init:
        body.append("    self.__post_init__()\n")
    code = "".join(body) or "    pass\n"
    source = f"def __init__(self, {', '.join(params)}):\n{code}"
    exec(source, namespace)  # noqa: S102  # names are the class's field identifiers, values come from namespace
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _make_repr(fields: list[_Field]) -> Callable[[Any], str]:
    names = tuple(f.name for f in fields if f.repr)

    def __repr__(self: Any) -> str:
        body = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__qualname__}({body})"

    return __repr__


def _make_eq(fields: list[_Field]) -> tuple[Callable[[Any, object], Any], Callable[[Any], int]]:
    from _operator import attrgetter  # built in (the operator module would be a file to read)

    names = tuple(f.name for f in fields if f.compare)
    key: Callable[[Any], tuple[Any, ...]]
    if len(names) > 1:
        key = attrgetter(*names)  # a tuple of the values, in C
    elif names:
        one = attrgetter(names[0])

        def key(obj: Any) -> tuple[Any, ...]:
            return (one(obj),)
    else:

        def key(obj: Any) -> tuple[Any, ...]:
            return ()

    def __eq__(self: Any, other: object) -> Any:
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(key(self))

    return __eq__, __hash__


def _make_frozen(cls: type, fields: list[_Field]) -> tuple[Callable[..., None], Callable[..., None]]:
    names = frozenset(f.name for f in fields)
    klass: Any = cls

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(klass, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(klass, self).__delattr__(name)

    return __setattr__, __delattr__


class _StdlibFields:
    """``__dataclass_fields__`` built on first access, so ``dataclasses.fields``/``asdict``/``replace`` work; the
    result replaces this descriptor on the class it was read from (built once per class)."""

    def __get__(self, obj: object, owner: type) -> dict[str, Any]:
        import dataclasses

        def std_value(value: Any) -> Any:
            return dataclasses.MISSING if value is _MISSING else value

        built: dict[str, Any] = {}
        for f in getattr(owner, _FIELDS):  # a plain subclass of a record has its base's fields
            std: Any = dataclasses.field(default=std_value(f.default), default_factory=std_value(f.default_factory),
                                         repr=f.repr, compare=f.compare)  # fmt: skip
            std.name, std.type, std._field_type = f.name, f.type, dataclasses._FIELD  # type: ignore[attr-defined]
            built[f.name] = std
        type.__setattr__(owner, "__dataclass_fields__", built)
        return built


def _process(cls: _C, frozen: bool) -> _C:
    fields = _collect(cls)
    setattr(cls, _FIELDS, tuple(fields))
    own = cls.__dict__

    def put(name: str, value: Any) -> None:
        if name not in own:
            setattr(cls, name, value)

    put("__init__", _make_init(cls, fields, frozen))
    put("__repr__", _make_repr(fields))
    eq, hash_ = _make_eq(fields)
    class_hash = own.get("__hash__", _MISSING)
    explicit_hash = not (class_hash is _MISSING or (class_hash is None and "__eq__" in own))
    put("__eq__", eq)
    if not explicit_hash:
        cls.__hash__ = hash_ if frozen else None  # type: ignore[assignment]
    if frozen:
        setter, deleter = _make_frozen(cls, fields)
        if "__setattr__" in own or "__delattr__" in own:
            raise TypeError(f"cannot overwrite attribute __setattr__/__delattr__ in class {cls.__name__}")
        cls.__setattr__ = setter  # type: ignore[method-assign]
        cls.__delattr__ = deleter  # type: ignore[method-assign]
    put("__match_args__", tuple(f.name for f in fields))
    cls.__dataclass_fields__ = _StdlibFields()  # type: ignore[attr-defined]
    return cls


if TYPE_CHECKING:

    @overload
    @dataclass_transform(field_specifiers=(field,))
    def dataclass(cls: _C, /) -> _C: ...
    @overload
    @dataclass_transform(field_specifiers=(field,))
    def dataclass(*, frozen: bool = False) -> Callable[[_C], _C]: ...


def dataclass(cls: Any = None, /, *, frozen: bool = False) -> Any:
    """``dataclasses.dataclass`` (``@dataclass`` and ``@dataclass(frozen=True)``)."""
    if cls is None:
        return lambda c: _process(c, frozen)
    return _process(cls, frozen)


def replace(obj: _T, /, **changes: Any) -> _T:
    """``dataclasses.replace``: a new instance with ``changes`` applied (``__init__`` and ``__post_init__`` run)."""
    fields: tuple[_Field, ...] = getattr(type(obj), _FIELDS)
    for f in fields:
        if f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return type(obj)(**changes)
