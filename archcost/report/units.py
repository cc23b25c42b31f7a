"""Human-readable units for counts and bytes (display only; counts stay ints elsewhere)."""

from __future__ import annotations

from decimal import Decimal

_COUNT_SUFFIXES = ("", "K", "M", "G", "T", "P", "E")
_BYTE_SUFFIXES = ("B", "kB", "MB", "GB", "TB", "PB", "EB")


def _scaled(value: float, suffixes: tuple[str, ...], sep: str) -> str:
    sign = "-" if value < 0 else ""
    v = abs(value)
    if v >= 999.95 * 1000 ** (len(suffixes) - 1):
        # Past the largest suffix: scientific notation, exact for ints of any size
        # (float(v) overflows past 1e308; Decimal does not).
        mantissa = format(Decimal(v) if isinstance(v, int) else v, ".1e")
        return f"{sign}{mantissa}{sep}{suffixes[0]}".rstrip()
    i = 0
    while i < len(suffixes) - 1 and round(v, 1) >= 1000:
        v /= 1000
        i += 1
    return f"{sign}{v:.1f}{sep}{suffixes[i]}"


def human(n: float) -> str:
    """A count with a decimal (SI) suffix and one decimal: 3.5M, 300.8M, 4.1G.

    Values under 1000 are shown as they are (integers exactly, floats to 3 digits).

    >>> human(3_504_872), human(300_775_000), human(4_089_184_256)
    ('3.5M', '300.8M', '4.1G')
    >>> human(999), human(999_960), human(0), human(0.25)
    ('999', '1.0M', '0', '0.25')
    >>> human(71_999_712_000_288_000_000_000), human(10**400)
    ('7.2e+22', '1.0e+400')
    """
    if abs(n) < 1000:
        if isinstance(n, int) or float(n).is_integer():
            return str(int(n))
        return f"{n:.3g}"
    return _scaled(n, _COUNT_SUFFIXES, "")


def human_bytes(n: float) -> str:
    """Bytes in decimal units (1 MB = 10^6 bytes), one decimal.

    >>> human_bytes(512), human_bytes(12_845_056), human_bytes(1_500_000_000)
    ('512 B', '12.8 MB', '1.5 GB')
    >>> human_bytes(2**400)
    '2.6e+120 B'
    """
    if abs(n) < 1000:
        return f"{int(n)} B"
    return _scaled(n, _BYTE_SUFFIXES, " ")


def exact(n: int) -> str:
    """An exact integer with thousands separators.

    >>> exact(4231976)
    '4,231,976'
    """
    return f"{int(n):,}"


def ratio(x: float) -> str:
    """A ratio to a reference model, as shown in compare tables.

    >>> ratio(0.5), ratio(1.0), ratio(12.345), ratio(float("nan"))
    ('×0.50', '×1.00', '×12.3', '–')
    """
    if x != x:  # NaN: the reference value was 0
        return "–"
    return f"×{x:.2f}" if x < 10 else f"×{x:.1f}"
