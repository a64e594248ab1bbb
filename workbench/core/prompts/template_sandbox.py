"""The Jinja environment that renders templates within their ``template_bounds``.

It is Jinja's immutable sandbox, and every template it compiles is rewritten so that loop
iterations, calls, output and ``~`` joins pass through a hook that spends the current
render's budget and checks its clock. Operators, filters and string methods that can
build large values (``'a' * 10**8``, ``center``, ``replace``, ``join``, ``format``...) are
measured from their operands *before* the value is built, so a refusal costs nothing.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jinja2 import nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from workbench.core.prompts.template_bounds import (
    REMOVED_FILTERS,
    REMOVED_GLOBALS,
    BoundExceeded,
    Budget,
    current,
    format_size,
    replace_size,
    value_size,
)

# --- the hooks compiled into every template --------------------------------------------


def _emit(value: Any) -> str:
    budget = current()
    if not isinstance(value, str):
        budget.value(value_size(value, budget.limits.max_output_bytes), "{{")
        value = str(value)
    return budget.write(value, "{{")


def _text(text: str) -> str:
    return current().write(text, "")


def _concat(*values: Any) -> str:
    budget = current()
    budget.value(value_size(list(values), budget.limits.max_output_bytes), "~")
    joined = "".join(map(str, values))
    budget.made(len(joined), "~")
    return joined


def _iterate(iterable: Iterable[Any]) -> Iterator[Any]:
    budget = current()
    for item in iterable:
        budget.step("for")
        yield item


def _range(*args: int) -> range:
    budget = current()
    numbers = range(*args)
    if len(numbers) > budget.limits.max_iterations:
        raise BoundExceeded(
            f"range of {len(numbers)} numbers is longer than the loop budget of "
            f"{budget.limits.max_iterations} (loop budget)",
            "range",
        )
    return numbers


HOOKS = {"bound_emit": _emit, "bound_text": _text, "bound_concat": _concat, "bound_iterate": _iterate}
_HOOK_FUNCTIONS = tuple(HOOKS.values())


def _hook(name: str, *args: nodes.Expr, lineno: int) -> nodes.Call:
    return nodes.Call(nodes.EnvironmentAttribute(name, lineno=lineno), list(args), [], None, None, lineno=lineno)


class _Instrument(NodeTransformer):
    """Routes every output, loop and ``~`` through a hook."""

    def visit_Output(self, node: nodes.Output) -> nodes.Output:
        self.generic_visit(node)
        node.nodes = [
            _hook("bound_text", nodes.Const(child.data), lineno=child.lineno)
            if isinstance(child, nodes.TemplateData)
            else _hook("bound_emit", child, lineno=child.lineno)
            for child in node.nodes
        ]
        return node

    def visit_For(self, node: nodes.For) -> nodes.For:
        self.generic_visit(node)
        node.iter = _hook("bound_iterate", node.iter, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Call:
        self.generic_visit(node)
        return _hook("bound_concat", *node.nodes, lineno=node.lineno)


class _BoundedCodeGenerator(CodeGenerator):
    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        super().visit_Template(_Instrument().visit(node), frame)


# --- what calls, operators and filters may build ---------------------------------------


def _check_binop(budget: Budget, op: str, left: Any, right: Any) -> None:
    sequences = (str, bytes, list, tuple)
    limit = budget.limits.max_output_bytes
    if op == "*":
        if isinstance(left, int) and isinstance(right, int):
            budget.bits(left.bit_length() + right.bit_length(), op)
        elif isinstance(left, sequences) and isinstance(right, int):
            budget.value(len(left) * max(right, 0), op)
        elif isinstance(right, sequences) and isinstance(left, int):
            budget.value(len(right) * max(left, 0), op)
    elif op == "+" and isinstance(left, sequences) and isinstance(right, sequences):
        budget.value(len(left) + len(right), op)
    elif op == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
        budget.bits(left.bit_length() * right, op)
    elif op == "%" and isinstance(left, str):
        budget.value(format_size(left, right, limit), op)


def _check_method(budget: Budget, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Measure a builtin method call before it runs; returns the arguments to call it with."""
    limit = budget.limits.max_output_bytes
    wrapped = getattr(func, "__wrapped__", None)  # the sandbox's wrapper of str.format / format_map
    if isinstance(getattr(wrapped, "__self__", None), str):
        budget.value(format_size(wrapped.__self__, (*args, kwargs), limit), func.__name__)
        return args
    owner = getattr(func, "__self__", None)
    if not isinstance(func, types.BuiltinMethodType) or owner is None or isinstance(owner, types.ModuleType):
        return args
    name = func.__name__
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and abs(value) > limit:
            raise BoundExceeded(f"{name}() was given {value}, over {limit} (output-size limit)", name)
    if not isinstance(owner, (str, bytes)):
        return args
    if name == "expandtabs":
        tabsize = int(args[0] if args else kwargs.get("tabsize", 8))
        budget.value(len(owner) + owner.count("\t" if isinstance(owner, str) else b"\t") * max(tabsize, 0), name)
    elif name == "join" and args:
        items = list(args[0])
        budget.value(value_size(items, limit) + len(owner) * len(items), name)
        return (items, *args[1:])
    elif name == "replace" and len(args) >= 2 and isinstance(owner, str):
        budget.value(replace_size(owner, str(args[0]), str(args[1]), *args[2:3]), name)
    elif name == "translate" and args and isinstance(args[0], dict):
        longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
        budget.value(len(owner) * max(longest, 1), name)
    return args


