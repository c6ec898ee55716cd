"""Errors that stop a run: the input cannot be used at all (as opposed to refused rows)."""


class InputError(ValueError):
    """An input that cannot be used at all — a missing file column or an unreadable file.

    Row-level problems never raise: those rows go to ``rejects`` and the rest proceed.
    """


class InputWarning(UserWarning):
    """Something present in the input that casefund does not read (an extra column, an
    unrecognised file): reported, never silently dropped."""


class RuleFileError(ValueError):
    """A bundled rule or parameter file that does not validate (names file and entry)."""
