import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_app_does_not_import_heavy_sdks():
    script = (
        "import sys, app; heavy = [m for m in ('anthropic', 'openai', 'stripe', 'markdown_it', "
        "'mdit_py_plugins', 'linkify_it', 'nh3', 'requests', 'babel', 'pyotp', 'segno') "
        "if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == ""


def test_a_deferred_module_used_by_many_threads_at_once_is_whole_for_each():
    """Concurrent first requests (threaded local server) all see the schemas loaded."""
    code = (
        "import threading\n"
        "from chalicelib.lazy import lazy_module\n"
        "schemas = lazy_module('chalicelib.api.schemas')\n"
        "start, seen = threading.Barrier(16), []\n"
        "def use():\n"
        "    start.wait()\n"
        "    seen.append(schemas.SignupIn.__name__)\n"
        "threads = [threading.Thread(target=use) for _ in range(16)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "assert seen == ['SignupIn'] * 16, seen\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
