"""Model-based quality signals, per language.

* ``fasttext_quality`` block (:mod:`curate.quality.fasttext_quality`): fastText quality classifiers
  (DCLM-style), one per language or one multilingual; ``curate train-quality`` trains them
  (:mod:`curate.quality.fasttext_training`).
* ``kenlm_perplexity`` block (:mod:`curate.quality.kenlm_perplexity`): CCNet perplexity with KenLM,
  head/middle/tail buckets; ``curate calibrate-perplexity`` computes the cut-offs
  (:mod:`curate.quality.calibrate_perplexity`).

Models are local paths or URLs resolved through the model cache (:mod:`curate.models`); see the README,
"Model-based quality".
"""
