"""The `flowbt` command line: demo, list, run, report, sweep, regress, data."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from research.console import format_summary
from research.errors import ConfigError, FlowbtError

BASELINES_DIR = Path("results/baselines")  # research.regress.BASELINES, without importing it at start-up


def _kv(pairs: Sequence[str] | None, flag: str) -> dict[str, str]:
    """Parse repeated key=value options."""
    out: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, val = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"{flag} expects key=value, got {pair!r}")
        out[key.strip()] = val.strip()
    return out


def _max_configs(args: argparse.Namespace) -> int:
    """--max-configs, else research.sweep.grid.MAX_CONFIGS; a cap below 1 is a ConfigError."""
    from research.sweep.grid import MAX_CONFIGS

    cap = MAX_CONFIGS if args.max_configs is None else args.max_configs
    if cap < 1:
        raise ConfigError(f"--max-configs must be >= 1, got {cap}")
    return cap


def _config(args: argparse.Namespace, strategy: Any) -> Any:
    from research.run import default_config

    kw: dict[str, Any] = {}
    for name in ("fill", "fees_bps", "slippage_bps", "borrow_bps"):
        val = getattr(args, name, None)
        if val is not None:
            kw[name] = val
    return default_config(strategy, **kw)


def cmd_list(args: argparse.Namespace) -> int:
    import research.registry as strategies

    reg = strategies.registry()
    width = max(map(len, reg), default=0)
    for name, s in reg.items():
        print(f"{name:<{width}}  [{s.mode}]  {s.hypothesis}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import research.registry as strategies
    from research.run import load_data, run_strategy

    strat = strategies.get(args.strategy)
    data = load_data(args.data)
    out = run_strategy(strat, data, overrides=_kv(args.set, "--set"), config=_config(args, strat),
                       out=Path(args.out) if args.out else None, tearsheet=not args.no_tearsheet,
                       pdf=not args.no_pdf)
    from research.report.load import load_run
    from research.report.summary import run_summary

    print(format_summary([run_summary(load_run(out.folder))]))
    print(f"\nrun folder: {out.folder}")
    if not args.no_tearsheet:
        print(f"tear sheet: {out.folder / 'tearsheet.html'}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from research.demo import run_demo

    run_demo(Path(args.out), data_spec=args.data, real=Path(args.real_data) if args.real_data else None,
             pdf=not args.no_pdf)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from research.report.sheets import compare, tearsheet

    folders = [Path(p) for p in args.run_dirs]
    if len(folders) == 1:
        sheet = tearsheet(folders[0], out=args.out, pdf=not args.no_pdf)
    else:
        sheet = compare(folders, Path(args.out or "results/comparison"), pdf=not args.no_pdf)
    print(f"wrote {sheet.path}")
    return 0


def cmd_data_validate(args: argparse.Namespace) -> int:
    from research.data.primebook import validate_file

    problems = validate_file(Path(args.file))
    for p in problems:
        print(p)
    errors = sum(p.severity == "error" for p in problems)
    print(f"{args.file}: {errors} error(s), {len(problems) - errors} warning(s)")
    return 1 if errors else 0


def cmd_data_fetch(args: argparse.Namespace) -> int:
    from research.data.yahoo import fetch_prices

    tickers = [t for part in args.tickers for t in part.split(",") if t]
    results = fetch_prices(tickers, args.start, args.end, cache_dir=Path(args.cache) if args.cache else None,
                           progress=False if args.quiet else None)
    for r in results:
        span = f"{r.first.date()} .. {r.last.date()}" if r.first is not None and r.last is not None else "no rows"
        print(f"{r.ticker:<6} {r.action:<11} {r.rows:>6} rows ({span}) -> {r.path}")
        for note in r.notes:
            print(f"       {note}")
    return 1 if any(r.action == "failed" for r in results) else 0


def cmd_regress(args: argparse.Namespace) -> int:
    from research import regress as R
    from research.run import load_data

    datasets = {"synthetic": lambda: load_data("synthetic")}
    real = Path(args.real_data)
    if real.is_dir():
        datasets["real"] = lambda: load_data(real)
    else:
        print(f"note: {real} not found; regressions on real data skipped")
    outcomes = R.regress(datasets, update=args.update, only=args.only or None, baselines=Path(args.baselines),
                         progress=None if args.quiet else print)
    print(R.table(outcomes))
    for path, text in ((args.junit, R.junit), (args.markdown, R.markdown)):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text(outcomes))
    bad = sum(o.status in R.FAILING for o in outcomes)
    word = "updated" if args.update else "passed"
    print(f"\nregress: {len(outcomes) - bad} {word}, {bad} failed (baselines in {Path(args.baselines).resolve()})")
    if R.failed(outcomes):
        print("\nregressions drifted from their baselines; if the change is intended, "
              "run `flowbt regress --update` and commit the baselines (that diff is the review).")
        return 1
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    import research.registry as strategies
    from research.run import load_data
    from research.sweep import parse_grid, sweep
    from research.sweep.report import ranked_table

    strat = strategies.get(args.strategy)
    data = load_data(args.data)
    cap = _max_configs(args)
    grid = parse_grid(args.grid, strat, cap) or None
    heatmap = tuple(args.heatmap.split(",")) if args.heatmap else None
    if heatmap is not None and len(heatmap) != 2:
        raise ConfigError(f"--heatmap expects two parameters x,y, got {args.heatmap!r}")
    res = sweep(strat, data, grid, base=_kv(args.set, "--set"), config=_config(args, strat),
                executor_name=args.executor, scheduler=args.scheduler, fused=not args.engine,
                progress=False if args.quiet else None, max_configs=cap)
    folder = res.save(Path(args.out) if args.out else None, heatmap=heatmap, pdf=not args.no_pdf)
    compiled = f"; {res.compile_seconds:.1f} s compiling kernels first" if res.compile_seconds >= 0.05 else ""
    print(f"{res.n_configs:,} configs of {strat.name} in {res.seconds:.1f} s ({res.kind}, {res.executor}{compiled})")
    print(ranked_table(res, args.top).to_string())
    print(f"\n{res.stats.statement}" if res.stats else "")
    print(f"\nsweep folder: {folder}\ntear sheet: {folder / 'tearsheet.html'}")
    return 0


def cmd_walkforward(args: argparse.Namespace) -> int:
    import research.registry as strategies
    from research.run import load_data
    from research.sweep import parse_grid
    from research.sweep.walkforward import walk_forward, write_walkforward

    strat = strategies.get(args.strategy)
    data = load_data(args.data)
    cap = _max_configs(args)
    wf = walk_forward(strat, data, parse_grid(args.grid, strat, cap) or None, scheme=args.scheme,
                      train_years=args.train_years, test_years=args.test_years, base=_kv(args.set, "--set"),
                      config=_config(args, strat), fused=not args.engine, progress=False if args.quiet else None,
                      max_configs=cap)
    folder = write_walkforward(wf, data, Path(args.out) if args.out else None, pdf=not args.no_pdf)
    print(wf.folds.drop(columns=["train_start"]).to_string(index=False))
    m = wf.oos_metrics
    active = f", active Sharpe {m['active_sharpe']:.2f} vs {wf.benchmark}" if wf.benchmark else ""
    print(f"\nout of sample: Sharpe {m['sharpe']:.2f}{active}, CAGR {m['cagr']:+.2%}")
    print(f"walk-forward folder: {folder}\ntear sheet: {folder / 'tearsheet.html'}")
    return 0


def cmd_brief(args: argparse.Namespace) -> int:
    from research.weekly import brief

    out = Path(args.out) if args.out else Path("results") / "brief"
    b = brief(args.data, as_of=args.as_of, out=out, weeks=args.weeks)
    print(b.title)
    for sentences in b.sentences.values():
        for line in sentences:
            print(f"- {line}")
    for note in b.notes:
        print(f"  ({note})")
    print("\n" + "\n".join(f"{kind}: {path}" for kind, path in b.files.items()))
    return 0


def _verbosity_flags(p: argparse.ArgumentParser, default: Any) -> None:
    """-q/--quiet and -v/--verbose; on subcommands their default is SUPPRESS, so that `flowbt -q run X` and
    `flowbt run X -q` both work (a subcommand's default would overwrite the global flag)."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("-q", "--quiet", action="store_true", default=default,
                   help="warnings and errors only, no progress bars")
    g.add_argument("-v", "--verbose", action="count", default=0 if default is False else default,
                   help="more detail (engine log, timings)")


