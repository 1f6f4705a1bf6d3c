"""``vae``: a TVAE-class variational autoencoder (arXiv 1907.00503) on the shared encoding.

Rows become vectors as for ``gan`` (:mod:`mirage.engines._neural`: one-hot codes, mode-specific
normalisation of numbers).  An encoder maps a row to a Gaussian over a latent space, a decoder maps a
latent point back to the row's logits plus a learned noise scale per scalar; the loss is the
reconstruction (cross-entropy of the codes, a Gaussian likelihood of the scalars) plus the latent's
Kullback-Leibler divergence, weighted 700 / training rows within 0.5 (TVAE's, from 1,400 rows) and 2:
the fewer the rows, the more of what a latent point can say is one row's chance detail (diabetes, 354
training rows, at a latent of 32: DCR share 0.544 at 1, 0.509 at 2, over 20 split seeds).  The latent
has 32 dimensions (TVAE: 128), which told rows apart less well from real ones on every shared table.
Training stops when the loss on held-out rows stops improving (or at the time budget) and keeps the best
weights.  Sampling decodes standard normal latents, draws each code from its softmax, each continuous
column's mode from its softmax sharpened by ``mode_temperature`` (0.7; 0: the likeliest, as TVAE) and
adds the learned noise to each scalar.

The package: ``_training`` (the network and the loop) and ``_engine`` (the engine).  PyTorch is
imported only when a model is fitted, sampled or loaded.
"""

from mirage.engines.vae._engine import VaeSynthesizer

__all__ = ["VaeSynthesizer"]
