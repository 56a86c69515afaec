"""The one error type for bad input: it always names the file and the problem."""

from __future__ import annotations


class InputError(Exception):
    """A raw file, registry row or setting that stops the build.

    The message always reads ``<file>: <problem>`` so a maintainer knows what to fix.
    """

    def __init__(self, subject: str, problem: str):
        self.subject = subject
        self.problem = problem
        super().__init__(f"{subject}: {problem}")
