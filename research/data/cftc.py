"""CFTC Commitments of Traders, Traders in Financial Futures (TFF): parser, release times, panel, coverage.

Reads every published variant of the TFF report:

- the annual history files ``FinFutYY.txt`` (one quoted header line, 87 columns, newest week first per market);
- the weekly file ``FinFutWk.txt`` (the same columns with **no header line**);
- the futures-and-options combined variant (``FinComYY.txt`` / ``FinComWk.txt``; ``FutOnly_or_Combined`` says
  ``Combined``), stored under source ``cftc_tff_combined`` so it never collides with futures-only rows;
- a CSV saved from the CFTC's Excel version (UTF-8 byte-order mark, ``Report_Date_as_MM_DD_YYYY``, blanks for
  missing values, no ``*_Quotes`` columns); Excel's lost leading zeros in codes (``90741``) are restored.

CRLF or LF, numbers left-padded with spaces, ``.`` or blank for missing. Contract codes are text (``090741``,
``20974+``) and are the key: market names change (``E-MINI S&P 500 STOCK INDEX`` became ``E-MINI S&P 500`` on
2022-02-08). Malformed input (truncated line, wrong field count, bad date, duplicate market-week, non-number) is a
`DataError` naming the file, line and column.

Timing: positions are as of Tuesday; the CFTC releases them on Friday at 15:30 ET. A federal holiday on the
Wednesday, Thursday or Friday of that week moves the release to the next federal business day (the CFTC's 2024
schedule: 2024-06-24, 2024-07-08, 2024-12-02, 2024-12-30). Government shutdowns delayed releases by weeks; those
dates come from the CFTC's published catch-up schedules (`RELEASE_OVERRIDES`). Missing weeks are reported by
`cftc_coverage`, never filled.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from research.data._parsing import (
    Problem,
    check_widths,
    col_label,
    column,
    dates,
    is_federal_business_day,
    numbers,
    raise_problems,
    read_text,
    roll_to_federal_business_day,
    split_rows,
)
from research.data.panel import validate_panel
from research.errors import DataError

SOURCE = "cftc_tff"
SOURCE_COMBINED = "cftc_tff_combined"
COMBINED_SUFFIX = "_combined"
RELEASE_CLOCK = pd.Timedelta(hours=15, minutes=30)

#: CFTC contract market code -> panel entity (the SPDR ETF a market maps to, else an index name).
MARKETS: dict[str, str] = {
    "13874A": "SPY",   # E-mini S&P 500 (CME)
    "209742": "NDX",   # E-mini Nasdaq-100 (CME)
    "239742": "RTY",   # E-mini Russell 2000 (CME, from 2017-08; the ICE contract 23977A is not spliced in)
    "1170E1": "VIX",   # VIX futures (CFE)
    "138749": "XLE",   # E-mini Energy Select Sector
    "13874J": "XLU",   # E-mini Utilities Select Sector
    "13874C": "XLF",   # E-mini Financial Select Sector
    "138748": "XLP",   # E-mini Consumer Staples Select Sector
    "13874E": "XLV",   # E-mini Health Care Select Sector
    "13874I": "XLK",   # E-mini Technology Select Sector
    "13874F": "XLI",   # E-mini Industrial Select Sector
    "13874P": "XLC",   # E-mini Communication Services Select Sector (from 2024)
    "13874H": "XLB",   # E-mini Materials Select Sector
    "13874R": "XLRE",  # E-mini Real Estate Select Sector
    "138747": "XLY",   # E-mini Consumer Discretionary Select Sector
}
CFTC_ENTITIES: frozenset[str] = frozenset(MARKETS.values())

#: Trader categories exported to the panel: metric prefix -> column stem in the CFTC files.
CATEGORIES: dict[str, str] = {"lev_money": "Lev_Money", "asset_mgr": "Asset_Mgr", "dealer": "Dealer"}
_ALL_CATS = ("Dealer", "Asset_Mgr", "Lev_Money", "Other_Rept")
_LSS = ("Long", "Short", "Spread")


def _tff_columns() -> tuple[str, ...]:
    """The 87 columns of the TFF text files, in order (the weekly file has these without a header line)."""
    cols = ["Market_and_Exchange_Names", "As_of_Date_In_Form_YYMMDD", "Report_Date_as_YYYY-MM-DD",
            "CFTC_Contract_Market_Code", "CFTC_Market_Code", "CFTC_Region_Code", "CFTC_Commodity_Code",
            "Open_Interest_All"]
    tails = [(c, x) for c in _ALL_CATS for x in _LSS] + [(c, x) for c in ("Tot_Rept", "NonRept") for x in _LSS[:2]]
    cols += [f"{c}_Positions_{x}_All" for c, x in tails]
    cols += ["Change_in_Open_Interest_All"] + [f"Change_in_{c}_{x}_All" for c, x in tails]
    cols += ["Pct_of_Open_Interest_All"] + [f"Pct_of_OI_{c}_{x}_All" for c, x in tails]
    cols += ["Traders_Tot_All"] + [f"Traders_{c}_{x}_All" for c in _ALL_CATS for x in _LSS]
    cols += ["Traders_Tot_Rept_Long_All", "Traders_Tot_Rept_Short_All"]
    cols += [f"Conc_{g}_LE_{n}_TDR_{x}_All" for g in ("Gross", "Net") for n in (4, 8) for x in ("Long", "Short")]
    cols += ["Contract_Units", "CFTC_Contract_Market_Code_Quotes", "CFTC_Market_Code_Quotes",
             "CFTC_Commodity_Code_Quotes", "CFTC_SubGroup_Code", "FutOnly_or_Combined"]
    return tuple(cols)


TFF_COLUMNS: tuple[str, ...] = _tff_columns()
DATE_COLUMNS: tuple[str, ...] = ("Report_Date_as_YYYY-MM-DD", "Report_Date_as_MM_DD_YYYY")
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")

#: Numeric columns read -> name in the raw frame.
NUMERIC: dict[str, str] = {"Open_Interest_All": "open_interest"}
for _m, _c in CATEGORIES.items():
    for _x in _LSS:
        NUMERIC[f"{_c}_Positions_{_x}_All"] = f"{_m}_{_x.lower()}"
    for _x in _LSS[:2]:
        NUMERIC[f"Pct_of_OI_{_c}_{_x}_All"] = f"{_m}_pct_oi_{_x.lower()}"

# Releases moved by government shutdowns: as-of date -> release day (15:30 ET).
# 2018-19: CFTC announcement of 2019-01-29 (first catch-up report Friday 2019-02-01, then Tuesdays and Fridays
# until the 2019-03-05 report on 2019-03-08). 2025: CFTC schedule of 2025-11-18 ("New Publish Date" column).
_OVERRIDES: tuple[tuple[str, str], ...] = (
    ("2018-12-24", "2019-02-01"), ("2018-12-31", "2019-02-05"), ("2019-01-08", "2019-02-08"),
    ("2019-01-15", "2019-02-12"), ("2019-01-22", "2019-02-15"), ("2019-01-29", "2019-02-19"),
    ("2019-02-05", "2019-02-22"), ("2019-02-12", "2019-02-26"), ("2019-02-19", "2019-03-01"),
    ("2019-02-26", "2019-03-05"), ("2019-03-05", "2019-03-08"),
    ("2025-09-30", "2025-11-19"), ("2025-10-07", "2025-11-21"), ("2025-10-14", "2025-11-25"),
    ("2025-10-21", "2025-12-02"), ("2025-10-28", "2025-12-05"), ("2025-11-04", "2025-12-09"),
    ("2025-11-10", "2025-12-12"), ("2025-11-18", "2025-12-16"), ("2025-11-25", "2025-12-19"),
    ("2025-12-02", "2025-12-23"), ("2025-12-09", "2025-12-30"), ("2025-12-16", "2026-01-06"),
    ("2025-12-23", "2026-01-09"), ("2025-12-30", "2026-01-13"), ("2026-01-06", "2026-01-16"),
    ("2026-01-13", "2026-01-20"),
)
RELEASE_OVERRIDES: dict[pd.Timestamp, pd.Timestamp] = {
    pd.Timestamp(a): pd.Timestamp(r) + RELEASE_CLOCK for a, r in _OVERRIDES}

#: As-of ranges whose release dates are not in the table (the 2013 shutdown): loading them is an error unless
#: the caller passes `release_overrides`, because the weekday rule would date them weeks too early.
UNKNOWN_RELEASES: tuple[tuple[pd.Timestamp, pd.Timestamp], ...] = (
    (pd.Timestamp("2013-10-01"), pd.Timestamp("2013-11-19")),
)


def release_times(as_of: Iterable, overrides: Mapping | None = None) -> pd.DatetimeIndex:
    """Release time (tz-naive New York) of each as-of date: see the module docstring for the rule."""
    vals = as_of if isinstance(as_of, (pd.Series, pd.Index, np.ndarray)) else list(as_of)
    d = pd.DatetimeIndex(pd.to_datetime(vals)).normalize().astype("datetime64[ns]")
    uniq = d.unique()
    table = {**RELEASE_OVERRIDES, **{pd.Timestamp(k).normalize(): pd.Timestamp(v)
                                     for k, v in (overrides or {}).items()}}
    # First Friday at least three days after the as-of date (Tuesday -> Friday; Monday -> Friday).
    plus3 = uniq + pd.Timedelta(days=3)
    friday = plus3 + pd.to_timedelta((4 - plus3.day_of_week) % 7, unit="D")
    window = [friday - pd.Timedelta(days=k) for k in (2, 1, 0)]  # Wednesday, Thursday, Friday
    holiday = np.zeros(len(uniq), dtype=bool)
    for day in window:
        holiday |= ~is_federal_business_day(day)
    delayed = roll_to_federal_business_day(friday + pd.Timedelta(days=1))
    rule = pd.DatetimeIndex(np.where(holiday, delayed, friday)) + RELEASE_CLOCK
    out = {}
    for u, r in zip(uniq, rule, strict=True):
        if u in table:
            out[u] = table[u]
            continue
        for lo, hi in UNKNOWN_RELEASES:
            if lo <= u <= hi:
                raise DataError(
                    f"CFTC report of {u.date()}: its release was delayed by the {lo.year} government shutdown and "
                    "the date is not in research.data.cftc.RELEASE_OVERRIDES. Pass release_overrides="
                    "{as_of: release_time} from the CFTC's announcement, or drop those weeks.")
        out[u] = r
    return pd.DatetimeIndex([out[x] for x in d], name="available_at")


def release_time(as_of: str | pd.Timestamp) -> pd.Timestamp:
    """Release time of one report (as-of Tuesday -> Friday 15:30, later in holiday and shutdown weeks)."""
    return release_times([as_of])[0]


def _variant_from_name(path: Path) -> str:
    return "combined" if "com" in path.stem.lower() and "fut" not in path.stem.lower() else "futures_only"


def read_tff(path: str | Path, *, variant: str | None = None, codes: Iterable[str] | None = None) -> pd.DataFrame:
    """Parse one TFF file (any variant) to a typed frame, one row per (market code, as-of date).

    Every line is checked for its field count and contract code; dates and numbers are parsed (and checked) for
    the markets in `codes` (all markets when None).

    Columns: file, line, code, market, as_of, variant ('futures_only' or 'combined'), and the numeric columns of
    `NUMERIC` (contracts, or percent of open interest), NaN where the file says '.' or blank. `variant` is taken
    from the FutOnly_or_Combined column, else from the file name (FinCom* = combined), else the argument.
    """
    path = Path(path)
    problems: list[Problem] = []
    rows, lines = split_rows(path, read_text(path), ",", problems)
    raise_problems(problems, "The file may be cut short or damaged: download it again.")
    if not rows:
        raise DataError(f"{path}: the file is empty; expected CFTC TFF rows.")
    first, header_line = [c.strip() for c in rows[0]], lines[0]
    if "CFTC_Contract_Market_Code" in first or first[0] == "Market_and_Exchange_Names":
        header, rows, lines = first, rows[1:], lines[1:]
    else:  # the weekly FinFutWk/FinComWk files have no header line
        header = list(TFF_COLUMNS)
    dups = sorted({h for h in header if header.count(h) > 1})
    if dups:
        raise DataError(f"{path}: line {header_line}: the header repeats column(s) {dups}.")
    date_col = next((c for c in DATE_COLUMNS if c in header), None)
    need = ["Market_and_Exchange_Names", "CFTC_Contract_Market_Code", *NUMERIC]
    missing = [c for c in need if c not in header] + ([] if date_col else [" or ".join(DATE_COLUMNS)])
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}. Is this a Traders in Financial Futures file? "
                        f"The header read is {header[:8]}...")
    check_widths(path, rows, lines, header, problems)
    raise_problems(problems, "A truncated or damaged download: fetch the file again from cftc.gov.")
    pos = {h: i for i, h in enumerate(header)}
    ln = np.asarray(lines)

    def lab(name: str) -> str:
        return col_label(name, pos[name])

    code = column(rows, pos["CFTC_Contract_Market_Code"]).str.upper()
    code = code.where(~code.str.fullmatch(r"\d{1,5}"), code.str.zfill(6))  # Excel drops leading zeros
    for p in np.flatnonzero(~code.str.fullmatch(r"[0-9A-Z+]{6}").to_numpy()):
        problems.append(Problem(str(path), int(ln[p]), lab("CFTC_Contract_Market_Code"),
                                f"{code.iloc[p]!r} is not a 6-character CFTC contract code (like 13874A or 090741)."))
    raise_problems(problems, "Fix the contract codes and reload.")
    if codes is not None:
        keep = code.isin(set(codes)).to_numpy()
        rows = [r for r, k in zip(rows, keep, strict=True) if k]
        ln, code = ln[keep], code[keep].reset_index(drop=True)
    as_of = dates(path, column(rows, pos[date_col]), ln, lab(date_col), _DATE_FORMATS, problems)
    not_midnight = as_of.notna() & (as_of != as_of.dt.normalize())
    for p in np.flatnonzero(not_midnight.to_numpy()):
        problems.append(Problem(str(path), int(ln[p]), lab(date_col), f"{as_of.iloc[p]} has a time of day."))
    if "As_of_Date_In_Form_YYMMDD" in pos:
        yymmdd = column(rows, pos["As_of_Date_In_Form_YYMMDD"]).str.zfill(6)
        short = dates(path, yymmdd, ln, lab("As_of_Date_In_Form_YYMMDD"), ("%y%m%d",), problems)
        clash = short.notna() & as_of.notna() & (short != as_of.dt.normalize())
        for p in np.flatnonzero(clash.to_numpy()):
            problems.append(Problem(str(path), int(ln[p]), lab("As_of_Date_In_Form_YYMMDD"),
                                    f"{yymmdd.iloc[p]!r} disagrees with {date_col} {as_of.iloc[p].date()}."))
    out = pd.DataFrame({"file": str(path), "line": ln, "code": code,
                        "market": column(rows, pos["Market_and_Exchange_Names"]), "as_of": as_of.dt.normalize()})
    if "FutOnly_or_Combined" in pos:
        kind = column(rows, pos["FutOnly_or_Combined"]).str.lower()
        known = {"futonly": "futures_only", "combined": "combined"}
        for p in np.flatnonzero(~kind.isin(known).to_numpy()):
            problems.append(Problem(str(path), int(ln[p]), lab("FutOnly_or_Combined"),
                                    f"{kind.iloc[p]!r} is neither 'FutOnly' nor 'Combined'."))
        out["variant"] = kind.map(known).to_numpy()
    else:
        out["variant"] = variant or _variant_from_name(path)
    for col, name in NUMERIC.items():
        out[name] = numbers(path, column(rows, pos[col]), ln, lab(col), problems, missing=("", "."), nonneg=True)
    _check_plausible(path, out, ln, date_col, lab, problems)
    raise_problems(problems, "Fix these values (or download the file again) and reload.")
    dup = out.duplicated(["code", "as_of", "variant"], keep=False)
    if dup.any():
        for (c, d, _), g in out[dup].groupby(["code", "as_of", "variant"]):
            problems.append(Problem(str(path), int(g["line"].iloc[1]), lab("CFTC_Contract_Market_Code"),
                                    f"duplicate row: market {c} week {d.date()} also on line {int(g['line'].iloc[0])}. "
                                    "Keep one row per market and week."))
        raise_problems(problems, "Remove the duplicate rows.")
    return out.sort_values(["code", "as_of"], kind="stable").reset_index(drop=True)


def _check_plausible(path: Path, out: pd.DataFrame, ln: np.ndarray, date_col: str, lab, problems: list[Problem]) -> None:
    """What a TFF row cannot hold: an as-of date that is not a Tuesday (a Monday in a holiday week, as the
    CFTC's own files show: 2017-07-03, 2018-12-24), open interest 0 (every percent of OI undefined: the week
    would silently drop), a category's long or short position above the open interest."""
    day = out["as_of"].dt.day_of_week.to_numpy()
    for p in np.flatnonzero(out["as_of"].notna().to_numpy() & ~np.isin(day, (0, 1))):
        problems.append(Problem(str(path), int(ln[p]), lab(date_col),
                                f"{out['as_of'].iloc[p].date()} is a {out['as_of'].iloc[p].day_name()}: TFF positions "
                                "are as of a Tuesday (a Monday in holiday weeks). Check the date."))
    oi = out["open_interest"].to_numpy()
    for p in np.flatnonzero(oi == 0):
        problems.append(Problem(str(path), int(ln[p]), lab("Open_Interest_All"),
                                "open interest is 0 for a reported market-week: every percent of open interest "
                                "is undefined. Check the value, or delete the line if the market had no contracts."))
    for col, name in NUMERIC.items():
        if not (name.endswith("_long") or name.endswith("_short")) or "_pct_oi_" in name:
            continue
        v = out[name].to_numpy()
        with np.errstate(invalid="ignore"):
            over = v > oi
        for p in np.flatnonzero(over):
            problems.append(Problem(str(path), int(ln[p]), lab(col),
                                    f"{v[p]:,.0f} contracts exceed the open interest ({oi[p]:,.0f}): a category "
                                    "cannot hold more than all open contracts. Check the columns' order."))


