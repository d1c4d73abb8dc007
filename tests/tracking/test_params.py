from __future__ import annotations

import json

import numpy as np
import pytest
from omegaconf import OmegaConf

from framework.tracking import MAX_PARAM_VALUE_LENGTH, flatten_params


class TestFlattenParams:
    def test_nested_mappings_become_dotted_keys(self) -> None:
        config = {"portfolio": {"strategies": {"main": {"short_window": 20, "long_window": 50}}}, "seed": 42}

        assert flatten_params(config) == {
            "portfolio.strategies.main.short_window": "20",
            "portfolio.strategies.main.long_window": "50",
            "seed": "42",
        }

    def test_target_and_other_underscore_keys_are_kept(self) -> None:
        config = {"strategy": {"_target_": "framework.strategies.Rsi", "_partial_": False, "window": 14}}

        assert flatten_params(config) == {
            "strategy._target_": "framework.strategies.Rsi",
            "strategy._partial_": "false",
            "strategy.window": "14",
        }

    def test_list_of_scalars_is_one_compact_json_value(self) -> None:
        params = flatten_params({"tickers": ["AAPL", "MSFT", "BRK.B"], "windows": [5, 10.5], "flags": [True, None]})

        assert params == {
            "tickers": '["AAPL","MSFT","BRK.B"]',
            "windows": "[5,10.5]",
            "flags": "[true,null]",
        }
        assert json.loads(params["tickers"]) == ["AAPL", "MSFT", "BRK.B"]

    def test_list_of_mappings_is_expanded_by_index(self) -> None:
        config = {
            "agents": [
                {"_target_": "framework.agents.EqualWeight"},
                {"_target_": "framework.agents.VolatilityTarget", "target": 0.1, "lookbacks": [20, 60]},
            ]
        }

        assert flatten_params(config) == {
            "agents.0._target_": "framework.agents.EqualWeight",
            "agents.1._target_": "framework.agents.VolatilityTarget",
            "agents.1.target": "0.1",
            "agents.1.lookbacks": "[20,60]",
        }

    def test_scalars_are_stringified_like_yaml(self) -> None:
        params = flatten_params({"none": None, "yes": True, "no": False, "rate": 1e-05, "name": "rsi", "n": 3})

        assert params == {"none": "null", "yes": "true", "no": "false", "rate": "1e-05", "name": "rsi", "n": "3"}

    def test_empty_containers_keep_their_key(self) -> None:
        assert flatten_params({"overrides": {}, "tickers": [], "a": {"b": {}}}) == {
            "overrides": "{}",
            "tickers": "[]",
            "a.b": "{}",
        }
        assert flatten_params({}) == {}

    def test_prefix_is_prepended_to_every_key(self) -> None:
        assert flatten_params({"a": {"b": 1}, "c": [{"d": 2}]}, prefix="cfg") == {"cfg.a.b": "1", "cfg.c.0.d": "2"}

    def test_long_values_are_cut_to_the_mlflow_limit(self) -> None:
        params = flatten_params({"expression": "x" * 10_000, "tickers": ["T"] * 5_000, "short": "y" * 6000})

        assert len(params["expression"]) == MAX_PARAM_VALUE_LENGTH == 6000
        assert len(params["tickers"]) == 6000
        assert params["tickers"].startswith('["T","T"')
        assert params["short"] == "y" * 6000

    def test_limit_is_mlflows_own(self) -> None:
        from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

        assert MAX_PARAM_VALUE_LENGTH == MAX_PARAM_VAL_LENGTH

    def test_keys_are_valid_mlflow_param_names(self) -> None:
        from mlflow.utils.validation import _validate_param_name

        config = {"overrides": {"^GSPC": {"window": 5}, "BRK.B": {"window": 7}, "a+b=c": 1}, 3: "int key"}
        params = flatten_params(config)

        assert params == {
            "overrides._GSPC.window": "5",
            "overrides.BRK.B.window": "7",
            "overrides.a_b_c": "1",
            "3": "int key",
        }
        for key in params:
            _validate_param_name(key)  # raises MlflowException for a key MLflow refuses

    def test_numpy_values_are_written_by_value(self) -> None:
        params = flatten_params({"weights": [np.float64(0.25), np.int64(3)], "window": np.int64(20)})

        assert params == {"weights": "[0.25,3]", "window": "20"}

    def test_omegaconf_config_is_flattened_with_interpolations_resolved(self) -> None:
        config = OmegaConf.create({"window": 20, "strategy": {"window": "${window}", "tickers": ["A", "B"]}})

        assert flatten_params(config) == {"window": "20", "strategy.window": "20", "strategy.tickers": '["A","B"]'}

    @pytest.mark.parametrize("nested", [[[1, 2], [3]], [[1, 2], 3]])
    def test_nested_lists_expand_the_outer_list(self, nested: list[object]) -> None:
        params = flatten_params({"grid": nested})

        assert params["grid.0"] == "[1,2]"
        assert set(params) == {"grid.0", "grid.1"}
