"""Exercises of notebook 14 (recurrent networks)."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises import (
    CheckFailed,
    Exercise,
    expect_function,
    expect_returned,
    expect_type,
    expect_whole_number,
)

# --------------------------------------------------------------------------- Exercise 1

STACK_INPUT, STACK_LSTM, STACK_GRU, STACK_OUT = 6, 16, 8, 3
STACK_KEYS = ("lstm", "gru", "gru_reset_after_false", "dense")


def _stack_counts() -> dict[str, int]:
    """The layers' parameter counts, as Keras builds them."""
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input((None, STACK_INPUT)),
                              layers.LSTM(STACK_LSTM, return_sequences=True),
                              layers.GRU(STACK_GRU), layers.Dense(STACK_OUT)])
    lstm, gru, dense = model.layers
    reset_before = layers.GRU(STACK_GRU, reset_after=False)
    reset_before.build((None, None, STACK_LSTM))
    return {"lstm": lstm.count_params(), "gru": gru.count_params(),
            "gru_reset_after_false": reset_before.count_params(), "dense": dense.count_params()}


def _lstm_reason(got: int, d: int, u: int) -> str:
    if got == 4 * u * (d + u):
        return "each of the four blocks also has u biases."
    if got == u * (d + u) + u:
        return "that is one block; an LSTM has four (input, forget, candidate, output gates)."
    if got == 4 * (u * d + u):
        return "each block also has a u x u recurrent matrix: it reads h_{t-1} as well as x_t."
    return "an LSTM has four blocks, each with u * (d + u) weights and u biases."


def _gru_reason(got: int, d: int, u: int, reset_after: bool) -> str:
    biases = 2 * u if reset_after else u
    if got == 3 * (u * (STACK_INPUT + u) + biases):
        return (f"at each step the GRU receives the LSTM's output (return_sequences=True): "
                f"{d} numbers, not the {STACK_INPUT} input features.")
    if reset_after and got == 3 * (u * (d + u) + u):
        return ("that is the reset_after=False count; Keras's default, reset_after=True, has "
                "a second (recurrent) bias vector per block.")
    if not reset_after and got == 3 * (u * (d + u) + 2 * u):
        return "that is Keras's default (reset_after=True); reset_after=False has one bias " \
               "vector per block."
    if got == 3 * u * (d + u):
        return "the biases are missing."
    if got in (4 * (u * (d + u) + u), u * (d + u) + u):
        return "a GRU has three blocks (update gate, reset gate, candidate)."
    return "a GRU has three blocks, each with u * (d + u) weights and its biases."


def _check_layer_counts(predicted: Any) -> str:
    expect_type(predicted, dict, "predicted")
    missing = [key for key in STACK_KEYS if key not in predicted]
    if missing:
        raise CheckFailed(f"predicted needs the keys {', '.join(map(repr, STACK_KEYS))}; "
                          f"missing: {', '.join(map(repr, missing))}.")
    counts = {key: expect_whole_number(predicted[key], f"predicted[{key!r}]")
              for key in STACK_KEYS}
    want = _stack_counts()
    for key in STACK_KEYS:
        got = counts[key]
        if got == want[key]:
            continue
        if key == "lstm":
            reason = _lstm_reason(got, STACK_INPUT, STACK_LSTM)
        elif key == "dense":
            if got == STACK_GRU * STACK_OUT:
                reason = "the Dense layer has a bias per output too."
            elif got == STACK_LSTM * STACK_OUT + STACK_OUT:
                reason = (f"the Dense layer reads the GRU's final state ({STACK_GRU} numbers), "
                          "not the LSTM's.")
            else:
                reason = "a Dense layer has inputs x outputs weights and one bias per output."
        else:
            reason = _gru_reason(got, STACK_LSTM, STACK_GRU, key == "gru")
        raise CheckFailed(f"predicted[{key!r}] = {got:,} is not right yet: {reason}")
    total = sum(want[key] for key in ("lstm", "gru", "dense"))
    return (f"Right: {want['lstm']:,} + {want['gru']:,} + {want['dense']:,} = {total:,} "
            "parameters. Neither return_sequences nor the sequence length changes a count.")


