"""The playbook compiler: YAML → validated playbook → the compiled plan of engine.md §2.

Usage at registration::

    info = read_document(text)
    if is_executable_kind(info.kind):
        compiled = compile_playbook(text)      # raises PlaybookError with every problem
        store(compiled.plan, PLAN_FORMAT, compiled.warnings)
    else:
        store(info.document, plan=None)
"""

from noetl_pg.playbook.compiler import (
    API_VERSIONS,
    EXECUTABLE_KINDS,
    PLAN_FORMAT,
    RESERVED_NAMES,
    TOOL_KINDS,
    CompiledPlaybook,
    DocumentInfo,
    compile_playbook,
    is_executable_kind,
    iter_compiled_fields,
    normalize_kind,
    read_document,
    tool_path,
)
from noetl_pg.playbook.problems import PlaybookError, Problem

__all__ = [
    "API_VERSIONS",
    "EXECUTABLE_KINDS",
    "PLAN_FORMAT",
    "RESERVED_NAMES",
    "TOOL_KINDS",
    "CompiledPlaybook",
    "DocumentInfo",
    "PlaybookError",
    "Problem",
    "compile_playbook",
    "is_executable_kind",
    "iter_compiled_fields",
    "normalize_kind",
    "read_document",
    "tool_path",
]