def _merge_files(raws: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate parsed files; the same market-week in two files must carry the same numbers."""
    allr = pd.concat(raws, ignore_index=True)
    key = ["code", "as_of", "variant"]
    dup = allr.duplicated(key, keep=False)
    if not dup.any():
        return allr
    vals = list(NUMERIC.values())
    problems: list[Problem] = []
    for (c, d, _), g in allr[dup].groupby(key):
        same = g[vals].fillna(-1.0).nunique().max() == 1
        if not same:
            a, b = g.iloc[0], g.iloc[1]
            problems.append(Problem(b["file"], int(b["line"]), None,
                                    f"market {c} week {d.date()} is also in {a['file']} line {int(a['line'])} "
                                    "with different numbers (a revision?). Keep only the newer file."))
    raise_problems(problems, "Conflicting copies of the same CFTC week.")
    return allr.drop_duplicates(key, keep="first").reset_index(drop=True)


def tff_panel(raw: pd.DataFrame, *, markets: Mapping[str, str] = MARKETS,
              release_overrides: Mapping | None = None, name: str = "cftc") -> pd.DataFrame:
    """Long panel of the mapped markets: per trader category long, short, net, percent of OI; open interest.

    Futures-and-options rows (source `SOURCE_COMBINED`) carry the same metrics with the suffix ``_combined``.
    Metrics: ``{lev_money,asset_mgr,dealer}_{long,short,net}`` (contracts), ``..._pct_oi_{long,short}`` (as
    published, pct_oi), ``..._net_pct_oi`` (100 * net / open interest, pct_oi), ``open_interest`` (contracts).
    A value missing in the file is an absent row.
    """
    sub = raw[raw["code"].isin(list(markets))]
    if sub.empty:
        raise DataError(f"{name}: none of the markets {sorted(markets)} is in the data "
                        f"({raw['code'].nunique()} other markets). Is this the Traders in Financial Futures report?")
    base = pd.DataFrame({
        "as_of": sub["as_of"].to_numpy(),
        "available_at": release_times(sub["as_of"], release_overrides).to_numpy(),
        "entity": sub["code"].map(markets).to_numpy(),
        "source": np.where(sub["variant"].to_numpy() == "combined", SOURCE_COMBINED, SOURCE),
    })
    oi = sub["open_interest"].to_numpy()
    cols: dict[str, tuple[np.ndarray, str]] = {"open_interest": (oi, "contracts")}
    for m in CATEGORIES:
        long_, short = sub[f"{m}_long"].to_numpy(), sub[f"{m}_short"].to_numpy()
        net = long_ - short
        cols[f"{m}_long"] = (long_, "contracts")
        cols[f"{m}_short"] = (short, "contracts")
        cols[f"{m}_net"] = (net, "contracts")
        cols[f"{m}_pct_oi_long"] = (sub[f"{m}_pct_oi_long"].to_numpy(), "pct_oi")
        cols[f"{m}_pct_oi_short"] = (sub[f"{m}_pct_oi_short"].to_numpy(), "pct_oi")
        with np.errstate(divide="ignore", invalid="ignore"):
            cols[f"{m}_net_pct_oi"] = (np.where(oi > 0, 100.0 * net / oi, np.nan), "pct_oi")
    # Futures-and-options rows get their own metric names (suffix COMBINED_SUFFIX) as well as their own source, so
    # align() can never mix them with futures-only rows of the same week; a strategy names the one it reads.
    suffix = np.where(base["source"].to_numpy() == SOURCE_COMBINED, COMBINED_SUFFIX, "")
    parts = [base.assign(metric=np.char.add(k, suffix), value=v, units=u) for k, (v, u) in cols.items()]
    long_panel = pd.concat(parts, ignore_index=True)
    long_panel = long_panel[np.isfinite(long_panel["value"].to_numpy())]
    return validate_panel(long_panel, name=name, entities=set(markets.values()))


def load_cftc(path: str | Path, *, markets: Mapping[str, str] = MARKETS, variant: str | None = None,
              release_overrides: Mapping | None = None) -> pd.DataFrame:
    """One TFF file (annual, weekly, combined or Excel-CSV) as a validated panel."""
    raw = read_tff(path, variant=variant, codes=markets)
    return tff_panel(raw, markets=markets, release_overrides=release_overrides, name=str(path))


def load_cftc_dir(path: str | Path, *, pattern: str = "FinFut*.txt", markets: Mapping[str, str] = MARKETS,
                  release_overrides: Mapping | None = None) -> pd.DataFrame:
    """Every file matching `pattern` in a directory, merged (a week in two files must agree), as one panel."""
    base = Path(path)
    files = sorted(base.glob(pattern))
    if not files:
        raise DataError(f"{base}: no files match {pattern!r}. Download the CFTC TFF history files "
                        "(fut_fin_txt_YYYY.zip) and unzip them here.")
    raw = _merge_files([read_tff(f, codes=markets) for f in files])
    return tff_panel(raw, markets=markets, release_overrides=release_overrides, name=f"{base}/{pattern}")


#: Published names of TFF files: annual history (FinFutYY.txt / FinFut2017.txt, FinComYY.txt, with suffixes such as
#: ``_2026_partial``), the weekly files (FinFutWk.txt, FinComWk.txt), CSVs saved from the CFTC's Excel version
#: (F2022.csv, C2022.csv style, and the annual zips fut_fin_txt_2022.zip / com_fin_txt_2022.zip (FinFutYY.txt inside).
_PUBLISHED = re.compile(r"^(fin(fut|com)\w*|[fc]_?\d{2,4}\w*|(fut|com)_fin_(txt|xls)_\w+)$", re.IGNORECASE)


def _members(path: Path) -> list[tuple[Path, str | None]]:
    """(path, zip member or None) of each TFF candidate at `path`: a text/CSV file, or each text member of a zip."""
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as z:
                return [(path, n) for n in z.namelist() if Path(n).suffix.lower() in (".txt", ".csv")]
        except zipfile.BadZipFile:
            raise DataError(f"{path}: not a readable zip file; download it again.") from None
    return [(path, None)]


def _other_report(first_line: str) -> str | None:
    """Why a file with a header is not a TFF report (legacy or disaggregated COT), or None when it may be one."""
    if "Market_and_Exchange_Names" in first_line and "Lev_Money" not in first_line:
        return "a COT report other than Traders in Financial Futures (no Lev_Money columns)"
    return None


def load_cftc_folder(path: str | Path, *, markets: Mapping[str, str] = MARKETS,
                     release_overrides: Mapping | None = None) -> tuple[pd.DataFrame, dict[str, list[Path]],
                                                                      list[tuple[Path, str]]]:
    """Every TFF file of a folder under its published names (`_PUBLISHED`), zips included.

    Returns (panel, files read per source, files skipped with the reason). Futures-only and combined files go to
    their own source and metrics (`tff_panel`); a file that is not a TFF report is skipped and said so, never
    guessed; the same market-week in two files of one variant must agree (`_merge_files`).
    """
    base = Path(path)
    raws: list[pd.DataFrame] = []
    read: dict[str, list[Path]] = {}
    skipped: list[tuple[Path, str]] = []
    for f in sorted(p for p in base.iterdir() if p.is_file()):
        if f.suffix.lower() not in (".txt", ".csv", ".zip") or not _PUBLISHED.match(f.stem):
            skipped.append((f, "not a published CFTC TFF file name (FinFut*/FinCom*.txt, F2022.csv, *_fin_txt_*.zip)"))
            continue
        members = _members(f)
        if not members:
            skipped.append((f, "no .txt or .csv inside (the Excel .xls zip is not read: use the text zip)"))
        for container, member in members:
            with tempfile.TemporaryDirectory() as tmp:
                target = container
                if member is not None:
                    with zipfile.ZipFile(container) as z:
                        target = Path(tmp) / Path(member).name
                        target.write_bytes(z.read(member))
                with open(target, encoding="utf-8-sig", errors="replace") as fh:
                    why = _other_report(fh.readline())
                if why:
                    skipped.append((container, f"{member or container.name}: {why}"))
                    continue
                raw = read_tff(target, codes=markets)
                if member is not None:
                    raw = raw.assign(file=f"{container}!{member}")
            if raw.empty:
                skipped.append((container, f"{member or container.name}: no row of the markets read"))
                continue
            raws.append(raw)
            for v in raw["variant"].unique():
                read.setdefault(SOURCE_COMBINED if v == "combined" else SOURCE, []).append(container)
    if not raws:
        raise DataError(f"{base}: no CFTC TFF file read (skipped: {[str(s[0].name) for s in skipped]}). Download "
                        "the history files (fut_fin_txt_YYYY.zip) from cftc.gov and unzip them here.")
    raw = _merge_files(raws)
    panel = tff_panel(raw, markets=markets, release_overrides=release_overrides, name=str(base))
    return panel, {k: sorted(set(v)) for k, v in read.items()}, skipped


def cftc_presence(panel: pd.DataFrame, *, metric: str = "open_interest") -> pd.DataFrame:
    """Report weeks x entities: True where the market was reported that week (one table per panel source)."""
    sub = panel[panel["metric"] == metric]
    weeks = pd.DatetimeIndex(sorted(sub["as_of"].unique()), name="as_of")
    present = pd.crosstab(sub["as_of"], sub["entity"]).reindex(weeks, fill_value=0) > 0
    present.columns.name = "entity"
    return present


def cftc_coverage(panel: pd.DataFrame, *, metric: str = "open_interest") -> pd.DataFrame:
    """Per entity: code, first and last week, weeks reported, report weeks in that span, share, longest gap.

    Report weeks are the as-of dates present for any market in the panel; the E-mini Select Sector futures are
    only reported in weeks with enough reportable traders, so their share is far below 1. Nothing is filled.
    """
    present = cftc_presence(panel, metric=metric)
    code_of = {v: k for k, v in MARKETS.items()}
    recs = []
    for ent in present.columns:
        col = present[ent].to_numpy()
        hits = np.flatnonzero(col)
        span = col[hits[0]:hits[-1] + 1]
        run, longest = 0, 0
        for v in span:
            run = 0 if v else run + 1
            longest = max(longest, run)
        recs.append({"entity": ent, "code": code_of.get(ent, ""), "first": present.index[hits[0]],
                     "last": present.index[hits[-1]], "weeks": int(col.sum()), "span_weeks": len(span),
                     "missing_in_span": int(len(span) - col.sum()), "share_of_all_weeks": col.mean(),
                     "longest_gap_weeks": longest})
    return pd.DataFrame(recs).sort_values("entity").reset_index(drop=True)
