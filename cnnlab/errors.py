"""Errors the pages show to users, in the user's language."""

from __future__ import annotations

from typing import Any


class LocalizedError(ValueError):
    """A user-facing error: a translation key plus the values its text needs.

    ``str(error)`` is the English text, for logs and the command line; pages show
    ``translate(error.key, lang, **error.params)`` instead.
    """

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(self._english())

    def _english(self) -> str:
        from cnnlab.i18n import translate

        try:
            return translate(self.key, "en", **self.params)
        except KeyError:
            # A missing key is a bug the catalog test reports; keep the raw key for the log.
            return f"{self.key} {self.params}"
