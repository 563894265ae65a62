"""API handlers are thin: they call a service of the domain, never a store or adapter method
themselves (the service is where the tenant, role and business rules are)."""

import ast
from pathlib import Path

API = Path(__file__).resolve().parents[2] / "chalicelib" / "api"
# Attributes of a deps object that are stores or adapters.
ADAPTER_ATTRIBUTES = {"store", "mailbox", "blobs", "uploads", "files", "images", "outbox"}


def _reaches_an_adapter(call: ast.Call) -> bool:
    """`bootstrap.x().method(...)` or `deps.store.method(...)`."""
    function = call.func
    if not isinstance(function, ast.Attribute):
        return False
    receiver = function.value
    if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute):
        owner = receiver.func.value
        if (
            isinstance(owner, ast.Name)
            and owner.id == "bootstrap"
            and receiver.func.attr != "clock"
        ):
            return True
    return isinstance(receiver, ast.Attribute) and receiver.attr in ADAPTER_ATTRIBUTES


def _direct_adapter_calls() -> list[str]:
    found = []
    for path in sorted(API.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and _reaches_an_adapter(node):
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node.func)}")
    return found


def test_no_handler_calls_a_store_or_adapter_directly():
    assert _direct_adapter_calls() == []


def test_the_check_sees_a_direct_store_call():
    tree = ast.parse("bootstrap.ai_store().usage(w, m)\ndeps.store.get_user(u)")
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _reaches_an_adapter(n)]
    assert len(calls) == 2
