import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.aggregation import DEFAULT_LABELS, WeightedAverage, numeric_signal
from framework.core.errors import ConfigError
from framework.core.types import SignalFrame

nan = np.nan


def frame(signal: list, confidence: list | None = None) -> SignalFrame:
    values = np.array(signal, dtype=object if any(isinstance(v, str) for row in signal for v in row) else float)
    conf = np.ones(values.shape) if confidence is None else np.array(confidence, dtype=float)
    return SignalFrame(values, conf)


class TestNumericSignal:
    def test_numbers_pass_through_as_float64(self) -> None:
        out = numeric_signal(np.array([[1, -1], [0, 1]]))
        assert out.dtype == np.float64
        assert out.tolist() == [[1.0, -1.0], [0.0, 1.0]]
        floats = np.array([[0.25, nan]])
        np.testing.assert_array_equal(numeric_signal(floats), floats)

    def test_default_labels_case_insensitive_and_none(self) -> None:
        signal = np.array([["BUY", "sell", None], ["Hold", nan, "buy"]], dtype=object)
        np.testing.assert_array_equal(numeric_signal(signal), [[1.0, -1.0, nan], [0.0, nan, 1.0]])

    def test_numbers_mixed_with_labels(self) -> None:
        signal = np.array([["BUY", 0.5], [-0.25, None]], dtype=object)
        np.testing.assert_array_equal(numeric_signal(signal), [[1.0, 0.5], [-0.25, nan]])

    def test_custom_labels(self) -> None:
        signal = np.array([["LONG", "flat"], ["short", "Long"]], dtype=object)
        out = numeric_signal(signal, {"long": 1.0, "short": -0.5, "FLAT": 0})
        np.testing.assert_array_equal(out, [[1.0, 0.0], [-0.5, 1.0]])

    def test_unknown_label_lists_the_known_ones(self) -> None:
        signal = np.array([["BUY", "STRONG_BUY"]], dtype=object)
        with pytest.raises(ConfigError) as info:
            numeric_signal(signal)
        message = str(info.value)
        assert "'STRONG_BUY'" in message
        assert "BUY, SELL, HOLD" in message

    def test_unknown_label_with_custom_labels(self) -> None:
        with pytest.raises(ConfigError, match="'BUY' is not known; labels are LONG, SHORT"):
            numeric_signal(np.array([["BUY"]], dtype=object), {"long": 1, "short": -1})