def _version() -> str:
    from research import __version__

    return f"flowbt {__version__}"


class _Parsers(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Every subcommand (and sub-subcommand) gets the global -q/-v flags."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        parser = super().add_parser(name, **kwargs)
        _verbosity_flags(parser, argparse.SUPPRESS)
        parser.register("action", "parsers", _Parsers)
        return parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="flowbt", description="Backtest hedge-fund flow signals on sector ETFs.")
    p.add_argument("--version", action="version", version=_version())
    _verbosity_flags(p, False)
    p.register("action", "parsers", _Parsers)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("list", help="list registered strategies with their hypotheses")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("run", help="run one strategy and write its run folder and tear sheet")
    s.add_argument("strategy")
    s.add_argument("--data", default="synthetic",
                   help="'synthetic', 'synthetic:seed=3,ic=0', 'yfinance[:TICKERS]' (the price cache, offline), "
                        "or a data directory like ../shared/data")
    s.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a strategy parameter")
    s.add_argument("--out", help="run folder (default results/runs/STRATEGY/TIMESTAMP)")
    s.add_argument("--fill", choices=["close", "open"], help="fill at the next session's close (default) or open")
    s.add_argument("--fees-bps", type=float, dest="fees_bps")
    s.add_argument("--slippage-bps", type=float, dest="slippage_bps")
    s.add_argument("--borrow-bps", type=float, dest="borrow_bps", help="annual short borrow cost")
    s.add_argument("--no-tearsheet", action="store_true")
    s.add_argument("--no-pdf", action="store_true")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("demo", help="run every strategy on the synthetic market and write results/demo")
    s.add_argument("--out", default="results/demo")
    s.add_argument("--data", default="synthetic")
    s.add_argument("--real-data", default="../shared/data",
                   help="where strategies that need real positioning data run ('' to skip them)")
    s.add_argument("--no-pdf", action="store_true")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("report", help="rebuild a tear sheet from a run folder (or a folder of returns), or compare "
                                      "several runs")
    s.add_argument("run_dirs", nargs="+", help="run folders, or one folder holding returns.parquet or returns.csv")
    s.add_argument("--out", help="where to write (one folder: default the folder itself; several: "
                                 "results/comparison)")
    s.add_argument("--no-pdf", action="store_true")
    s.set_defaults(func=cmd_report)

    s = sub.add_parser("sweep", help="run many configs through the fused kernel; ranked table, luck statistics")
    s.add_argument("strategy")
    s.add_argument("--grid", action="append", metavar="KEY=V1,V2|A:B[:STEP]",
                   help="values of a parameter (repeatable; default: the strategy's grid)")
    s.add_argument("--set", action="append", metavar="KEY=VALUE", help="fix a parameter for every config")
    s.add_argument("--data", default="synthetic")
    s.add_argument("--heatmap", metavar="X,Y", help="the two parameters of the heatmap")
    s.add_argument("--executor", choices=["local", "dask"], default="local")
    s.add_argument("--scheduler", metavar="ADDRESS", help="dask scheduler (default: a LocalCluster)")
    s.add_argument("--engine", action="store_true", help="use the vectorbt engine per config (no fused kernel)")
    s.add_argument("--top", type=int, default=15, help="rows of the printed table")
    s.add_argument("--max-configs", type=int, default=None, dest="max_configs",
                   help="refuse a grid of more configs, before any work (default 1,000,000)")
    s.add_argument("--out", help="sweep folder (default results/sweeps/STRATEGY/TIMESTAMP)")
    s.add_argument("--fill", choices=["close", "open"])
    s.add_argument("--fees-bps", type=float, dest="fees_bps")
    s.add_argument("--slippage-bps", type=float, dest="slippage_bps")
    s.add_argument("--borrow-bps", type=float, dest="borrow_bps")
    s.add_argument("--no-pdf", action="store_true")
    s.set_defaults(func=cmd_sweep)

    s = sub.add_parser("walkforward", help="choose parameters in sample, trade them out of sample, stitch")
    s.add_argument("strategy")
    s.add_argument("--grid", action="append", metavar="KEY=V1,V2|A:B[:STEP]")
    s.add_argument("--set", action="append", metavar="KEY=VALUE")
    s.add_argument("--data", default="synthetic")
    s.add_argument("--scheme", choices=["anchored", "rolling"], default="anchored")
    s.add_argument("--max-configs", type=int, default=None, dest="max_configs",
                   help="refuse a grid of more configs, before any work (default 1,000,000)")
    s.add_argument("--train-years", type=int, default=5, dest="train_years")
    s.add_argument("--test-years", type=int, default=1, dest="test_years")
    s.add_argument("--engine", action="store_true", help="use the vectorbt engine per config (no fused kernel)")
    s.add_argument("--out", help="folder (default results/walkforward/STRATEGY/TIMESTAMP)")
    s.add_argument("--fill", choices=["close", "open"])
    s.add_argument("--fees-bps", type=float, dest="fees_bps")
    s.add_argument("--slippage-bps", type=float, dest="slippage_bps")
    s.add_argument("--borrow-bps", type=float, dest="borrow_bps")
    s.add_argument("--no-pdf", action="store_true")
    s.set_defaults(func=cmd_walkforward)

    s = sub.add_parser("regress", help="re-run every strategy and compare with results/baselines")
    s.add_argument("--update", action="store_true", help="rewrite the baselines")
    s.add_argument("--junit", help="write a JUnit XML report")
    s.add_argument("--markdown", help="write a Markdown report")
    s.add_argument("--only", action="append", help="only this strategy (repeatable)")
    s.add_argument("--real-data", default="../shared/data", help="real data directory (default ../shared/data)")
    s.add_argument("--baselines", default=str(BASELINES_DIR),
                   help=f"baseline folder (default {BASELINES_DIR}, relative to the working directory)")
    s.set_defaults(func=cmd_regress)

    s = sub.add_parser("brief", help="the weekly flow brief: book, sectors, positioning, baskets, what the models say")
    s.add_argument("--data", default="synthetic",
                   help="'synthetic', a data directory like ../shared/data, or a prime-book export (CSV/XLSX)")
    s.add_argument("--as-of", dest="as_of", help="use only data public by then: YYYY-MM-DD (that day's close) "
                   "or 'YYYY-MM-DD HH:MM' New York time (default: the latest publication in the data)")
    s.add_argument("--out", help="folder for brief.json/.md/.html/.pdf (default results/brief)")
    s.add_argument("--weeks", type=int, default=0, help="also tabulate the headline facts of the last N weeks")
    s.set_defaults(func=cmd_brief)

    d = sub.add_parser("data", help="data utilities").add_subparsers(dest="data_command", required=True)
    s = d.add_parser("validate", help="check a prime-book export against the schema")
    s.add_argument("file")
    s.set_defaults(func=cmd_data_validate)
    s = d.add_parser("fetch-prices", help="download prices with yfinance into the cache")
    s.add_argument("tickers", nargs="+", help="tickers, space- or comma-separated")
    s.add_argument("--start", required=True)
    s.add_argument("--end", default=None)
    s.add_argument("--cache", help="cache directory (default $FLOWBT_CACHE/prices or ~/.cache/flowbt/prices)")
    s.set_defaults(func=cmd_data_fetch)
    return p


