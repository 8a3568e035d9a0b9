"""One numba cache for `make` and an activated venv, and a one-line notice when kernels compile."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from research import _numba

ROOT = Path(__file__).resolve().parents[1]
#: A subprocess that imports a kernel and calls it once: compiles it on a cold cache, loads it on a warm one.
KERNEL = ("import numpy as np\n"
          "from research.signals.nb import streak_nb\n"
          "streak_nb(np.array([[1.0], [-2.0], [3.0]]))\n"
          "import os; print(os.environ['NUMBA_CACHE_DIR'])\n")


def _run(env: dict[str, str], code: str = KERNEL) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", env=env,
                          timeout=120)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["PYTHONPATH"] = str(ROOT)
    return {**env, **extra}


def test_default_cache_dir_is_the_makefiles_in_a_checkout():
    assert _numba.checkout_root() == ROOT
    assert _numba.default_cache_dir() == ROOT / ".numba_cache"
    # the Makefile exports the same folder, so `make` and an activated venv share one cache
    assert "NUMBA_CACHE_DIR := $(CURDIR)/.numba_cache" in (ROOT / "Makefile").read_text()


def test_the_package_sets_the_default_only_when_the_user_has_not(tmp_path):
    done = _run(_env(), "import research, os; print(os.environ['NUMBA_CACHE_DIR'])")
    assert done.stdout.strip() == str(ROOT / ".numba_cache"), done.stderr
    mine = str(tmp_path / "mine")
    done = _run(_env(NUMBA_CACHE_DIR=mine), "import research, os; print(os.environ['NUMBA_CACHE_DIR'])")
    assert done.stdout.strip() == mine


def test_numba_imported_first_still_gets_the_default():
    code = ("import numba, research\nfrom numba.core import config\n"
            "print(config.CACHE_DIR)\n")
    done = _run(_env(), code)
    assert done.stdout.strip() == str(ROOT / ".numba_cache"), done.stderr


def test_a_cold_cache_says_it_compiles_once_and_a_warm_one_says_nothing(tmp_path):
    env = _env(NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    cold = _run(env)
    assert cold.returncode == 0, cold.stderr
    assert cold.stderr.count(_numba.NOTICE) == 1, cold.stderr  # once, though several kernels compile
    assert any((tmp_path / "cache").rglob("*.nbi"))
    warm = _run(env)
    assert warm.returncode == 0 and _numba.NOTICE not in warm.stderr, warm.stderr


def test_compile_time_is_measured_apart():
    import numba
    import numpy as np

    @numba.njit
    def fresh(x):  # never cached: compiles on its first call
        return x.sum() * 2.0

    before = _numba.compile_seconds()
    fresh(np.arange(3.0))
    spent = _numba.compile_seconds() - before
    assert spent > 0.0
    fresh(np.arange(4.0))  # compiled already: no more time
    assert _numba.compile_seconds() - before == spent