class TestWeightedAverage:
    def test_docstring_case_by_hand(self) -> None:
        a = SignalFrame(np.array([[1.0], [nan]]), np.array([[1.0], [0.0]]))
        b = SignalFrame(np.array([[-1.0], [0.5]]), np.array([[0.5], [1.0]]))
        out = WeightedAverage().combine([a, b], np.array([3.0, 1.0]), None)
        np.testing.assert_allclose(out.signal.ravel(), [0.5, 0.5])
        np.testing.assert_allclose(out.confidence.ravel(), [0.875, 1.0])

    def test_by_hand_with_warm_up_renormalization(self) -> None:
        # three strategies, weights 1, 2, 1; two tickers; four bars
        s1 = frame([[nan, nan], [1.0, -1.0], [1.0, 0.0], [0.5, 1.0]], [[0, 0], [1, 1], [0.5, 1], [1, 0.2]])
        s2 = frame([[nan, 1.0], [nan, 1.0], [-1.0, 0.0], [0.5, -1.0]], [[0, 1], [0, 0.5], [1, 1], [0.4, 1]])
        s3 = frame([[nan, nan], [-1.0, nan], [0.0, 1.0], [-1.0, 1.0]], [[0, 0], [1, 0], [1, 1], [0.1, 0.8]])
        out = WeightedAverage().combine([s1, s2, s3], np.array([1.0, 2.0, 1.0]), None)
        expected_signal = [
            [nan, 1.0],  # A: every strategy warming up; B: s2 only
            [(1 - 1) / 2, (-1 + 2) / 3],  # A: s1, s3; B: s1, s2
            [(1 - 2 + 0) / 4, (0 + 0 + 1) / 4],
            [(0.5 + 1 - 1) / 4, (1 - 2 + 1) / 4],
        ]
        expected_confidence = [
            [0.0, 1.0],
            [(1 + 1) / 2, (1 + 2 * 0.5) / 3],
            [(0.5 + 2 * 1 + 1) / 4, (1 + 2 + 1) / 4],
            [(1 + 2 * 0.4 + 0.1) / 4, (0.2 + 2 + 0.8) / 4],
        ]
        np.testing.assert_allclose(out.signal, expected_signal)
        np.testing.assert_allclose(out.confidence, expected_confidence)

    def test_against_a_plain_loop_on_random_frames(self) -> None:
        rng = np.random.default_rng(4)
        days, tickers, k = 50, 3, 4
        signals = rng.uniform(-1, 1, (k, days, tickers))
        signals[rng.uniform(size=signals.shape) < 0.3] = nan
        confidences = rng.uniform(0, 1, (k, days, tickers))
        weights = rng.uniform(0.1, 2.0, k)
        frames = [SignalFrame(signals[i], confidences[i]) for i in range(k)]
        for confidence_weighted in (False, True):
            out = WeightedAverage(confidence_weighted=confidence_weighted).combine(frames, weights, None)
            for t in range(days):
                for j in range(tickers):
                    num = den = conf_num = conf_den = 0.0
                    for i in range(k):
                        if np.isnan(signals[i, t, j]):
                            continue
                        w = weights[i] * (confidences[i, t, j] if confidence_weighted else 1.0)
                        num += w * signals[i, t, j]
                        den += w
                        conf_num += weights[i] * confidences[i, t, j]
                        conf_den += weights[i]
                    if den == 0:
                        assert np.isnan(out.signal[t, j])
                        assert out.confidence[t, j] == 0.0
                    else:
                        assert out.signal[t, j] == pytest.approx(num / den, abs=1e-12)
                        assert out.confidence[t, j] == pytest.approx(conf_num / conf_den, abs=1e-12)

    def test_confidence_weighted_by_hand(self) -> None:
        a = frame([[1.0, 1.0, 1.0]], [[0.5, 0.0, 0.0]])
        b = frame([[-1.0, -1.0, nan]], [[1.0, 0.0, 0.0]])
        out = WeightedAverage(confidence_weighted=True).combine([a, b], np.array([2.0, 1.0]), None)
        # ticker 0: weights 2*0.5=1 and 1*1=1 -> 0; ticker 1: both confidences zero -> flat, not NaN
        np.testing.assert_allclose(out.signal, [[0.0, 0.0, 0.0]])
        np.testing.assert_allclose(out.confidence, [[(2 * 0.5 + 1) / 3, 0.0, 0.0]])
        plain = WeightedAverage().combine([a, b], np.array([2.0, 1.0]), None)
        np.testing.assert_allclose(plain.signal, [[1 / 3, 1 / 3, 1.0]])

    def test_nan_confidence_counts_as_zero(self) -> None:
        a = frame([[1.0]], [[nan]])
        b = frame([[0.0]], [[1.0]])
        out = WeightedAverage(confidence_weighted=True).combine([a, b], np.array([1.0, 1.0]), None)
        assert out.signal.tolist() == [[0.0]]
        assert out.confidence.tolist() == [[0.5]]

    def test_zero_weight_strategy_is_ignored(self) -> None:
        a = frame([[1.0, nan]])
        b = frame([[-1.0, -1.0]])
        out = WeightedAverage().combine([a, b], np.array([1.0, 0.0]), None)
        assert out.signal.tolist() == [[1.0, 0.0]]

    def test_labels_are_mapped(self) -> None:
        labels = frame([["BUY", "SELL"], ["HOLD", None]])
        numbers = frame([[0.0, 0.0], [1.0, 1.0]])
        out = WeightedAverage().combine([labels, numbers], np.array([1.0, 1.0]), None)
        np.testing.assert_allclose(out.signal, [[0.5, -0.5], [0.5, 1.0]])
        custom = WeightedAverage(labels={"BUY": 0.5, "SELL": -0.5, "HOLD": 0})
        np.testing.assert_allclose(
            custom.combine([labels, numbers], np.array([1.0, 1.0]), None).signal, [[0.25, -0.25], [0.5, 1.0]]
        )

    def test_unknown_label_in_frames(self) -> None:
        with pytest.raises(ConfigError, match="labels are BUY, SELL"):
            WeightedAverage(labels={"BUY": 1, "SELL": -1}).combine([frame([["HOLD"]])], np.array([1.0]), None)

    def test_probability_output(self) -> None:
        a = frame([[1.0, -1.0, 0.5, nan, 0.0]])
        b = frame([[1.0, -1.0, -0.5, nan, nan]])
        out = WeightedAverage(output="probability").combine([a, b], np.array([1.0, 3.0]), None)
        np.testing.assert_allclose(out.signal, [[1.0, 0.0, (1 + (0.5 - 1.5) / 4) / 2, nan, 0.5]])

    def test_probability_stays_in_unit_interval_on_random_frames(self) -> None:
        rng = np.random.default_rng(9)
        frames = [SignalFrame(rng.uniform(-1, 1, (40, 5)), rng.uniform(0, 1, (40, 5))) for _ in range(3)]
        weights = np.array([0.2, 0.5, 0.3])
        for confidence_weighted in (False, True):
            aggregator = WeightedAverage(confidence_weighted=confidence_weighted, output="probability")
            probability = aggregator.combine(frames, weights, None).signal
            signal = WeightedAverage(confidence_weighted=confidence_weighted).combine(frames, weights, None).signal
            assert ((probability >= 0) & (probability <= 1)).all()
            np.testing.assert_allclose(probability, (1 + signal) / 2)
            assert probability.min() < 0.3 and probability.max() > 0.7

    def test_output_shapes(self) -> None:
        frames = [SignalFrame(np.zeros((7, 2)), np.ones((7, 2)))]
        out = WeightedAverage().combine(frames, np.array([1.0]), None)
        assert out.shape == (7, 2) and out.confidence.shape == (7, 2)

    def test_default_params(self) -> None:
        assert WeightedAverage().get_params() == {"confidence_weighted": False, "labels": None, "output": "signal"}
        assert DEFAULT_LABELS == {"BUY": 1.0, "SELL": -1.0, "HOLD": 0.0}

    @pytest.mark.parametrize("output", ["probabilities", "", None, "SIGNAL"])
    def test_invalid_output(self, output: object) -> None:
        with pytest.raises(ConfigError) as info:
            WeightedAverage(output=output)  # type: ignore[arg-type]
        assert str(info.value) == f"output: must be one of signal, probability, got {output!r}"

    @pytest.mark.parametrize("value", [2, -1.5, "1", None, True])
    def test_invalid_label_value_names_the_label(self, value: object) -> None:
        with pytest.raises(ConfigError) as info:
            WeightedAverage(labels={"BUY": 1.0, "STRONG": value})  # type: ignore[dict-item]
        assert str(info.value) == f"labels.STRONG: must be a number in [-1, 1], got {value!r}"


