"""Portable transcendental functions for numba: the same bits on every CPU.

NumPy dispatches exp/log/power/expm1/log1p to SIMD code chosen by the CPU (AVX-512 loops give other last bits
than AVX2 ones), and glibc's libm, which numba's `np.exp` calls, picks FMA or non-FMA variants of exp and log at
load time. Either makes a seeded synthetic market differ in the last bit from one machine to the next, and every
digest of everything computed from it with it. These kernels use only IEEE-754 +, -, *, / and sqrt (correctly
rounded everywhere), floor and ldexp/frexp (exact), evaluated in a fixed order: numba does not contract a * b + c
into an FMA without fastmath, so the result is the same on any x86-64 (and any IEEE-754 double) machine.

`exp_nb` and `log_nb` are Sun's fdlibm algorithms (e_exp.c, e_log.c; error < 1 ulp); `log1p_nb` and `expm1_nb`
are Goldberg's and Kahan's corrections on top of them (a few ulp); `pow_nb` is exp(y log x) for x > 0 (accurate
for the small |y log x| the generator uses). `tests/test_portable_math.py` bounds their errors against `math`,
and `tests/test_synthetic.py` builds a market with the CPU's SIMD and FMA paths switched off and on.
"""

from __future__ import annotations

import math

from numba import njit

_LN2_HI = 6.93147180369123816490e-01  # ln 2 with its low 32 bits zero: k * _LN2_HI is exact for |k| < 2^20
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_O_THRESHOLD = 7.09782712893383973096e02
_U_THRESHOLD = -7.45133219101941108420e02
_P1 = 1.66666666666666019037e-01
_P2 = -2.77777777770155933842e-03
_P3 = 6.61375632143793436117e-05
_P4 = -1.65339022054652515390e-06
_P5 = 4.13813679705723846039e-08
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_SQRT_HALF = 0.70710678118654752440


@njit(cache=True)
def exp_nb(x: float) -> float:
    """e**x (fdlibm e_exp.c: reduce by k ln 2 in two parts, a rational approximation on |r| <= ln2 / 2)."""
    if x != x:
        return x
    if x > _O_THRESHOLD:
        return math.inf
    if x < _U_THRESHOLD:
        return 0.0
    ax = abs(x)
    k = 0
    hi = 0.0
    lo = 0.0
    if ax > 0.5 * _LN2_HI:
        if ax < 1.5 * _LN2_HI:
            k = 1 if x > 0.0 else -1
        else:
            k = int(math.floor(_INV_LN2 * x + 0.5))
        hi = x - k * _LN2_HI
        lo = k * _LN2_LO
        x = hi - lo
    elif ax < 3.725290298461914e-09:  # 2**-28: exp(x) rounds to 1 + x
        return 1.0 + x
    t = x * x
    c = x - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    if k == 0:
        return 1.0 - ((x * c) / (c - 2.0) - x)
    y = 1.0 - ((lo - (x * c) / (2.0 - c)) - hi)
    return math.ldexp(y, k)


@njit(cache=True)
def log_nb(x: float) -> float:
    """Natural log (fdlibm e_log.c: x = 2^k (1 + f), sqrt(2)/2 <= 1 + f < sqrt(2), log(1 + f) by s = f / (2 + f))."""
    if x != x or x == math.inf:
        return x
    if x < 0.0:
        return math.nan
    if x == 0.0:
        return -math.inf
    m, e = math.frexp(x)  # x = m 2^e, 0.5 <= m < 1 (exact, subnormals included)
    frac_bits = int((m * 2.0 - 1.0) * 1048576.0)  # the top 20 fraction bits of x's mantissa (fdlibm's hx)
    if m < _SQRT_HALF:
        m *= 2.0
        e -= 1
    k = e
    f = m - 1.0  # exact (Sterbenz)
    dk = float(k)
    if abs(f) < 9.5367431640625e-07:  # 2**-20
        if f == 0.0:
            return dk * _LN2_HI + dk * _LN2_LO
        r = f * f * (0.5 - 0.33333333333333333 * f)
        if k == 0:
            return f - r
        return dk * _LN2_HI - ((r - dk * _LN2_LO) - f)
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    r = t2 + t1
    if 0x6147A <= frac_bits <= 0x6B851:
        hfsq = 0.5 * f * f
        if k == 0:
            return f - (hfsq - s * (hfsq + r))
        return dk * _LN2_HI - ((hfsq - (s * (hfsq + r) + dk * _LN2_LO)) - f)
    if k == 0:
        return f - s * (f - r)
    return dk * _LN2_HI - ((s * (f - r) - dk * _LN2_LO) - f)


@njit(cache=True)
def log1p_nb(x: float) -> float:
    """log(1 + x), accurate for small x: log(u) * x / (u - 1) with u = 1 + x rounded (Goldberg, 1991)."""
    u = 1.0 + x
    if u == 1.0:
        return x
    if u == math.inf or u != u:
        return log_nb(u)
    return log_nb(u) * (x / (u - 1.0))


@njit(cache=True)
def expm1_nb(x: float) -> float:
    """e**x - 1, accurate for small x: (u - 1) * x / log(u) with u = exp(x) rounded (Kahan)."""
    if x != x:
        return x
    u = exp_nb(x)
    if u == 1.0:
        return x
    um1 = u - 1.0
    if um1 == -1.0:
        return -1.0
    if u == math.inf:
        return u
    return um1 * (x / log_nb(u))


@njit(cache=True)
def pow_nb(x: float, y: float) -> float:
    """x**y for x > 0 as exp(y log x): error about |y log x| ulp, small for the exponents used here."""
    if x == 0.0:
        return 0.0 if y > 0.0 else (1.0 if y == 0.0 else math.inf)
    return exp_nb(y * log_nb(x))
