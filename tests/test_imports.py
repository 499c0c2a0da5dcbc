"""The shape of the package: no import cycles inside ``nlp/``, inference code never imports
``nlp.training``, and nothing probes labellers or entity extractors for optional members
(they declare them: ``nlp.components.base.SentenceLabeller``, ``EntityExtractor``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "nlp"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _resolve(mod: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(mod: str, path: Path, known: set[str]) -> list[tuple[str, int, bool]]:
    """(imported module inside nlp, line, at module level) for every import statement of a
    module, module-level and inside functions alike; relative imports resolved; ``from X import
    y`` counts as an import of ``X.y`` when that is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    for n in tree.body:  # imports under a module-level if/try are module-level too
        if isinstance(n, (ast.If, ast.Try)):
            top |= {id(m) for m in ast.walk(n)}
    is_pkg = path.name == "__init__.py"
    out = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            src = _resolve(mod, is_pkg, node)
            for a in node.names:
                sub = f"{src}.{a.name}" if src else a.name
                targets.append(sub if sub in known else src)
        for t in targets:
            # the deepest module of the package named by t
            while t and t not in known and "." in t:
                t = t.rsplit(".", 1)[0]
            if t in known and t != mod:
                out.append((t, node.lineno, id(node) in top))
    return out


def import_graph() -> dict[str, list[tuple[str, int, bool]]]:
    mods = modules()
    known = set(mods)
    return {m: imports_of(m, p, known) for m, p in mods.items()}


def find_cycles(graph: dict[str, list[tuple[str, int, bool]]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w, _, _ in graph.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_walk_sees_relative_and_function_level_imports():
    graph = import_graph()
    assert "nlp.pipeline" in graph and "nlp.components.base" in graph
    pipeline = {(t, top) for t, _, top in graph["nlp.pipeline"]}
    assert ("nlp.baselines", False) in pipeline  # inside a function
    assert ("nlp.text", True) in pipeline and ("nlp.components.base", True) in pipeline
    assert any(t == "nlp.doc" for t, _, _ in graph["nlp.components.base"])  # from ..doc import
    assert find_cycles({"a": [("b", 1, True)], "b": [("c", 1, False)], "c": [("a", 1, False)]}) == [["a", "b", "c"]]


def test_no_import_cycle_inside_nlp():
    graph = import_graph()
    cycles = find_cycles(graph)
    detail = []
    for comp in cycles:
        members = set(comp)
        detail.append(" ↔ ".join(comp) + ": " + "; ".join(
            f"{m} → {t} (line {line})" for m in comp for t, line, _ in graph[m] if t in members))
    assert not cycles, "import cycles:\n" + "\n".join(detail)


def test_inference_code_never_imports_training():
    bad = []
    for mod, edges in import_graph().items():
        if mod.startswith("nlp.training"):
            continue
        for target, line, top in edges:
            if not target.startswith("nlp.training"):
                continue
            if mod == "nlp.cli" and not top or mod == "nlp.cli_train" or mod == "nlp.cli_options" and not top:
                continue  # the command line's training commands (their options are the training configs)
            bad.append(f"{mod} line {line} imports {target}")
    assert not bad, "\n".join(bad)


# getattr/hasattr on something a labeller or extractor name could match, left in inference code
# with the reason it is not probing a labeller or an entity extractor: (module, first argument) → reason
ALLOWED_PROBES = {
    ("nlp.ner", "self.tokenizer"): "a transformers tokenizer (is_fast), not the extractor",
}
LABELLER_WORDS = re.compile(r"\b(labeller|lab|extractor|ext|entity_extractor|spec)\b")


def _probes(path: Path):
    """(first argument's source, line, enclosing class or None) of each getattr/hasattr call."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []

    def walk(node, cls):
        for child in ast.iter_child_nodes(node):
            c = child.name if isinstance(child, ast.ClassDef) else cls
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and \
                    child.func.id in ("getattr", "hasattr") and child.args:
                out.append((ast.unparse(child.args[0]), child.lineno, cls))
            walk(child, c)

    walk(tree, None)
    return out


def test_no_probing_of_labellers_or_extractors_in_inference_code():
    bad = []
    for mod, path in modules().items():
        if mod.startswith("nlp.training"):
            continue
        for arg, line, cls in _probes(path):
            on_component = arg == "self" and cls is not None and re.search(r"(Labeller|Extractor|Pipeline)$", cls)
            if (LABELLER_WORDS.search(arg) or on_component) and (mod, arg) not in ALLOWED_PROBES:
                bad.append(f"{mod} line {line}: getattr/hasattr on {arg}")
    assert not bad, "probing for members (declare them instead, or list the use with a reason):\n" + "\n".join(bad)