q1 = Exercise(
    _check_layer_counts,
    hint="Use section 4's table with d = the size of what the layer receives at each step and "
         "u = its units. The GRU sits after the LSTM, and the Dense layer after the GRU.",
)

# --------------------------------------------------------------------------- Exercise 2

PROBE_SEED = 14
PROBE_SHAPE = (6, 7, 3)  # batch, steps, features
PROBE_UNITS = 5


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def gru_variant(x: np.ndarray, kernel: np.ndarray, recurrent_kernel: np.ndarray,
                bias: np.ndarray, *, reset: str = "after", keep: str = "z",
                all_states: bool = False) -> np.ndarray:
    """A NumPy GRU with Keras's weight layout; the defaults are keras.layers.GRU's
    computation. ``reset``: "after" (Keras), "before" or "before_no_bias" (r applied to h
    before the recurrent product, as with reset_after=False) or "none"; ``keep``: "z" (Keras:
    h = z * h + (1 - z) * candidate) or "1-z" (swapped)."""
    units = recurrent_kernel.shape[0]
    h = np.zeros((x.shape[0], units))
    states = []
    for t in range(x.shape[1]):
        xz, xr, xh = np.split(x[:, t] @ kernel + bias[0], 3, axis=1)
        hz, hr, hh = np.split(h @ recurrent_kernel + bias[1], 3, axis=1)
        z, r = _sigmoid(xz + hz), _sigmoid(xr + hr)
        if reset == "after":
            candidate = np.tanh(xh + r * hh)
        elif reset.startswith("before"):
            recurrent = (r * h) @ recurrent_kernel[:, 2 * units:]
            if reset == "before":
                recurrent = recurrent + bias[1][2 * units:]
            candidate = np.tanh(xh + recurrent)
        else:
            candidate = np.tanh(xh + hh)
        h = z * h + (1 - z) * candidate if keep == "z" else (1 - z) * h + z * candidate
        states.append(h)
    return np.stack(states, axis=1) if all_states else h


def probe_gru() -> tuple[np.ndarray, list[np.ndarray]]:
    """A probe batch and GRU weights (random biases too, unlike Keras's zero start)."""
    rng = np.random.default_rng(PROBE_SEED)
    d, u = PROBE_SHAPE[2], PROBE_UNITS
    weights = [rng.normal(0, 0.6, (d, 3 * u)), rng.normal(0, 0.6, (u, 3 * u)),
               rng.normal(0, 0.6, (2, 3 * u))]
    x = rng.normal(size=PROBE_SHAPE)
    return x, weights


def _check_gru_forward(fn: Any) -> str:
    expect_function(fn, "gru_forward", "(x, kernel, recurrent_kernel, bias) -> final state")
    x, weights = probe_gru()
    got = fn(x.copy(), *[w.copy() for w in weights])
    expect_returned(got, "gru_forward(x, kernel, recurrent_kernel, bias)")
    try:
        got = np.asarray(got, dtype="float64")
    except (TypeError, ValueError):
        raise CheckFailed("gru_forward should return an array, the final state.") from None
    batch, steps, _ = x.shape
    if got.shape == (batch, steps, PROBE_UNITS):
        raise CheckFailed("gru_forward returned every step's state; return only the final "
                          "state h_T, of shape (batch, units).")
    if got.shape != (batch, PROBE_UNITS):
        raise CheckFailed(f"on a batch of {batch} sequences and a GRU of {PROBE_UNITS} units, "
                          f"gru_forward returned shape {got.shape}; expected "
                          f"{(batch, PROBE_UNITS)}.")
    want = gru_variant(x, *weights)
    if np.allclose(got, want, rtol=1e-6, atol=1e-8):
        return ("Right: the reset gate scales the recurrent part of the candidate, and z "
                "keeps the old state.")
    variants = [
        (dict(reset="none", keep="1-z"), "both bugs are still there."),
        (dict(reset="none"), "the update is right now, but the reset gate r is computed and "
         "never used: it multiplies the recurrent part of the candidate."),
        (dict(keep="1-z"), "the reset gate is right now, but z and 1 - z are swapped: in "
         "Keras's convention z is the share of the old state that is kept."),
        (dict(reset="before"), "that resets h before the recurrent product, the "
         "reset_after=False formula; Keras's default applies r after it, to h U_h + b'_h."),
        (dict(reset="before_no_bias"), "that resets h before the recurrent product, the "
         "reset_after=False formula; Keras's default applies r after it, to h U_h + b'_h."),
    ]
    variants += [(dict(reset=reset, keep="1-z"), "z and 1 - z are swapped, and r is applied "
                  "before the recurrent product (reset_after=False's formula), not after it.")
                 for reset in ("before", "before_no_bias")]
    for settings, reason in variants:
        if np.allclose(got, gru_variant(x, *weights, **settings), rtol=1e-6, atol=1e-8):
            raise CheckFailed(reason)
    raise CheckFailed("the final state differs from keras.layers.GRU's. Compare each line "
                      "with the equations of section 4 (biases: bias[0] for the input part, "
                      "bias[1] for the recurrent part).")