STRINGIFYING = frozenset(  # filters that turn their input into text
    {"capitalize", "center", "e", "escape", "forceescape", "format", "indent", "join", "lower", "pprint", "replace"}
    | {"string", "title", "tojson", "trim", "truncate", "upper", "urlencode", "wordcount", "wordwrap", "xmlattr"}
)
SIZED = frozenset(("center", "batch", "slice", "indent", "wordwrap", "truncate"))  # first argument: a width or count


def _check_filter(budget: Budget, name: str, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Measure a filter's input and arguments before it runs; returns the value to filter."""
    limit = budget.limits.max_output_bytes
    if name in SIZED and args and isinstance(args[0], int) and abs(args[0]) > limit:
        raise BoundExceeded(f"{name} was given {args[0]}, over {limit} (output-size limit)", name)
    if name in ("join", "sum") and not isinstance(value, (str, list, tuple, dict)):
        value = list(value)
    if name in STRINGIFYING or name == "join":
        budget.value(value_size(value, limit), name)
    text = value if isinstance(value, str) else ""
    if name == "replace" and len(args) >= 2:
        budget.value(replace_size(text, str(args[0]), str(args[1]), *args[2:3]), name)
    elif name == "indent":
        width = args[0] if args else kwargs.get("width", 4)
        pad = len(width) if isinstance(width, str) else int(width)
        budget.value(len(text) + (text.count("\n") + 1) * max(pad, 0), name)
    elif name == "wordwrap":
        wrap = args[2] if len(args) > 2 else kwargs.get("wrapstring") or "\n"
        width = max(int(args[0] if args else kwargs.get("width", 79)), 1)
        breaks = min(len(text), len(text) // width + text.count(" ") + text.count("\n")) + 1
        budget.value(len(text) + breaks * len(str(wrap)), name)
    elif name == "format":
        budget.value(format_size(str(value), (*args, kwargs), limit), name)
    elif name == "join":
        sep = args[0] if args else kwargs.get("d", "")
        budget.value(value_size(value, limit) + len(str(sep)) * len(value), name)
    return value


def _sum(budget: Budget, original: Callable[..., Any], env: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
    """Lists are summed by extending one list (Python's ``sum`` copies it once per item)."""
    start = args[1] if len(args) > 1 else kwargs.get("start", 0)
    if not isinstance(start, (list, tuple)) or (args[:1] and args[0]) or kwargs.get("attribute"):
        return original(env, value, *args, **kwargs)
    total = list(start)
    for item in value:
        budget.step("sum")
        budget.value(len(total) + len(item), "sum")
        total.extend(item)
    return total


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    kind = getattr(getattr(func, "jinja_pass_arg", None), "name", None)

    @pass_context  # also keeps filters from running at compile time, outside any budget
    def guarded(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        budget = current()
        budget.clock(name)
        value = _check_filter(budget, name, value, args, kwargs)
        lead = {"context": (context,), "eval_context": (context.eval_ctx,), "environment": (context.environment,)}
        if name == "sum":
            result = _sum(budget, func, context.environment, value, *args, **kwargs)
        else:
            result = func(*lead.get(kind or "", ()), value, *args, **kwargs)
        if isinstance(result, (str, bytes, list, tuple)):
            budget.made(len(result), name)
        return result

    return guarded


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, with every template instrumented and every growing operation measured."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset(("+", "-", "*", "/", "//", "%", "**"))

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        for name in REMOVED_FILTERS:
            self.filters.pop(name, None)
        for name in REMOVED_GLOBALS:
            self.globals.pop(name, None)
        self.filters = {name: _guard_filter(name, func) for name, func in self.filters.items()}
        self.globals["range"] = _range
        for name, hook in HOOKS.items():
            setattr(self, name, hook)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        budget = current()
        budget.clock(operator)
        _check_binop(budget, operator, left, right)
        result = self.binop_table[operator](left, right)
        if isinstance(result, (str, bytes, list, tuple)):
            budget.made(len(result), operator)
        return result

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if any(obj is hook for hook in _HOOK_FUNCTIONS):
            return obj(*args)
        budget = current()
        name = getattr(obj, "__name__", "") or type(obj).__name__
        budget.step(name if name.isidentifier() else "(")
        args = _check_method(budget, obj, args, kwargs)
        result = super().call(context, obj, *args, **kwargs)
        if isinstance(result, (str, bytes, list, tuple)):
            budget.made(len(result), name)
        return result
