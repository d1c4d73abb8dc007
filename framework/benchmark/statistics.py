"""How far to trust a Sharpe ratio: probabilistic and deflated Sharpe ratios, track record length, bootstrap.

The probabilistic Sharpe ratio (PSR) is the probability that the true Sharpe ratio exceeds a benchmark, given the
estimate, the number of returns and their skewness and kurtosis (Bailey and López de Prado, 2012, "The Sharpe
Ratio Efficient Frontier"). The deflated Sharpe ratio (DSR) is the PSR of the best trial of a search against the
Sharpe ratio its best trial would reach by luck alone (Bailey and López de Prado, 2014, "The Deflated Sharpe
Ratio: Correcting for Selection Bias, Backtest Overfitting and Non-Normality")::

    PSR(SR*) = Z[(SR - SR*) * sqrt(T - 1) / sqrt(1 - skewness * SR + (kurtosis - 1) / 4 * SR**2)]
    SR0      = sqrt(V[SR_n]) * ((1 - g) * Z^-1[1 - 1/N] + g * Z^-1[1 - 1/(N e)])
    DSR      = PSR(SR0)
    MinTRL   = 1 + (1 - skewness * SR + (kurtosis - 1) / 4 * SR**2) * (Z^-1[confidence] / (SR - SR*))**2

with ``Z`` the standard normal distribution function, ``g`` the Euler-Mascheroni constant, ``N`` the number of
trials and ``V[SR_n]`` the variance of their Sharpe ratios.

Conventions shared by every function of this module, the same as skfolio.measures':

- **Per-period Sharpe ratios**, not annualized: ``mean(r) / std(r, ddof=1)`` of the per-bar excess returns ``r``
  (subtract the per-bar risk-free return first). An annualized Sharpe ratio, like ``compute_metrics``'s
  ``sharpe``, is the per-period one times ``sqrt(periods_per_year)``; divide by it to come back.
- **Skewness** is the population standardized third moment ``m3 / m2**1.5`` (``m_k = mean((r - mean(r))**k)``).
- **Kurtosis is the raw (Pearson) kurtosis** ``m4 / m2**2``: 3 for normal returns, the papers' gamma_4. It is
  *not* the excess kurtosis (``kurtosis - 3``, pandas' and scipy's default); add 3 to an excess kurtosis. Every
  distribution has ``kurtosis >= 1 + skewness**2``, and the functions reject a kurtosis below that bound, which
  catches the excess kurtosis of near-normal returns passed by mistake.
- ``n_observations`` is the number of returns ``T`` the Sharpe ratio was estimated from.

:func:`sharpe_moments` computes the three numbers from returns in these conventions::

    moments = sharpe_moments(returns)
    psr = probabilistic_sharpe_ratio(moments.sharpe, 0.0, moments.n_observations, moments.skewness, moments.kurtosis)

Only the standard library's normal distribution is used (``math.erfc``, ``statistics.NormalDist``): importing this
module costs no scipy.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from framework.core.checks import check_int, check_number, is_int
from framework.core.errors import ConfigError, DataError

#: The Euler-Mascheroni constant of the expected maximum Sharpe ratio.
EULER_GAMMA = 0.5772156649015329

# Bootstrap resamples are drawn and reduced in chunks of about this many values (8 MB of float64).
_CHUNK_VALUES = 1 << 20

_NORMAL = NormalDist()


class SharpeMoments(NamedTuple):
    """The per-period Sharpe ratio of a return series with the moments its PSR needs (module conventions).

    Example:
        >>> moments = sharpe_moments([0.01, 0.03, -0.01, 0.01])
        >>> round(moments.sharpe, 4), round(moments.kurtosis, 4), moments.n_observations
        (0.6124, 2.0, 4)
    """

    sharpe: float
    """``mean(r) / std(r, ddof=1)``, per period."""
    skewness: float
    """``m3 / m2**1.5``."""
    kurtosis: float
    """Raw (Pearson) kurtosis ``m4 / m2**2``, 3 for normal returns."""
    n_observations: int
    """Number of returns."""


def sharpe_moments(returns: npt.ArrayLike) -> SharpeMoments:
    """Per-period Sharpe ratio, skewness, raw kurtosis and length of a return series, ready for the PSR and DSR.

    Args:
        returns: Shape (T,). Per-period excess returns (simple returns minus the per-period risk-free return),
            finite, at least 2.

    Returns:
        ``SharpeMoments(sharpe, skewness, kurtosis, n_observations)`` in the module's conventions; sharpe,
        skewness and kurtosis are NaN when all returns are equal (as ``compute_metrics``'s Sharpe ratio).

    Raises:
        DataError: If ``returns`` is not a 1-D array of at least 2 finite numbers.

    Example:
        >>> moments = sharpe_moments([0.01, -0.02, 0.03, 0.0, 0.01, 0.02])
        >>> [round(value, 4) for value in moments]
        [0.4838, -0.4955, 2.422, 6]
        >>> sharpe, skewness, kurtosis, n = moments
        >>> round(probabilistic_sharpe_ratio(sharpe, 0.0, n, skewness, kurtosis), 4)
        0.8265

    """
    values = _as_returns("returns", returns)
    n = values.size
    if values.max() == values.min():
        return SharpeMoments(math.nan, math.nan, math.nan, n)
    mean = float(values.mean())
    deviations = values - mean
    m2 = float(np.mean(deviations**2))
    m3 = float(np.mean(deviations**3))
    m4 = float(np.mean(deviations**4))
    sharpe = mean / float(values.std(ddof=1))
    return SharpeMoments(sharpe, m3 / m2**1.5, m4 / m2**2, n)


def probabilistic_sharpe_ratio(
    sharpe: float,
    benchmark_sharpe: float,
    n_observations: float,
    skewness: float,
    kurtosis: float,
) -> float:
    """Probability that the true Sharpe ratio exceeds ``benchmark_sharpe`` (Bailey and López de Prado, 2012).

    ``PSR = Z[(sharpe - benchmark_sharpe) * sqrt(T - 1) / sqrt(1 - skewness * sharpe + (kurtosis - 1) / 4 *
    sharpe**2)]``. It rises with ``n_observations`` when ``sharpe > benchmark_sharpe``, and with ``sharpe`` for
    per-period Sharpe ratios of any realistic size (against 0: wherever ``skewness * sharpe < 2``).

    Args:
        sharpe: Estimated per-period (not annualized) Sharpe ratio.
        benchmark_sharpe: Per-period Sharpe ratio to beat; 0 asks whether the strategy earns anything at all.
        n_observations: Number of returns ``T`` behind ``sharpe``, > 1 (a real number is accepted, e.g. an
            effective sample size or a :func:`min_track_record_length`).
        skewness: Skewness ``m3 / m2**1.5`` of the returns, 0 for normal returns.
        kurtosis: Raw (Pearson) kurtosis ``m4 / m2**2`` of the returns, 3 for normal returns (not the excess
            kurtosis); at least ``1 + skewness**2``.

    Returns:
        A probability in [0, 1]; NaN in the degenerate case where the Sharpe ratio's estimated variance is 0
        (a two-point distribution, ``kurtosis == 1 + skewness**2``, with ``skewness * sharpe == 2``).

    Raises:
        ConfigError: If an argument is not a finite number, ``n_observations <= 1``, or ``kurtosis`` is below
            ``1 + skewness**2``.

    Example:
        >>> # Annualized Sharpe ratio 1 on 2 years of daily normal returns, against 0:
        >>> round(probabilistic_sharpe_ratio(1 / math.sqrt(252), 0.0, 504, 0.0, 3.0), 4)
        0.9209
        >>> # The same with fat tails and a negative skew is less convincing:
        >>> round(probabilistic_sharpe_ratio(1 / math.sqrt(252), 0.0, 504, -1.0, 8.0), 4)
        0.914

    """
    sharpe = check_number("sharpe", sharpe)
    benchmark_sharpe = check_number("benchmark_sharpe", benchmark_sharpe)
    n_observations = check_number("n_observations", n_observations, minimum=1, exclusive_minimum=True)
    skewness, kurtosis = _check_shape(skewness, kurtosis)
    return _psr(sharpe, benchmark_sharpe, n_observations, skewness, kurtosis)


def expected_max_sharpe(sharpe_variance: float, n_trials: float) -> float:
    """Expected maximum Sharpe ratio of ``n_trials`` independent trials whose true Sharpe ratio is 0.

    ``sqrt(sharpe_variance) * ((1 - g) * Z^-1[1 - 1/N] + g * Z^-1[1 - 1/(N e)])`` with ``g`` the Euler-Mascheroni
    constant (Bailey and López de Prado, 2014, equation 1, with a mean trial Sharpe ratio of 0): the Sharpe ratio
    the best of ``N`` trials reaches by luck alone, the benchmark of the deflated Sharpe ratio.

    Args:
        sharpe_variance: Variance of the trials' per-period Sharpe ratios, >= 0. An annualized variance is the
            per-period one times ``periods_per_year``.
        n_trials: Number of independent trials ``N`` >= 1; a real number is accepted (an effective number of
            trials, e.g. ``rho + (1 - rho) * M`` for ``M`` trials of average correlation ``rho``, the paper's
            equation 9).

    Returns:
        The expected maximum, per period; 0 for a single trial or no dispersion (no selection to correct for).

    Raises:
        ConfigError: If ``sharpe_variance`` is negative or ``n_trials`` below 1, or either is not a finite number.

    Example:
        >>> # The paper's example: 100 trials, an annualized variance of 1/2, 250 days a year.
        >>> round(expected_max_sharpe(0.5 / 250, 100), 4)
        0.1132
        >>> expected_max_sharpe(0.5 / 250, 1)
        0.0

    """
    sharpe_variance = check_number("sharpe_variance", sharpe_variance, minimum=0)
    n_trials = check_number("n_trials", n_trials, minimum=1)
    return _expected_max_sharpe(sharpe_variance, n_trials)


def deflated_sharpe_ratio(
    best_sharpe: float,
    trial_sharpes: npt.ArrayLike,
    n_observations: float,
    skewness: float,
    kurtosis: float,
) -> float:
    """Probability that the best trial of a search has a true Sharpe ratio above 0, given all the trials.

    The PSR of ``best_sharpe`` against :func:`expected_max_sharpe` of the trials (Bailey and López de Prado,
    2014, equation 2), with ``N = len(trial_sharpes)`` and their sample variance (``ddof=1``, as skfolio). It is
    at most the PSR against 0, and equal to it for a single trial. Each trial is taken as independent: a grid of
    similar parameters overstates ``N`` and makes the DSR conservative.

    Args:
        best_sharpe: Per-period Sharpe ratio of the selected trial.
        trial_sharpes: Shape (N,). Per-period Sharpe ratios of every trial of the search, the selected one
            included; finite (leave out the trials whose Sharpe ratio is undefined).
        n_observations: Number of returns ``T`` behind ``best_sharpe``, > 1.
        skewness: Skewness of the selected trial's returns.
        kurtosis: Raw (Pearson) kurtosis of the selected trial's returns, 3 for normal returns; at least
            ``1 + skewness**2``.

    Returns:
        A probability in [0, 1]; 0.95 or more is the papers' bar for a discovery. NaN in the degenerate case
        of :func:`probabilistic_sharpe_ratio`.

    Raises:
        ConfigError: If a number is not finite, ``n_observations <= 1``, or ``kurtosis`` is below
            ``1 + skewness**2``.
        DataError: If ``trial_sharpes`` is not a non-empty 1-D array of finite numbers.

    Example:
        >>> trials = [0.02, 0.05, -0.01, 0.08, 0.03]  # per-period Sharpe ratios of 5 trials
        >>> round(deflated_sharpe_ratio(0.08, trials, 1000, 0.0, 3.0), 4)
        0.8961
        >>> round(probabilistic_sharpe_ratio(0.08, 0.0, 1000, 0.0, 3.0), 4)
        0.9942

    """
    best_sharpe = check_number("best_sharpe", best_sharpe)
    trials = _as_finite_1d("trial_sharpes", trial_sharpes, minimum_size=1)
    n_observations = check_number("n_observations", n_observations, minimum=1, exclusive_minimum=True)
    skewness, kurtosis = _check_shape(skewness, kurtosis)
    # Equal values have a ~1e-18 rounding residue as variance, not 0: test equality.
    variance = 0.0 if trials.max() == trials.min() else float(trials.var(ddof=1))
    benchmark = _expected_max_sharpe(variance, float(trials.size))
    return _psr(best_sharpe, benchmark, n_observations, skewness, kurtosis)


def min_track_record_length(
    sharpe: float,
    benchmark_sharpe: float,
    skewness: float,
    kurtosis: float,
    confidence: float = 0.95,
) -> float:
    """Minimum number of returns for the PSR of ``sharpe`` against ``benchmark_sharpe`` to reach ``confidence``.

    ``MinTRL = 1 + (1 - skewness * sharpe + (kurtosis - 1) / 4 * sharpe**2) * (Z^-1[confidence] / (sharpe -
    benchmark_sharpe))**2`` (Bailey and López de Prado, 2012): the ``T`` at which :func:`probabilistic_sharpe_ratio`
    equals ``confidence``, assuming the returns keep their Sharpe ratio, skewness and kurtosis.

    Args:
        sharpe: Estimated per-period Sharpe ratio.
        benchmark_sharpe: Per-period Sharpe ratio to beat.
        skewness: Skewness of the returns.
        kurtosis: Raw (Pearson) kurtosis of the returns, 3 for normal returns; at least ``1 + skewness**2``.
        confidence: Required probability, in (0.5, 1).

    Returns:
        The length in observations (a real number: round it up for a count of bars; divide by
        ``periods_per_year`` for years); +inf when ``sharpe <= benchmark_sharpe`` (no length is enough), NaN in
        the degenerate case of :func:`probabilistic_sharpe_ratio`.

    Raises:
        ConfigError: If a number is not finite, ``confidence`` is not in (0.5, 1), or ``kurtosis`` is below
            ``1 + skewness**2``.

    Example:
        >>> # Annualized Sharpe ratio 1, normal daily returns, 95% confidence of a positive Sharpe ratio:
        >>> days = min_track_record_length(1 / math.sqrt(252), 0.0, 0.0, 3.0)
        >>> round(days), round(days / 252, 2)
        (684, 2.71)
        >>> min_track_record_length(0.01, 0.02, 0.0, 3.0)
        inf

    """
    sharpe = check_number("sharpe", sharpe)
    benchmark_sharpe = check_number("benchmark_sharpe", benchmark_sharpe)
    skewness, kurtosis = _check_shape(skewness, kurtosis)
    confidence = _check_probability("confidence", confidence, minimum=0.5)
    if sharpe <= benchmark_sharpe:
        return math.inf
    variance = _sharpe_variance_factor(sharpe, skewness, kurtosis)
    if variance <= 0.0:
        return math.nan
    return 1.0 + variance * (_NORMAL.inv_cdf(confidence) / (sharpe - benchmark_sharpe)) ** 2


def sharpe_confidence_interval(
    returns: npt.ArrayLike,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int | None = 0,
    block_size: int | None = None,
) -> tuple[float, float]:
    """Bootstrap percentile confidence interval of the per-period Sharpe ratio ``mean(r) / std(r, ddof=1)``.

    Draws ``n_resamples`` resamples of ``len(returns)`` returns, computes each one's Sharpe ratio, and returns
    the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles. With ``block_size=None`` the returns are
    drawn one by one (iid bootstrap); with an integer, the circular block bootstrap (Politis and Romano, 1992, as
    in Ledoit and Wolf, 2008) draws blocks of ``block_size`` consecutive returns, wrapping around the end, which
    keeps the autocorrelation within a block. Resamples are drawn in chunks of about a million values, so the
    memory does not grow with ``n_resamples``. Resamples whose returns are all equal (no Sharpe ratio) are left
    out; they are rare unless the series is short and mostly equal.

    Annualize the interval like the Sharpe ratio: multiply both ends by ``sqrt(periods_per_year)``.

    Args:
        returns: Shape (T,). Per-period excess returns, finite, at least 2, not all equal.
        confidence: Coverage of the interval, in (0, 1).
        n_resamples: Number of bootstrap resamples, >= 100.
        seed: Seed of the random generator (>= 0): the same seed gives the same interval. None draws fresh
            entropy.
        block_size: None for the iid bootstrap, or the block length of the circular block bootstrap, from 1
            (the iid bootstrap again, draw for draw) to ``T``. About ``T ** (1/3)`` suits short autocorrelation.

    Returns:
        ``(low, high)``, per period.

    Raises:
        DataError: If ``returns`` is not a 1-D array of at least 2 finite numbers, or they are all equal.
        ConfigError: If ``confidence``, ``n_resamples``, ``seed`` or ``block_size`` is invalid.

    Example:
        >>> returns = np.random.default_rng(3).normal(0.0005, 0.01, 1000)
        >>> low, high = sharpe_confidence_interval(returns, n_resamples=2000, seed=1)
        >>> bool(low < sharpe_moments(returns).sharpe < high), round(high - low, 2)
        (True, 0.12)
        >>> [round(end * math.sqrt(252), 2) for end in (low, high)]  # annualized
        [0.39, 2.37]

    """
    values = _as_returns("returns", returns)
    n = values.size
    if values.max() == values.min():
        raise DataError(f"returns: all {n} returns are equal ({values[0]!r}), the Sharpe ratio is undefined")
    confidence = _check_probability("confidence", confidence, minimum=0.0)
    n_resamples = check_int("n_resamples", n_resamples, minimum=100)
    if seed is not None:
        seed = check_int("seed", seed, minimum=0)
    if block_size is not None and not (is_int(block_size) and 1 <= block_size <= n):
        raise ConfigError(f"block_size: must be None or an integer from 1 to len(returns) = {n}, got {block_size!r}")
    block = None if block_size is None else int(block_size)

    rng = np.random.default_rng(seed)
    rows_per_chunk = max(1, _CHUNK_VALUES // n)
    sharpes = np.empty(n_resamples)
    for first in range(0, n_resamples, rows_per_chunk):
        rows = min(rows_per_chunk, n_resamples - first)
        sample = values[_resample_indices(rng, n, rows, block)]
        mean = sample.mean(axis=1)
        std = sample.std(axis=1, ddof=1)
        # Equal values have a ~1e-18 rounding residue as std, not 0: test equality (as compute_metrics).
        constant = sample.max(axis=1) == sample.min(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            sharpes[first : first + rows] = np.where(constant, np.nan, mean / std)
    tail = (1.0 - confidence) / 2.0
    low, high = np.nanquantile(sharpes, [tail, 1.0 - tail])
    return float(low), float(high)


def _resample_indices(rng: np.random.Generator, n: int, rows: int, block_size: int | None) -> np.ndarray:
    """Indices of ``rows`` bootstrap resamples of ``n`` values: iid, or circular blocks of ``block_size``."""
    if block_size is None:
        return rng.integers(0, n, size=(rows, n))
    n_blocks = -(-n // block_size)
    starts = rng.integers(0, n, size=(rows, n_blocks))
    indices = (starts[:, :, np.newaxis] + np.arange(block_size)) % n
    return indices.reshape(rows, n_blocks * block_size)[:, :n]


def _psr(sharpe: float, benchmark_sharpe: float, n_observations: float, skewness: float, kurtosis: float) -> float:
    """Compute the PSR from validated numbers."""
    variance = _sharpe_variance_factor(sharpe, skewness, kurtosis)
    if variance <= 0.0:
        return math.nan
    z = (sharpe - benchmark_sharpe) * math.sqrt(n_observations - 1.0) / math.sqrt(variance)
    # Z(z) through erfc keeps its precision in both tails (1 + erf(z) cancels for very negative z).
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def _expected_max_sharpe(sharpe_variance: float, n_trials: float) -> float:
    """Compute the expected maximum Sharpe ratio from validated numbers."""
    if n_trials == 1.0 or sharpe_variance == 0.0:
        return 0.0
    # Z^-1[1 - p] = -Z^-1[p] stays exact for huge N, where 1 - 1/N rounds to 1.
    quantile = (1.0 - EULER_GAMMA) * -_NORMAL.inv_cdf(1.0 / n_trials) + EULER_GAMMA * -_NORMAL.inv_cdf(
        1.0 / (n_trials * math.e)
    )
    return math.sqrt(sharpe_variance) * quantile


def _sharpe_variance_factor(sharpe: float, skewness: float, kurtosis: float) -> float:
    """``1 - skewness * SR + (kurtosis - 1) / 4 * SR**2``: T - 1 times the variance of the Sharpe estimate."""
    return 1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2


def _check_shape(skewness: object, kurtosis: object) -> tuple[float, float]:
    """Validate a skewness and a raw kurtosis: finite, with ``kurtosis >= 1 + skewness**2`` (up to rounding)."""
    skew = check_number("skewness", skewness)
    kurt = check_number("kurtosis", kurtosis)
    bound = 1.0 + skew**2
    if kurt < bound * (1.0 - 1e-9):
        raise ConfigError(
            f"kurtosis: must be the raw (Pearson) kurtosis, 3 for normal returns and at least 1 + skewness**2 = "
            f"{bound:g}, got {kurtosis!r} (an excess kurtosis? add 3)"
        )
    return skew, kurt


def _check_probability(key: str, value: object, *, minimum: float) -> float:
    """Validate a probability strictly between ``minimum`` and 1."""
    number = check_number(key, value)
    if not minimum < number < 1.0:
        raise ConfigError(f"{key}: must be a probability in ({minimum:g}, 1), like 0.95, got {value!r}")
    return number


def _as_returns(key: str, returns: npt.ArrayLike) -> np.ndarray:
    """Validate a return series: 1-D, finite, at least 2 values."""
    return _as_finite_1d(key, returns, minimum_size=2)


def _as_finite_1d(key: str, values: npt.ArrayLike, *, minimum_size: int) -> np.ndarray:
    """Return ``values`` as a 1-D float array of finite numbers, or raise a DataError naming ``key``."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise DataError(f"{key}: must be an array of numbers, got {type(values).__name__} ({error})") from None
    if array.ndim != 1:
        raise DataError(f"{key}: must be a 1-D array, got shape {array.shape}")
    if array.size < minimum_size:
        raise DataError(f"{key}: must have at least {minimum_size} values, got {array.size}")
    bad = ~np.isfinite(array)
    if bad.any():
        index = int(np.argmax(bad))
        raise DataError(f"{key}: must be finite, got {float(array[index])!r} at index {index}")
    return array
