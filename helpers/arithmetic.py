"""CNN arithmetic: output sizes, parameter counts, multiplication counts, layer tables.

The formulas the course teaches, checked against Keras by the unit tests:

* output size of a convolution or pooling: ``floor((W - F + 2P) / S) + 1`` ("valid" is
  P = 0; "same" keeps ``ceil(W / S)``);
* parameters of a convolution: ``F_h * F_w * C_in * K + K`` (K filters, one bias each);
* parameters of a dense layer: ``n_in * n_out + n_out``;
* multiplications of a convolution: ``H_out * W_out * K * F_h * F_w * C_in``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

Padding = int | str


def _as_int(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int >= ``minimum``, else a ValueError that names the argument."""
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def _pair(name: str, value: Any) -> tuple[int, int]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 2:
            raise ValueError(f"{name} must be one number or a pair (height, width), got {value!r}")
        return _as_int(name, value[0], 1), _as_int(name, value[1], 1)
    v = _as_int(name, value, 1)
    return v, v


def conv_output_size(size: int, kernel: int, padding: Padding = 0, stride: int = 1,
                     dilation: int = 1, *, exact: bool = False) -> int:
    """Output length along one axis of a convolution or pooling window.

    Args:
        size: input length W.
        kernel: window length F.
        padding: zeros added on each side P, or Keras' ``"valid"`` (P = 0) / ``"same"``.
        stride: step S.
        dilation: spacing of the kernel taps (the kernel then spans ``dilation*(F-1)+1``).
        exact: require ``(W - F + 2P) / S`` to be a whole number, as the notes' formula
            assumes, instead of flooring it as Keras does.

    Raises:
        ValueError: for impossible arithmetic, saying what is wrong.
    """
    size = _as_int("size", size, 1)
    kernel = _as_int("kernel", kernel, 1)
    if isinstance(stride, int | float) and not isinstance(stride, bool) and stride <= 0:
        raise ValueError(f"stride must be at least 1, got {stride}: a window has to move forward")
    stride = _as_int("stride", stride, 1)
    dilation = _as_int("dilation", dilation, 1)
    span = dilation * (kernel - 1) + 1
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "same":
            if exact and size % stride:
                raise ValueError(f"'same' padding with size {size} and stride {stride}: "
                                 f"{size}/{stride} is not a whole number")
            return math.ceil(size / stride)
        if mode != "valid":
            raise ValueError(f"padding must be a number, 'valid' or 'same', got {padding!r}")
        padding = 0
    padding = _as_int("padding", padding, 0)
    padded = size + 2 * padding
    if span > padded:
        raise ValueError(f"kernel spans {span} but the padded input is only {padded} "
                         f"(size {size} + 2 x padding {padding}); use a smaller kernel or "
                         "more padding")
    steps, rest = divmod(padded - span, stride)
    if exact and rest:
        raise ValueError(f"(W - F + 2P) / S = ({size} - {span} + 2*{padding}) / {stride} = "
                         f"{(padded - span) / stride:g} is not a whole number: the window "
                         "does not fit evenly; change the stride or the padding")
    return steps + 1


def pool_output_size(size: int, pool: int, stride: int | None = None,
                     padding: Padding = "valid", *, exact: bool = False) -> int:
    """Output length of a pooling window; the stride defaults to the window size (as in Keras)."""
    return conv_output_size(size, pool, padding, pool if stride is None else stride, exact=exact)


def conv_params(kernel: int | tuple[int, int], in_channels: int, filters: int, *,
                use_bias: bool = True) -> int:
    """Weights of a 2-D convolution: ``F_h * F_w * C_in * K`` (+ ``K`` biases)."""
    kh, kw = _pair("kernel", kernel)
    c = _as_int("in_channels", in_channels, 1)
    k = _as_int("filters", filters, 1)
    return kh * kw * c * k + (k if use_bias else 0)


def dense_params(in_features: int, units: int, *, use_bias: bool = True) -> int:
    """Weights of a dense layer: ``n_in * n_out`` (+ ``n_out`` biases)."""
    n_in = _as_int("in_features", in_features, 1)
    n_out = _as_int("units", units, 1)
    return n_in * n_out + (n_out if use_bias else 0)


def conv_multiplications(input_shape: Sequence[int], kernel: int | tuple[int, int],
                         filters: int, padding: Padding = "same", stride: int = 1) -> int:
    """Multiplications of a 2-D convolution on an (H, W, C) input:
    ``H_out * W_out * K * F_h * F_w * C``."""
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape!r}")
    h, w, c = (_as_int("input_shape", v, 1) for v in input_shape)
    kh, kw = _pair("kernel", kernel)
    k = _as_int("filters", filters, 1)
    out_h = conv_output_size(h, kh, padding, stride)
    out_w = conv_output_size(w, kw, padding, stride)
    return out_h * out_w * k * kh * kw * c


