"""``argn``: an any-order autoregressive network over discretised sub-columns.

In the spirit of TabularARGN (arXiv 2501.12012).  Sub-columns become categorical tokens
(:mod:`mirage.encoding.discretise`: codes pass through, numbers become a quantile bin and a sub-bin).
One network predicts every token from the tokens before it in a column order: each token has an
embedding; the context of token ``j`` is the sum of the embeddings of the tokens before it (a masked
linear layer over their concatenation) plus a learned embedding of ``j``; a shared residual trunk and
one softmax head per token give its distribution.  Training draws a fresh random order of the schema
columns for most rows (the tokens of one column stay together, in their own order; the other rows
keep the schema order, which sampling walks), so one pass of a batch trains all tokens under many
orders and the model can later condition on, or impute, any set of columns.

Sampling walks the schema order (conditioned columns first), batched and vectorised on the CPU,
drawing from the seeded ``numpy`` generator only.  Privacy comes from early stopping on a validation
split, dropout, weight decay and the discretiser's minimum rows per bin (``min_bin_count``).  With
``max_dcr_share`` set (off by default), the memorisation guard (:mod:`mirage.engines._guard`) raises
the dropout (by 0.15 a step) and the weight decay (three times a step) before the fit, until the
synthetic rows stop sitting closer to the rows learned than to unseen ones.

The package: ``_network`` (the ``torch.nn.Module``), ``_training`` (the loop and its progress events),
``_defaults`` (sizes chosen from the number of rows, with the measurements behind them), ``_sampling``
(one partial-row routine for sampling, conditions and imputation), ``_state`` (the weights in the model
file), ``_runtime`` (torch's threads and random state, scoped) and ``_engine`` (the engine).  PyTorch
is imported only when a model is fitted, sampled or loaded.
"""

from mirage.engines.argn._engine import ArgnSynthesizer

__all__ = ["ArgnSynthesizer"]