q2 = Exercise(
    _check_gru_forward,
    hint="Two lines are wrong. Where does the reset gate r appear in section 4's candidate "
         "equation? And which of z and 1 - z multiplies the old state h in Keras?",
)

# --------------------------------------------------------------------------- Exercise 3

PARAM_BUDGET = 1_000
TARGET_ACCURACY = 0.95
RECURRENT_LAYERS = ("SimpleRNN", "LSTM", "GRU", "RNN", "Bidirectional")


def _layers_of(model: Any) -> list[Any]:
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        found.extend(_layers_of(layer) if hasattr(layer, "layers") else [])
    return found


def _check_small_model(model: Any, x_test: Any, y_test: Any) -> str:
    if not (hasattr(model, "count_params") and hasattr(model, "predict")):
        raise CheckFailed(f"small_model should be a Keras model, got {type(model).__name__}.")
    kinds = [type(layer).__name__ for layer in _layers_of(model)]
    if not any(kind in RECURRENT_LAYERS for kind in kinds):
        raise CheckFailed(f"small_model has no recurrent layer ({', '.join(kinds)}); the "
                          "exercise asks for a recurrent design.")
    n_params = model.count_params()
    if n_params > PARAM_BUDGET:
        raise CheckFailed(f"small_model has {n_params:,} parameters, over the budget of "
                          f"{PARAM_BUDGET:,}. Count the recurrent layer and the Dense output "
                          "with section 4's formulas and choose fewer units.")
    x_test, y_test = np.asarray(x_test), np.asarray(y_test)
    probabilities = np.asarray(model.predict(x_test, verbose=0))
    if probabilities.shape != (len(y_test), int(y_test.max()) + 1):
        raise CheckFailed(f"small_model's output has shape {probabilities.shape}; it should "
                          f"give one probability per symbol, shape "
                          f"{(len(y_test), int(y_test.max()) + 1)}.")
    accuracy = float(np.mean(np.argmax(probabilities, axis=1) == y_test))
    if accuracy < TARGET_ACCURACY:
        if "SimpleRNN" in kinds and not any(k in kinds for k in ("LSTM", "GRU")):
            advice = "The table of section 5.3 says which cells learned the task at all."
        elif accuracy < 0.5:
            advice = "Has it been trained? Call train_memory(small_model) after building it."
        else:
            advice = "Train it with train_memory(small_model); if it still falls short, " \
                     "use the budget for more units."
        raise CheckFailed(f"small_model reaches {accuracy:.1%} test accuracy; the target is "
                          f"{TARGET_ACCURACY:.0%}. {advice}")
    return (f"{n_params:,} parameters, {accuracy:.1%} test accuracy: a gated cell fits the "
            "task into fewer parameters than the SimpleRNN that failed it.")


q3 = Exercise(
    _check_small_model,
    hint="Only gated cells solved the task in the table. Write their counts (recurrent layer "
         "with d = 5 inputs, plus the Dense output with 4 classes) as a function of the units "
         "and take the largest size that fits.",
)
