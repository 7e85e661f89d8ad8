"""Runs one python tool script in its own process (worker-protocol §4.1). Standalone on purpose:
it imports only the standard library, so any interpreter can run it as a file.

stdin: a JSON document {code, inputs, context, libs, iteration, execution_id, step, result_path}.
The outcome goes to `result_path` (never stdout, which belongs to the user's prints):
  {"kind": "result", "value": ...}   a result convention applied
  {"kind": "nothing"}                 no convention applied: the worker falls back to stdout
  {"kind": "exception", "type", "message", "traceback"}
  {"kind": "exit", "code": n}
"""

import ast
import asyncio
import base64
import datetime
import decimal
import inspect
import json
import math
import os
import sys
import time
import traceback
import uuid

WRAPPER = "__noetl_script__"


def json_value(value, depth=0):
    """A Python value as JSON data (worker-protocol §4.1); the worker's own conversions use this
    too (worker.result.to_json_value), so a tool's value means the same in and out of process."""
    if depth > 200:
        raise ValueError("result is nested more than 200 levels deep")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return None
        if value == value.to_integral_value() and abs(value) <= 2 ** 53:
            return int(value)
        return float(value)
    if isinstance(value, dict):
        return {str(k): json_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_value(v, depth + 1) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def _parse_input(value):
    """A string that looks like a JSON object or array is parsed (JSON, then Python literal)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not ((text.startswith("{") and text.endswith("}")) or (text.startswith("[") and text.endswith("]"))):
        return value
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return value


def _import_libs(libs, scope):
    for alias, spec in (libs or {}).items():
        if isinstance(spec, str):
            module = __import__(spec, fromlist=["_"] if "." in spec else [])
            if "." in spec and alias == spec:
                scope[spec.split(".")[0]] = __import__(spec.split(".")[0])
            else:
                scope[alias] = module
        elif isinstance(spec, dict) and spec.get("from") and spec.get("import"):
            module = __import__(spec["from"], fromlist=[spec["import"]])
            scope[alias] = getattr(module, spec["import"])
        else:
            raise ValueError(f"libs.{alias}: expected a module name or {{from, import}}, got {spec!r}")


def _compile(code, filename):
    """Compile the script; a module body with a top-level `return` is wrapped into a function at
    the syntax-tree level (re-indenting text would alter triple-quoted strings)."""
    try:
        return compile(code, filename, "exec"), False
    except SyntaxError as exc:
        if "outside function" not in str(exc.msg) or "return" not in str(exc.msg):
            raise
    tree = ast.parse(code, filename)
    module = ast.parse(f"def {WRAPPER}():\n    pass\n")
    module.body[0].body = tree.body or [ast.Pass()]
    ast.fix_missing_locations(module)
    return compile(module, filename, "exec"), True


def _call_main(main, inputs, context, render_context):
    signature = inspect.signature(main)
    kwargs, used = {}, set()
    var_kw = None
    for name, param in signature.parameters.items():
        if param.kind is param.VAR_KEYWORD:
            var_kw = name
            continue
        if param.kind is param.VAR_POSITIONAL:
            continue
        if name == "context":
            kwargs[name] = context
        elif name in inputs:
            kwargs[name] = inputs[name]
            used.add(name)
        elif name in render_context:
            kwargs[name] = render_context[name]
        elif param.default is param.empty:
            raise TypeError(f"main() needs a value for parameter '{name}' and no input or context key has that name")
        else:
            continue
        if param.kind is param.POSITIONAL_ONLY:
            raise TypeError(f"main() parameter '{name}' is positional-only; inputs are bound by name")
    if var_kw:
        kwargs.update({k: v for k, v in inputs.items() if k not in used and k not in kwargs})
    value = main(**kwargs)
    if inspect.isawaitable(value):
        value = asyncio.run(_await(value))
    return value


async def _await(value):
    return await value


def main():
    text = sys.stdin.read()
    if not text.strip():
        os._exit(0)  # a warm spare the worker closed without a job
    doc = json.loads(text)
    result_path = doc["result_path"]
    # A warm spare (worker/tools/python.py) was started before its command existed: the
    # command's environment and working directory arrive with the job.
    if isinstance(doc.get("env"), dict):
        os.environ.clear()
        os.environ.update(doc["env"])
        if hasattr(time, "tzset"):
            time.tzset()
    if doc.get("cwd"):
        os.chdir(doc["cwd"])

    def finish(outcome, exit_code=0):
        with open(result_path, "w", encoding="utf-8") as fh:
            json.dump(outcome, fh, allow_nan=False, default=str)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exit_code)

    inputs = {k: _parse_input(v) for k, v in (doc.get("inputs") or {}).items()}
    render_context = doc.get("context") or {}
    iteration = doc.get("iteration") or {}
    context = dict(render_context)
    context.setdefault("args", inputs)
    context.setdefault("variables", render_context)
    context.setdefault("execution_id", doc.get("execution_id"))
    context.setdefault("step", doc.get("step"))
    context.setdefault("server_url", doc.get("server_url"))

    scope = {"__name__": "__noetl__", "__builtins__": __builtins__,
             "json": json, "os": os, "datetime": datetime, "uuid": uuid}
    scope.update(iteration)
    scope.update({"execution_id": str(doc.get("execution_id") or ""), "step": doc.get("step"),
                  "context": context, "input_data": inputs, "args": inputs})
    if doc.get("credential") is not None:
        scope["credential"] = doc["credential"]
    scope.update(inputs)  # an input named input_data, args or context wins
    sentinel_result = inputs.get("result", None) if "result" in inputs else object()

    def conventions(wrapped, value=None):
        if wrapped:
            finish({"kind": "result", "value": json_value(value)})
        if "result" in scope and scope["result"] is not None and scope["result"] is not sentinel_result:
            finish({"kind": "result", "value": json_value(scope["result"])})
        if callable(scope.get("main")):
            value = _call_main(scope["main"], inputs, context, render_context)
            finish({"kind": "result", "value": json_value(value)})
        if "result" in scope and scope["result"] is None:
            finish({"kind": "result", "value": None})
        finish({"kind": "nothing"})

    value, wrapped = None, False
    try:
        try:
            _import_libs(doc.get("libs"), scope)
            code_obj, wrapped = _compile(doc.get("code") or "", f"<step {doc.get('step')}>")
            exec(code_obj, scope)
            if wrapped:
                value = scope[WRAPPER]()
                if inspect.isawaitable(value):
                    value = asyncio.run(_await(value))
        except SystemExit as exc:
            if exc.code is not None and exc.code != 0:
                raise
            wrapped = False  # sys.exit(0) is a normal end: the other conventions apply
        conventions(wrapped, value)
    except SystemExit as exc:
        code = exc.code
        if not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
        finish({"kind": "exit", "code": code}, code)
    except BaseException as exc:  # noqa: BLE001 - every failure of the user's code is reported
        tb = traceback.format_exc()
        finish({"kind": "exception", "type": type(exc).__name__, "message": str(exc), "traceback": tb[-8192:]}, 1)


if __name__ == "__main__":
    main()
