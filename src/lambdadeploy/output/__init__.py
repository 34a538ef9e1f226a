"""Output: the terminal and --json (console.py), masking of secrets (masking.py), steps
(steps.py) and results (results.py) for people and machines."""

from .console import Output, documents_printed, error_document, human_size, print_document
from .masking import MASK, MASKER

__all__ = ["MASK", "MASKER", "Output", "documents_printed", "error_document", "human_size", "print_document"]
