"""Playbook compiler: YAML text → validated playbook → the compiled plan of engine.md §2.

`compile_playbook` accepts every key, form and alias of engine.md §1, runs the registration checks
of §1.10 (reporting all problems, §1.11), compiles control-flow fields with `noetl_pg.expr`, keeps
tool templates for claim-time rendering (§2.6) and analyses the graph (§2.5). The SQL engine reads
only the resulting plan.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from noetl_pg.expr import (
    ExpressionError,
    compile_field,
    has_template,
    is_identifier,
    template_syntax_errors,
    undeclared_names,
)
from noetl_pg.playbook.graph import Arc, analyse
from noetl_pg.playbook.problems import Collector, PlaybookError, Problem
from noetl_pg.playbook.source import Path, Source, format_at, load

PLAN_FORMAT = 1
"""`plan_version` of the plans this compiler writes (the catalog's `plan_format`)."""

API_VERSIONS = {"noetl.io/v2": "noetl.io/v2", "noetl.io/v10": "noetl.io/v2"}
EXECUTABLE_KINDS = ("playbook", "agent")
_KIND_ALIASES = {
    "credentials": "credential", "secret": "credential", "secrets": "credential",
    "modelcontextprotocol": "mcp", "playbooks": "playbook", "agents": "agent",
}

# Names the render context reserves (engine.md §1.2, §4.1); no step or iterator may take them.
RESERVED_NAMES = frozenset({
    "workload", "ctx", "iter", "execution_id", "catalog_id", "job", "env", "event", "output",
    "playbook", "loop_index", "_index", "_total", "_prev", "_results",
})

TOOL_KINDS = (
    "python", "http", "postgres", "duckdb", "ducklake", "shell", "noop", "playbook", "playbooks",
    "secrets", "container", "script", "snowflake", "transfer", "snowflake_transfer", "gcs",
    "gateway", "nats", "artifact", "rhai", "agent", "mcp", "result_fetch", "task_sequence",
    "workbook",
)

_TOP_KEYS = {"apiVersion", "kind", "metadata", "workload", "workflow", "workbook", "keychain", "executor"}
_STEP_KEYS = {"step", "desc", "description", "tool", "next", "loop", "when", "set", "input", "args", "spec", "case"}
_ARC_KEYS = {"step", "when", "cond", "set", "args", "spec", "desc"}
_ROUTER_KEYS = {"spec", "arcs"}
_LOOP_KEYS = {"in", "iterator", "spec"}
_LOOP_SPEC_KEYS = {"mode", "max_in_flight", "policy"}
_SET_PREFIXES = ("ctx", "iter", "step")
# Strings referencing these are resolved by the worker, never by the server (engine.md §2.6).
_DEFERRED_NAMES = frozenset({"keychain", "secret"})


@dataclass(frozen=True)
class CompiledPlaybook:
    """A registered playbook: the plan for the engine plus what the catalog stores beside it."""

    plan: dict[str, Any]
    document: dict[str, Any]
    path: str
    name: str
    kind: str
    api_version: str
    warnings: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class DocumentInfo:
    """What registration needs from any catalog document, executable or not."""

    document: dict[str, Any]
    kind: str
    name: str | None
    path: str | None


def normalize_kind(kind: object) -> str:
    """The catalog kind of data-model.md §4.7 (same rule as SQL `noetl.normalize_kind`)."""
    text = kind.strip().lower() if isinstance(kind, str) else ""
    if not text:
        return "playbook"
    return _KIND_ALIASES.get(text, text)


def is_executable_kind(kind: object) -> bool:
    """True for the kinds that get a plan (`playbook`, `agent`), after normalisation."""
    return normalize_kind(kind) in EXECUTABLE_KINDS


def read_document(text: str, *, kind_hint: str | None = None) -> DocumentInfo:
    """Parse any catalog document (credential, mcp, memory … included) without compiling it.

    Raises `PlaybookError` (`E_YAML`) when the text is not a YAML mapping. The kind is the
    document's own `kind`, else `kind_hint` (the request's resource type), normalised.
    """
    source, data = _load_mapping(text, None)
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    name = metadata.get("name") if isinstance(metadata.get("name"), str) and metadata.get("name") else None
    path = metadata.get("path") if isinstance(metadata.get("path"), str) and metadata.get("path") else name
    raw_kind = data.get("kind") if isinstance(data.get("kind"), str) and data.get("kind").strip() else kind_hint
    return DocumentInfo(data, normalize_kind(raw_kind), name, path)


def compile_playbook(
    text: str, *, path_hint: str | None = None, kind_hint: str | None = None
) -> CompiledPlaybook:
    """Compile a playbook, or raise `PlaybookError` with every problem found.

    `path_hint` (the request's path) only names the playbook in the error when the document gives
    no usable `metadata.path`/`name`; the catalog path always comes from the document (§1.1).
    A document of a non-executable kind (credential, mcp, memory, …) is refused with `E_SCHEMA`
    at `kind`: callers check `is_executable_kind(read_document(text).kind)` first and store such
    documents without a plan.
    """
    source, data = _load_mapping(text, path_hint)
    compiler = _Compiler(source, data, kind_hint)
    result = compiler.run()
    if compiler.out.problems or result is None:
        raise PlaybookError(compiler.out.problems, path=compiler.path or path_hint)
    return result


def iter_compiled_fields(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every compiled field of a plan (guards, loop collections and limits, set values)."""
    for step in plan["steps"].values():
        if step["when"] is not None:
            yield step["when"]
        yield from step["set"]
        loop = step["loop"]
        if loop is not None:
            yield loop["in"]
            if isinstance(loop["max_in_flight"], dict):
                yield loop["max_in_flight"]
        for arc in (step["router"] or {}).get("arcs", []):
            if arc["when"] is not None:
                yield arc["when"]
            yield from arc["set"]


def tool_path(tokens: tuple[str | int, ...]) -> str:
    """A path into a plan tool entry (`config.headers.Authorization`, `config.args[0]`).

    Keys are joined with `.`, list indices written `[i]`; a key containing `.`, `[`, `]` or `\\`
    has those characters backslash-escaped so every path splits back unambiguously.
    """
    out = ""
    for token in tokens:
        if isinstance(token, int):
            out += f"[{token}]"
        else:
            escaped = "".join("\\" + ch if ch in ".[]\\" else ch for ch in token)
            out += f".{escaped}" if out else escaped
    return out


def _load_mapping(text: str, path_hint: str | None) -> tuple[Source, dict[str, Any]]:
    source, yaml_problems = load(text)
    if yaml_problems or source is None:
        raise PlaybookError(
            [Problem("E_YAML", p.at, p.message, p.line, p.column) for p in yaml_problems],
            path=path_hint,
        )
    if not isinstance(source.data, dict):
        found = "empty" if source.data is None else type(source.data).__name__
        raise PlaybookError(
            [Problem("E_YAML", "", f"the playbook must be a YAML mapping, got {found}", 1, 1)],
            path=path_hint,
        )
    return source, source.data


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "mapping", list: "list", str: "string", bool: "boolean", int: "integer",
            float: "number"}.get(type(value), type(value).__name__)


@dataclass
class _Step:
    """A step while it is being compiled; becomes one entry of `plan.steps`."""

    name: str
    path: Path
    raw: dict[str, Any]
    node_type: str | None = None
    tool: dict[str, Any] | None = None
    when: dict[str, Any] | None = None
    set: list[dict[str, Any]] = field(default_factory=list)
    loop: dict[str, Any] | None = None
    router: dict[str, Any] | None = None
    virtual: bool = False
    # (target, path of the arc's `step` value) for target checks
    targets: list[tuple[str, Path]] = field(default_factory=list)


class _Compiler:
    def __init__(self, source: Source, data: dict[str, Any], kind_hint: str | None) -> None:
        self.out = Collector(source)
        self.data = data
        self.kind_hint = kind_hint
        self.path: str | None = None
        self.name: str | None = None
        self.kind = "playbook"
        self.api_version = ""
        self.workbook: dict[str, dict[str, Any]] = {}
        self.step_names: set[str] = set()

    # -- problems -------------------------------------------------------------------------------

    def error(self, code: str, path: Path, message: str, construct: str | None = None) -> None:
        self.out.error(code, path, message, construct)

    def field(self, value: object, path: Path, mode: str) -> dict[str, Any] | None:
        try:
            return compile_field(value, at=format_at(path), mode=mode)  # type: ignore[arg-type]
        except ExpressionError as err:
            self.out.expression(err, path)
            return None

    def check_strings(self, value: object, path: Path) -> None:
        """E_TEMPLATE_SYNTAX for every string under `value` that holds a template and does not parse."""
        for sub_path, text in _strings(value, path):
            for err in template_syntax_errors(text, at=format_at(sub_path)):
                self.out.expression(err, sub_path)

    # -- document -------------------------------------------------------------------------------

    def run(self) -> CompiledPlaybook | None:
        d = self.data
        self.top_level()
        workload = d.get("workload")
        if workload is None:
            workload = {}
        elif not isinstance(workload, dict):
            self.error("E_SCHEMA", ("workload",), f"workload must be a mapping, got {_type_name(workload)}")
            workload = {}
        else:
            self.check_strings(workload, ("workload",))
        keychain = d.get("keychain")
        if keychain is None:
            keychain = []
        elif not isinstance(keychain, list) or not all(isinstance(k, dict) for k in keychain):
            self.error("E_SCHEMA", ("keychain",), "keychain must be a list of mappings")
            keychain = []
        self.read_workbook()
        steps = self.read_workflow()
        if steps is None:
            return None
        entry = self.entry_step(steps)
        order, by_name = self.close_graph(steps)
        if self.out.problems or entry is None:
            return None
        analysis_arcs = {
            s.name: [Arc(s.name, a["to"]) for a in (s.router or {}).get("arcs", [])] for s in order
        }
        analysis = analyse([s.name for s in order], entry, analysis_arcs)
        for s in order:
            for arc, classified in zip((s.router or {}).get("arcs", []), analysis_arcs[s.name]):
                arc["back"] = classified.back
        for name in analysis.unreachable:
            s = by_name[name]
            if not s.virtual:
                self.out.warn("W_UNREACHABLE", s.path, f"step '{name}' cannot be reached from the entry step '{entry}'")
        plan_steps: dict[str, Any] = {}
        for index, s in enumerate(order):
            join = None
            if s.name in analysis.sources:
                join = {"sources": analysis.sources[s.name], "ancestors": analysis.ancestors[s.name]}
            plan_steps[s.name] = {
                "index": index,
                "node_type": s.node_type,
                "virtual": s.virtual,
                "tool": s.tool,
                "when": s.when,
                "set": s.set,
                "loop": s.loop,
                "router": s.router,
                "join": join,
            }
        assert self.path is not None and self.name is not None
        plan = {
            "plan_version": PLAN_FORMAT,
            "api_version": self.api_version,
            "name": self.name,
            "path": self.path,
            "subject_scope": "system" if self.path.removeprefix("/").startswith("system/") else "shared",
            "entry": entry,
            "order": [s.name for s in order],
            "workload": [[k, copy.deepcopy(v)] for k, v in workload.items()],
            "keychain": copy.deepcopy(keychain),
            "steps": plan_steps,
            "joins": list(analysis.joins),
            "warnings": self.out.warnings,
        }
        return CompiledPlaybook(
            plan=plan,
            document=d,
            path=self.path,
            name=self.name,
            kind=self.kind,
            api_version=self.api_version,
            warnings=self.out.warnings,
        )

    def top_level(self) -> None:
        d = self.data
        api = d.get("apiVersion")
        if api is None:
            self.error("E_SCHEMA", ("apiVersion",), "apiVersion is required (noetl.io/v2)")
        elif api not in API_VERSIONS:
            self.error("E_SCHEMA", ("apiVersion",), f"apiVersion {api!r} is not supported; use noetl.io/v2")
        else:
            self.api_version = API_VERSIONS[api]
        kind = d.get("kind")
        if kind is None and self.kind_hint:
            kind = self.kind_hint
        if not isinstance(kind, str) or not kind.strip():
            self.error("E_SCHEMA", ("kind",), "kind is required (Playbook or Agent)")
        else:
            self.kind = normalize_kind(kind)
            if self.kind not in EXECUTABLE_KINDS:
                self.error("E_SCHEMA", ("kind",),
                           f"kind {kind!r} is not executable; only Playbook and Agent documents are compiled")
        metadata = d.get("metadata")
        if not isinstance(metadata, dict):
            self.error("E_SCHEMA", ("metadata",), "metadata must be a mapping with a name")
        else:
            name = metadata.get("name")
            if not isinstance(name, str) or not name:
                self.error("E_SCHEMA", ("metadata", "name"), "metadata.name must be a non-empty string")
            else:
                self.name = name
            path = metadata.get("path")
            if path is not None and (not isinstance(path, str) or not path):
                self.error("E_SCHEMA", ("metadata", "path"), "metadata.path must be a non-empty string")
            elif isinstance(path, str):
                self.path = path
            else:
                self.path = self.name
        for key in d:
            if key not in _TOP_KEYS:
                self.out.warn("W_TOP_KEY", (key,), f"top-level key '{key}' is ignored")

    def read_workbook(self) -> None:
        raw = self.data.get("workbook")
        if raw is None:
            return
        if not isinstance(raw, list):
            self.error("E_SCHEMA", ("workbook",), "workbook must be a list of mappings")
            return
        for n, entry in enumerate(raw):
            path: Path = ("workbook", n)
            if not isinstance(entry, dict):
                self.error("E_WORKBOOK", path, "a workbook entry must be a mapping with name and tool")
                continue
            name = entry.get("name")
            if not isinstance(name, str) or not name:
                self.error("E_WORKBOOK", path + ("name",), "a workbook entry needs a non-empty name")
                continue
            if name in self.workbook:
                self.error("E_WORKBOOK", path + ("name",), f"workbook entry '{name}' is defined twice")
                continue
            tool = entry.get("tool")
            if not isinstance(tool, dict):
                self.error("E_WORKBOOK", path + ("tool",), f"workbook entry '{name}' needs a tool mapping")
                continue
            kind = tool.get("kind")
            if kind == "workbook":
                self.error("E_WORKBOOK", path + ("tool", "kind"),
                           f"workbook entry '{name}' cannot itself be a workbook reference")
                continue
            if not self.check_kind(tool, path + ("tool",)):
                continue
            if "input" in tool and "args" in tool:
                self.error("E_SCHEMA", path + ("tool",), "give either input or args, not both")
            self.check_strings(tool, path + ("tool",))
            resolved = {k: copy.deepcopy(v) for k, v in tool.items() if k != "assert"}
            self.workbook[name] = resolved

    def check_kind(self, tool: dict[str, Any], path: Path) -> bool:
        """E_TOOL_REQUIRED / E_UNSUPPORTED / E_TOOL_KIND for `tool.kind`; True when usable."""
        kind = tool.get("kind")
        if not isinstance(kind, str) or not kind.strip():
            self.error("E_TOOL_REQUIRED", path + ("kind",), "tool.kind is required and must be a non-empty string")
            return False
        if kind == "iterator":
            self.error("E_UNSUPPORTED", path + ("kind",), "tool kind 'iterator' is not supported; use step.loop")
            return False
        if kind not in TOOL_KINDS:
            self.error("E_TOOL_KIND", path + ("kind",),
                       f"unknown tool kind '{kind}'; accepted kinds: {', '.join(TOOL_KINDS)}")
            return False
        return True

    # -- workflow -------------------------------------------------------------------------------

    def read_workflow(self) -> list[_Step] | None:
        raw = self.data.get("workflow")
        if not isinstance(raw, list) or not raw:
            self.error("E_SCHEMA", ("workflow",), "workflow must be a non-empty list of steps")
            return None
        named: list[tuple[str, Path, dict[str, Any]]] = []
        for i, item in enumerate(raw):
            path: Path = ("workflow", i)
            if not isinstance(item, dict):
                self.error("E_SCHEMA", path, f"a step must be a mapping, got {_type_name(item)}")
                continue
            name = item.get("step")
            if not isinstance(name, str):
                self.error("E_SCHEMA", path + ("step",) if "step" in item else path,
                           "step name (key 'step') is required and must be a string")
                continue
            if not name.strip():
                self.error("E_STEP_NAME", path + ("step",), "step name must not be empty")
                continue
            if name in RESERVED_NAMES:
                self.error("E_STEP_NAME", path + ("step",), f"step name '{name}' is reserved")
                continue
            if name in self.step_names:
                self.error("E_DUPLICATE_STEP", path + ("step",), f"step '{name}' is defined more than once")
                continue
            if not is_identifier(name):
                self.out.warn("W_STEP_NAME", path + ("step",),
                              f"step name '{name}' is not an identifier; templates cannot refer to it")
            self.step_names.add(name)
            named.append((name, path, item))
        return [self.read_step(name, path, item) for name, path, item in named]

    def read_step(self, name: str, path: Path, raw: dict[str, Any]) -> _Step:
        step = _Step(name, path, raw)
        for key in raw:
            if key not in _STEP_KEYS:
                self.out.warn("W_STEP_KEY", path + (key,), f"step key '{key}' is ignored")
        if "case" in raw:
            self.error("E_UNSUPPORTED", path + ("case",),
                       "case/when/then routing is not supported; use next.arcs")
        next_mode = self.step_spec(raw.get("spec"), path + ("spec",))
        step_input = self.step_input(raw, path)
        step.node_type, step.tool = self.read_tool(name, path, raw.get("tool"), step_input)
        if raw.get("when") is not None:
            step.when = self.field(raw["when"], path + ("when",), "guard")
        if "set" in raw:
            step.set = self.set_block(raw["set"], path + ("set",))
        if raw.get("loop") is not None:
            step.loop = self.read_loop(raw["loop"], path + ("loop",))
            if step.loop is not None and name == "end" and raw.get("tool") is None:
                self.error("E_LOOP", path + ("loop",), f"loop on step '{name}' needs a tool to run per item")
        step.router = self.read_next(step, raw.get("next"), next_mode, path + ("next",))
        return step

    def step_spec(self, spec: object, path: Path) -> str | None:
        if spec is None:
            return None
        if not isinstance(spec, dict):
            self.error("E_SCHEMA", path, "step spec must be a mapping")
            return None
        mode = spec.get("next_mode")
        if mode is not None and mode not in ("exclusive", "inclusive"):
            self.error("E_SCHEMA", path + ("next_mode",), f"next_mode must be exclusive or inclusive, got {mode!r}")
            mode = None
        if "on_error" in spec:
            self.out.warn("W_IGNORED", path + ("on_error",), "spec.on_error is ignored: a failed step fails the execution")
        policy = spec.get("policy")
        if isinstance(policy, dict) and "admit" in policy:
            self.out.warn("W_IGNORED", path + ("policy", "admit"), "spec.policy.admit is ignored")
        return mode

    def step_input(self, raw: dict[str, Any], path: Path) -> tuple[dict[str, Any], Path] | None:
        if "input" in raw and "args" in raw:
            self.error("E_SCHEMA", path + ("args",), "give either input or args on a step, not both")
            return None
        key = "input" if "input" in raw else "args" if "args" in raw else None
        if key is None or raw[key] is None:
            return None
        if not isinstance(raw[key], dict):
            self.error("E_SCHEMA", path + (key,), f"step {key} must be a mapping")
            return None
        self.check_strings(raw[key], path + (key,))
        return raw[key], path + (key,)

    # -- tools ----------------------------------------------------------------------------------

    def read_tool(
        self, name: str, path: Path, raw: object, step_input: tuple[dict[str, Any], Path] | None
    ) -> tuple[str | None, dict[str, Any] | None]:
        tool_path = path + ("tool",)
        if raw is None:
            if name != "end":
                self.error("E_TOOL_REQUIRED", path, f"tool is required for step '{name}'")
            elif step_input is not None:
                self.out.warn("W_IGNORED", step_input[1], "input of a tool-less step is ignored")
            return None, None
        if isinstance(raw, list):
            if step_input is not None:
                self.out.warn("W_STEP_INPUT_PIPELINE", step_input[1],
                              "step input is not merged into pipeline tasks; it is ignored")
            return self.pipeline(raw, tool_path)
        if not isinstance(raw, dict):
            self.error("E_SCHEMA", tool_path, f"tool must be a mapping or a list of tasks, got {_type_name(raw)}")
            return None, None
        if not self.check_kind(raw, tool_path):
            return None, None
        if "input" in raw and "args" in raw:
            self.error("E_SCHEMA", tool_path + ("args",), "give either input or args on a tool, not both")
            return None, None
        for key in ("input", "args"):
            if raw.get(key) is not None and not isinstance(raw[key], dict):
                self.error("E_SCHEMA", tool_path + (key,), f"tool {key} must be a mapping")
                return None, None
        checked = False
        if raw["kind"] == "workbook":
            resolved = self.resolve_workbook(raw, tool_path)
            if resolved is None:
                return None, None
            raw, checked = resolved, True
        if raw["kind"] == "task_sequence":
            if step_input is not None:
                self.out.warn("W_STEP_INPUT_PIPELINE", step_input[1],
                              "step input is not merged into pipeline tasks; it is ignored")
            for key in raw:
                if key not in ("kind", "tasks"):
                    self.out.warn("W_IGNORED", tool_path + (key,), f"task_sequence key '{key}' is ignored")
            tasks = raw.get("tasks")
            if not isinstance(tasks, list):
                self.error("E_PIPELINE", tool_path + ("tasks",), "a task_sequence tool needs a list of tasks")
                return None, None
            return self.pipeline(tasks, tool_path + ("tasks",))
        if not checked:
            self.check_strings(raw, tool_path)
        return raw["kind"], self.single_tool(raw, step_input)

    def resolve_workbook(self, ref: dict[str, Any], path: Path) -> dict[str, Any] | None:
        """The deep copy of the referenced entry's tool with the call-site input overlaid."""
        name = ref.get("name")
        if not isinstance(name, str) or not name:
            self.error("E_WORKBOOK", path + ("name",), "a workbook reference needs the entry name")
            return None
        if name not in self.workbook:
            known = ", ".join(sorted(self.workbook)) or "none"
            self.error("E_WORKBOOK", path + ("name",), f"unknown workbook entry '{name}' (defined: {known})")
            return None
        for key in ref:
            if key not in ("kind", "name", "input", "args"):
                self.out.warn("W_WORKBOOK_KEY", path + (key,), f"key '{key}' of a workbook reference is ignored")
        tool = copy.deepcopy(self.workbook[name])
        key = "input" if "input" in ref else "args" if "args" in ref else None
        if key is not None and ref[key] is not None:
            if not isinstance(ref[key], dict):
                self.error("E_SCHEMA", path + (key,), f"tool {key} must be a mapping")
                return None
            self.check_strings(ref[key], path + (key,))
            entry_key = "input" if "input" in tool else "args" if "args" in tool else "input"
            base = tool.pop(entry_key, None)
            merged = dict(base) if isinstance(base, dict) else {}
            merged.update(copy.deepcopy(ref[key]))
            tool["input"] = merged
        return tool

    def single_tool(
        self, raw: dict[str, Any], step_input: tuple[dict[str, Any], Path] | None
    ) -> dict[str, Any]:
        config = {k: copy.deepcopy(v) for k, v in raw.items() if k not in ("input", "args")}
        tool_input = raw.get("input", raw.get("args"))
        effective = dict(copy.deepcopy(tool_input)) if isinstance(tool_input, dict) else {}
        if step_input is not None:
            effective.update(copy.deepcopy(step_input[0]))
        verbatim: list[str] = []
        spec = config.get("spec")
        if isinstance(spec, dict) and "policy" in spec:
            verbatim.append("config.spec.policy")
        for key in ("set", "eval"):
            if key in config:
                verbatim.append(f"config.{key}")
        skip = {("config", "spec", "policy"), ("config", "set"), ("config", "eval")}
        deferred = [
            tool_path(p)
            for p, text in _strings({"config": config, "input": effective}, ())
            if not any(p[: len(s)] == s for s in skip)
            and has_template(text)
            and _references_secrets(text)
        ]
        return {
            "form": "single",
            "kind": config["kind"],
            "config": config,
            "input": effective,
            "tasks": None,
            "verbatim": verbatim,
            "deferred": deferred,
            "timeout_seconds": _timeout_seconds(config),
        }

    def pipeline(self, items: list[Any], path: Path) -> tuple[str | None, dict[str, Any] | None]:
        if not items:
            self.error("E_PIPELINE", path, "a pipeline needs at least one task")
            return None, None
        tasks: list[dict[str, Any]] = []
        labels: set[str] = set()
        ok = True
        for k, item in enumerate(items):
            item_path = path + (k,)
            task = self.pipeline_task(item, k, item_path)
            if task is None:
                ok = False
                continue
            if task["name"] in labels:
                self.error("E_PIPELINE", item_path, f"task label '{task['name']}' is used twice in this pipeline")
                ok = False
                continue
            labels.add(task["name"])
            tasks.append(task)
        if not ok:
            return None, None
        return "task_sequence", {
            "form": "pipeline",
            "kind": "task_sequence",
            "config": {"kind": "task_sequence"},
            "input": {},
            "tasks": tasks,
            "verbatim": ["tasks"],
            "deferred": [],
            "timeout_seconds": None,
        }

    def pipeline_task(self, item: object, k: int, path: Path) -> dict[str, Any] | None:
        """Normalise one pipeline item to a flat `{name, kind, …}` mapping (§1.3.2)."""
        if not isinstance(item, dict):
            self.error("E_PIPELINE", path, f"a pipeline task must be a mapping, got {_type_name(item)}")
            return None
        if "kind" in item:
            body, body_path = item, path
            label = item.get("name", f"task_{k}")
            if not isinstance(label, str) or not label:
                self.error("E_PIPELINE", path + ("name",), "a task name must be a non-empty string")
                return None
        elif len(item) == 1 and isinstance(next(iter(item.values())), dict) and "kind" in next(iter(item.values())):
            label = next(iter(item))
            body, body_path = item[label], path + (label,)
        else:
            self.error("E_PIPELINE", path,
                       "a pipeline task is {name, kind, …}, {kind, …} or {<label>: {kind, …}}")
            return None
        if not self.check_kind(body, body_path):
            return None
        if "input" in body and "args" in body:
            self.error("E_SCHEMA", body_path + ("args",), "give either input or args on a task, not both")
            return None
        if body["kind"] == "workbook":
            # Nested items name the entry with `name`; in a flat item `name` is label and entry.
            resolved = self.resolve_workbook(body, body_path)
            if resolved is None:
                return None
            return {"name": label, **{k2: v for k2, v in resolved.items() if k2 != "name"}}
        self.check_strings(body, body_path)
        return {"name": label, **{k2: copy.deepcopy(v) for k2, v in body.items() if k2 != "name"}}

    # -- control flow ---------------------------------------------------------------------------

    def set_block(self, raw: object, path: Path) -> list[dict[str, Any]]:
        if not isinstance(raw, dict):
            self.error("E_SCHEMA", path, f"set must be a mapping, got {_type_name(raw)}")
            return []
        entries = []
        for key, value in raw.items():
            var = _set_var(key)
            if var is None:
                self.error("E_SET_KEY", path + (key,),
                           f"set key '{key}' must be ctx.<name>, iter.<name>, step.<name> or <name> "
                           "with an identifier name")
                continue
            compiled = self.field(value, path + (key,), "set")
            if compiled is not None:
                entries.append({"key": key, "var": var, **compiled})
        return entries

    def read_loop(self, raw: object, path: Path) -> dict[str, Any] | None:
        if not isinstance(raw, dict):
            self.error("E_SCHEMA", path, f"loop must be a mapping, got {_type_name(raw)}")
            return None
        ok = True
        if "cursor" in raw:
            self.error("E_UNSUPPORTED", path + ("cursor",), "cursor loops are not supported")
            ok = False
        for key in raw:
            if key not in _LOOP_KEYS and key != "cursor":
                self.out.warn("W_IGNORED", path + (key,), f"loop key '{key}' is ignored")
        spec = raw.get("spec") if raw.get("spec") is not None else {}
        if not isinstance(spec, dict):
            self.error("E_SCHEMA", path + ("spec",), "loop.spec must be a mapping")
            spec, ok = {}, False
        mode = spec.get("mode", "sequential")
        if mode == "cursor" or "frame" in spec:
            self.error("E_UNSUPPORTED", path + ("spec", "mode" if mode == "cursor" else "frame"),
                       "cursor loops are not supported")
            ok = False
        elif mode not in ("sequential", "parallel"):
            self.error("E_SCHEMA", path + ("spec", "mode"), f"loop mode must be sequential or parallel, got {mode!r}")
            ok = False
        for key in spec:
            if key not in _LOOP_SPEC_KEYS and key != "frame":
                self.out.warn("W_IGNORED", path + ("spec", key), f"loop.spec key '{key}' is ignored")
        iterator = raw.get("iterator", "item")
        if not is_identifier(iterator):
            self.error("E_LOOP", path + ("iterator",), f"loop iterator {iterator!r} must be an identifier")
            ok = False
        elif iterator in RESERVED_NAMES:
            self.error("E_LOOP", path + ("iterator",), f"loop iterator '{iterator}' is a reserved name")
            ok = False
        elif iterator in self.step_names:
            self.error("E_LOOP", path + ("iterator",), f"loop iterator '{iterator}' is also a step name")
            ok = False
        collection = None
        if "in" not in raw or raw["in"] is None:
            self.error("E_LOOP", path, "loop.in is required")
            ok = False
        else:
            collection = self.field(raw["in"], path + ("in",), "collection")
            ok = ok and collection is not None
        mif: int | dict[str, Any] | None = None
        if spec.get("max_in_flight") is not None:
            raw_mif = spec["max_in_flight"]
            mif_path = path + ("spec", "max_in_flight")
            if isinstance(raw_mif, bool) or not isinstance(raw_mif, (int, str)) or (
                isinstance(raw_mif, int) and raw_mif < 1
            ):
                self.error("E_LOOP", mif_path,
                           f"max_in_flight must be a positive integer or a template, got {raw_mif!r}")
                ok = False
            elif isinstance(raw_mif, int):
                mif = raw_mif
            else:
                mif = self.field(raw_mif, mif_path, "max_in_flight")
                ok = ok and mif is not None
            if mode == "sequential" and raw_mif != 1:
                self.out.warn("W_MIF_SEQUENTIAL", mif_path, "max_in_flight is ignored by a sequential loop")
                mif = None
        if not ok:
            return None
        return {"in": collection, "iterator": iterator, "mode": mode, "max_in_flight": mif}

    def read_next(
        self, step: _Step, raw: object, step_mode: str | None, path: Path
    ) -> dict[str, Any] | None:
        if raw is None:
            return None
        on_no_match = "complete"
        if isinstance(raw, str):
            mode, items = "exclusive", [(raw, path)]
        elif isinstance(raw, list):
            if not raw:
                self.error("E_SCHEMA", path, "next must not be an empty list")
                return None
            mode = "inclusive" if all(isinstance(x, str) for x in raw) else step_mode or "exclusive"
            items = [(x, path + (j,)) for j, x in enumerate(raw)]
        elif isinstance(raw, dict):
            for key in raw:
                if key not in _ROUTER_KEYS:
                    self.error("E_SCHEMA", path + (key,),
                               f"unknown key '{key}' in next; a router has spec and arcs")
            spec = raw.get("spec") if raw.get("spec") is not None else {}
            mode = step_mode or "exclusive"
            if not isinstance(spec, dict):
                self.error("E_SCHEMA", path + ("spec",), "next.spec must be a mapping")
            else:
                if "mode" in spec:
                    if spec["mode"] in ("exclusive", "inclusive"):
                        mode = spec["mode"]
                    else:
                        self.error("E_SCHEMA", path + ("spec", "mode"),
                                   f"next mode must be exclusive or inclusive, got {spec['mode']!r}")
                if "on_no_match" in spec:
                    if spec["on_no_match"] in ("complete", "quiet"):
                        on_no_match = spec["on_no_match"]
                    else:
                        self.error("E_SCHEMA", path + ("spec", "on_no_match"),
                                   f"on_no_match must be complete or quiet, got {spec['on_no_match']!r}")
            arcs = raw.get("arcs")
            if not isinstance(arcs, list) or not arcs:
                self.error("E_SCHEMA", path + ("arcs",) if "arcs" in raw else path,
                           "next.arcs must be a non-empty list of arcs")
                return None
            items = []
            for j, arc in enumerate(arcs):
                if not isinstance(arc, dict):
                    self.error("E_SCHEMA", path + ("arcs", j), "an arc must be a mapping with a step")
                    continue
                items.append((arc, path + ("arcs", j)))
        else:
            self.error("E_SCHEMA", path, f"next must be a step name, a list or a router, got {_type_name(raw)}")
            return None
        arcs_out = []
        for raw_arc, arc_path in items:
            arc = self.read_arc(step, raw_arc, arc_path)
            if arc is not None:
                arc["n"] = len(arcs_out)
                arcs_out.append(arc)
        return {"mode": mode, "on_no_match": on_no_match, "implicit": False,
                "arcs": [{k: a[k] for k in ("n", "to", "back", "when", "set")} for a in arcs_out]}

    def read_arc(self, step: _Step, raw: object, path: Path) -> dict[str, Any] | None:
        if isinstance(raw, str):
            if not raw:
                self.error("E_SCHEMA", path, "an arc target must be a non-empty step name")
                return None
            step.targets.append((raw, path))
            return {"to": raw, "back": False, "when": None, "set": []}
        if not isinstance(raw, dict):
            self.error("E_SCHEMA", path, f"an arc must be a step name or a mapping, got {_type_name(raw)}")
            return None
        ok = True
        for key in raw:
            if key not in _ARC_KEYS:
                self.error("E_SCHEMA", path + (key,),
                           f"unknown arc key '{key}'; an arc has step, when (or cond), set (or args), spec, desc")
                ok = False
        target = raw.get("step")
        if not isinstance(target, str) or not target:
            self.error("E_SCHEMA", path + ("step",) if "step" in raw else path,
                       "an arc needs a target step name (key 'step')")
            ok = False
        if "when" in raw and "cond" in raw:
            self.error("E_SCHEMA", path + ("cond",), "give either when or cond on an arc, not both")
            ok = False
        if "set" in raw and "args" in raw:
            self.error("E_SCHEMA", path + ("args",), "give either set or args on an arc, not both")
            ok = False
        if not ok:
            return None
        guard_key = "when" if "when" in raw else "cond"
        when = None
        if raw.get(guard_key) is not None:
            when = self.field(raw[guard_key], path + (guard_key,), "guard")
        set_key = "set" if "set" in raw else "args"
        sets = self.set_block(raw[set_key], path + (set_key,)) if raw.get(set_key) is not None else []
        step.targets.append((target, path + ("step",)))
        return {"to": target, "back": False, "when": when, "set": sets}

    # -- whole-graph rules ----------------------------------------------------------------------

    def entry_step(self, steps: list[_Step]) -> str | None:
        executor = self.data.get("executor")
        entry = None
        if isinstance(executor, dict) and isinstance(executor.get("spec"), dict):
            entry = executor["spec"].get("entry_step")
        if entry is not None:
            if not isinstance(entry, str) or entry not in self.step_names:
                self.error("E_NO_ENTRY", ("executor", "spec", "entry_step"),
                           f"executor.spec.entry_step {entry!r} does not name a step")
                return None
            return entry
        if "start" not in self.step_names:
            self.error("E_NO_ENTRY", ("workflow",), "workflow must contain a step named 'start'")
            return None
        return "start"

    def close_graph(self, steps: list[_Step]) -> tuple[list[_Step], dict[str, _Step]]:
        """Check targets, add the virtual `end` and the implicit arcs to `end` (§1.4.3, §1.8)."""
        by_name = {s.name: s for s in steps}
        order = list(steps)
        wants_end = False
        for s in steps:
            for target, target_path in s.targets:
                if target in by_name:
                    continue
                if target == "end":
                    wants_end = True
                else:
                    self.error("E_UNKNOWN_TARGET", target_path,
                               f"arc from '{s.name}' targets unknown step '{target}'")
        if wants_end and "end" not in by_name:
            end = _Step("end", ("workflow",), {}, virtual=True)
            order.append(end)
            by_name["end"] = end
        if "end" in by_name:
            for s in order:
                if s.name != "end" and s.raw.get("next") is None and not s.virtual:
                    s.router = {"mode": "exclusive", "on_no_match": "complete", "implicit": True,
                                "arcs": [{"n": 0, "to": "end", "back": False, "when": None, "set": []}]}
        return order, by_name


def _set_var(key: object) -> str | None:
    """The variable a set key writes (`ctx.x`, `iter.x`, `step.x`, `x` → `x`), or None if malformed."""
    if not isinstance(key, str):
        return None
    prefix, dot, rest = key.partition(".")
    if not dot:
        return key if is_identifier(key) else None
    return rest if prefix in _SET_PREFIXES and is_identifier(rest) else None


def _strings(value: object, path: Path) -> Iterator[tuple[Path, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, path + (i,))


def _references_secrets(text: str) -> bool:
    try:
        return bool(undeclared_names(text) & _DEFERRED_NAMES)
    except ExpressionError:
        return False  # reported as E_TEMPLATE_SYNTAX by the string check


def _timeout_seconds(config: dict[str, Any]) -> int | float | None:
    """The command lease of engine.md §5.0: numeric `timeout_seconds`, else numeric `timeout`."""
    for key in ("timeout_seconds", "timeout"):
        value = config.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
    return None
