"""The tokenizer of ``curate tokenize``: a Hugging Face ``tokenizer.json`` by local path or any fsspec URL.

A URL goes through the model cache (:mod:`curate.models.resolve`: fetched once, optionally sha256-pinned,
and never fetched when curate runs offline), exactly as language-ID and quality models do. Each worker
process loads the file once. Which token ends a document is taken from ``--eos`` or, without it, from the
first of :data:`EOS_CANDIDATES` the vocabulary has (GPT-2/datatrove's ``<|endoftext|>``, Llama 3's
``<|end_of_text|>``, SentencePiece's ``</s>``, Gemma's ``<eos>``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from curate.models.errors import ModelUnavailableError
from curate.models.resolve import resolve_model
from curate.training.errors import TokenizerLoadError

EOS_CANDIDATES = ("<|endoftext|>", "<|end_of_text|>", "</s>", "<eos>", "<|eos|>", "[EOS]", "<|im_end|>", "[SEP]")
_PROBE = "a"  # a text every tokenizer encodes to at least one token: locates the post-processor's additions


@dataclass(frozen=True)
class TokenizerRef:
    """What names the tokenizer: ``spec`` (path or URL) and its optional sha256 pin."""

    spec: str
    sha256: str | None = None

    def local_path(self) -> str:
        try:
            return resolve_model(self.spec, self.sha256, what="tokenizer")
        except ModelUnavailableError as exc:
            raise TokenizerLoadError(str(exc)) from None

    def load(self) -> Any:
        return _load(self.spec, self.sha256)


@lru_cache(maxsize=4)  # once per worker process
def _load(spec: str, sha256: str | None) -> Any:
    from tokenizers import Tokenizer  # a core dependency, imported where it is used (heavy native module)

    path = TokenizerRef(spec, sha256).local_path()
    try:
        return Tokenizer.from_file(path)
    except Exception as exc:  # the Rust side raises plain Exception with a serde message
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TokenizerLoadError(
            f"tokenizer {spec} does not load ({first}); give a Hugging Face tokenizer.json (what "
            "`tokenizers.Tokenizer.save()` writes, or the tokenizer.json of a model repository)"
        ) from None


def token_id(tok: Any, token: str, flag: str) -> int:
    """The id of ``token`` (given by the user with ``flag``); a clear error when the vocabulary lacks it."""
    tid = tok.token_to_id(token)
    if tid is None:
        raise TokenizerLoadError(f"{flag} {token!r} is not in the tokenizer's vocabulary; give one of its tokens")
    return int(tid)


def end_of_document(tok: Any, eos: str | None = None) -> tuple[str, int]:
    """(token, id) that ends every document: ``eos`` when given, else the first known one the tokenizer has."""
    if eos is not None:
        return eos, token_id(tok, eos, "--eos")
    for candidate in EOS_CANDIDATES:
        tid = tok.token_to_id(candidate)
        if tid is not None:
            return candidate, int(tid)
    raise TokenizerLoadError(
        f"the tokenizer has none of the end-of-document tokens curate knows ({', '.join(EOS_CANDIDATES)}); "
        "name its own with --eos TOKEN"
    )


def post_processor_frame(tok: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The ids the tokenizer's own post-processor puts before and after a text (``add_special_tokens``), e.g.
    Llama's ``<s>`` before; ``((), ())`` for GPT-2-style tokenizers, which add nothing."""
    plain = tok.encode(_PROBE, add_special_tokens=False).ids
    full = tok.encode(_PROBE, add_special_tokens=True).ids
    for start in range(len(full) - len(plain) + 1):
        if full[start:start + len(plain)] == plain:
            return tuple(full[:start]), tuple(full[start + len(plain):])
    return (), ()


def vocab_size(tok: Any) -> int:
    return int(tok.get_vocab_size(with_added_tokens=True))
