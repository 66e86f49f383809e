"""noxops: the installed closure of a project's requirements, as ``name==version`` lines, for
the dependency audit (noxops.stages.security).

It follows the extras each requirement asks for (``psycopg[binary]`` -> psycopg-binary) and
leaves out the project's own optional extras. Copied into the session's environment
(noxops.runtime.inject) and run there, on the project's Python (3.9 on), without noxops installed:
``python noxops_list_deps.py <project name>``."""

from __future__ import annotations

import importlib.metadata as m
import re
import sys


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(project: str) -> list[str]:
    """The distributions ``project`` needs, installed, as ``name==version``, by name."""
    installed = {norm(d.metadata["Name"]): d for d in m.distributions() if d.metadata["Name"]}
    todo: list[tuple[str, frozenset[str]]] = [(norm(project), frozenset())]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen or name not in installed:
            continue
        seen.add((name, extras))
        for req in installed[name].requires or []:
            spec, _, marker = req.partition(";")
            wanted = re.findall(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
            if wanted and not any(norm(w) in extras for w in wanted):
                continue
            found = re.match(r"\s*([A-Za-z0-9._-]+)\s*(?:\[([^\]]*)\])?", spec)
            if found:
                asked = frozenset(norm(e) for e in (found.group(2) or "").split(",") if e.strip())
                todo.append((norm(found.group(1)), asked))
    names = {name for name, _ in seen} - {norm(project)}
    return [f"{installed[n].metadata['Name']}=={installed[n].version}" for n in sorted(names)]


if __name__ == "__main__":
    for line in closure(sys.argv[1]):
        print(line)