# --------------------------------------------------------------------------- layer tables


@dataclass(frozen=True)
class LayerRow:
    """One layer of a :class:`LayerTable`."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    activation_size: int
    params: int
    multiplications: int


def _shape(tensor: Any) -> tuple[int, ...]:
    dims = tuple(tensor.shape)[1:]
    if any(d is None for d in dims):
        raise ValueError(f"shape {tuple(tensor.shape)} has unknown sizes; give the model a fixed "
                         "input shape, e.g. keras.Input(shape=(28, 28, 1))")
    return tuple(int(d) for d in dims)


def layer_multiplications(layer: Any) -> int:
    """Multiplications one example costs in ``layer``'s weights (0 for layers without)."""
    kind = type(layer).__name__
    if kind == "Dense":
        in_shape = _shape(layer.input)
        return math.prod(in_shape[:-1]) * in_shape[-1] * layer.units
    if kind in {"Conv1D", "Conv2D", "Conv3D"}:
        out = _shape(layer.output)
        in_channels = _shape(layer.input)[-1]
        groups = getattr(layer, "groups", 1)
        return math.prod(out) * math.prod(layer.kernel_size) * in_channels // groups
    if kind in {"Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"}:
        inp = _shape(layer.input)
        return math.prod(inp) * math.prod(layer.kernel_size) * layer.filters
    if kind in {"DepthwiseConv1D", "DepthwiseConv2D"}:
        out = _shape(layer.output)
        return math.prod(out) * math.prod(layer.kernel_size)
    if kind in {"SeparableConv1D", "SeparableConv2D"}:
        inp, out = _shape(layer.input), _shape(layer.output)
        depthwise = math.prod(out[:-1]) * inp[-1] * layer.depth_multiplier
        return depthwise * math.prod(layer.kernel_size) + depthwise * out[-1]
    return 0


class LayerTable:
    """Output shape, activation size, parameters and multiplications of every layer of a
    built Keras model; nested models are expanded. Shows as a table in Jupyter."""

    def __init__(self, rows: Iterable[LayerRow]):
        self.rows = list(rows)

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def total_multiplications(self) -> int:
        return sum(r.multiplications for r in self.rows)

    def __getitem__(self, name: str) -> LayerRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no layer named {name!r}; layers: {[r.name for r in self.rows]}")

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, field: str) -> list[Any]:
        """One column as a list, e.g. ``table.column("params")``."""
        if field not in LayerRow.__dataclass_fields__:
            raise KeyError(f"no column {field!r}; columns: {list(LayerRow.__dataclass_fields__)}")
        return [getattr(r, field) for r in self.rows]

    def _cells(self) -> tuple[list[str], list[list[str]]]:
        head = ["layer", "type", "output shape", "activation size", "parameters",
                "multiplications"]
        body = [[r.name, r.kind, str(r.output_shape), f"{r.activation_size:,}", f"{r.params:,}",
                 f"{r.multiplications:,}"] for r in self.rows]
        body.append(["total", "", "", "", f"{self.total_params:,}",
                     f"{self.total_multiplications:,}"])
        return head, body

    def __str__(self) -> str:
        head, body = self._cells()
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
        def fmt(row: list[str]) -> str:
            return "  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        rule = "-" * len(fmt(head))
        return "\n".join([fmt(head), rule, *(fmt(r) for r in body[:-1]), rule, fmt(body[-1])])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        head, body = self._cells()
        th = "".join(f"<th>{h}</th>" for h in head)
        trs = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in body)
        return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def _rows(model: Any, prefix: str = "") -> Iterable[LayerRow]:
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:  # a nested model
            yield from _rows(layer, prefix + layer.name + "/")
            continue
        out = _shape(layer.output)
        yield LayerRow(prefix + layer.name, type(layer).__name__, out, math.prod(out),
                       int(layer.count_params()), layer_multiplications(layer))


def layer_table(model: Any) -> LayerTable:
    """The :class:`LayerTable` of a built Keras model (give it an ``Input`` first)."""
    if not hasattr(model, "layers"):
        raise TypeError(f"layer_table needs a Keras model, got {type(model).__name__}")
    if not model.built:
        raise ValueError("the model is not built yet, so its shapes are unknown; start it with "
                         "keras.Input(shape=...) or call model.build((None, ...)) first")
    try:
        return LayerTable(_rows(model))
    except AttributeError as exc:
        raise ValueError(f"could not read the layers' shapes ({exc}); build the model on a "
                         "keras.Input(shape=...) first") from None