#: Commands that end the process without the interpreter's teardown when run from the command line.
FAST_EXIT = frozenset({"run", "report", "list"})


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `flowbt` console script.

    Exit codes: 0 done; 1 an unexpected error, a bug: one line naming it and the log file holding its traceback
    (`crash_log`); 2 a user error (research.errors: bad data, parameters, options; an output that could not
    be written; a file that cannot be read) with one clear message; 130 interrupted (Ctrl-C), after every
    temporary file is removed (the writers clean up as the interrupt unwinds them). A closed pipe (`flowbt
    list | head -1`) ends quietly with the command's own status: the reader wanted no more.
    From the command line (`argv` None), the FAST_EXIT commands end the process through `_exit_now`."""
    args = build_parser().parse_args(argv)
    from research.logs import configure

    configure(-1 if args.quiet else args.verbose)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's teardown
    except BrokenPipeError:
        _silence_stdout()
        code = 0
    except FlowbtError as exc:
        _error(str(exc))
        code = 2
    except OSError as exc:  # a file the user named, a full disk: the environment, not a bug
        where = f" ({exc.filename})" if exc.filename else ""
        _error(f"{exc.strerror or exc}{where}")
        code = 2
    except KeyboardInterrupt:
        _error("interrupted")
        code = 130
    except Exception as exc:
        log = crash_log(exc)
        _error(f"{type(exc).__name__}: {_one_line(exc)} (traceback in {log}); this is a bug: please report it")
        code = 1
    if argv is None and args.command in FAST_EXIT:
        _exit_now(code)
    return code


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


def _error(message: str) -> None:
    """`flowbt: error: message` on stderr (quietly nothing if stderr is gone too)."""
    try:
        print(f"flowbt: error: {message}", file=sys.stderr)
    except (OSError, ValueError):
        pass


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not complain about the closed pipe."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def crash_log(exc: BaseException) -> str:
    """Write `exc`'s traceback to `$FLOWBT_CACHE/logs/crash-<UTC stamp>-<pid>.log` (default root
    ~/.cache/flowbt) and return its path; if that cannot be written, the system's temporary folder; if
    neither, the traceback goes to stderr and the answer says so."""
    import os
    import tempfile
    import traceback
    from datetime import UTC, datetime

    text = "".join(traceback.format_exception(exc))
    root = os.environ.get("FLOWBT_CACHE")
    base = (Path(root).expanduser() if root else Path.home() / ".cache" / "flowbt") / "logs"
    name = f"crash-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}-{os.getpid()}.log"
    header = f"flowbt {' '.join(sys.argv[1:])}\npython {sys.version.split()[0]}\n\n"
    for folder in (base, Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(header + text)
            return str(folder / name)
        except OSError:
            continue
    try:
        sys.stderr.write(text)
    except (OSError, ValueError):
        pass
    return "stderr above (no log file could be written)"


def _exit_now(code: int) -> None:
    """Run the atexit handlers, flush, and end the process without tearing the interpreter down.

    Why: after `flowbt run` the interpreter holds pandas, numba (LLVM), pyarrow and the run's frames, and its
    teardown frees them object by object: about 0.4 s, a tenth of the command, for nothing the operating
    system does not do at exit. Every file these commands write is closed by then, and the atexit handlers
    (logging, weakref finalizers such as temporary directories, numba, pyarrow) still run. The normal exit is
    kept while a profiler or tracer is attached (cProfile, coverage write their results at exit) and while
    another non-daemon thread is alive (the normal exit waits for it).
    """
    import atexit
    import os
    import threading

    if sys.getprofile() is not None or sys.gettrace() is not None:
        return
    if any(t is not threading.main_thread() and t.is_alive() and not t.daemon for t in threading.enumerate()):
        return
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a closed pipe (`flowbt list | head`): nothing more to say
            pass
        except OSError as exc:  # output lost (a full disk): say so and fail, as Python's own exit would (120)
            try:
                os.write(2, f"flowbt: error: could not write the output: {exc}\n".encode())
            except OSError:
                pass
            code = code or 120
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