class TestWeightedAverageCausality:
    @settings(max_examples=30, deadline=None)
    @given(seed=st.integers(0, 10_000), cut=st.integers(0, 38), confidence_weighted=st.booleans())
    def test_rows_up_to_t_ignore_later_rows(self, seed: int, cut: int, confidence_weighted: bool) -> None:
        rng = np.random.default_rng(seed)

        def frames(values: np.ndarray, confidence: np.ndarray) -> list[SignalFrame]:
            return [SignalFrame(values[k], confidence[k]) for k in range(values.shape[0])]

        values = rng.uniform(-1, 1, (3, 40, 4))
        values[rng.random(values.shape) < 0.1] = np.nan
        confidence = rng.uniform(0, 1, (3, 40, 4))
        changed_values, changed_confidence = values.copy(), confidence.copy()
        changed_values[:, cut + 1 :] = rng.uniform(-1, 1, changed_values[:, cut + 1 :].shape)
        changed_confidence[:, cut + 1 :] = rng.uniform(0, 1, changed_confidence[:, cut + 1 :].shape)
        aggregator = WeightedAverage(confidence_weighted=confidence_weighted)
        weights = np.array([0.5, 0.3, 0.2])
        a = aggregator.combine(frames(values, confidence), weights, None)
        b = aggregator.combine(frames(changed_values, changed_confidence), weights, None)
        np.testing.assert_array_equal(a.signal[: cut + 1], b.signal[: cut + 1])
        np.testing.assert_array_equal(a.confidence[: cut + 1], b.confidence[: cut + 1])
